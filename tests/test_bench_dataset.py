"""The benchmark's generated calendar: the counts asked for, and data the app could have written.

Small sizes only (speed is the benchmark's business, not the suite's). Runs on both databases,
since the generator writes with COPY on PostgreSQL and executemany on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from bench import dataset
from events_app.models import Event, Rsvp, utcnow
from events_app.services import auth, events


def _seats_by_event(session: Session) -> dict[int, int]:
    seats: dict[int, int] = {}
    for rsvp in session.exec(select(Rsvp).where(Rsvp.status == "confirmed")):
        seats[rsvp.event_id] = seats.get(rsvp.event_id, 0) + rsvp.seats
    return seats


@pytest.fixture
def marker_dropped(db_url: str) -> Iterator[None]:
    """Drop the generator's marker table even when the test fails, so the shared PostgreSQL
    test database still matches the migrations for the tests that follow."""
    yield
    drop = create_engine(db_url)
    with drop.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_dataset"))
    drop.dispose()


def test_generates_the_requested_counts_and_never_oversells(db_url: str, engine,
                                                            marker_dropped: None) -> None:
    size = dataset.Size(events=120, rsvps=900)
    started_on = utcnow().date().isoformat()
    dataset.generate(db_url, size)

    report = dataset.check(db_url)
    assert report.events == 120
    assert report.rsvps == 900
    assert report.door_list_rsvps == 450  # half the RSVPs at this size (5,000 at full size)
    assert report.oversold_events == []
    assert report.waitlisted > 0  # the door-list event is oversubscribed, so seats ran out
    assert report.waitlisted_without_time == 0

    with Session(engine) as session:
        capacities = {e.id: e.capacity for e in session.exec(select(Event))}
        for event_id, seats in _seats_by_event(session).items():
            capacity = capacities[event_id]
            assert capacity is None or seats <= capacity, event_id
        drafts = {e.id for e in session.exec(select(Event).where(Event.status == "draft"))}
        assert not session.exec(select(Rsvp).where(Rsvp.event_id.in_(drafts))).first()
        # Stored the way the services store them: aware UTC, timezones the app accepts.
        door = events.get_public_event(session, dataset.DOOR_LIST_SLUG)
        assert door is not None and door.starts_at.utcoffset() is not None
        assert events.get_public_event(session, dataset.DETAIL_SLUG) is not None
        assert len({e.timezone for e in session.exec(select(Event))}) >= 5
        assert events.list_events(session, events.EventQuery()).total > 0
    # The organizer the benchmark signs in as can sign in.
    result = auth.authenticate(dataset.ORGANIZER_EMAIL, dataset.PASSWORD, "bench")
    assert result.outcome == auth.LoginOutcome.OK and result.organizer is not None

    marker = _read_and_drop_marker(db_url)
    # The day it was generated: the day it started or, past midnight UTC, the day it ended.
    assert marker.pop("generated_on") in {started_on, utcnow().date().isoformat()}
    assert marker == size.marker()


def _read_and_drop_marker(db_url: str) -> dict[str, str]:
    """The table that says "complete" is not one of the app's: drop it, so the shared
    PostgreSQL test database still matches the migrations for the tests that follow."""
    marker_engine = create_engine(db_url)
    with marker_engine.begin() as conn:
        marker = dict(conn.execute(text("SELECT name, value FROM bench_dataset")).all())
        conn.execute(text("DROP TABLE bench_dataset"))
    marker_engine.dispose()
    return marker
