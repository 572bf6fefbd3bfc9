"""What the public pages and the API say about a recurring event: the rule in words
("Repeats every second Tuesday") and, on an occurrence's page, the series' other dates.

Read-only and kept apart from services/series.py (which writes series) so the list, the
event page and the API ask one module, with one query per page for the words however many
occurrences a page shows. The words are series.describe_series', the one writer of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from events_app.models import Event, Series, utcnow
from events_app.services import series as series_service
from events_app.services import series_rsvp

OTHER_DATES = 6  # how many of the series' other upcoming dates an occurrence page links


@dataclass(frozen=True)
class SeriesLabel:
    """What a list card and the API say about an occurrence's series."""

    uid: str  # the feed's repeating VEVENT
    words: str  # "Repeats every second Tuesday"


def labels(session: Session, events: Sequence[Event]) -> dict[int, SeriesLabel]:
    """Series id -> its label, for the occurrences among `events` (one query)."""
    ids = {e.series_id for e in events if e.series_id is not None}
    if not ids:
        return {}
    rows = session.exec(select(Series).where(col(Series.id).in_(ids))).all()
    return {s.id: SeriesLabel(s.uid, series_service.describe_series(s))
            for s in rows if s.id is not None}


@dataclass(frozen=True)
class OccurrenceSeries(SeriesLabel):
    """The event page's "part of a series" box."""

    other_dates: list[Event] = field(default_factory=list)
    # Upcoming dates open for RSVPs when the series lets people RSVP to all at once (this one
    # included); 0 when that choice is not offered (not allowed, or one date or none left).
    open_dates: int = 0


def for_event(session: Session, event: Event,
              now: datetime | None = None) -> OccurrenceSeries | None:
    """The series box for an occurrence's page; None for a single event."""
    if event.series_id is None:
        return None
    series = series_service.get_series(session, event.series_id)
    if series is None:
        return None
    open_count = 0
    if series.rsvp_all:
        open_count = len(series_rsvp.open_dates(session, series, now or utcnow()))
    return OccurrenceSeries(
        uid=series.uid, words=series_service.describe_series(series),
        other_dates=series_service.other_dates(session, event, limit=OTHER_DATES),
        open_dates=open_count if open_count > 1 else 0)
