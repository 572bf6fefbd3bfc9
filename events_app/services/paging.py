"""Page arithmetic shared by the organizer's long lists (dashboard, attendees, audit trail).

A page number past the end shows the last page rather than an empty one: a bookmarked or
shared "page 3" stays useful after the list shrinks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    page: int  # 1-based, within 1..pages
    pages: int  # at least 1, even for an empty list
    total: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def first(self) -> int:
        """1-based position of the first row shown (0 when there are none)."""
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.offset + self.size, self.total)


def window(total: int, page: int, size: int) -> Window:
    pages = max(1, math.ceil(total / size))
    return Window(page=min(max(1, page), pages), pages=pages, total=total, size=size)
