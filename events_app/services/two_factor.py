"""Two-factor sign-in for organizers: TOTP codes from an authenticator app, recovery codes.

- TOTP (RFC 6238) comes from `pyotp`; the enrolment QR code is drawn here with `segno` as
  inline SVG, so the secret never leaves the server for a third-party QR service.
- Enrolment only counts once the organizer has typed a code from their app: a secret that was
  shown but never confirmed does not lock anyone out.
- A code is accepted once: the accepted time step is stored and older or equal steps are
  refused, so a code read over someone's shoulder cannot be replayed within its 30 seconds.
- Recovery codes are 80 random bits each, stored as SHA-256 hashes (like session tokens:
  with that much entropy a slow hash adds nothing) and spent by a conditional UPDATE, so
  two parallel requests cannot both use one.
- Guessing is throttled per account (5 wrong codes, then a doubling wait up to an hour):
  only someone who already has the password reaches this step, so a per-account limit lets
  no stranger lock the organizer out, and it caps a guesser at a few dozen tries a day
  against a million possible codes.
- Admins can require two-factor for every organizer (a site setting, changed in the
  workspace); organizers without it are then sent to enrolment right after their password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

import pyotp
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from events_app import settings
from events_app.db import write_session
from events_app.i18n import N_, gettext
from events_app.models import Organizer, RecoveryCode, utcnow
from events_app.services import audit, audit_detail, site_settings, throttle
from events_app.services import auth as auth_service

REQUIRED_SETTING = "two_factor_required"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
_RECOVERY_LENGTH = 16  # 31**16 > 2**79
GUESS_LIMIT = 5


class CodeOutcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    THROTTLED = "throttled"


# Texts for the person at the form, translated where they are read (the reader's language).
WRONG_CODE_MESSAGE = N_("That code is not right. Check the time on your phone and try again.")
CONFIRM_MISMATCH_MESSAGE = N_("That code does not match. Check that your phone's clock is "
                              "right and type the code the app shows now.")
REQUIRED_MESSAGE = N_("Two-factor sign-in is required on this site.")
THROTTLED_MESSAGE = N_("Too many wrong codes. Wait a few minutes and try again, or use one "
                       "of your recovery codes later.")


def is_required(session: Session) -> bool:
    """Whether the site requires two-factor, as `session`'s transaction sees it."""
    return site_settings.get_flag(session, REQUIRED_SETTING)


def required_now() -> bool:
    """Whether the site requires two-factor, for the check on every organizer request:
    without a query while the data version is unchanged (site_settings.current_flag)."""
    return site_settings.current_flag(REQUIRED_SETTING)


def set_required(session: Session, actor: Organizer, required: bool) -> None:
    site_settings.set_flag(session, REQUIRED_SETTING, required)
    audit.record(session, actor, "site.two_factor_required", actor,
                 [audit_detail.line(N_("required for every organizer") if required
                                    else N_("optional"))])


# --- TOTP ------------------------------------------------------------------------------------

def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)


def begin_enrolment(organizer: Organizer) -> str:
    """Give the account a fresh, not yet enabled secret (the caller stores the row)."""
    if organizer.has_two_factor:
        raise ValueError("two-factor sign-in is already on")
    organizer.totp_secret = pyotp.random_base32()
    return organizer.totp_secret


def provisioning_uri(organizer: Organizer) -> str:
    assert organizer.totp_secret
    return _totp(organizer.totp_secret).provisioning_uri(name=organizer.email,
                                                         issuer_name=settings.SITE_NAME)


def qr_svg(uri: str) -> str:
    """The QR code as an inline <svg> (no script, no style attribute: fine under our CSP).

    segno is imported here, not with the module: only an organizer's enrolment draws a QR
    code, and every worker would otherwise hold its ~1.4 MB (RSS per worker, issue 11)."""
    import segno

    return segno.make(uri, error="m").svg_inline(
        scale=4, title="QR code for your authenticator app", svgclass="qr-code")


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (now, or one either side for clock drift) whose code this is."""
    totp = _totp(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept_totp(organizer: Organizer, code: str, now: datetime) -> bool:
    if not organizer.totp_secret or not (len(code) == 6 and code.isascii() and code.isdigit()):
        return False
    step = _matching_step(organizer.totp_secret, code, now)
    if step is None or (organizer.totp_last_step is not None
                        and step <= organizer.totp_last_step):
        return False
    organizer.totp_last_step = step
    return True


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()[:64]


# --- recovery codes --------------------------------------------------------------------------

def _hash_code(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _format(raw: str) -> str:
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def new_recovery_codes(session: Session, organizer: Organizer) -> list[str]:
    """Replace the account's recovery codes; returns the new ones (shown once, never kept)."""
    assert organizer.id is not None
    session.exec(delete(RecoveryCode)  # type: ignore[call-overload]
                 .where(col(RecoveryCode.organizer_id) == organizer.id))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODES)]
    for code in codes:
        session.add(RecoveryCode(organizer_id=organizer.id, code_hash=_hash_code(code)))
    return [_format(c) for c in codes]


def unused_recovery_codes(session: Session, organizer_id: int) -> int:
    return len(session.exec(select(RecoveryCode.id).where(
        RecoveryCode.organizer_id == organizer_id, col(RecoveryCode.used_at).is_(None))).all())


def _spend_recovery_code(session: Session, organizer: Organizer, code: str,
                         now: datetime) -> bool:
    result = session.exec(update(RecoveryCode)  # type: ignore[call-overload]
                          .where(col(RecoveryCode.organizer_id) == organizer.id,
                                 col(RecoveryCode.code_hash) == _hash_code(code),
                                 col(RecoveryCode.used_at).is_(None))
                          .values(used_at=now))
    return bool(result.rowcount)


# --- the account's life cycle ----------------------------------------------------------------

def confirm_enrolment(session: Session, organizer: Organizer, code: str,
                      now: datetime | None = None) -> list[str] | None:
    """Turn two-factor on if `code` matches the pending secret; returns the recovery codes,
    or None when the code is wrong. `organizer` must be locked (FOR UPDATE) by the caller."""
    now = now or utcnow()
    if organizer.has_two_factor or not _accept_totp(organizer, _normalise(code), now):
        return None
    organizer.totp_enabled_at = now
    session.add(organizer)
    audit.record(session, organizer, "organizer.two_factor_on", organizer)
    return new_recovery_codes(session, organizer)


def disable(session: Session, actor: Organizer, organizer: Organizer) -> None:
    """Turn two-factor off (by the organizer, or an admin for someone who lost both their
    phone and their recovery codes)."""
    organizer.totp_secret = None
    organizer.totp_enabled_at = None
    organizer.totp_last_step = None
    session.add(organizer)
    session.exec(delete(RecoveryCode)  # type: ignore[call-overload]
                 .where(col(RecoveryCode.organizer_id) == organizer.id))
    audit.record(session, actor, "organizer.two_factor_off", organizer)


@dataclass(frozen=True)
class CodeCheck:
    outcome: CodeOutcome
    used_recovery_code: bool = False

    @property
    def message(self) -> str:
        return gettext(THROTTLED_MESSAGE if self.outcome == CodeOutcome.THROTTLED else
                       WRONG_CODE_MESSAGE)


def _guess_limit(organizer: Organizer) -> throttle.Limit:
    return throttle.Limit(f"2fa:{organizer.id}", GUESS_LIMIT, timedelta(days=1),
                          backoff=timedelta(minutes=1), max_backoff=timedelta(hours=1))


def check_code(session: Session, organizer: Organizer, code: str,
               now: datetime | None = None) -> CodeCheck:
    """The sign-in's second step: a TOTP code or an unused recovery code.

    Call in a write_session with `organizer` locked; a wrong code is counted (and the
    transaction should commit) before the answer is known to the client.
    """
    now = now or utcnow()
    limit = _guess_limit(organizer)
    if not throttle.take(session, [limit], now):
        return CodeCheck(CodeOutcome.THROTTLED)
    code = _normalise(code)
    ok = organizer.has_two_factor and _accept_totp(organizer, code, now)
    recovery = False
    if not ok and organizer.has_two_factor and len(code) == _RECOVERY_LENGTH:
        ok = recovery = _spend_recovery_code(session, organizer, code, now)
    if not ok:
        return CodeCheck(CodeOutcome.WRONG)
    throttle.clear(session, limit.key)
    session.add(organizer)
    if recovery:
        audit.record(session, organizer, "organizer.recovery_code_used", organizer)
    return CodeCheck(CodeOutcome.OK, used_recovery_code=recovery)


def check_login_code(organizer_id: int, code: str) -> tuple[CodeCheck, Organizer, int | None]:
    """The second sign-in step in its own transaction: the account row is locked so two
    parallel tries cannot both pass with one code (nor both spend one recovery code), and a
    wrong code is counted and committed before the answer goes out. Returns the check, the
    fresh account row and, after a recovery code, how many are left (for the warning)."""
    with write_session() as session:
        organizer = session.get(Organizer, organizer_id, with_for_update=True)
        assert organizer is not None
        check = check_code(session, organizer, code)
        left = unused_recovery_codes(session, organizer_id) \
            if check.used_recovery_code else None
    return check, organizer, left


# --- the account's own two-factor page -------------------------------------------------------

@dataclass(frozen=True)
class PageChange:
    """What a POST on the two-factor page led to: an error for the form's field (nothing
    changed), or new recovery codes to show once (empty when two-factor was turned off)."""

    organizer: Organizer
    error: str
    codes: list[str]


def _locked_account(session: Session, organizer_id: int) -> Organizer:
    """The account, locked, with a pending secret if two-factor is not on yet (kept across
    reloads until confirmed, so a scanned code stays valid)."""
    me = session.get(Organizer, organizer_id, with_for_update=True)
    assert me is not None
    if not me.has_two_factor and not me.totp_secret:
        begin_enrolment(me)
        session.add(me)
    return me


def account_for_page(organizer_id: int) -> Organizer:
    """The account as the page shows it; stores a pending secret the first time (its own
    transaction, locked, so two tabs opened at once show the same QR code)."""
    with write_session() as session:
        return _locked_account(session, organizer_id)


def confirm_own_enrolment(organizer_id: int, code: str) -> PageChange | None:
    """Turn two-factor on from the page (locked, so a double submit enables it once);
    None when it is on already (the page is simply shown afresh)."""
    with write_session() as session:
        me = _locked_account(session, organizer_id)
        if me.has_two_factor:
            return None
        codes = confirm_enrolment(session, me, code)
    if codes is None:
        return PageChange(me, gettext(CONFIRM_MISMATCH_MESSAGE), [])
    return PageChange(me, "", codes)


def change_own(organizer_id: int, action: Literal["recovery_codes", "disable"],
               password: str) -> PageChange | None:
    """New recovery codes or two-factor off, after the current password, in one locked
    transaction (a wrong password is counted and committed like any other); None when
    two-factor is not on (the page is shown afresh)."""
    codes: list[str] = []
    with write_session() as session:
        me = _locked_account(session, organizer_id)
        if not me.has_two_factor:
            return None
        if problem := auth_service.current_password_problem(session, me, password):
            error = problem
        elif action == "disable" and is_required(session):
            error = gettext(REQUIRED_MESSAGE)
        else:
            error = ""
            if action == "disable":
                disable(session, me, me)
            else:
                codes = new_recovery_codes(session, me)
    return PageChange(me, error, codes)
