"""Organizer sessions kept in the database, so ending one takes effect at once.

A signed cookie (the previous design) stays valid wherever it was copied until it expires;
a row can be deleted. Sign-out deletes the row; a password change, a deactivation and an
admin's "sign out everywhere" delete all of an account's rows in the same transaction as the
change itself. Every sign-in (and the step from "password right" to "signed in" with
two-factor) creates a new row with a new token and a new CSRF secret, so an id or a form
token seen before sign-in is worth nothing after it (session fixation).

A session ends at the latest SESSION_MAX_AGE after sign-in (absolute) and earlier after
SESSION_IDLE_TIMEOUT without a request (idle). Half-finished sign-ins (two-factor code or
enrolment still due) live for PENDING_MAX_AGE only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from events_app import settings
from events_app.db import write_session
from events_app.models import (
    Organizer,
    OrganizerSession,
    SessionStage,
    is_token_shaped,
    new_token,
    utcnow,
)

PENDING_MAX_AGE = timedelta(minutes=10)
# last_seen_at is refreshed at most this often: idle expiry needs minutes, not every request.
TOUCH_EVERY = timedelta(minutes=1)
MAX_FLASHES = 5


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Current:
    """A live session and its (active) organizer."""

    row: OrganizerSession
    organizer: Organizer

    @property
    def signed_in(self) -> bool:
        return self.row.stage == SessionStage.SIGNED_IN


def start(session: Session, organizer: Organizer, stage: SessionStage,
          now: datetime | None = None) -> tuple[str, OrganizerSession]:
    """A new session row; returns the token for the cookie (never stored) and the row."""
    now = now or utcnow()
    token = new_token()
    lifetime = timedelta(seconds=settings.SESSION_MAX_AGE) \
        if stage == SessionStage.SIGNED_IN else PENDING_MAX_AGE
    assert organizer.id is not None
    row = OrganizerSession(id=_digest(token), organizer_id=organizer.id, stage=stage.value,
                           created_at=now, last_seen_at=now, expires_at=now + lifetime)
    session.add(row)
    session.flush()
    return token, row


def _expired(row: OrganizerSession, now: datetime) -> bool:
    idle = timedelta(seconds=settings.SESSION_IDLE_TIMEOUT)
    return row.expires_at <= now or row.last_seen_at <= now - idle


def load(session: Session, token: str, now: datetime | None = None) -> Current | None:
    """The live session for a cookie token, or None (unknown, expired, account inactive)."""
    if not is_token_shaped(token):
        return None
    now = now or utcnow()
    # The row and its account in one statement: every organizer request starts here.
    found = session.exec(select(OrganizerSession, Organizer)
                         .join(Organizer, col(Organizer.id) == OrganizerSession.organizer_id)
                         .where(col(OrganizerSession.id) == _digest(token))).first()
    if found is None:
        return None
    row, organizer = found
    if _expired(row, now) or not organizer.is_active:
        return None
    return Current(row, organizer)


def needs_touch(row: OrganizerSession, now: datetime | None = None) -> bool:
    return row.last_seen_at <= (now or utcnow()) - TOUCH_EVERY


def touch(session: Session, row_id: str, now: datetime | None = None) -> None:
    session.exec(update(OrganizerSession)  # type: ignore[call-overload]
                 .where(col(OrganizerSession.id) == row_id)
                 .values(last_seen_at=now or utcnow()))


def touch_if_due(row: OrganizerSession) -> None:
    """Record that the session is in use, at most every TOUCH_EVERY: idle expiry needs
    minutes, and a write per request would serialise every organizer page on SQLite."""
    if needs_touch(row):
        with write_session() as session:
            touch(session, row.id)


def replace(old_token: str | None, organizer: Organizer,
            stage: SessionStage) -> tuple[str, OrganizerSession]:
    """A new session in place of the one the cookie named, in one transaction, so a sign-in
    never leaves the old (possibly planted) session alive beside the new one."""
    with write_session() as session:
        if old_token:
            end_token(session, old_token)
        return start(session, organizer, stage)


def end_by_id(row_id: str) -> None:
    """Sign-out: its own transaction, so the row is gone before the response is sent."""
    with write_session() as session:
        end(session, row_id)


def end_token(session: Session, token: str) -> None:
    """End the session a cookie names, live or expired (a sign-in replaces it)."""
    if is_token_shaped(token):
        end(session, _digest(token))


def end(session: Session, row_id: str) -> None:
    session.exec(delete(OrganizerSession)  # type: ignore[call-overload]
                 .where(col(OrganizerSession.id) == row_id))


def end_all(session: Session, organizer_id: int) -> int:
    """End every session of an account (password change, deactivation, "sign out
    everywhere"); returns how many were live rows."""
    result = session.exec(delete(OrganizerSession)  # type: ignore[call-overload]
                          .where(col(OrganizerSession.organizer_id) == organizer_id))
    return int(result.rowcount or 0)


def purge_expired(session: Session, now: datetime | None = None) -> int:
    """Delete rows past their end (they are refused anyway; this only frees space)."""
    now = now or utcnow()
    idle = timedelta(seconds=settings.SESSION_IDLE_TIMEOUT)
    result = session.exec(delete(OrganizerSession).where(  # type: ignore[call-overload]
        (col(OrganizerSession.expires_at) <= now)
        | (col(OrganizerSession.last_seen_at) <= now - idle)))
    return int(result.rowcount or 0)


# --- messages shown once, on the next page ---------------------------------------------------

def push_flash(row_id: str, kind: str, text: str) -> None:
    """Its own transaction with the row locked, so two requests of one session adding a
    message at once do not overwrite each other's."""
    with write_session() as session:
        _push_flash(session, row_id, kind, text)


def _push_flash(session: Session, row_id: str, kind: str, text: str) -> None:
    row = session.get(OrganizerSession, row_id, with_for_update=True)
    if row is None:
        return
    messages = (json.loads(row.flashes) if row.flashes else [])[-(MAX_FLASHES - 1):]
    messages.append([kind, text[:500]])
    row.flashes = json.dumps(messages, ensure_ascii=False)
    session.add(row)


def pop_flashes(row_id: str) -> list[list[str]]:
    """Read and clear in one locked transaction, so each message is shown exactly once."""
    with write_session() as session:
        return _pop_flashes(session, row_id)


def _pop_flashes(session: Session, row_id: str) -> list[list[str]]:
    row = session.get(OrganizerSession, row_id, with_for_update=True)
    if row is None or not row.flashes:
        return []
    messages = json.loads(row.flashes)
    row.flashes = ""
    session.add(row)
    return [list(m) for m in messages]
