"""Rendered public listings and pages (the list, search and detail pages, API JSON, Atom, the
embed), reused until their data changes: one feeds.FeedCache, "an LRU entry valid for one data
version", as the iCalendar feeds use, bounded by bytes.

These show spots left and drop events as they end, so the validator is the events' and the
seats' data versions (services/data_version.py, O(1) to read) and the current minute: at most
one render per entry and minute, and none while nothing changes. The ETag is a hash of the
bytes, so a re-render that changes nothing keeps answering 304s; Last-Modified is conservative
(never earlier than a real change).

A lookup needs no database session: callers read the version first (data_version.known() or
refresh()), look up, and only on a miss open a session and render. Reading the version before
the data keeps every render at least as new as the version it is stored under.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import UTC, datetime

from events_app.models import utcnow
from events_app.services.data_version import Version, last_changed
from events_app.services.feeds import FeedCache, RenderedFeed

# Every cache of rendered output, by bytes, so a worker's RSS stays under 150 MB (bench/rss.py:
# at 100,000 events a worker is ~80 MB once imported and ~107 MB after its warm-up). Measured
# there, what pushes it up is less what the caches keep than what renders hold while they run
# (a cold 2,000-event feed ~15 MB at its peak, a month view ~5 MB) and the freed memory they
# leave spread over the heap: fewer renders at once saved more than smaller budgets did.
# These pages 10 MB (both languages share it: a page is ~20-40 KB in each), the public feeds
# 8 MB and personal feeds 4 MB (services/feeds.py), VEVENTs 6 MB (services/ical.py), gzip
# copies 4 MB (web/compression.py).
MAX_BYTES = 10 * 1024 * 1024
# Renders at once: two, one per core; a page's render also waits on the database, but four at
# once (with two feed renders) held a worker's peak over 150 MB (bench/rss.py).
cache = FeedCache(max_entries=4096, max_bytes=MAX_BYTES, parallel_renders=2)


def _minute(now: datetime | None) -> datetime:
    return (now or utcnow()).astimezone(UTC).replace(second=0, microsecond=0)


def _validator(version: Version, minute: datetime) -> Hashable:
    return (version.events, version.seats, minute)


def lookup(key: str, version: Version, now: datetime | None = None) -> RenderedFeed | None:
    """The entry rendered for this version and minute, if any (no database)."""
    return cache.lookup(key, _validator(version, _minute(now)))


def rendered(key: str, version: Version, render: Callable[[], bytes],
             now: datetime | None = None) -> RenderedFeed:
    """The entry for this version and minute, rendered (once, whatever the concurrency) if
    missing. When only the minute moved, the previous minute's render is served to the others
    while one thread renders: a render can take a while on a busy machine, and nobody should
    queue behind it for a change of the clock alone (never for a write: those wait)."""
    minute = _minute(now)

    def same_data(old: Hashable) -> bool:
        return isinstance(old, tuple) and old[:2] == (version.events, version.seats)

    return cache.get(key, _validator(version, minute), max(last_changed(version), minute),
                     render, reusable=same_data)
