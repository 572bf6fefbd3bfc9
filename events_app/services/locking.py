"""Row locks for decisions that count before they write (seats, check-ins): the one place
they are taken.

A decision such as "does this party fit?" reads the seats taken and then writes; two
requests doing that at once must not both see the last seat free. So the decision locks the
event's row first and keeps the lock until its transaction commits the outcome. On
PostgreSQL that is `SELECT ... FOR UPDATE`; on SQLite `write_session()` already holds the
database's write lock from BEGIN IMMEDIATE, and FOR UPDATE is simply not emitted.

A lock only means something inside the write transaction that saves the decision: taken in
a read session (or one whose commit is elsewhere) it would end, or never start, before the
write, and the check would silently race. Like pretix's `base/services/locking.py`, these
functions therefore refuse to run outside `write_session()` instead of locking nothing.

Lock order is always the event row first, then its RSVPs, so two decisions never deadlock;
a transaction that locks several events locks them all at once, in id order (`lock_events`:
an RSVP to every date of a series, any change to a series), before it writes any of them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from events_app.db import in_write_transaction
from events_app.models import Event, Rsvp


class LockOutsideWriteTransaction(RuntimeError):
    """A programming error: a lock asked for in a session that will not save the decision."""


def _require_write(session: Session, what: str) -> None:
    if not in_write_transaction(session):
        raise LockOutsideWriteTransaction(
            f"locking {what} needs a session from db.write_session(): a lock in any other "
            "session does not cover the write it guards")


_LOCKING = "events_app_locking"  # execution option set by locking_query only


def locking_query(query: SelectOfScalar[Event]) -> SelectOfScalar[Event]:
    """`query` as `lock_event_found_by` runs it: the row locked, the object re-read. Built
    once, its values as parameters, by callers that run it on every RSVP post: building and
    keying a statement anew cost more CPU than the database spends running it. It carries
    its own execution option saying so (a public attribute), so `lock_event_found_by` knows
    it is made already without reading SQLAlchemy's private FOR UPDATE state."""
    return query.with_for_update().execution_options(populate_existing=True,
                                                     **{_LOCKING: True})


_EVENT_BY_ID = locking_query(select(Event).where(Event.id == bindparam("lock_event_id")))


def lock_event(session: Session, event_id: int) -> Event | None:
    """The event with its row locked for the rest of the transaction, re-read so the decision
    uses committed values; None if it does not exist (any more)."""
    return lock_event_found_by(session, _EVENT_BY_ID, {"lock_event_id": event_id})


def lock_event_found_by(session: Session, query: SelectOfScalar[Event],
                        params: dict[str, Any] | None = None) -> Event | None:
    """`lock_event` for an event named another way (the public RSVP form names it by slug):
    finding and locking it is one statement, not a read followed by a lock. `query` is a
    plain select, or one made by `locking_query` with its `params`."""
    _require_write(session, "an event")
    if not query.get_execution_options().get(_LOCKING):  # a plain select: lock it here
        query = locking_query(query)
    return session.exec(query, params=params).first()


def lock_event_row(session: Session, event: Event) -> None:
    """Lock the row of an event the caller already holds, without re-reading its object
    (which may carry the caller's unsaved edits, e.g. a new capacity being validated)."""
    _require_write(session, "an event")
    session.exec(select(Event.id).where(Event.id == event.id).with_for_update()).first()


def lock_rsvp(session: Session, rsvp_id: int, event_id: int | None = None) -> Rsvp | None:
    """The RSVP with its row locked and re-read; with `event_id`, only if it is that event's
    (an id in an organizer's URL never reaches another event's RSVP). Callers that also lock
    the event lock it first."""
    _require_write(session, "an RSVP")
    stmt = select(Rsvp).where(Rsvp.id == rsvp_id)
    if event_id is not None:
        stmt = stmt.where(Rsvp.event_id == event_id)
    return session.exec(
        stmt.with_for_update().execution_options(populate_existing=True)
    ).first()


def lock_events(session: Session, event_ids: list[int]) -> list[Event]:
    """Several events' rows locked at once, always in id order, so two transactions that
    each decide for many events (an RSVP to every date of a series) cannot deadlock; one
    that locks a single event holds no other lock, so it cannot close a cycle either."""
    _require_write(session, "events")
    if not event_ids:
        return []
    return list(session.exec(
        select(Event).where(col(Event.id).in_(event_ids)).order_by(col(Event.id))
        .with_for_update().execution_options(populate_existing=True)
    ).all())
