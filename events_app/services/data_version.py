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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, select

from events_app.db import dialect_insert, get_engine
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

EVENTS = "events"
SEATS = "seats"
WORKSPACE = "workspace"
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


# --- Writing: the Session events -------------------------------------------------------------

def _mark(session: Session, kind: str) -> None:
    session.info.setdefault(_CHANGED, set()).add(kind)


@sa_event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.deleted, *session.dirty):
        kind = _TRACKED.get(getattr(obj, "__tablename__", ""))
        if kind is not None and (obj not in session.dirty or session.is_modified(obj)):
            _mark(session, kind)


def _written_table(state: ORMExecuteState) -> str | None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        return getattr(table, "name", None)
    text = getattr(state.statement, "text", None)  # text("UPDATE event ...")
    if isinstance(text, str):
        found = _TEXT_WRITE.search(text)
        return found.group(1).lower() if found else None
    return None


@sa_event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    """Bulk and Core statements never pass through the flush: seen here instead."""
    kind = _TRACKED.get(_written_table(state) or "")
    if kind is not None:
        _mark(state.session, kind)


@sa_event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outermost commit bumps, once
    session.flush()  # what is still pending counts too
    kinds = session.info.pop(_CHANGED, set())
    bumped = session.info.setdefault(_BUMPED, [])
    if not kinds:
        return
    connection = session.connection()
    stmt = _bump_statement(session)
    for kind in sorted(kinds):
        row = (kind, random.randrange(STRIPES), secrets.token_hex(8), utcnow())
        connection.execute(stmt, {"new_kind": row[0], "new_stripe": row[1],
                                  "new_token": row[2], "new_changed_at": row[3]})
        bumped.append(row)


_bump_statements: dict[str, Any] = {}


def _bump_statement(session: Session) -> Any:
    """The stripe upsert, built once per dialect: it runs in every writing transaction (each
    RSVP post), and building and compiling-key a fresh statement each time cost a tenth of a
    post's CPU. Run on the Session's connection, as Core: the ORM layer adds nothing here."""
    dialect = session.get_bind().dialect.name
    found = _bump_statements.get(dialect)
    if found is None:
        insert = dialect_insert(session, DataVersion).values(
            kind=bindparam("new_kind"), stripe=bindparam("new_stripe"),
            token=bindparam("new_token"), changed_at=bindparam("new_changed_at"))
        found = _bump_statements[dialect] = insert.on_conflict_do_update(
            index_elements=["kind", "stripe"],
            set_={"token": insert.excluded.token, "changed_at": insert.excluded.changed_at})
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
        self._rows: dict[tuple[str, int], tuple[str, datetime, int]] = {}
        self._generation = 0  # counts local commits, so a slower read never undoes one
        self._checked_at: float | None = None  # time.monotonic() of the last read started
        self._claimed_at: float | None = None  # a read is due and one caller is doing it
        self._version: Version | None = None
        # Part of every token: a version never repeats across databases or forget() calls,
        # so no cache can answer for another database's rows.
        self._salt = secrets.token_hex(8)

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

    def read(self, engine: Engine) -> Version:
        started = time.monotonic()
        with self._lock:
            generation = self._generation
        try:
            with Session(engine) as session:
                rows = session.exec(select(DataVersion.kind, DataVersion.stripe,
                                           DataVersion.token, DataVersion.changed_at)).all()
        finally:
            with self._lock:
                self._claimed_at = None
        with self._lock:
            fetched = {(kind, stripe): (token, changed_at, generation)
                       for kind, stripe, token, changed_at in rows}
            # Rows this process committed while the read ran are newer than what it read.
            fetched.update({k: v for k, v in self._rows.items() if v[2] > generation})
            self._rows = fetched
            self._checked_at = started
            self._version = None
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


def stale(engine: Engine | None = None) -> Version:
    """The last version read, however old (only while another thread is refreshing it)."""
    return _state(engine or get_engine()).version()


def refresh(engine: Engine | None = None) -> Version:
    """Read the version from the database (a few primary-key rows): blocks, thread pool."""
    return _state(engine or get_engine()).read(engine or get_engine())


def current(engine: Engine | None = None) -> Version:
    """The version, read from the database only when the last read is stale (sync code)."""
    return known(engine) or refresh(engine)


def forget(engine: Engine | None = None) -> None:
    """Drop what this process knows of the database (tests that empty it behind its back)."""
    with _known_lock:
        _known.pop((engine or get_engine()).pool, None)


def last_changed(version: Version) -> datetime:
    return max(version.events_changed, version.seats_changed)
