"""Organizer passwords and the password step of signing in.

Beyond "right password gets in", three properties matter here:

- No enumeration: an unknown e-mail, a deactivated account and a wrong password get the same
  message *and* the same work (an argon2 verification against a dummy hash), so neither the
  text nor the response time tells an attacker which e-mails have accounts.

- Throttling that holds under parallel requests: each attempt is *counted before* the
  password is checked, in a short transaction that locks the counters (services.throttle),
  so 25 simultaneous guesses get 5 checks, not 25. A right password then takes its count
  back. Argon2 runs after that transaction, so no lock is held while hashing.

- Throttling that an attacker cannot turn against the organizer. Counting failures per
  account alone (the old design) let anyone lock any organizer out with five wrong
  passwords. Instead three limits apply:
  1. per (account, client) pair, with back-off: LOGIN_MAX_FAILURES tries, then a wait of
     1 minute doubling with every further failure, up to an hour. One client gets roughly
     30 guesses a day per account: far too few against a 10+ character password, and it
     blocks only that client, never the organizer's own browser or phone.
  2. per account, from all unrecognised clients together: LOGIN_ACCOUNT_CEILING failures
     an hour. This stops a guesser who spreads over many IPs (each with its own pair
     budget). A single attacker cannot reach it (their pair back-off stops them long
     before), so only a large distributed attack trips it, and even then:
  3. a client the organizer has signed in from before (it holds a signed "device" cookie
     for that account, set at each successful sign-in) is exempt from the account and IP
     ceilings and has its own pair budget. The real organizer on their usual device still
     gets in during an attack; a stranger cannot forge the cookie without SECRET_KEY.
  A per-IP ceiling across accounts (password spraying) applies to unrecognised clients too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, select

from events_app import i18n, settings
from events_app.db import write_session
from events_app.i18n import N_, gettext
from events_app.models import Organizer, utcnow
from events_app.services import login_sessions, throttle
from events_app.util.forms import has_control_chars

PAIR_WINDOW = timedelta(days=1)  # a pair's failures are forgotten a day after the first
PAIR_BACKOFF = timedelta(minutes=1)
PAIR_MAX_BACKOFF = timedelta(hours=1)
ACCOUNT_WINDOW = timedelta(hours=1)
IP_WINDOW = timedelta(minutes=15)
# A shared office or campus IP carries several people's typos (and accounts): its ceiling
# across all accounts is this many times one pair's allowance.
IP_FAILURE_FACTOR = 4
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
# Texts shown to the person signing in, translated where they are read (the reader's language).
LOGIN_FAILED_MESSAGE = N_("That e-mail and password do not match an active organizer account.")
THROTTLED_MESSAGE = N_(
    "Too many failed sign-in attempts from here. Wait a few minutes and try again, "
    "or reset your password by e-mail (“Forgot your password?”)."
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
        return gettext("Use at least %(num)d characters.") % {"num": MIN_PASSWORD_LENGTH}
    if len(password) > MAX_PASSWORD_LENGTH:
        return gettext("Use at most %(num)d characters.") % {"num": MAX_PASSWORD_LENGTH}
    if not password.strip():
        return gettext("The password cannot be only spaces.")
    return None


# --- recognised devices ----------------------------------------------------------------------

def _device_signature(organizer_id: int, nonce: str) -> str:
    key = str(settings.SECRET_KEY).encode()
    return hmac.new(key, f"device:{organizer_id}:{nonce}".encode(), hashlib.sha256) \
        .hexdigest()[:32]


def new_device_token(organizer_id: int) -> str:
    """The value of the "device" cookie set after a successful sign-in."""
    nonce = secrets.token_urlsafe(12)
    return f"{organizer_id}.{nonce}.{_device_signature(organizer_id, nonce)}"


def _device_nonce(token: str | None, organizer_id: int | None) -> str | None:
    """The nonce of a genuine device cookie for this account, else None."""
    if not token or organizer_id is None or len(token) > 100:
        return None
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != str(organizer_id):
        return None
    if not hmac.compare_digest(_device_signature(organizer_id, parts[1]), parts[2]):
        return None
    return parts[1]


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
        return gettext(THROTTLED_MESSAGE if self.outcome == LoginOutcome.THROTTLED else
                       LOGIN_FAILED_MESSAGE)


def _limits(email: str, client_ip: str, device: str | None) -> list[throttle.Limit]:
    """The pair limit first, then (for unrecognised clients) the account and IP ceilings."""
    acct = hashlib.sha256(email.encode()).hexdigest()[:32]  # no raw e-mails in the table
    client = f"dev:{device}" if device else f"ip:{client_ip}"
    limit = settings.LOGIN_MAX_FAILURES
    limits = [throttle.Limit(f"login:pair:{acct}:{client}", limit, PAIR_WINDOW,
                             backoff=PAIR_BACKOFF, max_backoff=PAIR_MAX_BACKOFF)]
    if device is None:
        limits += [
            throttle.Limit(f"login:acct:{acct}", settings.LOGIN_ACCOUNT_CEILING,
                           ACCOUNT_WINDOW),
            throttle.Limit(f"login:ip:{client_ip}", limit * IP_FAILURE_FACTOR, IP_WINDOW),
        ]
    return limits


def authenticate(email: str, password: str, client_ip: str,
                 device_token: str | None = None) -> LoginResult:
    """Check a sign-in attempt (its own transactions; see the module docstring)."""
    email = email.strip().lower()
    plausible = bool(email) and len(email) <= 254 and not has_control_chars(email)
    with write_session() as session:
        organizer = session.exec(select(Organizer).where(Organizer.email == email)).first() \
            if plausible else None
        device = _device_nonce(device_token, organizer.id if organizer else None)
        limits = _limits(email, client_ip, device)
        if not throttle.take(session, limits):
            return LoginResult(LoginOutcome.THROTTLED)

    if organizer is None or not organizer.is_active or not organizer.has_password:
        verify_password(_dummy(), password)  # same work as a real check
        return LoginResult(LoginOutcome.FAILED)
    if not verify_password(organizer.password_hash, password):
        return LoginResult(LoginOutcome.FAILED)

    with write_session() as session:
        # The pair starts afresh; the ceilings only take this attempt back. Rows are touched
        # in key order, as `throttle.take` locks them, so the two cannot deadlock.
        pair = limits[0]
        for lim in sorted(limits, key=lambda lim: lim.key):
            if lim is pair:
                throttle.clear(session, lim.key)
            else:
                throttle.refund(session, lim)
        fresh = session.get(Organizer, organizer.id, with_for_update=True)
        if fresh is None or not fresh.is_active:  # deactivated while we were hashing
            return LoginResult(LoginOutcome.FAILED)
        if _hasher.check_needs_rehash(fresh.password_hash):
            fresh.password_hash = hash_password(password)
        fresh.last_login_at = utcnow()
        fresh.language = i18n.current()  # their account e-mails are written in it
        session.add(fresh)
    return LoginResult(LoginOutcome.OK, fresh)


WRONG_CURRENT_PASSWORD = N_("That is not your current password.")
REAUTH_THROTTLED = N_("Too many wrong passwords. Wait a few minutes and try again.")


def current_password_problem(session: Session, organizer: Organizer, password: str) -> \
        str | None:
    """Check the password a signed-in organizer re-types to confirm a sensitive change.

    Throttled like sign-in (the same back-off), per account: whoever holds a stolen session
    must not be able to guess the password through these forms. Only a session holder can
    trip it, so it locks no stranger's target out. Call in a write_session that commits.
    """
    limit = throttle.Limit(f"reauth:{organizer.id}", settings.LOGIN_MAX_FAILURES, PAIR_WINDOW,
                           backoff=PAIR_BACKOFF, max_backoff=PAIR_MAX_BACKOFF)
    if not throttle.take(session, [limit]):
        return gettext(REAUTH_THROTTLED)
    if not verify_password(organizer.password_hash, password):
        return gettext(WRONG_CURRENT_PASSWORD)
    throttle.clear(session, limit.key)
    return None


def change_password(session: Session, organizer: Organizer, current: str, new: str) -> \
        dict[str, str]:
    """Change one's own password; returns field errors (empty on success)."""
    errors: dict[str, str] = {}
    if problem := current_password_problem(session, organizer, current):
        errors["current_password"] = problem
    if problem := password_problem(new):
        errors["new_password"] = problem
    if errors:
        return errors
    organizer.password_hash = hash_password(new)
    session.add(organizer)
    login_sessions.end_all(session, organizer.id)  # the caller starts a new one for itself
    return {}
