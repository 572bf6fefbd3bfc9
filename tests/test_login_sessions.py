"""Server-side organizer sessions (issue 9, item 4): ending one takes effect everywhere at
once, ids rotate at sign-in, idle and absolute expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, update
from sqlmodel import select
from starlette.testclient import TestClient

from events_app import settings
from events_app.db import read_session, write_session
from events_app.models import OrganizerSession, utcnow
from events_app.services import login_sessions
from events_app.web.app import create_app
from events_app.web.sessions import COOKIE_NAME
from tests.organizer_support import (
    PASSWORD,
    cheap_passwords,  # noqa: F401 - fixture
    csrf_token,
    login,
    make_organizer,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def _signed_in(client: TestClient) -> bool:
    r = client.get("/organizer/", follow_redirects=False)
    assert r.status_code in (200, 303), r.status_code
    return r.status_code == 200


def _copy_of(client: TestClient) -> TestClient:
    """Another browser holding a stolen copy of `client`'s session cookie."""
    thief = TestClient(create_app())
    thief.cookies.set(COOKIE_NAME, client.cookies[COOKIE_NAME], domain="testserver.local",
                      path="/organizer")
    return thief


def _sessions(organizer_id: int | None = None) -> int:
    with read_session() as s:
        q = select(func.count()).select_from(OrganizerSession)
        if organizer_id is not None:
            q = q.where(OrganizerSession.organizer_id == organizer_id)
        return s.exec(q).one()


def test_sign_out_ends_a_copied_session(client) -> None:
    make_organizer("ada@example.org")
    login(client, "ada@example.org")
    with _copy_of(client) as thief:
        assert _signed_in(thief)
        assert post(client, "/organizer/logout", token=csrf_token(client, "/organizer/")) \
            .status_code == 303
        assert not _signed_in(thief)
    assert _sessions() == 0


def test_the_session_id_rotates_at_every_sign_in(client) -> None:
    make_organizer("ada@example.org")
    login(client, "ada@example.org")
    first = client.cookies[COOKIE_NAME]
    with _copy_of(client) as old:
        assert login(client, "ada@example.org").status_code == 303  # sent with the old id
        second = client.cookies[COOKIE_NAME]
        assert second != first
        assert not _signed_in(old)  # the pre-sign-in id is worthless afterwards
    assert _signed_in(client)
    assert _sessions() == 1


def test_a_planted_session_id_is_not_adopted(client) -> None:
    """Session fixation: an id chosen by an attacker before sign-in never becomes the
    signed-in one."""
    make_organizer("ada@example.org")
    planted = "A" * 43
    client.cookies.set(COOKIE_NAME, planted, domain="testserver.local", path="/organizer")
    login(client, "ada@example.org")
    assert client.cookies[COOKIE_NAME] != planted
    with read_session() as s:
        (row,) = s.exec(select(OrganizerSession)).all()
    assert row.id != login_sessions._digest(planted)


def test_password_change_ends_every_other_session_at_once(db_url: str) -> None:
    make_organizer("ada@example.org")
    with TestClient(create_app()) as laptop, TestClient(create_app()) as phone:
        login(laptop, "ada@example.org")
        login(phone, "ada@example.org")
        new = "a much longer new passphrase"
        r = post(laptop, "/organizer/account", {"current_password": PASSWORD,
                 "new_password": new, "confirm_password": new},
                 csrf_token(laptop, "/organizer/account"))
        assert r.status_code == 303
        assert _signed_in(laptop) and not _signed_in(phone)
        assert _sessions() == 1


def test_admin_actions_end_the_target_sessions(db_url: str) -> None:
    admin = make_organizer("boss@example.org", admin=True)
    bob = make_organizer("bob@example.org")
    with TestClient(create_app()) as boss, TestClient(create_app()) as bobs:
        login(boss, "boss@example.org")
        token = csrf_token(boss, "/organizer/organizers")
        url = f"/organizer/organizers/{bob.id}"
        for action, extra, password in [
                ("sign_out_everywhere", {}, PASSWORD),
                ("deactivate", {}, PASSWORD)]:
            assert login(bobs, "bob@example.org", password).status_code == 303, action
            assert _signed_in(bobs)
            assert post(boss, url, {"action": action, **extra}, token).status_code == 303
            assert not _signed_in(bobs), action
            assert _sessions(bob.id) == 0
        assert _signed_in(boss) and _sessions(admin.id) == 1


def test_sign_out_everywhere_else_keeps_this_browser(db_url: str) -> None:
    ada = make_organizer("ada@example.org")
    with TestClient(create_app()) as laptop, TestClient(create_app()) as phone:
        login(laptop, "ada@example.org")
        login(phone, "ada@example.org")
        before = laptop.cookies[COOKIE_NAME]
        r = post(laptop, "/organizer/account/sign-out-others", {},
                 csrf_token(laptop, "/organizer/account"))
        assert r.status_code == 303
        assert "signed out on every other device" in laptop.get(r.headers["location"]).text
        assert _signed_in(laptop) and not _signed_in(phone)
        assert laptop.cookies[COOKIE_NAME] != before  # and it got a fresh id itself
        assert _sessions(ada.id) == 1


def test_idle_and_absolute_expiry(client) -> None:
    make_organizer("ada@example.org")
    login(client, "ada@example.org")
    idle = timedelta(seconds=settings.SESSION_IDLE_TIMEOUT)
    with write_session() as s:
        s.exec(update(OrganizerSession).values(
            last_seen_at=utcnow() - idle + timedelta(minutes=5)))
    assert _signed_in(client)  # still within the idle time; the visit refreshes it
    with read_session() as s:
        assert s.exec(select(OrganizerSession)).one().last_seen_at > utcnow() - \
            timedelta(minutes=1)
    with write_session() as s:
        s.exec(update(OrganizerSession).values(last_seen_at=utcnow() - idle))
    assert not _signed_in(client)

    login(client, "ada@example.org")
    with write_session() as s:
        row = s.exec(select(OrganizerSession)).one()
        assert row.expires_at - row.created_at == timedelta(seconds=settings.SESSION_MAX_AGE)
        row.expires_at = utcnow()  # absolute end reached, however busy the session was
        s.add(row)
    assert not _signed_in(client)


def test_expired_rows_are_purged(db_url: str) -> None:
    ada = make_organizer("ada@example.org")
    with write_session() as s:
        login_sessions.start(s, ada, login_sessions.SessionStage.SIGNED_IN)
        _, old = login_sessions.start(s, ada, login_sessions.SessionStage.SIGNED_IN)
        old.expires_at = utcnow() - timedelta(seconds=1)
        s.add(old)
    with write_session() as s:
        assert login_sessions.purge_expired(s) == 1
    assert _sessions() == 1


def test_flash_messages_survive_the_redirect_once(client) -> None:
    make_organizer("ada@example.org")
    r = login(client, "ada@example.org")
    page = client.get(r.headers["location"]).text
    assert "Welcome back, ada." in page
    assert "Welcome back" not in client.get("/organizer/").text
