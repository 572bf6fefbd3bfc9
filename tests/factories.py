"""Small builders for test data, so each test states only what matters to it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from events_app.db import write_session
from events_app.models import Event, EventStatus, Rsvp, RsvpStatus, utcnow

_counter = itertools.count(1)


def make_event(**overrides: Any) -> Event:
    """Store a published event starting in a week (unless told otherwise) and return it."""
    n = next(_counter)
    default_start = utcnow().replace(microsecond=0) + timedelta(days=7)
    start: datetime = overrides.pop("starts_at", default_start)
    end: datetime = overrides.pop("ends_at", None) or start + timedelta(hours=2)
    fields: dict[str, Any] = {
        "slug": f"event-{n}",
        "title": f"Test event {n}",
        "summary": "A test event",
        "category": "meeting",
        "starts_at": start,
        "ends_at": end,
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


def make_rsvp(event: Event, name: str = "Pat Member", email: str = "pat@example.org",
              guests: int = 0, status: str = RsvpStatus.CONFIRMED.value,
              **fields: Any) -> Rsvp:
    """Store an RSVP row directly, as the RSVP flow would have (the public RSVP form is tested
    in its own module); for tests of what reads RSVPs: feeds, attendee lists, exports.
    Verified (its e-mailed link opened) unless told `verified_at=None`."""
    now = utcnow()
    fields.setdefault("verified_at", now)
    fields.setdefault("waitlisted_at", now if status == RsvpStatus.WAITLISTED.value else None)
    fields.setdefault("cancelled_at", now if status == RsvpStatus.CANCELLED.value else None)
    if fields.get("checked_in_at") is not None:  # the whole party arrived, unless told
        fields.setdefault("checked_in_seats", 1 + guests)
    with write_session() as session:
        row = Rsvp(event_id=event.id, name=name, email=email.lower(), guests=guests,
                   status=status, **fields)
        session.add(row)
        session.flush()
        session.refresh(row)
    return row


def backdate_data_version(at: datetime) -> None:
    """Pretend every write so far happened at `at` (as the rows' backdated stamps say), so
    cached output announces a settled Last-Modified; the next write moves it to now again."""
    from sqlalchemy import update

    from events_app.db import get_engine
    from events_app.models import DataVersion
    from events_app.services import data_version

    with write_session() as session:
        session.execute(update(DataVersion).values(changed_at=at))
    data_version.forget(get_engine())


@contextmanager
def queries_run() -> Iterator[list[str]]:
    """The SQL statements run on the app's engine inside the block, apart from the data
    version's own reads (services/data_version.py re-reads it every fraction of a second,
    with SQLite's explicit BEGIN before)."""
    from sqlalchemy import event as sa_event

    from events_app.db import get_engine

    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "data_version" not in statement and not statement.startswith("BEGIN"):
            seen.append(statement)

    engine = get_engine()
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
