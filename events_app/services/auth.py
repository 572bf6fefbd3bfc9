"""Organizer passwords and the login check.

Two properties matter here beyond "right password gets in":
- Throttling: failed attempts are counted in the database per account and per client IP, so
  guessing is slow however many worker processes serve the site.
- No enumeration: an unknown e-mail, a deactivated account and a wrong password get the same
  message *and* the same work (an argon2 verification against a dummy hash), so neither the
  text nor the response time tells an attacker which e-mails have accounts.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, select

from events_app import settings
from events_app.models import Organizer, utcnow
from events_app.services import throttle
from events_app.services.forms import has_control_chars

LOGIN_WINDOW = timedelta(minutes=15)
# A shared office or campus IP carries several people's typos; the per-account limit is the
# one that stops guessing a given password.
IP_FAILURE_FACTOR = 4
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
LOGIN_FAILED_MESSAGE = "That e-mail and password do not match an active organizer account."
THROTTLED_MESSAGE = (
    "Too many failed sign-in attempts. Wait 15 minutes and try again, "
    "or ask an admin to reset your password."
)

# argon2id with RFC 9106's "low memory" profile (64 MiB, 3 passes). Tests swap in cheaper
# parameters through `use_hasher`; hashes record their own parameters, so verification and
# rehash-on-login keep working across such changes.
_hasher = PasswordHasher()
_dummy_hash: str | None = None


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Replace the hasher (returns the previous one); for tests and future tuning."""
    global _hasher, _dummy_hash
    previous, _hasher, _dummy_hash = _hasher, hasher, None
    return previous


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not a real password, only here to spend the same time")
    return _dummy_hash


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    if not password.strip():
        return "The password cannot be only spaces."
    return None


def session_tag(organizer: Organizer) -> str:
    """A value stored in the session cookie and re-checked on every request.

    Derived from the password hash, so changing the password signs out every other session;
    keyed with SECRET_KEY, so the cookie reveals nothing about the hash.
    """
    key = str(settings.SECRET_KEY).encode()
    msg = f"session:{organizer.id}:{organizer.password_hash}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()[:32]


class LoginOutcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    organizer: Organizer | None = None

    @property
    def message(self) -> str:
        return THROTTLED_MESSAGE if self.outcome == LoginOutcome.THROTTLED else \
            LOGIN_FAILED_MESSAGE


def _keys(email: str, client_ip: str) -> tuple[str, str]:
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]  # no raw e-mails in the table
    return f"login:acct:{digest}", f"login:ip:{client_ip}"


def authenticate(session: Session, email: str, password: str, client_ip: str) -> LoginResult:
    """Check a login attempt; call inside a write_session so failures are counted.

    Returns a result rather than raising, so the caller's transaction still commits the
    recorded failure.
    """
    email = email.strip().lower()
    acct_key, ip_key = _keys(email, client_ip)
    limit = settings.LOGIN_MAX_FAILURES
    if (throttle.hits(session, acct_key, LOGIN_WINDOW) >= limit
            or throttle.hits(session, ip_key, LOGIN_WINDOW) >= limit * IP_FAILURE_FACTOR):
        return LoginResult(LoginOutcome.THROTTLED)

    plausible = email and len(email) <= 254 and not has_control_chars(email)
    organizer = session.exec(select(Organizer).where(Organizer.email == email)).first() \
        if plausible else None
    if organizer is None or not organizer.is_active:
        verify_password(_dummy(), password)  # same work as a real check
        ok = False
    else:
        ok = verify_password(organizer.password_hash, password)

    if not ok or organizer is None:
        throttle.record(session, acct_key)
        throttle.record(session, ip_key)
        return LoginResult(LoginOutcome.FAILED)

    throttle.clear(session, acct_key)
    if _hasher.check_needs_rehash(organizer.password_hash):
        organizer.password_hash = hash_password(password)
    organizer.last_login_at = utcnow()
    session.add(organizer)
    return LoginResult(LoginOutcome.OK, organizer)


def load_session_organizer(session: Session, organizer_id: object, tag: object) -> \
        Organizer | None:
    """The organizer a session cookie names, if still active and the password unchanged."""
    if not isinstance(organizer_id, int) or not isinstance(tag, str):
        return None
    organizer = session.get(Organizer, organizer_id)
    if organizer is None or not organizer.is_active:
        return None
    if not hmac.compare_digest(session_tag(organizer), tag):
        return None
    return organizer


def change_password(session: Session, organizer: Organizer, current: str, new: str) -> \
        dict[str, str]:
    """Change one's own password; returns field errors (empty on success)."""
    errors: dict[str, str] = {}
    if not verify_password(organizer.password_hash, current):
        errors["current_password"] = "That is not your current password."  # noqa: S105
    if problem := password_problem(new):
        errors["new_password"] = problem
    if errors:
        return errors
    organizer.password_hash = hash_password(new)
    session.add(organizer)
    return {}
