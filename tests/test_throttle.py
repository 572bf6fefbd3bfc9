"""Database-backed rate limits: counting, back-off, and atomicity under parallel requests."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlmodel import select

from events_app.db import read_session, write_session
from events_app.models import ThrottleBucket, utcnow
from events_app.services import throttle


def test_allows_up_to_limit_then_refuses_until_window_passes(db_url: str) -> None:
    now = utcnow()
    window = timedelta(minutes=1)
    with write_session() as s:
        results = [throttle.allow(s, "rsvp:1.2.3.4", 3, window, now) for _ in range(5)]
    assert results == [True, True, True, False, False]
    with write_session() as s:
        assert throttle.allow(s, "rsvp:5.6.7.8", 3, window, now)  # other keys unaffected
        assert not throttle.allow(s, "rsvp:1.2.3.4", 3, window, now + timedelta(seconds=30))
        assert throttle.allow(s, "rsvp:1.2.3.4", 3, window, now + timedelta(seconds=61))


def test_back_off_doubles_and_is_capped(db_url: str) -> None:
    lim = throttle.Limit("pair", 2, timedelta(days=1), backoff=timedelta(minutes=1),
                         max_backoff=timedelta(minutes=5))
    now = utcnow()
    waits = []
    with write_session() as s:
        for _ in range(6):
            assert throttle.take(s, [lim], now)
            bucket = s.get(ThrottleBucket, "pair")
            wait = bucket.blocked_until - now if bucket.blocked_until else timedelta(0)
            waits.append(int(wait.total_seconds() // 60))
            if wait:
                assert not throttle.take(s, [lim], now)  # blocked until then
            now = now + wait  # come back exactly when allowed
    assert waits == [0, 1, 2, 4, 5, 5]


def test_take_counts_against_all_limits_or_none(db_url: str) -> None:
    now = utcnow()
    tight = throttle.Limit("tight", 1, timedelta(hours=1))
    loose = throttle.Limit("loose", 10, timedelta(hours=1))
    with write_session() as s:
        assert throttle.take(s, [loose, tight], now)
        assert not throttle.take(s, [loose, tight], now)  # tight is full...
        assert s.get(ThrottleBucket, "loose").count == 1  # ...so loose was not counted again
        throttle.refund(s, tight)
        assert throttle.take(s, [tight], now)


def test_clear_and_prune(db_url: str) -> None:
    now = utcnow()
    window = timedelta(minutes=1)
    with write_session() as s:
        throttle.allow(s, "old", 5, window, now - timedelta(days=2))
        throttle.allow(s, "new", 5, window, now)
        throttle.allow(s, "gone", 5, window, now)
    with write_session() as s:
        throttle.prune(s, timedelta(days=1), now)
        throttle.clear(s, "gone")
    with read_session() as s:
        assert [b.key for b in s.exec(select(ThrottleBucket)).all()] == ["new"]


def test_parallel_attempts_never_exceed_the_limit(db_url: str) -> None:
    """30 threads, each with its own connection, all take at once: exactly 10 pass.

    Without the row lock each thread read the same old count and most passed.
    """
    barrier = threading.Barrier(30)

    def attempt(_: int) -> bool:
        barrier.wait()
        with write_session() as s:
            return throttle.allow(s, "rsvp:203.0.113.5", 10, timedelta(minutes=1))

    with ThreadPoolExecutor(30) as pool:
        results = list(pool.map(attempt, range(30)))
    assert results.count(True) == 10
    with read_session() as s:
        assert s.get(ThrottleBucket, "rsvp:203.0.113.5").count == 10


def test_allow_decides_exactly_as_take_with_one_limit(db_url: str) -> None:
    """`allow` (one statement) and `take` (locked row, Python rules) give the same answers and
    leave the same row for the same attempts: limits of 1 and 3, attempts inside a window,
    while blocked, just after a window ends, and long after."""
    start = utcnow()
    window = timedelta(minutes=1)
    offsets = [0, 1, 2, 3, 30, 59, 60, 61, 62, 63, 64, 130, 131, 400]
    for limit in (1, 3):
        answers = {}
        for how in ("allow", "take"):
            key = f"{how}:{limit}"
            got = []
            for seconds in offsets:
                with write_session() as s:
                    now = start + timedelta(seconds=seconds)
                    if how == "allow":
                        got.append(throttle.allow(s, key, limit, window, now))
                    else:
                        got.append(throttle.take(s, [throttle.Limit(key, limit, window)], now))
                with read_session() as s:
                    row = s.get(ThrottleBucket, key)
                    blocked = row.blocked_until if row.blocked_until and row.blocked_until > now \
                        else None
                    got.append((row.count, row.window_start, blocked))
            answers[how] = got
        assert answers["allow"] == answers["take"], limit
        assert True in answers["allow"] and False in answers["allow"]
