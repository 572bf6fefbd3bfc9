"""Engine and sessions for SQLite (embedded default) and PostgreSQL (shared deployments).

Capacity rules rely on one guarantee from this module: a session opened with
`write_session()` holds the database's write lock (SQLite: BEGIN IMMEDIATE) or can take row
locks (PostgreSQL: SELECT ... FOR UPDATE) for its whole transaction, so "count seats, then
insert" is atomic across threads, worker processes and hosts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine

from events_app import settings


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str) -> Engine:
    """Build an engine with the pragmas and pool each backend needs.

    Both pools hand out the connection checked in last (LIFO), not the one idle longest: a
    connection keeps what its first statements cost (PostgreSQL: the server process's
    catalog caches and loaded extensions such as pg_trgm, 5-20 ms for a statement's first
    run in a new process; SQLite: compiled statements), so the warm-up's requests, run one
    after another, all warm the same connection, and the next visitors at low concurrency
    get it. Round-robin (FIFO) spread the warm-up over every connection and left the first
    searches to processes that had never run one. Under load every connection is in use
    either way."""
    if is_sqlite(url):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_use_lifo=True)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=settings.DB_POOL_SIZE,
                           max_overflow=settings.DB_MAX_OVERFLOW, pool_use_lifo=True)
    _ping_when_idle(engine)
    return engine


# A pooled connection back in use within this many seconds is taken as alive without a ping.
PING_AFTER_IDLE = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """pool_pre_ping's check, only for connections that sat idle in the pool a while.

    pool_pre_ping sends a SELECT 1 at every checkout: a round trip (and server work) on every
    request, about a tenth of an RSVP post's cost. What it guards against - a server restart,
    a firewall or pgbouncer dropping a quiet connection - happens to connections left idle,
    not to one checked in a moment ago; under load every connection is reused within
    milliseconds and none is pinged. A dead connection found here is replaced before the
    caller gets it (DisconnectionError makes the pool reconnect); one that dies within
    PING_AFTER_IDLE of its last use fails that request's statement, and the pool then drops it
    (SQLAlchemy invalidates a connection on a disconnect error).
    """
    dialect = engine.dialect

    @sa_event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @sa_event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is None or time.monotonic() - last < PING_AFTER_IDLE:
            return  # just connected, or back in use soon after its last use
        try:
            alive = dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"connection found dead after idling: {exc}") from exc
        if not alive:
            raise DisconnectionError("connection found dead after idling")


_LAST_USED = "events_app.last_used"  # connection record info: time.monotonic() of its checkin


def _configure_sqlite(engine: Engine) -> None:
    @sa_event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling issues BEGIN lazily and never IMMEDIATE; take it
        # over so write transactions can grab the write lock up front (see write_session).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")  # wait for the write lock instead of failing
        cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster commits
        # Each pooled connection keeps its own page cache (2 MB by default), and a busy worker
        # holds up to 15 connections: 1 MB each keeps RSS per worker under 150 MB, and the
        # pages dropped are still in the OS's cache (no measurable cost at 20,000 events).
        cur.execute("PRAGMA cache_size=-1024")
        cur.close()

    @sa_event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock before the first read, so a transaction that reads
        # the seat count and then inserts cannot interleave with another writer (and never
        # hits SQLITE_BUSY_SNAPSHOT when upgrading a read snapshot to a write).
        mode = "BEGIN IMMEDIATE" if conn.get_execution_options().get("write_lock") else "BEGIN"
        conn.exec_driver_sql(mode)


_engine: Engine | None = None
_engine_lock = threading.Lock()


def get_engine() -> Engine:
    """The process's one engine, created on first use.

    Handlers run in a thread pool, so a fresh worker's first burst of requests reaches this
    from many threads at once; without the lock each could build its own engine and pool, and
    a few workers would exhaust PostgreSQL's connection limit ("too many clients").
    """
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = make_engine(settings.DATABASE_URL)
    return _engine


def set_engine(engine: Engine | None) -> None:
    """Point the app at another database (tests, CLI --database-url)."""
    global _engine, _write_bind_of
    _engine = engine
    _write_bind_of = None


def warm_up(connections: int) -> None:
    """Open `connections` pooled connections at once and hand them back, so a fresh worker's
    first burst of requests finds them connected (PostgreSQL: a server process each, several
    ms; SQLite: the pragmas above) instead of each paying for one."""
    from sqlalchemy import text

    engine = get_engine()
    held = []
    try:
        for _ in range(connections):
            conn = engine.connect()
            held.append(conn)
            conn.execute(text("SELECT 1"))
            conn.rollback()
    finally:
        for conn in held:
            conn.close()


@contextmanager
def read_session() -> Iterator[Session]:
    with Session(get_engine()) as session:
        yield session


@contextmanager
def write_session() -> Iterator[Session]:
    """A transaction that commits on success and rolls back on any error.

    On SQLite it starts with BEGIN IMMEDIATE; on PostgreSQL services lock the rows they
    decide on with `with_for_update()`.
    """
    with Session(_write_bind(), expire_on_commit=False) as session:
        session.info[_WRITE_TRANSACTION] = True
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


_WRITE_TRANSACTION = "events_app.write_transaction"
# What write sessions bind to, for the engine get_engine() returns (dropped by set_engine):
# on SQLite a copy of the engine whose transactions BEGIN IMMEDIATE. Made once: every RSVP
# post opens a write session, and rendering the engine's URL to tell the backend, plus a new
# option engine, on each one was CPU spent for the same answer.
_write_bind_of: tuple[Engine, Engine] | None = None


def _write_bind() -> Engine:
    global _write_bind_of
    engine = get_engine()
    known = _write_bind_of
    if known is None or known[0] is not engine:
        bind = engine.execution_options(write_lock=True) \
            if engine.dialect.name == "sqlite" else engine
        known = _write_bind_of = (engine, bind)
    return known[1]


def in_write_transaction(session: Session) -> bool:
    """Whether `session` came from `write_session()`: only there do row locks (and SQLite's
    up-front write lock) hold until a commit that also saves the decision they guard."""
    return bool(session.info.get(_WRITE_TRANSACTION))


def dialect_insert(session: Session, model: Any) -> Any:
    """An INSERT with the dialect's ON CONFLICT clauses (both SQLite and PostgreSQL have
    them), for "create the row unless it exists" without a race between check and insert."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
