"""Small builders for test data, so each test states only what matters to it."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from events_app.db import write_session
from events_app.models import Event, EventStatus, utcnow

_counter = itertools.count(1)


def make_event(**overrides: Any) -> Event:
    """Store a published event starting in a week (unless told otherwise) and return it."""
    n = next(_counter)
    default_start = utcnow().replace(microsecond=0) + timedelta(days=7)
    start: datetime = overrides.pop("starts_at", default_start)
    fields: dict[str, Any] = {
        "slug": f"event-{n}",
        "title": f"Test event {n}",
        "summary": "A test event",
        "category": "meeting",
        "starts_at": start,
        "ends_at": overrides.pop("ends_at", start + timedelta(hours=2)),
        "timezone": "America/Chicago",
        "venue_name": "City Hall",
        "city": "St. Louis",
        "status": EventStatus.PUBLISHED.value,
    }
    fields.update(overrides)
    with write_session() as session:
        event = Event(**fields)
        session.add(event)
        session.flush()
        session.refresh(event)
    return event
