"""CSRF cookie handling (the per-form checks are tested with each form)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from events_app.services import calendar_month
from events_app.web import csrf
from events_app.web.app import create_app
from tests.factories import make_event
from tests.organizer_support import cheap_passwords  # noqa: F401 - fixture
from tests.rsvp_helpers import csrf_from

cheap = pytest.mark.usefixtures("cheap_passwords")


def test_pages_with_a_form_set_the_cookie_others_do_not(db_url: str) -> None:
    """The cookie goes with the tokens it signs: pages with a POST form set it for a new
    visitor; pages whose only form is a GET (filters), feeds, JSON and files set none."""
    make_event(slug="e1")
    with TestClient(create_app()) as c:
        for path in ("/events/e1", "/organizer/login", "/organizer/forgot-password"):
            c.cookies.clear()
            r = c.get(path)
            assert r.status_code == 200, path
            assert "csrftoken=" in r.headers.get("set-cookie", ""), path
            assert csrf_from(r.text) == csrf.visitor_token(c.cookies[csrf.COOKIE_NAME]), path
        today = calendar_month.today()
        for path in ("/", "/events", "/events?q=x", f"/events/month/{today:%Y-%m}",
                     f"/events/day/{today.isoformat()}", "/embed/upcoming", "/calendar.ics",
                     "/events/e1.ics", "/api/events", "/static/app.css"):
            c.cookies.clear()
            r = c.get(path)
            assert r.status_code == 200, path
            assert "set-cookie" not in r.headers, path


def test_cookie_is_kept_not_rotated(db_url: str) -> None:
    make_event(slug="e1")
    with TestClient(create_app()) as c:
        first = c.get("/events/e1")
        cookie = first.cookies["csrftoken"]
        second = c.get("/events/e1")
        assert "set-cookie" not in second.headers
        assert c.cookies["csrftoken"] == cookie
        assert "HttpOnly" in first.headers["set-cookie"]
        assert "SameSite=Lax" in first.headers["set-cookie"]


# --- tokens bound to the organizer session (issue 9, item 5) ---------------------------------

def _sign_in(client: TestClient, email: str) -> None:
    from tests.organizer_support import login

    assert login(client, email).status_code == 303


@cheap
def test_a_planted_cookie_and_its_token_are_refused_with_another_users_session(
        db_url: str) -> None:
    """The attack from the issue: the attacker fetches a page (getting a csrftoken cookie
    and the token signed for it), plants that cookie in the organizer's browser, and makes
    it post the token. Bound to the session, the token is not the organizer's."""
    from tests.organizer_support import make_organizer

    make_organizer("ada@example.org")
    with TestClient(create_app()) as attacker, TestClient(create_app()) as victim:
        page = attacker.get("/organizer/login")
        planted_cookie = attacker.cookies[csrf.COOKIE_NAME]
        attacker_token = csrf_from(page.text)
        _sign_in(victim, "ada@example.org")
        victim.cookies.set(csrf.COOKIE_NAME, planted_cookie, domain="testserver.local",
                           path="/")
        r = victim.post("/organizer/logout", data={"csrf_token": attacker_token},
                        follow_redirects=False)
        assert r.status_code == 403
        assert victim.get("/organizer/", follow_redirects=False).status_code == 200
        # The victim's own page carries a token that does work.
        own = csrf_from(victim.get("/organizer/").text)
        assert own != attacker_token
        assert victim.post("/organizer/logout", data={"csrf_token": own},
                           follow_redirects=False).status_code == 303


@cheap
def test_another_organizers_token_is_refused(db_url: str) -> None:
    from tests.organizer_support import make_organizer

    make_organizer("ada@example.org")
    make_organizer("bob@example.org")
    with TestClient(create_app()) as ada, TestClient(create_app()) as bob:
        _sign_in(ada, "ada@example.org")
        _sign_in(bob, "bob@example.org")
        bobs_token = csrf_from(bob.get("/organizer/").text)
        r = ada.post("/organizer/logout", data={"csrf_token": bobs_token},
                     follow_redirects=False)
        assert r.status_code == 403


@cheap
def test_tokens_rotate_at_sign_in(client) -> None:
    from tests.organizer_support import make_organizer

    make_organizer("ada@example.org")
    anonymous_token = csrf_from(client.get("/organizer/login").text)
    _sign_in(client, "ada@example.org")
    first = csrf_from(client.get("/organizer/").text)
    assert first != anonymous_token
    r = client.post("/organizer/logout", data={"csrf_token": anonymous_token},
                    follow_redirects=False)
    assert r.status_code == 403  # a token from before sign-in is worthless after it
    _sign_in(client, "ada@example.org")  # signing in again: another session, another token
    second = csrf_from(client.get("/organizer/").text)
    assert second != first
    assert client.post("/organizer/logout", data={"csrf_token": first},
                       follow_redirects=False).status_code == 403
    assert client.post("/organizer/logout", data={"csrf_token": second},
                       follow_redirects=False).status_code == 303


@cheap
def test_public_forms_and_feeds_are_unaffected_by_a_signed_in_organizer(
        client) -> None:
    """The session cookie is scoped to /organizer: public pages get the anonymous token (so
    the RSVP form works without JavaScript) and feeds set no cookie, signed in or not."""
    from tests.organizer_support import make_organizer
    from tests.rsvp_helpers import post_rsvp

    make_organizer("ada@example.org")
    event = make_event(slug="e1")
    _sign_in(client, "ada@example.org")
    r = client.get("/calendar.ics")
    assert "set-cookie" not in r.headers
    assert "organizer_sid" not in r.request.headers.get("cookie", "")
    assert post_rsvp(client, event.slug, email="ann@example.org").status_code in (200, 303)
