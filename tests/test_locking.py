"""services/locking.py: locks are taken only where they guard a write, and return fresh rows."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from events_app.db import read_session, write_session
from events_app.models import Event
from events_app.services import locking
from tests.factories import make_event, make_rsvp


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
