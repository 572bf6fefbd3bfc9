"""Admin pages: creating and managing organizer accounts, and reading the audit trail."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from events_app.db import read_session, write_session
from events_app.models import Organizer
from events_app.services import audit, auth
from events_app.web.app import create_app
from tests.factories import make_event, make_rsvp
from tests.organizer_support import (
    PASSWORD,
    cheap_passwords,  # noqa: F401 - fixture
    csrf_token,
    field_error,
    input_value,
    login,
    mailed_link,
    make_organizer,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_passwords")


@pytest.fixture
def admin(db_url: str) -> Organizer:
    return make_organizer("admin@example.org", "Ada Admin", admin=True)


def _account(email: str) -> Organizer:
    with read_session() as s:
        return s.exec(select(Organizer).where(Organizer.email == email)).one()


def test_admin_creates_an_organizer_who_chooses_a_password(client, admin: Organizer) -> None:
    """The admin gives a name and an address; the new organizer gets an invitation e-mail
    and chooses their own password through its link. No password field at all."""
    login(client, "admin@example.org")
    page = client.get("/organizer/organizers").text
    assert 'type="password"' not in page
    token = csrf_token(client, "/organizer/organizers")
    bad = post(client, "/organizer/organizers", {"name": "", "email": "not-an-email"}, token)
    assert bad.status_code == 422
    assert field_error(bad.text, "name") == "This field is required."
    assert "look like an e-mail address" in field_error(bad.text, "email")
    assert input_value(bad.text, "email") == "not-an-email"

    r = post(client, "/organizer/organizers", {"name": "Nia New", "email": "Nia@Example.org",
                                               "password": "ignored if sent"}, token)
    assert r.status_code == 303
    assert "An invitation is on its way to nia@example.org" in \
        client.get("/organizer/organizers").text
    nia = _account("nia@example.org")
    assert nia.role == "organizer" and nia.is_active and not nia.has_password
    assert auth.authenticate("nia@example.org", "ignored if sent", "1.2.3.4").organizer is None

    dup = post(client, "/organizer/organizers", {"name": "Again", "email": "nia@example.org"},
               token)
    assert dup.status_code == 422
    assert field_error(dup.text, "email") == "There is already an organizer with this e-mail."
    link = mailed_link("nia@example.org", "invitation")
    with TestClient(create_app()) as nia_client:
        assert "Welcome, Nia New" in nia_client.get(link).text
        r = post(nia_client, link, {"new_password": "first password 1",
                                    "confirm_password": "first password 1"},
                 csrf_token(nia_client, link))
        assert r.status_code == 303
        assert nia_client.get("/organizer/").status_code == 200  # signed in
        assert nia_client.get("/organizer/organizers").status_code == 403
    assert auth.authenticate("nia@example.org", "first password 1", "1.2.3.4").organizer


def test_roles_activation_and_password_reset(client, admin: Organizer) -> None:
    bob = make_organizer("bob@example.org", "Bob")
    login(client, "admin@example.org")
    token = csrf_token(client, "/organizer/organizers")
    url = f"/organizer/organizers/{bob.id}"

    assert post(client, url, {"action": "make_admin"}, token).status_code == 303
    assert _account("bob@example.org").role == "admin"
    assert post(client, url, {"action": "make_organizer"}, token).status_code == 303
    assert _account("bob@example.org").role == "organizer"

    post(client, url, {"action": "deactivate"}, token)
    assert not _account("bob@example.org").is_active
    assert auth.authenticate("bob@example.org", PASSWORD, "1.2.3.4").organizer is None
    post(client, url, {"action": "activate"}, token)
    assert _account("bob@example.org").is_active

    # An admin never sets someone's password: they send a reset link, which changes
    # nothing until its owner uses it.
    r = post(client, url, {"action": "send_link", "password": "brand new secret"}, token)
    assert "A link to choose a new password is on its way to bob@example.org" in \
        client.get(r.headers["location"]).text
    assert mailed_link("bob@example.org", "password_reset").startswith("/organizer/reset/")
    assert auth.authenticate("bob@example.org", PASSWORD, "1.2.3.4").organizer
    assert auth.authenticate("bob@example.org", "brand new secret", "1.2.3.4").organizer is None

    assert post(client, url, {"action": "explode"}, token).status_code == 400
    assert post(client, "/organizer/organizers/99999", {"action": "activate"},
                token).status_code == 404


def test_the_last_admin_cannot_be_removed_or_deactivate_themselves(client, admin) -> None:
    login(client, "admin@example.org")
    token = csrf_token(client, "/organizer/organizers")
    r = post(client, f"/organizer/organizers/{admin.id}", {"action": "make_organizer"}, token)
    assert "at least one active admin" in client.get(r.headers["location"]).text
    assert _account("admin@example.org").role == "admin"
    r = post(client, f"/organizer/organizers/{admin.id}", {"action": "deactivate"}, token)
    assert "cannot deactivate your own account" in client.get(r.headers["location"]).text
    assert _account("admin@example.org").is_active


def test_audit_page_lists_who_changed_what(client, admin: Organizer) -> None:
    owner = make_organizer("owner@example.org", "Olga Owner")
    event = make_event(owner_id=owner.id, title="Budget hearing")
    ann = make_rsvp(event, "Ann Attendee", "ann@example.org")
    other = make_event(owner_id=owner.id, title="Unrelated")
    with TestClient(create_app()) as olga:
        login(olga, "owner@example.org")
        token = csrf_token(olga, "/organizer/")
        post(olga, f"/organizer/events/{event.slug}/attendees/{ann.id}/check-in",
             {"here": "1"}, token)
        post(olga, f"/organizer/events/{other.slug}/publish", token=token)
        post(olga, f"/organizer/events/{event.slug}/cancel", {"message": "Moved online"}, token)
        assert olga.get("/organizer/audit").status_code == 403

    login(client, "admin@example.org")
    page = client.get("/organizer/audit")
    assert page.status_code == 200
    for text in ("Olga Owner", "Checked in Ann Attendee (Budget hearing)",
                 "Cancelled the event “Budget hearing”", "status: published -&gt; cancelled"):
        assert text in page.text, text
    only = client.get(f"/organizer/audit?event={event.slug}")
    assert "Checked in Ann Attendee" in only.text
    assert "Cancelled the event “Budget hearing”" in only.text
    assert "Unrelated" not in only.text.split("</h1>", 1)[1]
    assert client.get("/organizer/audit?event=nope").status_code == 404
    assert client.get("/organizer/audit?page=0").status_code == 400


def test_audit_trail_pages_keep_the_event_filter(client, admin: Organizer) -> None:
    event = make_event(owner_id=admin.id, title="Budget hearing")
    with write_session() as s:
        for i in range(55):  # the page holds 50
            audit.record(s, admin, "event.update", event, f"change {i}")
    login(client, "admin@example.org")
    first = client.get(f"/organizer/audit?event={event.slug}").text
    assert "55 entries" in first and "Page 1 of 2" in first
    assert re.findall(r'<a rel="(\w+)" href="([^"]+)">([^<]+)</a>', first) == [
        ("next", f"?event={event.slug}&amp;page=2", "Older →")]
    second = client.get(f"/organizer/audit?event={event.slug}&page=2").text
    assert second.count("change ") == 5 and "change 0" in second  # the oldest
    assert re.findall(r'<a rel="(\w+)" href="([^"]+)">([^<]+)</a>', second) == [
        ("prev", f"?event={event.slug}&amp;page=1", "← Newer")]



def test_last_sign_in_is_shown_in_the_sites_timezone(client, admin: Organizer) -> None:
    from datetime import UTC, datetime

    from events_app import settings, timefmt

    at = datetime(2031, 7, 4, 23, 30, tzinfo=UTC)
    login(client, "admin@example.org")  # (signing in stamps the time: set it after)
    with write_session() as s:
        account = s.get(Organizer, admin.id)
        account.last_login_at = at
        s.add(account)
    page = client.get("/organizer/organizers").text
    shown = timefmt.format_instant(at, settings.DEFAULT_TIMEZONE)
    assert shown in page and "UTC" not in page
