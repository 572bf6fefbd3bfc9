"""One-time links that let an organizer choose a password: the invitation a new account gets
by e-mail, and "forgot password". Admins never choose or pass on anyone's password.

The rules, and why:
- The token in the link is `secrets.token_urlsafe(32)` (256 random bits); only its SHA-256 is
  stored, so a copy of the table (a backup, a read-only SQL injection) holds no working link.
- A link expires (an invitation after INVITE_VALID, since people read mail late; a reset
  after RESET_VALID, since it is asked for and used at once) and works once: it is spent in
  the transaction that sets the password, with its row locked, so two parallel submits of
  one link cannot both set a password.
- Issuing a link deletes the account's unused older ones: only the newest e-mail works.
- Using a link ends every session of the account (whoever knew the old password is out) and
  signs nobody in past two-factor: the web layer then runs the ordinary "password was right"
  step, which asks for the code when the account has two-factor.
- "Forgot password" answers the same whether or not an account exists, after the same
  steps (throttle, look-up, one transaction); the e-mail itself is sent after the response.
  It is throttled per client address and per e-mail address, whether or not that exists.
- The e-mails go through the outbox like every other message; mail.SECRET_KINDS keeps their
  bodies out of the log, and web/access_log.py redacts the link's token from request lines.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from events_app import i18n, urls
from events_app.db import read_session, write_session
from events_app.i18n import N_
from events_app.models import (
    AccountLink,
    AccountLinkPurpose,
    Organizer,
    Role,
    is_token_shaped,
    utcnow,
)
from events_app.services import audit, audit_detail, auth, login_sessions, mail, messages, throttle
from events_app.util.forms import has_control_chars

INVITE_VALID = timedelta(days=7)
RESET_VALID = timedelta(hours=1)
VALID_FOR = {AccountLinkPurpose.INVITE: INVITE_VALID, AccountLinkPurpose.RESET: RESET_VALID}
# "Forgot password" requests: per client address, and per e-mail address (from anywhere).
FORGOT_PER_IP = throttle.Limit("", 10, timedelta(minutes=15))
FORGOT_PER_ADDRESS = throttle.Limit("", 3, timedelta(hours=1))
INVALID_LINK = ("This link has expired, was already used, or was replaced by a newer one.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, organizer: Organizer, purpose: AccountLinkPurpose,
          now: datetime | None = None) -> tuple[str, datetime]:
    """A new link for `organizer` (caller's transaction); older unused links stop working.
    Returns the token (for the e-mail only, never stored) and when the link expires."""
    now = now or utcnow()
    assert organizer.id is not None
    session.exec(delete(AccountLink).where(  # type: ignore[call-overload]
        col(AccountLink.organizer_id) == organizer.id, col(AccountLink.used_at).is_(None)))
    token = secrets.token_urlsafe(32)
    expires = now + VALID_FOR[purpose]
    session.add(AccountLink(organizer_id=organizer.id, purpose=purpose.value,
                            token_hash=_digest(token), created_at=now, expires_at=expires))
    session.flush()
    return token, expires


@dataclass(frozen=True)
class Sent:
    link: str  # shown to no one but the command line's first admin
    mail_id: int | None


def send_invitation(session: Session, organizer: Organizer, inviter: Organizer | None,
                    now: datetime | None = None) -> Sent:
    """Queue the invitation e-mail for a new account (caller's transaction), with its audit
    entry. `inviter` None: the command line."""
    token, expires = issue(session, organizer, AccountLinkPurpose.INVITE, now)
    link = urls.account_link_url(AccountLinkPurpose.INVITE, token)
    content = messages.invitation(organizer.name, organizer.email,
                                  organizer.role == Role.ADMIN.value,
                                  inviter.name if inviter else None, link, expires,
                                  organizer.language)
    msg = mail.enqueue(session, kind="invitation", to_addr=organizer.email,
                       subject=content.subject, body_text=content.text, body_html=content.html,
                       language=content.language)
    audit.record(session, inviter, "organizer.invite", organizer,
                 [audit_detail.line(N_("link valid until %(at)s"),
                                    at=audit_detail.instant(expires))])
    return Sent(link, msg.id if msg else None)


def send_reset(session: Session, organizer: Organizer, now: datetime | None = None) -> Sent:
    """Queue a password-reset e-mail (caller's transaction)."""
    token, expires = issue(session, organizer, AccountLinkPurpose.RESET, now)
    link = urls.account_link_url(AccountLinkPurpose.RESET, token)
    content = messages.password_reset(organizer.name, link, expires, organizer.language)
    msg = mail.enqueue(session, kind="password_reset", to_addr=organizer.email,
                       subject=content.subject, body_text=content.text, body_html=content.html,
                       language=content.language)
    return Sent(link, msg.id if msg else None)


def purge_expired(session: Session, now: datetime | None = None) -> int:
    """Delete links past their expiry (refused anyway; this only frees space)."""
    result = session.exec(delete(AccountLink).where(  # type: ignore[call-overload]
        col(AccountLink.expires_at) <= (now or utcnow())))
    return int(result.rowcount or 0)


# --- "Forgot password" -----------------------------------------------------------------------

@dataclass
class ForgotResult:
    throttled: bool = False
    mail_ids: list[int] = field(default_factory=list)  # deliver after the response


def _forgot_limits(email: str, client_ip: str) -> list[throttle.Limit]:
    address = hashlib.sha256(email.encode()).hexdigest()[:32]  # no raw e-mails in the table
    return [
        throttle.Limit(f"forgot:ip:{client_ip}", FORGOT_PER_IP.limit, FORGOT_PER_IP.window),
        throttle.Limit(f"forgot:acct:{address}", FORGOT_PER_ADDRESS.limit,
                       FORGOT_PER_ADDRESS.window),
    ]


def request_reset(email: str, client_ip: str, now: datetime | None = None) -> ForgotResult:
    """E-mail a reset link if `email` belongs to an active account; the caller answers the
    same either way (see the module docstring). Its own transaction."""
    email = email.strip().lower()
    with write_session() as session:
        if not throttle.take(session, _forgot_limits(email, client_ip), now):
            return ForgotResult(throttled=True)
        plausible = bool(email) and len(email) <= 254 and not has_control_chars(email)
        organizer = session.exec(select(Organizer).where(Organizer.email == email)).first() \
            if plausible else None
        if organizer is None or not organizer.is_active:
            # The same rendering work as a real reset e-mail, so the time taken says little.
            messages.password_reset("", urls.account_link_url(
                AccountLinkPurpose.RESET, secrets.token_urlsafe(32)), utcnow() + RESET_VALID,
                i18n.current())
            return ForgotResult()
        sent = send_reset(session, organizer, now)
        return ForgotResult(mail_ids=[sent.mail_id] if sent.mail_id else [])


# --- Using a link ----------------------------------------------------------------------------

class LinkError(Exception):
    """The link cannot be used (INVALID_LINK): unknown, spent, expired or superseded, or its
    account was deactivated."""


def _live(session: Session, token: str, purpose: AccountLinkPurpose, now: datetime,
          lock: bool = False) -> tuple[AccountLink, Organizer] | None:
    if not is_token_shaped(token):
        return None
    query = select(AccountLink).where(AccountLink.token_hash == _digest(token),
                                      AccountLink.purpose == purpose.value)
    link = session.exec(query.with_for_update() if lock else query).first()
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    organizer = session.get(Organizer, link.organizer_id, with_for_update=lock)
    if organizer is None or not organizer.is_active:
        return None
    return link, organizer


def check(token: str, purpose: AccountLinkPurpose, now: datetime | None = None) -> \
        Organizer | None:
    """The account a link may set a password for, or None. Opening the link spends nothing
    (mail scanners open links too); only setting the password does."""
    with read_session() as session:
        found = _live(session, token, purpose, now or utcnow())
        return found[1] if found else None


def set_password(token: str, purpose: AccountLinkPurpose, password: str,
                 now: datetime | None = None) -> tuple[Organizer | None, dict[str, str]]:
    """Set the account's password through a link (own transaction): the link is spent, every
    session of the account ends, and an audit entry is written. Returns the account and no
    errors, or (None, field errors) for an unacceptable password; LinkError for a bad link."""
    if problem := auth.password_problem(password):
        if check(token, purpose, now) is None:
            raise LinkError(INVALID_LINK)
        return None, {"new_password": problem}
    password_hash = auth.hash_password(password)  # slow: before the transaction, not in it
    now = now or utcnow()
    with write_session() as session:
        found = _live(session, token, purpose, now, lock=True)
        if found is None:
            raise LinkError(INVALID_LINK)
        link, organizer = found
        organizer.password_hash = password_hash
        link.used_at = now
        session.add_all([organizer, link])
        session.exec(delete(AccountLink).where(  # type: ignore[call-overload]
            col(AccountLink.organizer_id) == organizer.id, col(AccountLink.id) != link.id))
        login_sessions.end_all(session, organizer.id)
        action = "organizer.invitation_accepted" if purpose == AccountLinkPurpose.INVITE \
            else "organizer.password_reset_by_link"
        audit.record(session, organizer, action, organizer)
        session.flush()
        session.refresh(organizer)
        return organizer, {}
