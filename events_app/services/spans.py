"""The longest event in the calendar, so "not over yet" can be asked of an index.

"Events that end at or after T, in order of start" cannot walk the starts_at index from
anywhere but the oldest event: any earlier start might belong to an event that is still on.
With the longest event's length L, no event that starts before T - L can end after T, so the
condition `starts_at >= T - L` is added (it changes no result) and the index walk starts there.
L comes from an expression index (migration 0007), one probe; an unusually long event only
widens the walk, it never hides an event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from events_app.models import Event

# Rounding of the stored fractions of a day (SQLite's julianday) cannot hide an event.
_MARGIN = timedelta(seconds=1)


def longest_event(session: Session) -> timedelta:
    """The greatest ends_at - starts_at of any stored event (zero when there are none)."""
    if session.get_bind().dialect.name == "postgresql":
        span = col(Event.ends_at) - col(Event.starts_at)
        found = session.exec(select(span).order_by(span.desc()).limit(1)).first()
        return max(found or timedelta(0), timedelta(0)) + _MARGIN
    days = func.julianday(Event.ends_at) - func.julianday(Event.starts_at)
    found = session.exec(select(days).order_by(days.desc()).limit(1)).first()
    return timedelta(days=max(float(found or 0), 0.0)) + _MARGIN


def earliest_start(session: Session, ends_after: datetime) -> datetime:
    """A start before which no event can end at or after `ends_after`."""
    try:
        return ends_after - longest_event(session)
    except OverflowError:
        return datetime.min.replace(tzinfo=ends_after.tzinfo)
