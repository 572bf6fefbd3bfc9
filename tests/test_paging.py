"""util/paging.py: one page arithmetic for the public and the organizer lists."""

from __future__ import annotations

from events_app.services.events import EventPage
from events_app.util import paging


def test_page_arithmetic_is_one_rule_for_public_and_organizer_lists() -> None:
    for total, size in ((0, 20), (1, 20), (20, 20), (21, 20), (41, 20)):
        public = EventPage(items=[], total=total, page=1, page_size=size)
        assert public.pages == paging.page_count(total, size) == paging.window(total, 1,
                                                                               size).pages
    assert paging.offset(3, 20) == paging.window(100, 3, 20).offset == 40
    assert paging.window(41, 99, 20).page == 3  # organizer lists clamp to the last page
