"""The data version: what every cache of public output (pages, feeds, API, Atom, embed) is
valid for, O(1) to read and changed in the same transaction as any write that shows.

The rule is written once, here, as Session events, so no service can forget it: a transaction
that inserts, updates or deletes an Event, Series or SiteSetting row (kind "events") or an Rsvp
or PersonalFeed row (kind "seats": personal feeds are cached by their token), or an Organizer or
EventHost row (kind "workspace": who manages which event and under what name, which only the
organizer workspace shows, so public caches do not depend on it) - through the unit
of work or a bulk/Core/text statement run on the Session - writes a fresh random token to one
random stripe of that kind's rows in data_version just before it commits. The token is written
last, so the row lock it takes (PostgreSQL) is held only for the commit, and with STRIPES rows
per kind concurrent RSVPs rarely wait for each other.
Statements run on a bare Connection bypass the Session and are not seen: write through a Session.
A write inside another statement (a data-modifying CTE) is not seen either: name it with
`wrote`.

Per event, too. A transaction that writes Rsvp rows also bumps one row per event whose RSVPs it
wrote (kind "event_seats", the stripe being the event's id), or, when it cannot tell which
events (an UPDATE or DELETE with a WHERE clause, a text statement), the row of every event at
once (stripe ANY_EVENT, 0), unless the statement names them (`rsvps_of`). `seats_of` reads
these: the state of a few events' RSVPs, so an organizer's kept attendee list or dashboard of
events E survives an RSVP to another event, which the site-wide "seats" version does not.
Each such transaction bumps "seats" too, so while a process's site-wide version has not
changed, no event's row has: `seats_of` answers from memory then, and reads the rows by
primary key only after a change.

Reading. Each process keeps the last version it read per database, and:
- its own commits update it at once (after_commit), so a process always sees its own writes;
- other processes' writes are picked up by re-reading the rows (a few primary-key rows) when the
  last read is older than CHECK_INTERVAL, so every worker serves a new version within about
  CHECK_INTERVAL of its commit. `known()` answers without touching the database while the last
  read is fresh; `refresh()` reads.

Caches must read the version *before* they read the data they render: the render is then at
least as new as the version it is stored under, never older.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, col, select

from events_app.db import get_engine
from events_app.models import (
    DataVersion,
    Event,
    EventHost,
    EventText,
    Organizer,
    PersonalFeed,
    Rsvp,
    Series,
    SiteSetting,
    utcnow,
)
from events_app.util.lru import LruCache

EVENTS = "events"
SEATS = "seats"
WORKSPACE = "workspace"
EVENT_SEATS = "event_seats"  # one row per event with RSVPs written: stripe = the event's id
ANY_EVENT = 0  # the event_seats row bumped when a write's events are not known (no event 0)
_SITE_KINDS = (EVENTS, SEATS, WORKSPACE)
STRIPES = 16
CHECK_INTERVAL = 0.25  # seconds; every worker serves a new version within about this
# A series row is public output too: its rule, skipped dates and SEQUENCE make the feeds' VEVENT;
# so is an event's text in another language (event_text).
_TRACKED = {Event.__tablename__: EVENTS, EventText.__tablename__: EVENTS,
            SiteSetting.__tablename__: EVENTS,
            Series.__tablename__: EVENTS, Rsvp.__tablename__: SEATS,
            PersonalFeed.__tablename__: SEATS,
            Organizer.__tablename__: WORKSPACE, EventHost.__tablename__: WORKSPACE}
_TEXT_WRITE = re.compile(
    r"\b(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from)\s+\"?(\w+)", re.IGNORECASE)
_CHANGED = "events_app.data_version.changed"  # session.info: kinds written, not yet bumped
_BUMPED = "events_app.data_version.bumped"  # session.info: rows written, applied on commit
_RSVP_EVENTS = "events_app.data_version.rsvp_events"  # session.info: events of RSVPs written
_NAMED_EVENTS = "events_app_rsvp_events"  # execution option: the events a statement writes
_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Version:
    """One database's version as one process knows it: an opaque token per kind, and when
    that kind last changed (for Last-Modified; the epoch when never)."""

    events: str
    seats: str
    events_changed: datetime
    seats_changed: datetime
    workspace: str = ""  # organizers and co-hosts (organizer pages' caches only)


@dataclass(frozen=True)
class EventSeats:
    """The state of some events' RSVPs (`seats_of`), read before the RSVPs themselves: what
    was rendered from them stays right while `seats_of(events)` gives the same again."""

    events: tuple[int, ...]
    token: str


# --- Writing: the Session events -------------------------------------------------------------

def _mark(session: Session, kind: str) -> None:
    session.info.setdefault(_CHANGED, set()).add(kind)


def _mark_events(session: Session, event_ids: set[int]) -> None:
    """RSVPs of these events were written (ANY_EVENT: of events not known)."""
    session.info.setdefault(_RSVP_EVENTS, set()).update(event_ids or {ANY_EVENT})


def _rsvp_events(obj: Any) -> set[int]:
    """The events whose RSVPs a flushed Rsvp row changes: the one it is on and, if it moved,
    the one it left. Empty (so: any event) when its event_id is not loaded; never loads it."""
    history = sa_inspect(obj).attrs.event_id.history
    return {i for i in (*history.added, *history.unchanged, *history.deleted)
            if isinstance(i, int)}


@sa_event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.deleted, *session.dirty):
        kind = _TRACKED.get(getattr(obj, "__tablename__", ""))
        if kind is not None and (obj not in session.dirty or session.is_modified(obj)):
            _mark(session, kind)
            if isinstance(obj, Rsvp):
                _mark_events(session, _rsvp_events(obj))


def _written_table(state: ORMExecuteState) -> str | None:
    if state.is_insert or state.is_update or state.is_delete:
        statement: Any = state.statement
        # select(Model).from_statement(insert(...).returning(...)) writes the table of the
        # statement it wraps (`element`): the ORM builds the objects from the RETURNING row.
        table = getattr(statement, "table", None)
        if table is None:
            table = getattr(getattr(statement, "element", None), "table", None)
        return getattr(table, "name", None)
    text = getattr(state.statement, "text", None)  # text("UPDATE event ...")
    if isinstance(text, str):
        found = _TEXT_WRITE.search(text)
        return found.group(1).lower() if found else None
    return None


def _inserted_events(state: ORMExecuteState) -> set[int]:
    """The events of the rows an INSERT into rsvp writes, when its parameters name them all
    (the RSVP post's pre-built INSERT); else empty (any event). An UPDATE or DELETE says
    which rows only in its WHERE clause: any event."""
    if not state.is_insert:
        return set()
    params = state.parameters
    rows = params if isinstance(params, list | tuple) else [params or {}]
    found = [row.get("event_id") for row in rows]
    if not found or not all(isinstance(i, int) for i in found):
        return set()
    return set(found)  # type: ignore[arg-type]


def wrote(session: Session, table: str, event_ids: Iterable[int] = ()) -> None:
    """Note a write to `table` that the Session events cannot see: one made inside another
    statement, by a data-modifying CTE (services/rsvp.py writes a new RSVP, its address's
    feed row and its e-mail in one statement on PostgreSQL). For RSVP rows, `event_ids`
    names the events whose RSVPs it wrote (none named: every event's state changes). Call
    it in the writing transaction: the versions change at its commit, as for any write the
    events see."""
    kind = _TRACKED.get(table)
    if kind is not None:
        _mark(session, kind)
        if table == Rsvp.__tablename__:
            _mark_events(session, set(event_ids))


def rsvps_of(event_ids: Iterable[int]) -> dict[str, frozenset[int]]:
    """Execution options for an UPDATE or DELETE of RSVPs that names the events whose RSVPs
    it writes, so only theirs change (not every event's): `.execution_options(**rsvps_of(
    ids))`. Its WHERE clause must keep to those events (`Rsvp.event_id.in_(ids)`)."""
    return {_NAMED_EVENTS: frozenset(event_ids)}


@sa_event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    """Bulk and Core statements never pass through the flush: seen here instead."""
    table = _written_table(state) or ""
    kind = _TRACKED.get(table)
    if kind is not None:
        _mark(state.session, kind)
        if table == Rsvp.__tablename__:
            named = state.execution_options.get(_NAMED_EVENTS)
            if named is not None:
                state.session.info.setdefault(_RSVP_EVENTS, set()).update(named)
            else:
                _mark_events(state.session, _inserted_events(state))


@sa_event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outermost commit bumps, once
    session.flush()  # what is still pending counts too
    kinds = session.info.pop(_CHANGED, set())
    events = session.info.pop(_RSVP_EVENTS, set())
    bumped = session.info.setdefault(_BUMPED, [])
    if not kinds:
        return
    at = utcnow()
    rows = sorted([(kind, random.randrange(STRIPES), secrets.token_hex(8), at) for kind in kinds]
                  + [(EVENT_SEATS, event_id, secrets.token_hex(8), at) for event_id in events])
    # One statement for all rows, in one order for every transaction: two writers never
    # wait for each other's rows the other way round (a multi-row INSERT takes them in
    # VALUES order; no two rows share a key, which ON CONFLICT DO UPDATE would refuse).
    params: dict[str, Any] = {}
    for i, (kind, stripe, token, changed) in enumerate(rows):
        params.update({f"k{i}": kind, f"s{i}": stripe, f"t{i}": token, f"c{i}": changed})
    session.connection().execute(_bump_statement(len(rows)), params)
    bumped.extend(row for row in rows if row[0] != EVENT_SEATS)


_bump_statements: dict[int, Any] = {}
_BUMP_STATEMENTS_KEPT = 16  # row counts whose statement is kept (an RSVP post writes two)


def _bump_statement(rows: int) -> Any:
    """The stripe upsert of `rows` rows as one INSERT ... VALUES (row 0), (row 1) ... ON
    CONFLICT DO UPDATE (parameters k<i>, s<i>, t<i>, c<i>), the same SQL on SQLite and
    PostgreSQL, kept per row count: it runs in every writing transaction (each RSVP post),
    where psycopg's executemany of a one-row statement (pipeline mode) cost ~35 us more of a
    post's CPU. As text, because SQLAlchemy compiles a multi-row values() afresh at every
    execution; its parameters carry the columns' types (SQLite stores datetimes as
    SQLAlchemy writes them). Run on the Session's connection: the ORM layer adds nothing."""
    found = _bump_statements.get(rows)
    if found is None:
        c = DataVersion.__table__.c  # type: ignore[attr-defined]
        values = ", ".join(f"(:k{i}, :s{i}, :t{i}, :c{i})" for i in range(rows))
        # Built from the table's name and parameter names only, never from input.
        found = text(
            f"INSERT INTO {DataVersion.__tablename__} (kind, stripe, token, changed_at) "  # noqa: S608
            f"VALUES {values} ON CONFLICT (kind, stripe) DO UPDATE "
            "SET token = excluded.token, changed_at = excluded.changed_at"
        ).bindparams(*(bindparam(f"{name}{i}", type_=column.type) for i in range(rows)
                       for name, column in (("k", c.kind), ("s", c.stripe), ("t", c.token),
                                            ("c", c.changed_at))))
        if rows <= _BUMP_STATEMENTS_KEPT:
            _bump_statements[rows] = found
    return found


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    bumped = session.info.pop(_BUMPED, None)
    if bumped:
        _state(session.get_bind()).record(bumped)


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
    session.info.pop(_BUMPED, None)


# --- Reading: each process's view of each database's version -----------------------------------

class _Known:
    """The rows of one database's data_version as this process last saw them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read_done = threading.Condition(self._lock)  # notified when a read ends
        self._rows: dict[tuple[str, int], tuple[str, datetime, int]] = {}
        self._generation = 0  # counts local commits, so a slower read never undoes one
        self._checked_at: float | None = None  # time.monotonic() of the last read started
        self._claimed_at: float | None = None  # a read is due and one caller is doing it
        self._reading = 0  # reads running now (`current` waits for one rather than start one)
        self._version: Version | None = None
        # Part of every token: a version never repeats across databases or forget() calls,
        # so no cache can answer for another database's rows.
        self._salt = secrets.token_hex(8)
        # event id -> (the site-wide seats token when its row was read, the row's token).
        self._event_rows: LruCache[int, tuple[str, str]] = LruCache(max_entries=4096)

    def event_rows(self, ids: Iterable[int], seats: str, session: Session | None,
                   engine: Engine) -> dict[int, str]:
        """The tokens of the event_seats rows of `ids` ("" for none), given the site-wide
        seats token `seats` read before; rows are read (by primary key, in one statement)
        only if that token changed since they were last read.

        On `session` if given, the rows are read there, all of them, and not remembered:
        the caller reads the RSVPs next in that session, whose snapshot (SQLite's is taken
        by its first statement) may be older than `seats`, older than rows this process
        remembers, and older than rows it would read in a session of its own. Rows read in
        a session of its own, begun after `seats` was read, are at least as new: kept."""
        ids = list(ids)
        if session is not None:
            read = dict(session.execute(_EVENT_READ, {"ids": ids}).all())
            return {event_id: read.get(event_id, "") for event_id in ids}
        tokens = {}
        missing = []
        for event_id in ids:
            found = self._event_rows.get(event_id)
            if found is not None and found[0] == seats:
                tokens[event_id] = found[1]
            else:
                missing.append(event_id)
        if missing:
            with Session(engine) as own:
                read = dict(own.execute(_EVENT_READ, {"ids": missing}).all())
            for event_id in missing:
                tokens[event_id] = read.get(event_id, "")
                self._event_rows.put(event_id, (seats, tokens[event_id]))
        return tokens

    def combined(self, ids: tuple[int, ...], tokens: dict[int, str]) -> str:
        """One token for the rows of `ids` (never the same for another database)."""
        joined = self._salt + "".join(f"{i}={tokens[i]};" for i in ids)
        return hashlib.blake2b(joined.encode(), digest_size=12).hexdigest()

    def record(self, rows: list[tuple[str, int, str, datetime]]) -> None:
        with self._lock:
            self._generation += 1
            for kind, stripe, token, changed_at in rows:
                self._rows[(kind, stripe)] = (token, changed_at, self._generation)
            self._version = None

    def fresh(self) -> Version | None:
        """The version, when read less than CHECK_INTERVAL ago; else None (read it)."""
        checked = self._checked_at
        if checked is None or time.monotonic() - checked >= CHECK_INTERVAL:
            return None
        return self.version()

    def claim_read(self) -> bool:
        """True for one caller at a time once a read is due (the others keep the version they
        have meanwhile); a claim whose read never ran (a cancelled request) lapses after
        CHECK_INTERVAL."""
        with self._lock:
            now = time.monotonic()
            if self._claimed_at is not None and now - self._claimed_at < CHECK_INTERVAL:
                return False
            self._claimed_at = now
            return True

    def read_under_way(self) -> bool:
        """Whether a caller has claimed the due read and not finished it (nor let it lapse)."""
        claimed = self._claimed_at
        return claimed is not None and time.monotonic() - claimed < CHECK_INTERVAL

    def current(self, engine: Engine) -> Version:
        """The version read less than CHECK_INTERVAL ago: from memory while fresh; else one
        thread reads while the others that find it due wait for that read (begun after the
        version fell due: never the old version). A read merely claimed on the event
        loop (web/cached.py: its thread-pool hop may wait behind these very threads) is not
        waited for: the first thread here reads. A failed read wakes the waiters, and the next
        one reads."""
        while True:
            found = self.fresh()
            if found is not None:
                return found
            with self._lock:
                if self._reading:
                    self._read_done.wait(CHECK_INTERVAL)
                    continue
                self._reading += 1  # this thread's read: the others wait for it
                self._claimed_at = time.monotonic()  # the event loop keeps its version meanwhile
            return self.read(engine, begun=True)

    def read(self, engine: Engine, begun: bool = False) -> Version:
        """Read the rows (`begun`: counted in `_reading` by the caller already)."""
        started = time.monotonic()
        with self._lock:
            generation = self._generation
            if not begun:
                self._reading += 1
        try:
            with Session(engine) as session:
                rows = session.exec(_SITE_READ).all()
        except BaseException:
            with self._lock:
                self._reading -= 1
                self._claimed_at = None
                self._read_done.notify_all()  # a waiter reads instead
            raise
        with self._lock:
            fetched = {(kind, stripe): (token, changed_at, generation)
                       for kind, stripe, token, changed_at in rows}
            # Rows this process committed while the read ran are newer than what it read.
            fetched.update({k: v for k, v in self._rows.items() if v[2] > generation})
            self._rows = fetched
            self._checked_at = started
            self._version = None
            self._reading -= 1
            self._claimed_at = None
            self._read_done.notify_all()
        return self.version()

    @property
    def ever_read(self) -> bool:
        return self._checked_at is not None

    def version(self) -> Version:
        with self._lock:
            if self._version is None:
                self._version = Version(
                    events=self._token(EVENTS), seats=self._token(SEATS),
                    events_changed=self._changed(EVENTS), seats_changed=self._changed(SEATS),
                    workspace=self._token(WORKSPACE))
            return self._version

    def _token(self, kind: str) -> str:
        tokens = self._salt + "".join(f"{s}={self._rows[(kind, s)][0]};" for s in range(STRIPES)
                         if (kind, s) in self._rows)
        return hashlib.blake2b(tokens.encode(), digest_size=12).hexdigest()

    def _changed(self, kind: str) -> datetime:
        return max((v[1] for k, v in self._rows.items() if k[0] == kind), default=_EPOCH)


_SITE_READ = (select(DataVersion.kind, DataVersion.stripe, DataVersion.token,
                     DataVersion.changed_at)
              .where(col(DataVersion.kind).in_(_SITE_KINDS)))


_EVENT_READ = (select(DataVersion.stripe, DataVersion.token)
               .where(DataVersion.kind == EVENT_SEATS,
                      col(DataVersion.stripe).in_(bindparam("ids", expanding=True))))


# By the engine's connection pool: shared by an engine and its execution_options() copies
# (write_session's), and dropped with the engine.
_known: weakref.WeakKeyDictionary[Any, _Known] = weakref.WeakKeyDictionary()
_known_lock = threading.Lock()


def _state(bind: Any) -> _Known:
    pool = bind.pool
    found = _known.get(pool)
    if found is None:
        with _known_lock:
            found = _known.setdefault(pool, _Known())
    return found


def known(engine: Engine | None = None) -> Version | None:
    """The version without touching the database, if it was read less than CHECK_INTERVAL ago
    (or None: call `refresh`). Includes every commit this process made."""
    return _state(engine or get_engine()).fresh()


def read_due(engine: Engine | None = None) -> bool:
    """Whether the caller should `refresh` now (when `known` gave None): nothing read yet, or
    this caller is the one of many concurrent ones to read (the others use `stale()`)."""
    state = _state(engine or get_engine())
    return state.claim_read() or not state.ever_read


def known_or_reading(engine: Engine | None = None) -> Version | None:
    """`known()`, or while another caller reads the version, the last one read (what that
    caller's concurrent requests are served anyway); None when a read is due and nobody is
    doing it (the caller should, through `read_due` and `refresh`). Never touches the
    database: for answering on the event loop without waiting (web/fast_path.py)."""
    state = _state(engine or get_engine())
    found = state.fresh()
    if found is None and state.ever_read and state.read_under_way():
        return state.version()
    return found


def seats_of(event_ids: Iterable[int], session: Session | None = None) -> EventSeats:
    """The state of these events' RSVPs, for a cache of what shows them (an attendee list,
    a dashboard's seat counts): call it after reading which events, before reading their
    RSVPs. It changes with any RSVP written to one of them, and with a write to RSVPs of
    events not known (ANY_EVENT); RSVPs to other events leave it as it is. Like the site-wide
    version: this process's commits at once, another process's within CHECK_INTERVAL.
    Rows are read on `session` if given: the one that read which events and is about to
    read their RSVPs, so all three come from one snapshot on SQLite."""
    engine: Any = session.get_bind() if session is not None else get_engine()
    seats = current(engine).seats  # first: the rows read after it are at least as new
    ids = tuple(sorted({ANY_EVENT, *event_ids}))
    known = _state(engine)
    return EventSeats(ids, known.combined(ids, known.event_rows(ids, seats, session, engine)))


def still(states: Iterable[EventSeats]) -> bool:
    """Whether the RSVPs of every one of `states`' events are as they were when it was read
    (the rows of all of them read at most once, in one statement)."""
    states = list(states)
    if not states:
        return True
    engine = get_engine()
    seats = current(engine).seats
    known = _state(engine)
    tokens = known.event_rows(sorted({i for s in states for i in s.events}), seats, None, engine)
    return all(known.combined(s.events, tokens) == s.token for s in states)


def stale(engine: Engine | None = None) -> Version:
    """The last version read, however old (only while another thread is refreshing it)."""
    return _state(engine or get_engine()).version()


def refresh(engine: Engine | None = None) -> Version:
    """Read the version from the database (a few primary-key rows): blocks, thread pool."""
    return _state(engine or get_engine()).read(engine or get_engine())


def current(engine: Engine | None = None) -> Version:
    """The version, read from the database only when the last read is stale (sync code): by
    one thread, while the others that find it stale wait for that read (a few primary-key
    rows) instead of each reading the same rows."""
    engine = engine or get_engine()
    return _state(engine).current(engine)


def forget(engine: Engine | None = None) -> None:
    """Drop what this process knows of the database (tests that empty it behind its back)."""
    with _known_lock:
        _known.pop((engine or get_engine()).pool, None)


def last_changed(version: Version) -> datetime:
    return max(version.events_changed, version.seats_changed)
