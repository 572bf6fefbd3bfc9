"""A small cache of rendered public pages, validated against the data.

Rendering the list page costs milliseconds (queries plus Jinja); serving the same bytes again
costs one cheap fingerprint query (`services.events.data_version`). Entries are keyed by that
fingerprint, so an edit in any worker process or host invalidates every process's copy on its
next request. A short TTL bounds staleness from the clock alone (an event dropping off
"upcoming" when it ends).
"""

from __future__ import annotations

import time
from collections.abc import Hashable

from events_app.services.lru import LruCache


class PageCache:
    def __init__(self, max_entries: int = 512, ttl_seconds: float = 60.0) -> None:
        self._entries: LruCache[Hashable, tuple[Hashable, float, bytes]] = LruCache(max_entries)
        self._ttl = ttl_seconds

    def get(self, key: Hashable, version: Hashable) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_version, expires, body = entry
        if stored_version != version or expires < time.monotonic():
            return None
        return body

    def put(self, key: Hashable, version: Hashable, body: bytes) -> None:
        self._entries.put(key, (version, time.monotonic() + self._ttl, body))

    def clear(self) -> None:
        self._entries.clear()
