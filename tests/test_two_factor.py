"""Two-factor sign-in (issue 9, item 3): enrolment, the second step, recovery codes,
replay and guessing limits, and an admin requiring it for everyone."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from events_app.db import make_engine, read_session, write_session
from events_app.models import Organizer, OrganizerSession, RecoveryCode, utcnow
from events_app.services import data_version, site_settings, two_factor
from events_app.web.app import create_app
from events_app.web.sessions import COOKIE_NAME
from tests.factories import queries_run
from tests.organizer_support import (
    PASSWORD,
    cheap_passwords,  # noqa: F401 - fixture
    csrf_token,
    field_error,
    login,
    make_organizer,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_passwords")
CODES_RE = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")


def _account(email: str) -> Organizer:
    with read_session() as s:
        return s.exec(select(Organizer).where(Organizer.email == email)).one()


def _code(secret: str, steps_ahead: int = 0) -> str:
    """The code for now (+30 s per step): each step's code is accepted once only."""
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30 * steps_ahead))


def _enrol(client: TestClient, email: str) -> tuple[str, list[str]]:
    """Turn two-factor on through the pages; returns the secret and the recovery codes."""
    page = client.get("/organizer/account/two-factor")
    assert page.status_code == 200
    secret = _account(email).totp_secret
    assert secret
    r = post(client, "/organizer/account/two-factor", {"action": "confirm",
             "code": _code(secret)}, csrf_from_page(page.text))
    assert r.status_code == 200, r.text[:300]
    return secret, CODES_RE.findall(r.text)


def csrf_from_page(html: str) -> str:
    from tests.rsvp_helpers import csrf_from

    return csrf_from(html)


def _signed_in(client: TestClient) -> bool:
    return client.get("/organizer/", follow_redirects=False).status_code == 200


def _code_step(client: TestClient, code: str, next_url: str = "") -> object:
    """Post the second step's form as the page renders it (its hidden `next` included)."""
    page = client.get(f"/organizer/login/code?next={next_url}").text
    hidden_next = re.search(r'name="next" value="([^"]*)"', page).group(1)
    return post(client, "/organizer/login/code", {"code": code, "next": hidden_next},
                csrf_from_page(page))


# --- enrolment -------------------------------------------------------------------------------

def test_enrolment_shows_a_local_svg_qr_code_and_needs_a_confirming_code(client) -> None:
    make_organizer("ada@example.org")
    login(client, "ada@example.org")
    page = client.get("/organizer/account/two-factor")
    assert page.status_code == 200
    secret = _account("ada@example.org").totp_secret
    # Drawn by the server as inline SVG: no JavaScript needed, nothing fetched elsewhere (the
    # only scripts are the site's own deferred enhancements from /static/).
    assert "<svg" in page.text
    scripts = re.findall(r"<script\b[^>]*>", page.text)
    assert all(re.search(r'src="(http://testserver)?/static/', tag) for tag in scripts), scripts
    assert "http" not in page.text.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org", "")  # drawn here, not fetched from a QR service
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in page.text
    # Reloading keeps the same secret, so a code already scanned stays valid.
    client.get("/organizer/account/two-factor")
    assert _account("ada@example.org").totp_secret == secret

    token = csrf_from_page(page.text)
    wrong = post(client, "/organizer/account/two-factor", {"action": "confirm",
                 "code": "000000" if _code(secret) != "000000" else "111111"}, token)
    assert wrong.status_code == 422
    assert field_error(wrong.text, "code")
    assert not _account("ada@example.org").has_two_factor

    r = post(client, "/organizer/account/two-factor", {"action": "confirm",
             "code": _code(secret)}, token)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    codes = CODES_RE.findall(r.text)
    assert len(codes) == two_factor.RECOVERY_CODES == len(set(codes))
    assert _account("ada@example.org").has_two_factor
    with read_session() as s:  # only hashes are stored
        stored = [c.code_hash for c in s.exec(select(RecoveryCode)).all()]
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert not any(c.replace("-", "") in h for c in codes for h in stored)
    # They are shown once: the page afterwards only counts them.
    later = client.get("/organizer/account/two-factor").text
    assert codes[0] not in later and "10 unused recovery codes" in later


# --- signing in ------------------------------------------------------------------------------

def test_the_second_step_comes_after_the_password_and_signs_in_only_when_right(db_url) -> None:
    make_organizer("ada@example.org")
    with TestClient(create_app()) as setup:
        login(setup, "ada@example.org")
        secret, _ = _enrol(setup, "ada@example.org")
    with TestClient(create_app()) as c:
        # No password yet: the code page sends you to the password page.
        r = c.get("/organizer/login/code", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/organizer/login")
        # A wrong password never reaches the second step.
        assert login(c, "ada@example.org", "wrong wrong wrong").status_code == 422
        r = login(c, "ada@example.org", next_url="/organizer/account")
        assert r.status_code == 303
        assert r.headers["location"] == "/organizer/login/code?next=%2Forganizer%2Faccount"
        pending = c.cookies[COOKIE_NAME]
        assert not _signed_in(c)  # password alone is not a session
        r = c.get("/organizer/account", follow_redirects=False)
        assert r.status_code == 303  # back to the step still due
        assert r.headers["location"] == "/organizer/login/code?next=%2Forganizer%2Faccount"

        bad = _code_step(c, "123456" if _code(secret, 1) != "123456" else "654321")
        assert bad.status_code == 422 and "not right" in bad.text
        assert not _signed_in(c)

        ok = _code_step(c, _code(secret, 1), next_url="/organizer/account")
        assert ok.status_code == 303 and ok.headers["location"] == "/organizer/account"
        assert c.cookies[COOKIE_NAME] != pending  # rotated again once fully signed in
        assert _signed_in(c)
    with read_session() as s:
        stages = [row.stage for row in s.exec(select(OrganizerSession)).all()]
    assert sorted(stages) == ["ok", "ok"]  # the pending row is gone


def test_a_code_is_accepted_once(db_url) -> None:
    make_organizer("ada@example.org")
    with TestClient(create_app()) as setup:
        login(setup, "ada@example.org")
        secret, _ = _enrol(setup, "ada@example.org")
    code = _code(secret, 1)
    with TestClient(create_app()) as first, TestClient(create_app()) as replay:
        login(first, "ada@example.org")
        assert _code_step(first, code).status_code == 303
        login(replay, "ada@example.org")
        assert _code_step(replay, code).status_code == 422  # seen over a shoulder: no use
        assert not _signed_in(replay)


def test_recovery_codes_work_once_each(db_url) -> None:
    make_organizer("ada@example.org")
    with TestClient(create_app()) as setup:
        login(setup, "ada@example.org")
        _, codes = _enrol(setup, "ada@example.org")
    with TestClient(create_app()) as c:
        login(c, "ada@example.org")
        r = _code_step(c, " " + codes[0].upper().replace("-", " ") + " ")  # typed loosely
        assert r.status_code == 303
        assert "recovery code; 9 left" in c.get(r.headers["location"]).text
    with TestClient(create_app()) as c:
        login(c, "ada@example.org")
        assert _code_step(c, codes[0]).status_code == 422
        assert _code_step(c, codes[1]).status_code == 303


def test_guessing_codes_is_throttled_even_for_the_right_one(db_url) -> None:
    make_organizer("ada@example.org")
    with TestClient(create_app()) as setup:
        login(setup, "ada@example.org")
        secret, _ = _enrol(setup, "ada@example.org")
    right = _code(secret, 1)
    wrong = "000000" if right != "000000" else "111111"
    with TestClient(create_app()) as c:
        login(c, "ada@example.org")
        for _ in range(two_factor.GUESS_LIMIT):
            assert _code_step(c, wrong).status_code == 422
        r = _code_step(c, right)
        assert r.status_code == 429 and "Too many wrong codes" in r.text
        assert not _signed_in(c)


def test_recovery_codes_can_be_replaced_and_two_factor_turned_off(client) -> None:
    make_organizer("ada@example.org")
    login(client, "ada@example.org")
    _, old_codes = _enrol(client, "ada@example.org")
    token = csrf_token(client, "/organizer/account/two-factor")
    bad = post(client, "/organizer/account/two-factor",
               {"action": "recovery_codes", "password": "not my password"}, token)
    assert bad.status_code == 422 and field_error(bad.text, "password")
    r = post(client, "/organizer/account/two-factor",
             {"action": "recovery_codes", "password": PASSWORD}, token)
    new_codes = CODES_RE.findall(r.text)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)

    r = post(client, "/organizer/account/two-factor",
             {"action": "disable", "off_password": PASSWORD}, token)
    assert r.status_code == 303
    ada = _account("ada@example.org")
    assert not ada.has_two_factor and ada.totp_secret is None
    with read_session() as s:
        assert s.exec(select(RecoveryCode)).all() == []


# --- an admin requires it --------------------------------------------------------------------

def test_the_requirement_is_not_read_on_every_request(db_url) -> None:
    make_organizer("ada@example.org")
    with TestClient(create_app()) as ada:
        login(ada, "ada@example.org")
        assert ada.get("/organizer/").status_code == 200
        with queries_run() as seen:
            assert ada.get("/organizer/").status_code == 200
    assert not [q for q in seen if "site_setting" in q]


def test_a_requirement_switched_on_in_another_process_applies_within_the_check_interval(
        db_url, monkeypatch) -> None:
    """Another worker's admin flips the switch (a second engine: its own pool, its own view
    of the data version): a signed-in organizer here is sent to enrolment once the version
    is due again, without this process being told."""
    monkeypatch.setattr(data_version, "CHECK_INTERVAL", 0.5)
    make_organizer("ada@example.org")
    with TestClient(create_app()) as ada:
        login(ada, "ada@example.org")
        assert ada.get("/organizer/", follow_redirects=False).status_code == 200
        elsewhere = make_engine(db_url)
        try:
            with Session(elsewhere) as session:
                site_settings.set_flag(session, two_factor.REQUIRED_SETTING, True)
                session.commit()
        finally:
            elsewhere.dispose()
        time.sleep(0.6)
        r = ada.get("/organizer/", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/organizer/account/two-factor")


def test_admin_can_require_two_factor_for_everyone(db_url) -> None:
    make_organizer("boss@example.org", admin=True)
    make_organizer("ada@example.org")
    with TestClient(create_app()) as boss, TestClient(create_app()) as ada:
        login(boss, "boss@example.org")
        login(ada, "ada@example.org")  # signed in before the switch
        r = post(boss, "/organizer/organizers/security", {"two_factor_required": "on"},
                 csrf_token(boss, "/organizer/organizers"))
        assert r.status_code == 303
        with read_session() as s:
            assert two_factor.is_required(s)

        # Already signed in: every workspace page now leads to enrolment first.
        r = ada.get("/organizer/", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/organizer/account/two-factor")

        # Signing in afresh: the password leads to enrolment, not into the workspace.
        with TestClient(create_app()) as fresh:
            r = login(fresh, "ada@example.org")
            assert r.headers["location"].startswith("/organizer/account/two-factor")
            r = fresh.get("/organizer/events/new", follow_redirects=False)
            assert r.status_code == 303  # nothing but the set-up page until it is done
            assert r.headers["location"] == \
                "/organizer/account/two-factor?next=%2Forganizer%2Fevents%2Fnew"
            secret, codes = _enrol(fresh, "ada@example.org")
            assert len(codes) == 10 and _signed_in(fresh)
            # It cannot be turned off while required.
            page = fresh.get("/organizer/account/two-factor").text
            assert "cannot be turned off" in page
            r = post(fresh, "/organizer/account/two-factor",
                     {"action": "disable", "off_password": PASSWORD},
                     csrf_token(fresh, "/organizer/account/two-factor"))
            assert r.status_code == 422
            assert _account("ada@example.org").has_two_factor


def test_admin_resets_a_lost_authenticator(db_url) -> None:
    make_organizer("boss@example.org", admin=True)
    make_organizer("ada@example.org")
    with TestClient(create_app()) as ada:
        login(ada, "ada@example.org")
        _enrol(ada, "ada@example.org")
        with TestClient(create_app()) as boss:
            login(boss, "boss@example.org")
            target = _account("ada@example.org")
            r = post(boss, f"/organizer/organizers/{target.id}",
                     {"action": "reset_two_factor"}, csrf_token(boss, "/organizer/organizers"))
            assert r.status_code == 303
        assert not _account("ada@example.org").has_two_factor
        assert not _signed_in(ada)
    with TestClient(create_app()) as ada:
        assert login(ada, "ada@example.org").headers["location"] == "/organizer/"


def test_service_refuses_codes_outside_the_window(db_url) -> None:
    ada = make_organizer("ada@example.org")
    with write_session() as s:
        row = s.get(Organizer, ada.id)
        two_factor.begin_enrolment(row)
        s.add(row)
        secret = row.totp_secret
        assert two_factor.confirm_enrolment(s, row, _code(secret, 3)) is None  # 90 s ahead
        assert two_factor.confirm_enrolment(s, row, _code(secret, -3)) is None
        assert two_factor.confirm_enrolment(s, row, "１２３４５６") is None  # not ASCII
        assert two_factor.confirm_enrolment(s, row, _code(secret)) is not None


def test_one_recovery_code_used_in_parallel_signs_in_once(db_url) -> None:
    """Spent by a conditional UPDATE: of ten simultaneous uses, exactly one wins."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    ada = make_organizer("ada@example.org")
    with write_session() as s:
        row = s.get(Organizer, ada.id)
        secret = two_factor.begin_enrolment(row)
        codes = two_factor.confirm_enrolment(s, row, _code(secret))
    barrier = threading.Barrier(10)

    def use(_: int) -> bool:
        barrier.wait()
        with write_session() as s:
            me = s.get(Organizer, ada.id)
            return two_factor.check_code(s, me, codes[0]).outcome == two_factor.CodeOutcome.OK

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(use, range(10)))
    assert results.count(True) == 1
