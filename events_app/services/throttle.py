"""Rate limits counted in the database, so they hold across worker processes and hosts.

Used for RSVP posts per client IP and for failed organizer logins per account and IP.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from events_app.models import ThrottleHit, utcnow


def hits(session: Session, key: str, window: timedelta, now: datetime | None = None) -> int:
    since = (now or utcnow()) - window
    return session.exec(
        select(func.count()).select_from(ThrottleHit)
        .where(ThrottleHit.key == key, col(ThrottleHit.at) >= since)
    ).one()


def record(session: Session, key: str, now: datetime | None = None) -> None:
    session.add(ThrottleHit(key=key, at=now or utcnow()))


def allow(session: Session, key: str, limit: int, window: timedelta,
          now: datetime | None = None) -> bool:
    """Record one attempt for `key` and say whether it is within `limit` per `window`.

    Refused attempts are not recorded, so a client that waits gets through again.
    """
    now = now or utcnow()
    if hits(session, key, window, now) >= limit:
        return False
    record(session, key, now)
    return True


def clear(session: Session, key: str) -> None:
    session.exec(delete(ThrottleHit).where(ThrottleHit.key == key))  # type: ignore[call-overload]


def prune(session: Session, older_than: timedelta = timedelta(days=1),
          now: datetime | None = None) -> None:
    """Old hits only cost space; callers prune now and then (e.g. from cron jobs)."""
    cutoff = (now or utcnow()) - older_than
    session.exec(delete(ThrottleHit).where(col(ThrottleHit.at) < cutoff))  # type: ignore[call-overload]
