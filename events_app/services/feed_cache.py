"""Rendered feeds, reused until the data behind them changes.

Calendar apps poll feeds every few minutes and a 2,000-event feed costs about a second to
render, so rendered bytes are kept per process and reused while a *validator* derived from
the database is unchanged: the events' data_version() (latest update and row count), the
feed's filter key and the day the date window starts. Every worker process computes the same
validator from the same rows, so none of them serves a stale feed, and the rendered output is
deterministic, so the ETag (a hash of the bytes) agrees across workers too.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from events_app.models import utcnow
from events_app.services import events as event_service
from events_app.services import feeds


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    etag: str  # a quoted strong entity tag
    last_modified: datetime  # aware UTC, whole seconds


class FeedCache:
    """A small LRU of rendered feeds; one render per (key, validator) even under concurrency.

    A per-key lock makes concurrent pollers of a feed that just changed wait for one render
    instead of all rendering it at once.
    """

    def __init__(self, max_entries: int = 64) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[Hashable, RenderedFeed]] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self.renders = 0
        self.hits = 0

    def _lookup(self, key: str, validator: Hashable) -> RenderedFeed | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] != validator:
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[1]

    def get(self, key: str, validator: Hashable, last_modified: datetime,
            render: Callable[[], bytes]) -> RenderedFeed:
        hit = self._lookup(key, validator)
        if hit is not None:
            return hit
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            hit = self._lookup(key, validator)  # another thread may have just rendered it
            if hit is not None:
                return hit
            body = render()
            feed = RenderedFeed(body, make_etag(body), last_modified.replace(microsecond=0))
            with self._lock:
                self.renders += 1
                self._entries[key] = (validator, feed)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    old_key, _ = self._entries.popitem(last=False)
                    self._key_locks.pop(old_key, None)
            return feed

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._key_locks.clear()
            self.renders = self.hits = 0


def make_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _as_datetime(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC) if iso else datetime.min.replace(tzinfo=UTC)


def _last_modified(*isos: str, now: datetime) -> datetime:
    """Latest change to anything in the feed, including the daily move of its date window
    (which drops old events without touching any row)."""
    window_moved = feeds.window_start(now) + timedelta(days=feeds.PAST_DAYS)
    return max([window_moved, *(_as_datetime(i) for i in isos)])


# Separate so that many people's small personal feeds never push the public feeds out.
public_cache = FeedCache(max_entries=64)
personal_cache = FeedCache(max_entries=512)


def public_feed(session: Session, flt: feeds.FeedFilter, now: datetime | None = None
                ) -> RenderedFeed:
    now = now or utcnow()
    version = event_service.data_version(session)
    window = feeds.window_start(now)
    return public_cache.get(
        f"public:{flt.key()}",
        (version, window),
        _last_modified(version[0], now=now),
        lambda: feeds.render_public_feed(session, flt, now),
    )


def personal_feed(session: Session, email: str, now: datetime | None = None) -> RenderedFeed:
    """The personal feed also changes when the person's RSVPs change (e.g. a promotion from
    the waitlist), which no event row records, so its validator covers both."""
    now = now or utcnow()
    version = event_service.data_version(session)
    mine = feeds.personal_version(session, email)
    window = feeds.window_start(now)
    return personal_cache.get(
        "personal:" + hashlib.sha256(email.encode()).hexdigest(),
        (version, mine, window),
        _last_modified(version[0], mine[0], now=now),
        lambda: feeds.render_personal_feed(session, email, now),
    )


def single_event(event_ics: bytes, updated_at: datetime) -> RenderedFeed:
    """One event renders in about a millisecond: no cache, just the validators."""
    return RenderedFeed(event_ics, make_etag(event_ics), updated_at.replace(microsecond=0))
