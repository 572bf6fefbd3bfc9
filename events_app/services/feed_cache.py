"""Rendered feeds, reused until the data behind them changes.

Calendar apps poll feeds every few minutes and a 2,000-event feed costs about a second to
render, so rendered bytes are kept per process and reused while a *validator* derived from
the database is unchanged: the events' data_version() (latest update and row count), the
feed's filter key and the day the date window starts. Every worker process computes the same
validator from the same rows, so none of them serves a stale feed, and the rendered output is
deterministic, so the ETag (a hash of the bytes) agrees across workers too.

Last-Modified has one-second resolution, so two changes within a second would share one: a
client that fetched between them and revalidates with If-Modified-Since would get a 304 and
miss the second. So Last-Modified is only announced once the latest change has *settled*
(LAST_MODIFIED_SETTLE old, a margin for the commit of a change stamped a little earlier);
until then the ETag alone validates. Every Last-Modified a client sees therefore belongs to
one version of the bytes, and a later version always has a later one.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from events_app.models import utcnow
from events_app.services import events as event_service
from events_app.services import feed_queries
from events_app.services.lru import LruCache

LAST_MODIFIED_SETTLE = timedelta(seconds=60)


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    etag: str  # a quoted strong entity tag
    last_modified: datetime  # aware UTC, whole seconds


class FeedCache:
    """Rendered feeds by key, each valid for one validator; one render per (key, validator)
    even under concurrency: concurrent pollers of a feed that just changed wait for one render
    (striped locks, so unrelated feeds still render in parallel) instead of all rendering it.
    """

    def __init__(self, max_entries: int = 64) -> None:
        self._entries: LruCache[str, tuple[Hashable, RenderedFeed]] = LruCache(max_entries)
        self._render_locks = [threading.Lock() for _ in range(16)]
        self._count_lock = threading.Lock()
        self.renders = 0

    def _lookup(self, key: str, validator: Hashable) -> RenderedFeed | None:
        found = self._entries.get(key)
        return found[1] if found is not None and found[0] == validator else None

    def get(self, key: str, validator: Hashable, last_modified: datetime,
            render: Callable[[], bytes]) -> RenderedFeed:
        hit = self._lookup(key, validator)
        if hit is not None:
            return hit
        with self._render_locks[hash(key) % len(self._render_locks)]:
            hit = self._lookup(key, validator)  # another thread may have just rendered it
            if hit is not None:
                return hit
            body = render()
            feed = RenderedFeed(body, make_etag(body), last_modified.replace(microsecond=0))
            self._entries.put(key, (validator, feed))
            with self._count_lock:
                self.renders += 1
            return feed

    def clear(self) -> None:
        self._entries.clear()
        with self._count_lock:
            self.renders = 0


def settled_last_modified(feed: RenderedFeed, now: datetime | None = None) -> datetime | None:
    """The feed's Last-Modified when it may be announced (see the module docstring), else
    None. The stored value is truncated to the second: the change happened before its end."""
    now = now or utcnow()
    if now < feed.last_modified + timedelta(seconds=1) + LAST_MODIFIED_SETTLE:
        return None
    return feed.last_modified


def make_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _as_datetime(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC) if iso else datetime.min.replace(tzinfo=UTC)


def _last_modified(*isos: str, now: datetime) -> datetime:
    """Latest change to anything in the feed, including the daily move of its date window
    (which drops old events without touching any row)."""
    window_moved = feed_queries.window_start(now) + timedelta(days=feed_queries.PAST_DAYS)
    return max([window_moved, *(_as_datetime(i) for i in isos)])


# Separate so that many people's small personal feeds never push the public feeds out.
public_cache = FeedCache(max_entries=64)
personal_cache = FeedCache(max_entries=512)


def public_feed(session: Session, flt: feed_queries.FeedFilter, now: datetime | None = None
                ) -> RenderedFeed:
    """Raises feed_queries.UnknownFilter for a category or city the calendar doesn't have."""
    now = now or utcnow()
    flt = feed_queries.canonical_filter(session, flt)
    version = event_service.data_version(session)
    window = feed_queries.window_start(now)
    return public_cache.get(
        f"public:{flt.key()}",
        (version, window),
        _last_modified(version[0], now=now),
        lambda: feed_queries.render_public_feed(session, flt, now),
    )


def personal_feed(session: Session, email: str, now: datetime | None = None) -> RenderedFeed:
    """The personal feed also changes when the person's RSVPs change (e.g. a promotion from
    the waitlist), which no event row records, so its validator covers both."""
    now = now or utcnow()
    version = event_service.data_version(session)
    mine = feed_queries.personal_version(session, email)
    window = feed_queries.window_start(now)
    return personal_cache.get(
        "personal:" + hashlib.sha256(email.encode()).hexdigest(),
        (version, mine, window),
        _last_modified(version[0], mine[0], now=now),
        lambda: feed_queries.render_personal_feed(session, email, now),
    )


def single_event(event_ics: bytes, updated_at: datetime) -> RenderedFeed:
    """One event renders in about a millisecond: no cache, just the validators."""
    return RenderedFeed(event_ics, make_etag(event_ics), updated_at.replace(microsecond=0))
