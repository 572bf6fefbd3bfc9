"""Organizer sign-in: hashing, the session cookie, throttling, no enumeration, redirects, CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import select
from starlette.testclient import TestClient

from events_app import cli, settings
from events_app.db import read_session, write_session
from events_app.models import Organizer, OrganizerSession, Outbox, ThrottleBucket
from events_app.services import auth
from events_app.web.app import create_app
from events_app.web.auth import safe_next
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


def _error_banner(html: str) -> str:
    start = html.index('id="login-error">') + len('id="login-error">')
    return html[start:html.index("</div>", start)]


# --- hashing ---------------------------------------------------------------------------------

def test_production_hasher_is_argon2id_with_rfc9106_parameters() -> None:
    cheap = auth.use_hasher(auth.PasswordHasher())  # the module default, restored below
    try:
        stored = auth.hash_password(PASSWORD)
    finally:
        auth.use_hasher(cheap)
    assert stored.startswith("$argon2id$")
    assert "m=65536,t=3,p=4" in stored
    assert PASSWORD not in stored
    assert auth.verify_password(stored, PASSWORD)
    assert not auth.verify_password(stored, PASSWORD + "x")
    assert not auth.verify_password("not-a-hash", PASSWORD)


def test_weak_parameters_are_upgraded_on_next_login(db_url: str) -> None:
    make_organizer("ada@example.org")  # hashed with the cheap test profile
    strong = auth.PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1)
    previous = auth.use_hasher(strong)
    try:
        result = auth.authenticate("ada@example.org", PASSWORD, "10.0.0.1")
        assert result.outcome == auth.LoginOutcome.OK
        with read_session() as s:
            stored = s.exec(auth.select(Organizer)).one().password_hash
        assert "m=1024,t=2,p=1" in stored
        assert auth.verify_password(stored, PASSWORD)
    finally:
        auth.use_hasher(previous)


# --- logging in ------------------------------------------------------------------------------

def test_login_sets_a_signed_httponly_lax_cookie_and_redirects_back(client) -> None:
    make_organizer("ada@example.org")
    assert client.get("/organizer/", follow_redirects=False).headers["location"] == \
        "/organizer/login?next=%2Forganizer%2F"
    r = login(client, "ADA@example.org ", next_url="/organizer/account")
    assert r.status_code == 303
    assert r.headers["location"] == "/organizer/account"
    cookie = next(c for c in r.headers.get_list("set-cookie")
                  if c.startswith(f"{COOKIE_NAME}="))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "Path=/organizer;" in cookie  # never sent with public pages, feeds or the API
    device = next(c for c in r.headers.get_list("set-cookie")
                  if c.startswith("organizer_device="))
    assert "httponly" in device.lower() and "Path=/organizer;" in device
    assert "secure" not in cookie.lower()  # BASE_URL is http in tests
    assert f"Max-Age={settings.SESSION_MAX_AGE}" in cookie
    assert PASSWORD not in cookie and "ada@example.org" not in cookie
    page = client.get("/organizer/account")
    assert page.status_code == 200 and "ada@example.org" in page.text
    with read_session() as s:
        assert s.exec(auth.select(Organizer)).one().last_login_at is not None


def test_cookie_is_secure_when_the_site_is_https(db_url: str, monkeypatch) -> None:
    monkeypatch.setattr(settings, "HTTPS", True)
    make_organizer("ada@example.org")
    with TestClient(create_app(), base_url="https://testserver") as c:
        r = login(c, "ada@example.org")
    cookie = next(c for c in r.headers.get_list("set-cookie")
                  if c.startswith(f"{COOKIE_NAME}="))
    assert "secure" in cookie.lower()


def test_made_up_or_stored_values_are_not_a_session(client) -> None:
    """The cookie is a random token; the table keeps only its hash, so neither a guess nor
    a copy of the table's ids signs anyone in."""
    make_organizer("ada@example.org", admin=True)
    login(client, "ada@example.org")
    token = client.cookies.get(COOKIE_NAME)
    with read_session() as s:
        (row,) = s.exec(auth.select(OrganizerSession)).all()
    assert row.id != token and len(row.id) == 64
    for value in (row.id, "A" * 43, token[:-1] + ("A" if token[-1] != "A" else "B")):
        with TestClient(create_app()) as other:
            other.cookies.set(COOKIE_NAME, value, path="/organizer")
            r = other.get("/organizer/", follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/organizer/login")


def test_login_requires_csrf_token(client) -> None:
    make_organizer("ada@example.org")
    client.get("/organizer/login")
    r = client.post("/organizer/login", data={"email": "ada@example.org", "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 403
    assert COOKIE_NAME not in client.cookies


def test_empty_fields_are_a_form_error(client) -> None:
    r = post(client, "/organizer/login", {"email": "", "password": ""})
    assert r.status_code == 422
    assert "Enter your e-mail and password." in r.text


def test_already_signed_in_visitor_skips_the_login_form(client) -> None:
    make_organizer("ada@example.org")
    login(client, "ada@example.org")
    r = client.get("/organizer/login?next=/organizer/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/organizer/account"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
    "http:/evil.example", "/organizer/\nSet-Cookie: x", " /organizer/", "",
])
def test_next_must_be_a_local_path(target: str) -> None:
    assert safe_next(target, "/organizer/") == "/organizer/"


def test_next_keeps_local_paths_with_queries() -> None:
    path = "/organizer/events/town-hall/attendees?q=ann&sort=status"
    assert safe_next(path, "/organizer/") == path


def test_open_redirect_through_login_is_refused(client) -> None:
    make_organizer("ada@example.org")
    r = login(client, "ada@example.org", next_url="//evil.example/phish")
    assert r.status_code == 303 and r.headers["location"] == "/organizer/"


# --- no enumeration --------------------------------------------------------------------------

def test_unknown_email_and_wrong_password_look_the_same(client, monkeypatch) -> None:
    make_organizer("ada@example.org")
    make_organizer("gone@example.org")
    with write_session() as s:
        s.exec(update(Organizer).where(Organizer.email == "gone@example.org")
               .values(is_active=False))
    verifications: list[str] = []
    real_verify = auth.verify_password
    monkeypatch.setattr(auth, "verify_password",
                        lambda h, p: verifications.append(h) or real_verify(h, p))

    answers = []
    for email, password in [("ada@example.org", "wrong password!"),
                            ("nobody@example.org", "wrong password!"),
                            ("gone@example.org", PASSWORD)]:
        verifications.clear()
        r = login(client, email, password)
        answers.append((r.status_code, _error_banner(r.text)))
        # Same work in every case: exactly one argon2 verification.
        assert len(verifications) == 1, email
        assert verifications[0].startswith("$argon2id$")
        assert f'value="{email}"' in r.text  # the e-mail is kept
        assert password not in r.text  # the password never is
    assert answers[0] == answers[1] == answers[2]
    assert answers[0] == (422, auth.LOGIN_FAILED_MESSAGE)


# --- throttling ------------------------------------------------------------------------------

def _expire_blocks() -> None:
    with write_session() as s:
        s.exec(update(ThrottleBucket).values(blocked_until=None))


def test_login_is_throttled_after_repeated_failures(client) -> None:
    make_organizer("ada@example.org")
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert login(client, "ada@example.org", "guess guess guess").status_code == 422
    # Now even the right password is refused from this client, with a clear message.
    r = login(client, "ada@example.org")
    assert r.status_code == 429
    assert "Too many failed sign-in attempts" in r.text
    assert COOKIE_NAME not in client.cookies
    # An unknown e-mail is throttled the same way: the limit does not reveal accounts.
    for _ in range(settings.LOGIN_MAX_FAILURES):
        login(client, "nobody@example.org", "guess guess guess")
    assert login(client, "nobody@example.org", "x").status_code == 429

    # Once the back-off has passed the account can sign in again.
    _expire_blocks()
    r = login(client, "ada@example.org")
    assert r.status_code == 303


def test_back_off_doubles_with_each_further_failure(db_url: str) -> None:
    make_organizer("ada@example.org")
    waits = []
    for _ in range(settings.LOGIN_MAX_FAILURES + 3):
        _expire_blocks()
        assert auth.authenticate("ada@example.org", "nope nope nope", "10.0.0.1").outcome \
            == auth.LoginOutcome.FAILED
        with read_session() as s:
            pair = s.exec(auth.select(ThrottleBucket)
                          .where(ThrottleBucket.key.startswith("login:pair:"))).one()
            if pair.blocked_until is not None:
                waits.append(round((pair.blocked_until - auth.utcnow()).total_seconds() / 60))
    assert waits == [1, 2, 4, 8]
    assert auth.authenticate("ada@example.org", PASSWORD, "10.0.0.1").outcome == \
        auth.LoginOutcome.THROTTLED


def test_an_attacker_elsewhere_cannot_lock_the_organizer_out(db_url: str) -> None:
    """Item 7: failures count per (account, client): the attacker's IP is blocked, the
    organizer's own is not."""
    make_organizer("ada@example.org")
    for _ in range(settings.LOGIN_MAX_FAILURES * 3):
        auth.authenticate("ada@example.org", "guess guess guess", "203.0.113.9")
    assert auth.authenticate("ada@example.org", PASSWORD, "203.0.113.9").outcome == \
        auth.LoginOutcome.THROTTLED
    assert auth.authenticate("ada@example.org", PASSWORD, "198.51.100.7").outcome == \
        auth.LoginOutcome.OK


def test_success_resets_the_pair_counter(db_url: str) -> None:
    make_organizer("ada@example.org")
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        auth.authenticate("ada@example.org", "nope nope nope", "10.0.0.1")
    assert auth.authenticate("ada@example.org", PASSWORD, "10.0.0.1").organizer
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        auth.authenticate("ada@example.org", "nope nope nope", "10.0.0.1")
    result = auth.authenticate("ada@example.org", PASSWORD, "10.0.0.1")
    assert result.outcome == auth.LoginOutcome.OK


def test_the_browser_that_signed_in_before_gets_in_during_a_distributed_attack(
        client, monkeypatch) -> None:
    monkeypatch.setattr(settings, "LOGIN_ACCOUNT_CEILING", 3)
    make_organizer("ada@example.org")
    assert login(client, "ada@example.org").status_code == 303  # sets the device cookie
    client.cookies.delete("organizer_sid")
    for i in range(3):
        auth.authenticate("ada@example.org", "guess guess", f"203.0.113.{i}")
    with TestClient(create_app()) as stranger:
        assert login(stranger, "ada@example.org").status_code == 429
    assert login(client, "ada@example.org").status_code == 303


def test_distributed_guessing_hits_the_account_ceiling_but_not_a_known_device(
        db_url: str, monkeypatch) -> None:
    """Many IPs, each under its own pair limit, together reach the per-account ceiling; the
    organizer's browser, which signed in before, still gets in."""
    monkeypatch.setattr(settings, "LOGIN_ACCOUNT_CEILING", 12)
    ada = make_organizer("ada@example.org")
    device = auth.new_device_token(ada.id)
    for i in range(12):
        assert auth.authenticate("ada@example.org", "guess guess", f"203.0.113.{i}").outcome \
            == auth.LoginOutcome.FAILED
    fresh_ip = auth.authenticate("ada@example.org", PASSWORD, "198.51.100.7")
    assert fresh_ip.outcome == auth.LoginOutcome.THROTTLED
    known = auth.authenticate("ada@example.org", PASSWORD, "198.51.100.7", device)
    assert known.outcome == auth.LoginOutcome.OK
    # A device cookie is bound to its account and signed: a forged or borrowed one is not.
    other = make_organizer("bob@example.org")
    borrowed = auth.new_device_token(other.id)
    forged = device[:-1] + ("0" if device[-1] != "0" else "1")
    for token in (borrowed, forged):
        assert auth.authenticate("ada@example.org", PASSWORD, "198.51.100.8", token).outcome \
            == auth.LoginOutcome.THROTTLED


def test_one_ip_guessing_many_accounts_is_throttled(db_url: str) -> None:
    make_organizer("ada@example.org")
    limit = settings.LOGIN_MAX_FAILURES * auth.IP_FAILURE_FACTOR
    for i in range(limit):
        r = auth.authenticate(f"user{i}@example.org", "guess guess", "203.0.113.9")
        assert r.outcome == auth.LoginOutcome.FAILED
    blocked = auth.authenticate("ada@example.org", PASSWORD, "203.0.113.9")
    other_ip = auth.authenticate("ada@example.org", PASSWORD, "198.51.100.7")
    assert blocked.outcome == auth.LoginOutcome.THROTTLED
    assert other_ip.outcome == auth.LoginOutcome.OK


# --- sessions end when they should ------------------------------------------------------------

def test_logout_needs_post_with_csrf_and_ends_the_session(client) -> None:
    make_organizer("ada@example.org")
    login(client, "ada@example.org")
    assert client.get("/organizer/logout").status_code == 405
    assert client.post("/organizer/logout", follow_redirects=False).status_code == 403
    assert client.get("/organizer/", follow_redirects=False).status_code == 200
    token = csrf_token(client, "/organizer/")
    r = post(client, "/organizer/logout", token=token)
    assert r.status_code == 303
    assert client.get("/organizer/", follow_redirects=False).status_code == 303


def test_deactivating_an_account_ends_its_sessions(client) -> None:
    make_organizer("ada@example.org")
    login(client, "ada@example.org")
    assert client.get("/organizer/", follow_redirects=False).status_code == 200
    with write_session() as s:
        s.exec(update(Organizer).values(is_active=False))
    assert client.get("/organizer/", follow_redirects=False).status_code == 303


def test_changing_the_password_signs_out_other_devices(db_url: str) -> None:
    make_organizer("ada@example.org")
    with TestClient(create_app()) as laptop, TestClient(create_app()) as phone:
        login(laptop, "ada@example.org")
        login(phone, "ada@example.org")
        token = csrf_token(laptop, "/organizer/account")
        bad = post(laptop, "/organizer/account", {
            "current_password": "not it at all", "new_password": "short",
            "confirm_password": "short"}, token)
        assert bad.status_code == 422
        assert "That is not your current password." in bad.text
        assert "Use at least 10 characters." in bad.text
        new = "a much longer new passphrase"
        r = post(laptop, "/organizer/account", {
            "current_password": PASSWORD, "new_password": new, "confirm_password": new}, token)
        assert r.status_code == 303
        assert laptop.get("/organizer/", follow_redirects=False).status_code == 200
        assert phone.get("/organizer/", follow_redirects=False).status_code == 303
        assert login(phone, "ada@example.org").status_code == 422
        assert login(phone, "ada@example.org", new).status_code == 303


# --- command line ----------------------------------------------------------------------------

def test_cli_first_admin_gets_a_printed_invitation_link(client, capsys) -> None:
    """No password on the command line or stdin: the first admin chooses it through the
    one-time link the command prints (and e-mails)."""
    code = cli.main(["create-organizer", "--email", "Boss@Example.org", "--name", "Boss",
                     "--admin"])
    assert code == 0
    out = capsys.readouterr().out
    assert "Created admin boss@example.org" in out
    link = next(w for w in out.split() if "/organizer/welcome/" in w)
    with read_session() as s:
        mail = s.exec(select(Outbox).where(Outbox.kind == "invitation")).one()
    assert mail.to_addr == "boss@example.org" and link in mail.body_text
    # No password yet: nothing signs in to the account.
    assert auth.authenticate("boss@example.org", "", "1.1.1.1").organizer is None
    path = link.removeprefix(settings.BASE_URL)
    new = "a long enough password"
    r = post(client, path, {"new_password": new, "confirm_password": new},
             csrf_token(client, path))
    assert r.status_code == 303
    result = auth.authenticate("boss@example.org", new, "1.1.1.1")
    assert result.organizer is not None and result.organizer.role == "admin"


def test_cli_prints_no_link_once_there_is_an_admin(db_url: str, capsys) -> None:
    make_organizer("boss@example.org", admin=True)
    assert cli.main(["create-organizer", "--email", "a@example.org", "--name", "A"]) == 0
    out = capsys.readouterr().out
    assert "/organizer/welcome/" not in out and "invitation" in out
    assert cli.main(["create-organizer", "--email", "b@example.org", "--name", "B",
                     "--admin"]) == 0
    assert "/organizer/welcome/" not in capsys.readouterr().out
    with read_session() as s:
        invited = s.exec(select(Outbox.to_addr).where(Outbox.kind == "invitation")).all()
        assert sorted(invited) == ["a@example.org", "b@example.org"]
        assert s.exec(select(Organizer).where(Organizer.email == "a@example.org")).one() \
            .role == "organizer"


def test_cli_reports_bad_input(db_url: str, capsys) -> None:
    make_organizer("taken@example.org")
    assert cli.main(["create-organizer", "--email", "taken@example.org", "--name", "N"]) == 1
    assert "already an organizer" in capsys.readouterr().err
    assert cli.main(["create-organizer", "--email", "not-an-email", "--name", "N"]) == 1
    assert "email: This doesn't look like an e-mail address" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # passwords are no longer taken for anyone
        cli.main(["create-organizer", "--email", "n@example.org", "--name", "N",
                  "--password-stdin"])
    with read_session() as s:
        assert s.exec(select(Outbox)).all() == []


def test_re_typed_passwords_are_throttled_too(client) -> None:
    """A stolen session must not become a way to guess the password: the forms that ask for
    it again (password change, two-factor settings) share a back-off per account."""
    make_organizer("ada@example.org")
    login(client, "ada@example.org")
    token = csrf_token(client, "/organizer/account")
    new = "a much longer new passphrase"
    for _ in range(settings.LOGIN_MAX_FAILURES):
        r = post(client, "/organizer/account", {"current_password": "a guess at it",
                 "new_password": new, "confirm_password": new}, token)
        assert "That is not your current password." in r.text
    r = post(client, "/organizer/account", {"current_password": PASSWORD,
             "new_password": new, "confirm_password": new}, token)
    assert r.status_code == 422 and "Too many wrong passwords" in r.text
    assert auth.authenticate("ada@example.org", PASSWORD, "10.0.0.9").outcome == \
        auth.LoginOutcome.OK  # the password did not change
