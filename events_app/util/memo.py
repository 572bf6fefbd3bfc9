"""A dict of answers worked out from what clients send (query strings, headers), kept so a
repeat is one lookup, and bounded because clients choose the keys: when full it is emptied
rather than kept in recency order, since a lookup on the hot path must stay a plain dict read
(no lock, no reordering). Each user decides which keys are small enough to keep."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ClientMemo(dict[K, V]):
    def __init__(self, max_entries: int) -> None:
        super().__init__()
        self.max_entries = max_entries

    def keep(self, key: K, value: V) -> None:
        """Store `value` under `key`, emptying the memo first when it is full."""
        if len(self) >= self.max_entries:
            self.clear()
        self[key] = value
