"""Invitations and password resets by one-time e-mailed link (services/account_links.py and
the pages behind the links): single use, expiry, superseding, sessions ended, two-factor
still asked, no account enumeration, throttling, nothing secret in the logs."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import update
from sqlmodel import col, select
from starlette.testclient import TestClient

from events_app import settings
from events_app.db import read_session, write_session
from events_app.models import AccountLink, Organizer, OrganizerSession, Outbox, utcnow
from events_app.services import account_links, auth, mail, organizers
from events_app.web.access_log import redact
from events_app.web.app import create_app
from tests.organizer_support import (
    PASSWORD,
    cheap_passwords,  # noqa: F401 - fixture
    csrf_token,
    login,
    mailed_link,
    make_organizer,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_passwords")

NEW = "a brand new passphrase"


def _set(client: TestClient, link: str, password: str = NEW, confirm: str | None = None):
    return post(client, link, {"new_password": password,
                               "confirm_password": password if confirm is None else confirm},
                csrf_token(client, "/organizer/login"))


def _forgot(client: TestClient, email: str):
    return post(client, "/organizer/forgot-password", {"email": email},
                csrf_token(client, "/organizer/forgot-password"))


def _signed_in(client: TestClient) -> bool:
    return client.get("/organizer/", follow_redirects=False).status_code == 200


def _sessions(organizer_id: int) -> int:
    with read_session() as s:
        return len(s.exec(select(OrganizerSession)
                          .where(OrganizerSession.organizer_id == organizer_id)).all())


def _invite(email: str = "nia@example.org", admin: Organizer | None = None) -> str:
    with write_session() as s:
        organizers.invite_organizer(s, email=email, name="Nia New", actor=admin)
    return mailed_link(email, "invitation")


def _mails(kind: str) -> list[Outbox]:
    with read_session() as s:
        return list(s.exec(select(Outbox).where(Outbox.kind == kind)).all())


# --- invitations -----------------------------------------------------------------------------

def test_invitation_link_sets_the_password_once(client) -> None:
    admin = make_organizer("ada@example.org", "Ada Admin", admin=True)
    link = _invite(admin=admin)
    (invitation,) = _mails("invitation")
    assert "Ada Admin made you an organizer account" in invitation.body_text
    assert invitation.subject == f"Your organizer account on {settings.SITE_NAME}"
    token = link.rsplit("/", 1)[-1]
    with read_session() as s:
        (row,) = s.exec(select(AccountLink)).all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()  # never the token
    assert row.expires_at - row.created_at == timedelta(days=7)

    page = client.get(link)
    assert page.status_code == 200 and "Welcome, Nia New" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert client.get(link).status_code == 200  # opening the link spends nothing

    short = _set(client, link, "short")
    assert short.status_code == 422 and "Use at least 10 characters." in short.text
    mismatch = _set(client, link, NEW, "something else entirely")
    assert mismatch.status_code == 422 and "not the same" in mismatch.text
    ok = _set(client, link)
    assert ok.status_code == 303 and _signed_in(client)
    assert auth.authenticate("nia@example.org", NEW, "1.2.3.4").organizer is not None

    with TestClient(create_app()) as other:
        used = other.get(link)
        assert used.status_code == 410 and "no longer works" in used.text
        again = _set(other, link, "another new passphrase")
        assert again.status_code == 410 and not _signed_in(other)
    assert auth.authenticate("nia@example.org", NEW, "1.2.3.4").organizer is not None


def test_an_invited_account_has_no_password_until_the_link_is_used(db_url: str) -> None:
    _invite()
    for guess in ("", PASSWORD, "anything at all"):
        assert auth.authenticate("nia@example.org", guess, "1.2.3.4").organizer is None


def test_expired_and_superseded_links_are_refused(client) -> None:
    admin = make_organizer("ada@example.org", admin=True)
    first = _invite(admin=admin)
    with read_session() as s:
        nia = s.exec(select(Organizer).where(Organizer.email == "nia@example.org")).one()
    # The admin sends the invitation again: only the newest link works.
    with write_session() as s:
        organizers.send_link(s, admin, nia.id)
    second = mailed_link("nia@example.org", "invitation")
    assert second != first
    assert client.get(first).status_code == 410
    assert _set(client, first).status_code == 410
    # Expiry: the link stops working at its expires_at.
    with write_session() as s:
        s.exec(update(AccountLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(second).status_code == 410
    assert _set(client, second).status_code == 410
    assert account_links.check(second.rsplit("/", 1)[-1], account_links.AccountLinkPurpose.INVITE,
                               now=utcnow() - timedelta(minutes=1)) is not None
    with read_session() as s:
        assert not s.get(Organizer, nia.id).has_password


def test_a_link_is_for_its_own_purpose_and_a_live_account(client) -> None:
    admin = make_organizer("ada@example.org", admin=True)
    invite = _invite(admin=admin)
    # An invitation token under the reset path is not a reset link.
    assert client.get(invite.replace("/welcome/", "/reset/")).status_code == 410
    with read_session() as s:
        nia = s.exec(select(Organizer).where(Organizer.email == "nia@example.org")).one()
    organizers.account_action(admin, nia.id, "deactivate")
    assert client.get(invite).status_code == 410
    for junk in ("x", "not a token!", "a" * 300):
        assert client.get(f"/organizer/welcome/{junk}").status_code in (404, 410)


# --- password reset --------------------------------------------------------------------------

def test_reset_ends_every_session_and_the_old_password(db_url: str) -> None:
    bob = make_organizer("bob@example.org", "Bob")
    with TestClient(create_app()) as laptop, TestClient(create_app()) as phone:
        login(laptop, "bob@example.org")
        login(phone, "bob@example.org")
        assert _sessions(bob.id) == 2
        assert _forgot(phone, "bob@example.org").status_code == 200
        link = mailed_link("bob@example.org", "password_reset")
        with read_session() as s:
            (row,) = s.exec(select(AccountLink)).all()
        assert row.expires_at - row.created_at == timedelta(hours=1)
        assert _set(phone, link).status_code == 303
        assert not _signed_in(laptop)  # ended everywhere ...
        assert _signed_in(phone) and _sessions(bob.id) == 1  # ... and this one started afresh
    assert auth.authenticate("bob@example.org", PASSWORD, "1.2.3.4").organizer is None
    assert auth.authenticate("bob@example.org", NEW, "1.2.3.4").organizer is not None


def test_reset_still_asks_for_the_second_factor(client) -> None:
    bob = make_organizer("bob@example.org")
    secret = pyotp.random_base32()
    with write_session() as s:
        s.exec(update(Organizer).where(col(Organizer.id) == bob.id)
               .values(totp_secret=secret, totp_enabled_at=utcnow()))
    _forgot(client, "bob@example.org")
    link = mailed_link("bob@example.org", "password_reset")
    assert "you will still need a code" in client.get(link).text
    r = _set(client, link)
    assert r.status_code == 303 and r.headers["location"].startswith("/organizer/login/code")
    assert not _signed_in(client)  # the password alone (from the e-mail) is not enough
    with read_session() as s:
        assert s.get(Organizer, bob.id).has_two_factor  # and two-factor stays on


def test_forgot_password_does_not_reveal_whether_an_account_exists(client) -> None:
    make_organizer("bob@example.org")
    make_organizer("gone@example.org")
    with read_session() as s:
        gone = s.exec(select(Organizer).where(Organizer.email == "gone@example.org")).one()
    admin = make_organizer("ada@example.org", admin=True)
    organizers.account_action(admin, gone.id, "deactivate")

    def answer(email: str) -> tuple[int, str]:
        r = _forgot(client, email)
        text = re.sub(r'name="csrf_token" value="[^"]*"', "", r.text).replace(email, "EMAIL")
        return r.status_code, text

    real = answer("bob@example.org")
    assert real[0] == 200 and "If <strong>EMAIL</strong> belongs" in real[1]
    assert answer("nobody@example.org") == real
    assert answer("gone@example.org") == real  # deactivated: no link either
    assert [m.to_addr for m in _mails("password_reset")] == ["bob@example.org"]
    assert "Too many" not in real[1]
    empty = _forgot(client, "   ")
    assert empty.status_code == 422 and "Enter the e-mail address" in empty.text


def test_forgot_password_is_throttled_per_address_and_per_client(client) -> None:
    make_organizer("bob@example.org")
    per_address = account_links.FORGOT_PER_ADDRESS.limit
    for _ in range(per_address):
        assert _forgot(client, "bob@example.org").status_code == 200
    assert _forgot(client, "bob@example.org").status_code == 429
    assert _forgot(client, "nobody@example.org").status_code == 200  # another address
    assert len(_mails("password_reset")) == per_address
    # Unknown addresses count the same, so the limit reveals nothing either.
    for _ in range(per_address - 1):
        assert _forgot(client, "nobody@example.org").status_code == 200
    assert _forgot(client, "nobody@example.org").status_code == 429
    # One client spraying many addresses hits its own limit.
    statuses = [_forgot(client, f"user{i}@example.org").status_code
                for i in range(account_links.FORGOT_PER_IP.limit)]
    assert statuses[-1] == 429


def test_a_new_reset_link_replaces_the_previous_one(client) -> None:
    make_organizer("bob@example.org")
    _forgot(client, "bob@example.org")
    first = mailed_link("bob@example.org", "password_reset")
    _forgot(client, "bob@example.org")
    second = mailed_link("bob@example.org", "password_reset")
    assert first != second
    assert _set(client, first).status_code == 410
    assert _set(client, second).status_code == 303


# --- nothing secret in logs --------------------------------------------------------------------

def test_links_are_redacted_from_the_access_log_and_the_mail_log(db_url: str, caplog) -> None:
    assert redact('"GET /organizer/welcome/abcDEF-_123 HTTP/1.1" 200') == \
        '"GET /organizer/welcome/[redacted] HTTP/1.1" 200'
    assert redact("POST /organizer/reset/abcDEF-_123?x=1") == \
        "POST /organizer/reset/[redacted]?x=1"
    assert redact("/organizer/forgot-password") == "/organizer/forgot-password"
    make_organizer("bob@example.org")
    account_links.request_reset("bob@example.org", "1.2.3.4")
    link = mailed_link("bob@example.org", "password_reset")
    token = link.rsplit("/", 1)[-1]
    with caplog.at_level(logging.INFO):
        report = mail.deliver_pending()  # no SMTP_HOST in tests: written to the log
    assert report.logged == 1
    assert "Reset your password" in caplog.text and token not in caplog.text
