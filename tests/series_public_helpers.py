"""A stored series for the public-side tests: the rows services/series.py would have made
("every second Tuesday at 7 PM in Chicago"), written directly so each test states only the
capacity and waitlist it is about."""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from events_app.db import write_session
from events_app.models import Event, EventStatus, Series, utcnow

CHICAGO = ZoneInfo("America/Chicago")
_counter = itertools.count(1)


def next_tuesday_evening(days_ahead: int = 7) -> datetime:
    """7 PM Chicago time on the first Tuesday at least `days_ahead` days from now."""
    day = (utcnow() + timedelta(days=days_ahead)).astimezone(CHICAGO).date()
    day += timedelta(days=(1 - day.weekday()) % 7)
    return datetime.combine(day, time(19, 0), CHICAGO)


def make_series(dates: int = 3, rsvp_all: bool = True, first: datetime | None = None,
                **event_fields: Any) -> tuple[Series, list[Event]]:
    """A published biweekly series with `dates` occurrences (each 2 hours, wall-clock kept
    across DST); `event_fields` apply to every occurrence (capacity, waitlist_enabled, ...)."""
    n = next(_counter)
    start_local = first or next_tuesday_evening()
    with write_session() as session:
        series = Series(rrule=f"FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT={dates}",
                        timezone="America/Chicago",
                        first_start=start_local.astimezone(ZoneInfo("UTC")),
                        duration_minutes=120, rsvp_all=rsvp_all)
        session.add(series)
        session.flush()
        events = []
        for i in range(dates):
            local = datetime.combine(start_local.date() + timedelta(days=14 * i), time(19, 0),
                                     CHICAGO)
            starts = local.astimezone(ZoneInfo("UTC"))
            fields: dict[str, Any] = {
                "slug": f"network-meeting-{n}-{i + 1}", "title": "Rapid-response network meeting",
                "starts_at": starts, "ends_at": starts + timedelta(hours=2),
                "timezone": "America/Chicago", "venue_name": "Union Hall", "city": "St. Louis",
                "status": EventStatus.PUBLISHED.value, "series_id": series.id,
                "recurrence_id": starts, **event_fields}
            event = Event(**fields)
            session.add(event)
            events.append(event)
        session.flush()
        for e in (series, *events):
            session.refresh(e)
    return series, events
