"""Page arithmetic, written once for every paged list: the public list, Atom, the embed and
the API (events.EventPage), and the organizer's dashboard, attendees and audit trail.

In the organizer's lists a page number past the end shows the last page rather than an empty
one (`window`): a bookmarked or shared "page 3" stays useful after the list shrinks. The
public views answer 404 instead (a crawler must not index one page under many URLs), so they
use `page_count` and `offset` on the page they were asked for.
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
        return offset(self.page, self.size)

    @property
    def first(self) -> int:
        """1-based position of the first row shown (0 when there are none)."""
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.offset + self.size, self.total)


def page_count(total: int, size: int) -> int:
    """Pages needed for `total` rows; at least 1, so an empty list still has its page."""
    return max(1, math.ceil(total / size))


def offset(page: int, size: int) -> int:
    """Rows before 1-based `page`."""
    return (page - 1) * size


def window(total: int, page: int, size: int) -> Window:
    pages = page_count(total, size)
    return Window(page=min(max(1, page), pages), pages=pages, total=total, size=size)
