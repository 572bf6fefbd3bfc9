"""The data version (services/data_version.py): every write that shows in public output bumps
it in its own transaction, whichever way it reaches the database; nothing else does; a process
sees its own commits at once and every worker serves another process's within a second."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, insert, text, update
from sqlmodel import Session, select

from events_app.db import get_engine, make_engine, read_session, write_session
from events_app.models import DataVersion, Event, Rsvp, utcnow
from events_app.services import data_version, event_admin, site_settings
from events_app.services import rsvp as rsvp_service
from tests.conftest import start_server
from tests.factories import make_event, make_rsvp
from tests.organizer_support import edit_event, make_organizer
from tests.rsvp_helpers import req

# Long enough that a thread started late on a loaded machine (a 0.2 s read runs meanwhile)
# still finds the version read at the start fresh, so the count of reads is exact; and that
# a claim made just before is still held on the next line.
SLOW_INTERVAL = 2.0


def stored() -> dict[str, frozenset[tuple[int, str]]]:
    """The data_version rows as the database holds them, per kind."""
    with read_session() as session:
        rows = session.exec(select(DataVersion)).all()
    return {kind: frozenset((r.stripe, r.token) for r in rows if r.kind == kind)
            for kind in (data_version.EVENTS, data_version.SEATS)}


class Watch:
    """Which kinds changed in the database since the last call."""

    def __init__(self) -> None:
        self.last = stored()

    def changed(self) -> set[str]:
        now = stored()
        kinds = {kind for kind in now if now[kind] != self.last[kind]}
        self.last = now
        return kinds


def test_each_kind_of_public_write_bumps_its_version(db_url) -> None:
    watch = Watch()
    actor = make_organizer("owner@example.org", admin=True)
    assert watch.changed() == set()  # an organizer row shows nowhere public

    event = make_event(title="Council meeting", capacity=10)
    assert watch.changed() == {"events"}
    edit_event(actor, event, title="Council meeting, moved")
    assert watch.changed() == {"events"}
    event_admin.set_published(actor, event.slug, False)
    assert watch.changed() == {"events"}
    event_admin.set_published(actor, event.slug, True)
    assert watch.changed() == {"events"}

    result = rsvp_service.submit_rsvp(event.id, req("ana@example.org"))
    assert "seats" in watch.changed()
    rsvp_service.cancel_rsvp(result.rsvp.token)
    assert "seats" in watch.changed()
    make_rsvp(event, email="bo@example.org")
    assert watch.changed() == {"seats"}

    event_admin.cancel_event(actor, event.slug, "Postponed")
    assert "events" in watch.changed()

    with write_session() as session:  # a site setting (an upsert, not a flush)
        site_settings.set_flag(session, "require_2fa", True)
    assert watch.changed() == {"events"}


def test_bulk_and_text_statements_and_deletes_bump_too(db_url) -> None:
    event = make_event(title="Bulk")
    watch = Watch()
    with write_session() as session:  # a bulk UPDATE never passes through the flush
        session.execute(update(Event).where(Event.id == event.id).values(title="Bulk, edited"))
    assert watch.changed() == {"events"}
    with write_session() as session:
        session.execute(text("UPDATE event SET summary = 'by hand' WHERE id = :id"),
                        {"id": event.id})
    assert watch.changed() == {"events"}
    with write_session() as session:
        session.delete(session.get(Event, event.id))
    assert watch.changed() == {"events"}


def test_a_write_named_with_wrote_bumps_its_tables_kind(db_url) -> None:
    """A write the Session cannot see (inside another statement's CTE) counts once named;
    a table no public output shows changes nothing."""
    make_event(title="Named")
    watch = Watch()
    with write_session() as session:
        session.connection().execute(text("SELECT 1"))  # stands in for the unseen write
        data_version.wrote(session, "personal_feed")
    assert watch.changed() == {"seats"}
    with write_session() as session:
        data_version.wrote(session, "outbox")
    assert watch.changed() == set()


def test_rolled_back_writes_and_reads_do_not_bump(db_url) -> None:
    event = make_event(title="Stays")
    watch = Watch()
    with pytest.raises(RuntimeError), write_session() as session:
        session.get(Event, event.id).title = "Never saved"
        session.flush()
        raise RuntimeError("abandoned")
    with read_session() as session:
        assert session.get(Event, event.id).title == "Stays"
    with write_session() as session:  # loaded and saved unchanged
        session.add(session.get(Event, event.id))
    assert watch.changed() == set()


def test_the_bump_is_in_the_writing_transaction(db_url) -> None:
    """Until the write commits, nobody else sees the new version; after, both at once."""
    event = make_event(title="Before")
    before = stored()
    with write_session() as session:
        session.get(Event, event.id).title = "After"
        session.flush()
        assert stored() == before  # another connection sees neither yet
        session.commit()  # commits the event and the version together
        assert stored() != before
    with read_session() as session:
        assert session.get(Event, event.id).title == "After"


def test_a_process_sees_its_own_commits_at_once(db_url, monkeypatch) -> None:
    # Long enough that the version read before the write is still fresh after it, however
    # slow the machine (a garbage-collection pass in make_event took 0.4-0.65 s under load):
    # what changes it here is the commit telling this process, not the clock.
    monkeypatch.setattr(data_version, "CHECK_INTERVAL", 600.0)
    first = data_version.refresh()
    make_event(title="Mine")
    second = data_version.known()  # no database read: the commit told this process
    assert second is not None and second.events != first.events
    assert second.seats == first.seats
    assert second.events_changed >= first.events_changed
    assert data_version.refresh() == second  # and it is what the database says


def test_a_version_never_answers_for_another_database(db_url) -> None:
    before = data_version.refresh()
    data_version.forget(get_engine())  # as when a test empties the database behind our back
    after = data_version.refresh()
    assert before.events != after.events and before.seats != after.seats


def test_without_a_read_the_last_version_serves_only_while_another_caller_reads(
        db_url, monkeypatch) -> None:
    """What the event loop may answer with (known_or_reading): the version while fresh; once
    a read is due, nothing until a caller claims it, then the last one until that read ends."""
    monkeypatch.setattr(data_version, "CHECK_INTERVAL", SLOW_INTERVAL)
    first = data_version.refresh()
    assert data_version.known_or_reading() == first
    time.sleep(SLOW_INTERVAL + 0.1)
    assert data_version.known() is None
    assert data_version.known_or_reading() is None  # due, and nobody reads: the caller must
    assert data_version.read_due()  # one caller claims the read ...
    assert data_version.known_or_reading() == first  # ... the others keep the last version
    with write_session() as session:  # another process's write (not told to this one)
        session.execute(update(DataVersion).where(DataVersion.kind == data_version.EVENTS)
                        .values(token="elsewhere"))
    data_version.forget(get_engine())
    assert data_version.known_or_reading() is None  # nothing read for this database yet


@contextmanager
def _slow_version_reads(fail_first: bool = False) -> Iterator[list[float]]:
    """Each read of the site-wide version on the app's engine takes 0.2 s inside the block
    (so callers arrive while one runs) and, if asked, the first one fails; yields when each
    read began."""
    began: list[float] = []

    def slow(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM data_version" in statement and "data_version.kind IN" in statement:
            began.append(time.monotonic())
            time.sleep(0.2)
            if fail_first and len(began) == 1:
                raise RuntimeError("the database went away")

    sa_event.listen(get_engine(), "before_cursor_execute", slow)
    try:
        yield began
    finally:
        sa_event.remove(get_engine(), "before_cursor_execute", slow)


def _concurrent_current(callers: int) -> list[Any]:
    """`data_version.current()` from `callers` threads at once: each one's version, or error."""
    start = threading.Barrier(callers)
    found: list[Any] = [None] * callers

    def call(i: int) -> None:
        start.wait()
        try:
            found[i] = data_version.current()
        except RuntimeError as exc:
            found[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return found


def _written_elsewhere(db_url: str) -> None:
    """A write by another process (a second engine: its own pool, its own view)."""
    elsewhere = make_engine(db_url)
    try:
        with Session(elsewhere) as session:
            site_settings.set_flag(session, "elsewhere", True)
            session.commit()
    finally:
        elsewhere.dispose()


def test_a_due_version_is_read_by_one_thread_while_the_others_wait_for_it(
        db_url, monkeypatch) -> None:
    """Sync callers that find the version due at once: one reads, the others get what it read
    (the new version, never the old one they had)."""
    monkeypatch.setattr(data_version, "CHECK_INTERVAL", SLOW_INTERVAL)
    before = data_version.refresh()
    _written_elsewhere(db_url)
    time.sleep(SLOW_INTERVAL + 0.1)
    with _slow_version_reads() as reads:
        found = _concurrent_current(6)
    assert len(reads) == 1
    assert all(v == found[0] for v in found)
    assert isinstance(found[0], data_version.Version) and found[0].events != before.events


def test_when_the_one_read_fails_a_waiting_thread_reads_instead(db_url, monkeypatch) -> None:
    monkeypatch.setattr(data_version, "CHECK_INTERVAL", SLOW_INTERVAL)
    before = data_version.refresh()
    _written_elsewhere(db_url)
    time.sleep(SLOW_INTERVAL + 0.1)
    with _slow_version_reads(fail_first=True) as reads:
        found = _concurrent_current(6)
    assert len(reads) == 2  # the failed one, then one more
    failed = [f for f in found if isinstance(f, RuntimeError)]
    served = [f for f in found if isinstance(f, data_version.Version)]
    assert len(failed) == 1 and len(served) == 5
    assert all(v == served[0] for v in served) and served[0].events != before.events


def test_a_read_claimed_on_the_event_loop_is_not_waited_for(db_url, monkeypatch) -> None:
    """The event loop claimed the due read (web/cached.py), and its hop to the thread pool may
    wait behind the very threads that need the version: they read it themselves instead of
    waiting for the claim to lapse (CHECK_INTERVAL, here ten minutes)."""
    monkeypatch.setattr(data_version, "CHECK_INTERVAL", 600.0)
    data_version.forget(get_engine())  # nothing read yet: due
    assert data_version.read_due()  # claimed, and no read running
    found: list[Any] = []
    reader = threading.Thread(target=lambda: found.append(data_version.current()), daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive()
    assert found == [data_version.known()] and found[0] is not None


PAGES = ("/events", "/events/{slug}", "/api/v1/events", "/api/v1/events/{slug}",
         "/events.atom", "/embed/upcoming", "/calendar.ics")


def test_every_worker_serves_a_write_within_a_second(db_url, tmp_path) -> None:
    """Several uvicorn workers, each with its own caches, warmed up; a write made elsewhere
    (here: the test process) is on every page from every worker one second later."""
    event = make_event(title="Town hall", capacity=40, starts_at=utcnow() + timedelta(days=2))
    server = start_server(db_url, tmp_path, workers=2)

    def fetch(path: str) -> str:
        with urllib.request.urlopen(server.url + path.format(slug=event.slug),
                                    timeout=30) as resp:
            return resp.read().decode()

    try:
        for _ in range(6):  # fills every worker's caches (connections land on any worker)
            for path in PAGES:
                assert "Town hall" in fetch(path)
        with write_session() as session:
            session.get(Event, event.id).title = "Town hall, now at the library"
        make_rsvp(event, email="early@example.org", guests=4)
        time.sleep(1)
        for _ in range(6):
            for path in PAGES:
                assert "now at the library" in fetch(path), path
            assert "35 of 40 spots left" in fetch("/events/{slug}")
            assert '"spots_left":35' in fetch("/api/v1/events/{slug}")
    finally:
        server.stop()


# --- Per event: the state of one event's RSVPs (seats_of) ------------------------------------

def test_an_rsvp_changes_its_own_events_seats_state_only(db_url) -> None:
    """However the RSVP is written (the post's own INSERT, a flush, an update), the state of
    its event changes and another event's does not."""
    mine, other = make_event(title="Mine", capacity=10), make_event(title="Other", capacity=10)

    def states() -> tuple[data_version.EventSeats, data_version.EventSeats]:
        return data_version.seats_of([mine.id]), data_version.seats_of([other.id])

    before = states()
    assert states() == before  # reading changes nothing
    result = rsvp_service.submit_rsvp(mine.id, req("ana@example.org"))  # the post's INSERT
    after = states()
    assert after[0] != before[0] and after[1] == before[1]
    rsvp_service.cancel_rsvp(result.rsvp.token)  # an update through the flush
    again = states()
    assert again[0] != after[0] and again[1] == after[1]
    make_rsvp(other, email="bo@example.org")
    last = states()
    assert last[0] == again[0] and last[1] != again[1]
    # Both together: one changes whenever either does.
    assert data_version.seats_of([mine.id, other.id]) != data_version.seats_of([mine.id])


def test_an_insert_whose_returning_row_the_orm_loads_is_seen_with_its_event(db_url) -> None:
    """select(Rsvp).from_statement(insert(...).returning(...)) (the RSVP post's INSERT, the
    ORM building the object from the returned row) is a write to rsvp: "seats" changes, and
    from its parameters' event_id only that event's state."""
    mine, other = make_event(title="Mine"), make_event(title="Other")
    watch = Watch()
    before = data_version.seats_of([mine.id]), data_version.seats_of([other.id])
    table = Rsvp.__table__
    statement = select(Rsvp).from_statement(insert(table).returning(*table.columns))
    at = utcnow()
    with write_session() as session:
        row = session.execute(statement, {
            "event_id": mine.id, "email": "ana@example.org", "token": "t" * 43,
            "name": "Ana", "created_at": at, "updated_at": at}).scalar_one()
        assert row in session and row.id is not None and row.guests == 0
    assert watch.changed() == {"seats"}
    after = data_version.seats_of([mine.id]), data_version.seats_of([other.id])
    assert after[0] != before[0] and after[1] == before[1]


def test_writes_to_rsvps_of_unknown_events_change_every_events_state(db_url) -> None:
    """An UPDATE or DELETE names its rows only in its WHERE clause: every event's state
    changes (stripe ANY_EVENT), so no kept list can miss it."""
    mine, other = make_event(title="Mine"), make_event(title="Other")
    make_rsvp(mine, email="ana@example.org")
    before = data_version.seats_of([other.id])
    with write_session() as session:
        session.execute(update(Rsvp).where(Rsvp.event_id == mine.id).values(comment="bulk"))
    assert data_version.seats_of([other.id]) != before
    before = data_version.seats_of([other.id])
    with write_session() as session:
        session.execute(text("UPDATE rsvp SET comment = 'by hand' WHERE event_id = :id"),
                        {"id": mine.id})
    assert data_version.seats_of([other.id]) != before


def test_an_rsvp_moved_to_another_event_changes_both(db_url) -> None:
    first, second, third = (make_event(title=t) for t in ("First", "Second", "Third"))
    row = make_rsvp(first, email="ana@example.org")
    before = [data_version.seats_of([e.id]) for e in (first, second, third)]
    with write_session() as session:
        session.get(Rsvp, row.id).event_id = second.id
    after = [data_version.seats_of([e.id]) for e in (first, second, third)]
    assert after[0] != before[0] and after[1] != before[1] and after[2] == before[2]


def test_per_event_rows_are_not_part_of_the_site_wide_version(db_url) -> None:
    """One row per event with RSVPs (100,000 on a big calendar): the site-wide version, read
    every fraction of a second, leaves them out."""
    event = make_event(title="Mine")
    make_rsvp(event, email="ana@example.org")
    with read_session() as session:
        rows = {(r.kind, r.stripe) for r in session.exec(select(DataVersion)).all()
                if r.kind == data_version.EVENT_SEATS}
    assert rows == {(data_version.EVENT_SEATS, event.id)}
    first = data_version.refresh()
    with get_engine().begin() as conn:  # a bare connection: no Session, no bump
        conn.execute(update(DataVersion).where(DataVersion.kind == data_version.EVENT_SEATS)
                     .values(token="elsewhere"))
    assert data_version.refresh() == first


def test_another_process_rsvp_changes_the_state_within_the_check_interval(
        db_url, monkeypatch) -> None:
    """Another process's write (a second engine: its own pool, its own view of the version)
    changes the state this process reads once its version is due again."""
    monkeypatch.setattr(data_version, "CHECK_INTERVAL", 0.5)
    event = make_event(title="Mine", capacity=10)
    before = data_version.seats_of([event.id])
    elsewhere = make_engine(db_url)
    try:
        with Session(elsewhere) as session:
            session.add(Rsvp(event_id=event.id, name="Far Away", email="far@example.org"))
            session.commit()
    finally:
        elsewhere.dispose()
    time.sleep(0.6)
    assert data_version.seats_of([event.id]) != before


def test_rows_read_in_an_older_snapshot_are_never_taken_for_newer(db_url) -> None:
    """Read on a caller's session whose SQLite snapshot predates an RSVP this process then
    committed (PostgreSQL's next statement sees it): the state it gives agrees with the RSVPs
    that session reads, whatever this process remembers; and what it remembers for later
    still follows the RSVP."""
    event = make_event(title="Mine", capacity=10)
    before = data_version.seats_of([event.id])
    with read_session() as session:
        session.exec(select(Event.id)).all()  # the snapshot begins (SQLite)
        make_rsvp(event, email="late@example.org")  # committed after it, told to this process
        newest = data_version.seats_of([event.id])  # read in a session of its own, remembered
        state = data_version.seats_of([event.id], session)
        seen = session.exec(select(func.count()).select_from(Rsvp)
                            .where(Rsvp.event_id == event.id)).one()
    assert newest != before
    assert (state == newest) == (seen == 1)  # the state and the RSVPs: the same snapshot
    assert data_version.seats_of([event.id]) == newest


def test_an_update_naming_its_events_changes_only_theirs(db_url) -> None:
    mine, other = make_event(title="Mine"), make_event(title="Other")
    make_rsvp(mine, email="ana@example.org")
    before = data_version.seats_of([mine.id]), data_version.seats_of([other.id])
    with write_session() as session:
        session.execute(update(Rsvp).where(Rsvp.event_id == mine.id).values(comment="bulk")
                        .execution_options(**data_version.rsvps_of([mine.id])))
    after = data_version.seats_of([mine.id]), data_version.seats_of([other.id])
    assert after[0] != before[0] and after[1] == before[1]


def test_opening_a_manage_link_changes_its_events_state_once(db_url) -> None:
    """The first opening verifies the RSVP (its own event's state changes, no other's);
    later openings write nothing, so no version changes at all."""
    mine, other = make_event(title="Mine", capacity=10), make_event(title="Other", capacity=10)
    result = rsvp_service.submit_rsvp(mine.id, req("ana@example.org"))
    before = data_version.seats_of([mine.id]), data_version.seats_of([other.id])
    assert rsvp_service.verify_link(result.rsvp.token)
    after = data_version.seats_of([mine.id]), data_version.seats_of([other.id])
    assert after[0] != before[0] and after[1] == before[1]
    version = data_version.current()
    assert not rsvp_service.verify_link(result.rsvp.token)
    assert data_version.current() == version
    assert data_version.seats_of([mine.id]) == after[0]
    with read_session() as session:
        assert session.get(Rsvp, result.rsvp.id).verified_at is not None
