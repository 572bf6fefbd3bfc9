"""The listing cache (services/listing_cache.py): one entry per key, valid for one data version
and minute; a new minute alone never makes readers queue behind a render, a write does."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from events_app.services import listing_cache
from events_app.services.data_version import Version

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
V1 = Version("events-1", "seats-1", EPOCH, EPOCH)
V2 = Version("events-2", "seats-1", EPOCH, EPOCH)
MINUTE = datetime(2026, 11, 25, 20, 0, 30, tzinfo=UTC)
NEXT_MINUTE = MINUTE + timedelta(minutes=1)


def test_reused_within_a_version_and_minute_and_rendered_again_after() -> None:
    listing_cache.cache.clear()
    calls: list[str] = []

    def render(body: str):
        return lambda: calls.append(body) or body.encode()

    assert listing_cache.rendered("k", V1, render("a"), MINUTE).body == b"a"
    assert listing_cache.lookup("k", V1, MINUTE + timedelta(seconds=20)).body == b"a"
    assert listing_cache.rendered("k", V1, render("b"), MINUTE).body == b"a"
    assert listing_cache.lookup("k", V2, MINUTE) is None  # a write: not valid any more
    assert listing_cache.rendered("k", V2, render("c"), MINUTE).body == b"c"
    assert listing_cache.lookup("k", V2, NEXT_MINUTE) is None  # the clock: re-rendered
    assert listing_cache.rendered("k", V2, render("d"), NEXT_MINUTE).body == b"d"
    assert calls == ["a", "c", "d"]


def test_a_new_minute_serves_the_last_render_while_one_thread_renders() -> None:
    listing_cache.cache.clear()
    listing_cache.rendered("k", V1, lambda: b"old", MINUTE)
    started, finish = threading.Event(), threading.Event()

    def slow() -> bytes:
        started.set()
        finish.wait(10)
        return b"new"

    result: list[bytes] = []
    renderer = threading.Thread(
        target=lambda: result.append(listing_cache.rendered("k", V1, slow, NEXT_MINUTE).body))
    renderer.start()
    assert started.wait(10)
    # Same data, only the minute moved: served at once from the previous render.
    assert listing_cache.rendered("k", V1, lambda: b"other", NEXT_MINUTE).body == b"old"
    finish.set()
    renderer.join(10)
    assert result == [b"new"]
    assert listing_cache.lookup("k", V1, NEXT_MINUTE).body == b"new"


def test_entries_are_bounded_by_bytes() -> None:
    listing_cache.cache.clear()
    big = b"x" * (listing_cache.MAX_BYTES // 3)
    for n in range(6):
        listing_cache.rendered(f"page-{n}", V1, lambda: big, MINUTE)
    assert listing_cache.cache.size_bytes <= listing_cache.MAX_BYTES
    assert listing_cache.lookup("page-5", V1, MINUTE) is not None
    assert listing_cache.lookup("page-0", V1, MINUTE) is None  # the least recently used went


def test_a_render_that_reported_no_seats_is_rendered_again_when_the_seats_move() -> None:
    """Only a render that said which events' seats it shows (services/shown_seats.py) may
    outlive an RSVP: one that said nothing depends on every RSVP, as before."""
    listing_cache.cache.clear()
    calls: list[str] = []
    listing_cache.rendered("k", V1, lambda: calls.append("a") or b"a", MINUTE)
    new_seats = Version("events-1", "seats-2", EPOCH, EPOCH)
    assert listing_cache.lookup("k", new_seats, MINUTE) is None
    assert listing_cache.rendered("k", new_seats, lambda: calls.append("b") or b"b",
                                  MINUTE).body == b"b"
    assert calls == ["a", "b"]
