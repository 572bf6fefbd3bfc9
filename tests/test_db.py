"""The engine: one per process, however many threads ask for it first."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from events_app import db


def test_first_use_from_many_threads_builds_one_engine(monkeypatch, tmp_path) -> None:
    """Handlers run in a thread pool; a new worker's first burst of requests must share one
    engine (one connection pool), not build one each."""
    real_make = db.make_engine
    built = []

    def slow_make(url: str):
        time.sleep(0.05)  # building an engine takes a moment: the window the race needs
        engine = real_make(url)
        built.append(engine)
        return engine

    monkeypatch.setattr(db, "make_engine", slow_make)
    monkeypatch.setattr(db.settings, "DATABASE_URL", f"sqlite:///{tmp_path / 'one.db'}")
    monkeypatch.setattr(db, "_engine", None)
    start = threading.Barrier(16)

    def first_use(_: int):
        start.wait()
        return db.get_engine()

    with ThreadPoolExecutor(max_workers=16) as pool:
        engines = list(pool.map(first_use, range(16)))
    assert len(built) == 1
    assert all(e is built[0] for e in engines)
    built[0].dispose()


def test_warm_up_leaves_connections_open_in_the_pool(db_url) -> None:
    engine = db.get_engine()
    engine.pool.dispose()  # none open yet
    db.warm_up(3)
    assert engine.pool.checkedin() >= 3
    with engine.connect() as conn:  # and they work
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1


def test_requests_one_after_another_get_the_connection_used_last(db_url) -> None:
    """LIFO (db.make_engine): after a burst opened several connections, sequential work
    (the warm-up, the first visitors) keeps to the one checked in last, whose server process
    or compiled statements are warm, instead of going round every connection."""
    engine = db.get_engine()
    engine.pool.dispose()
    db.warm_up(3)
    with engine.connect() as conn:
        last = conn.connection.dbapi_connection
    for _ in range(4):
        with engine.connect() as conn:
            assert conn.connection.dbapi_connection is last
    assert engine.pool.checkedin() >= 3  # the others stay open for the next burst


def test_sqlite_connections_keep_a_small_page_cache(tmp_path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -1024
    finally:
        engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()


def test_postgres_connection_dropped_while_idle_is_replaced(pg_database, monkeypatch) -> None:
    """A server restart or a firewall drops connections that sat in the pool: the next
    checkout finds out before handing it over, and the caller gets a live one."""
    engine, admin = db.make_engine(pg_database), db.make_engine(pg_database)
    try:
        first = _backend_pid(engine)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_terminate_backend({first})")
            conn.commit()
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # it has now idled long enough
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()
        admin.dispose()


def test_postgres_connection_back_in_use_soon_is_not_pinged(pg_database, monkeypatch) -> None:
    """A busy pool's connections are reused within milliseconds: no SELECT 1 round trip in
    front of each request (pool_pre_ping's cost), only for connections that idled."""
    engine = db.make_engine(pg_database)
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
    try:
        _backend_pid(engine)
        _backend_pid(engine)
        assert pings == []
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)
        _backend_pid(engine)
        assert pings == [1]
    finally:
        engine.dispose()
