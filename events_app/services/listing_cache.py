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

RSVPs to other events. The seats version is site-wide: during an RSVP rush to one event every
post would make every page stale. So a render also reports which events' seats it showed and
their per-event state read before the counts (services/shown_seats.py); when only the seats
version moved since (same events version, same minute) and `data_version.still` those states,
the entry is kept and stamped with the new version (one primary-key read, on the miss path in
the thread pool), and lookups (the fast path's too) hit it again without the database.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from datetime import UTC, datetime

from events_app.models import utcnow
from events_app.services import data_version, shown_seats
from events_app.services.data_version import EventSeats, Version, last_changed
from events_app.services.feeds import FeedCache, RenderedFeed
from events_app.util.lru import LruCache

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
# Per key: the render (weakly: an entry the cache dropped is not kept alive here) and the seats
# states it showed. Only for the render it names: a newer render of the key is not covered.
_shown: LruCache[str, tuple[weakref.ref[RenderedFeed], tuple[EventSeats, ...]]] = LruCache(
    max_entries=4096)


def _minute(now: datetime | None) -> datetime:
    return (now or utcnow()).astimezone(UTC).replace(second=0, microsecond=0)


def _validator(version: Version, minute: datetime) -> tuple[str, str, datetime]:
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

    validator = _validator(version, minute)
    kept = _kept_through_rsvps(key, version, validator)
    if kept is not None:
        return kept

    def same_data(old: Hashable) -> bool:
        return isinstance(old, tuple) and old[:2] == (version.events, version.seats)

    reported: list[shown_seats.Shown] = []

    def render_reporting() -> bytes:
        with shown_seats.collecting() as shown:
            body = render()
        reported.append(shown)
        return body

    feed = cache.get(key, validator, max(last_changed(version), minute), render_reporting,
                     reusable=same_data)
    if reported and reported[0].eligible:  # this call rendered `feed`
        _shown.put(key, (weakref.ref(feed), tuple(reported[0].states)))
    return feed


def _kept_through_rsvps(key: str, version: Version, validator: tuple[str, str, datetime]
                        ) -> RenderedFeed | None:
    """The stored entry of `key`, stamped with `validator`, if only the seats version moved
    since it was rendered and none of the events whose seats it shows has had an RSVP
    written since (reads their rows by primary key: only on this miss path, never in a
    lookup)."""
    found = cache.stored(key)
    if found is None:
        return None
    old, feed = found
    if not (isinstance(old, tuple) and old[0] == version.events and old[2] == validator[2]
            and old[1] != version.seats):
        return None
    shown = _shown.get(key)
    if shown is None or shown[0]() is not feed:
        return None
    if not data_version.still(shown[1]) or not cache.restamp(key, feed, validator):
        return None
    return feed
