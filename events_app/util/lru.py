"""A small thread-safe LRU map for rendered output kept in process memory.

Feed routes run in Starlette's thread pool, so lookups and inserts must be atomic; entries
are bounded in number and, when given a `weigh` function, in total weight (bytes), so that
many distinct feeds or pages (filters, searches, personal feeds) cannot grow memory without
limit: an entry heavier than the whole budget is simply not kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    def __init__(self, max_entries: int, max_weight: int | None = None,
                 weigh: Callable[[V], int] | None = None) -> None:
        self.max_entries = max_entries
        self.max_weight = max_weight
        self._weigh = weigh or (lambda _value: 0)
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.weight = 0

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._data.get(key)
            if found is None:
                return None
            self._data.move_to_end(key)
            return found[0]

    def put(self, key: K, value: V) -> None:
        weight = self._weigh(value)
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.weight -= old[1]
            if self.max_weight is not None and weight > self.max_weight:
                return
            self._data[key] = (value, weight)
            self.weight += weight
            while len(self._data) > self.max_entries or (
                    self.max_weight is not None and self.weight > self.max_weight):
                self.weight -= self._data.popitem(last=False)[1][1]

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.weight = 0

    def __len__(self) -> int:
        return len(self._data)
