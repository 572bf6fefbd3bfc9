"""Database-backed rate limits."""

from __future__ import annotations

from datetime import timedelta

from events_app.db import write_session
from events_app.models import utcnow
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


def test_clear_and_prune(db_url: str) -> None:
    now = utcnow()
    with write_session() as s:
        for _ in range(3):
            throttle.record(s, "login:a", now - timedelta(days=2))
            throttle.record(s, "login:b", now)
    with write_session() as s:
        throttle.prune(s, timedelta(days=1), now)
        assert throttle.hits(s, "login:a", timedelta(days=7), now) == 0
        assert throttle.hits(s, "login:b", timedelta(days=7), now) == 3
        throttle.clear(s, "login:b")
        assert throttle.hits(s, "login:b", timedelta(days=7), now) == 0
