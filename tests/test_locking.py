"""services/locking.py: locks are taken only where they guard a write, and return fresh rows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text, update

from events_app.db import read_session, write_session
from events_app.models import Event, Series, utcnow
from events_app.services import locking, series
from events_app.services.event_form import form_values, parse_event_form
from events_app.services.series import Scope
from tests.factories import make_event, make_rsvp
from tests.organizer_support import make_organizer

CHICAGO = ZoneInfo("America/Chicago")


def test_locks_refuse_a_session_that_will_not_save_the_decision(db_url) -> None:
    ev = make_event()
    party = make_rsvp(ev)
    with read_session() as s:
        with pytest.raises(locking.LockOutsideWriteTransaction):
            locking.lock_event(s, ev.id)
        with pytest.raises(locking.LockOutsideWriteTransaction):
            locking.lock_event_row(s, s.get(Event, ev.id))
        with pytest.raises(locking.LockOutsideWriteTransaction):
            locking.lock_rsvp(s, party.id)


def test_lock_event_rereads_the_row_not_the_sessions_old_copy(db_url) -> None:
    ev = make_event(capacity=10)
    with write_session() as s:
        held = s.get(Event, ev.id)
        # The row changes behind the session's copy (as another writer's commit would).
        s.exec(update(Event).where(Event.id == ev.id).values(capacity=3)
               .execution_options(synchronize_session=False))
        assert held.capacity == 10
        fresh = locking.lock_event(s, ev.id)
        assert fresh is held and fresh.capacity == 3
        assert locking.lock_event(s, 424242) is None


def test_lock_event_row_keeps_the_callers_unsaved_edits(db_url) -> None:
    ev = make_event(capacity=10)
    with write_session() as s:
        mine = s.get(Event, ev.id)
        mine.capacity = 3
        locking.lock_event_row(s, mine)
        assert mine.capacity == 3


def test_lock_rsvp_only_finds_the_events_own_rsvp(db_url) -> None:
    ev, other = make_event(), make_event()
    party = make_rsvp(ev)
    with write_session() as s:
        assert locking.lock_rsvp(s, party.id, event_id=ev.id).id == party.id
        assert locking.lock_rsvp(s, party.id, event_id=other.id) is None
        assert locking.lock_rsvp(s, party.id).email == party.email


def _lock_waiters(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")).scalar_one())


def test_a_series_change_and_an_id_order_lock_of_its_dates_cannot_deadlock(db_url,
                                                                          engine) -> None:
    """A change to every date of a series (here a new capacity, which locks each date as it
    goes, in date order) against a transaction locking dates in id order, as an RSVP to
    every date does: with ids and dates in opposite orders, the change used to hold the
    first date while waiting for the last, and the other the last while waiting for the
    first (PostgreSQL then aborts one). Now the change takes every date's lock first, in id
    order, so it waits holding none and both finish."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has one write lock per database: no row order to get wrong")
    owner = make_organizer("ada@example.org", "Ada Organizer")
    first = datetime.combine((utcnow() + timedelta(days=8)).astimezone(CHICAGO).date(),
                             time(19), CHICAGO)
    with write_session() as s:
        made = Series(rrule="FREQ=WEEKLY;COUNT=3", timezone="America/Chicago",
                      first_start=first.astimezone(UTC), duration_minutes=120,
                      owner_id=owner.id)
        s.add(made)
        s.flush()
        series_id = made.id
    starts = [(first + timedelta(weeks=w)).astimezone(UTC) for w in (2, 1, 0)]
    # inserted latest first: the lowest id is the last date, the highest the first
    rows = [make_event(series_id=series_id, recurrence_id=at, starts_at=at, capacity=30,
                       owner_id=owner.id, title="Phone bank") for at in starts]
    low, high = rows[0], rows[-1]
    assert low.id < high.id and low.starts_at > high.starts_at
    with read_session() as s:
        values = form_values(s.get(Event, high.id))
    data = parse_event_form({**values, "capacity": "40"})

    outcome: list[object] = []

    def change_every_date() -> None:
        try:
            outcome.append(series.edit(owner, high.slug, data, Scope.ALL))
        except Exception as exc:  # the deadlock shows up here or in the other transaction
            outcome.append(exc)

    with write_session() as s:
        locking.lock_events(s, [low.id])  # id order: the lowest id first...
        change = threading.Thread(target=change_every_date)
        change.start()
        for _ in range(400):  # until the change waits for a lock (10 s at most)
            if _lock_waiters(engine) or not change.is_alive():
                break
            change.join(0.025)
        assert _lock_waiters(engine) == 1
        locking.lock_events(s, [high.id])  # ...then the highest: no deadlock
    change.join(30)
    assert not change.is_alive() and len(outcome) == 1
    assert not isinstance(outcome[0], Exception), outcome[0]
    with read_session() as s:
        assert [s.get(Event, e.id).capacity for e in rows] == [40, 40, 40]
