"""Time zone names and the one rule for placing a wall-clock time that is not an event's.

All time zone arithmetic in the app uses the standard library's `zoneinfo`. pytz is imported
here and nowhere else, for what zoneinfo lacks: a fixed list of IANA names, shipped with the
package rather than read from the machine's disk (`zoneinfo.available_timezones()` also finds
entries such as "localtime" and "Factory"), and its curated `common_timezones`, the zones
people actually pick, which the event form offers.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime
from zoneinfo import ZoneInfo

import pytz

# Every name the app accepts (aliases such as US/Central included), as pytz ships them.
KNOWN_TIMEZONES: Set[str] = pytz.all_timezones_set
# The event form's select: current zones people pick, without the backward-compatible aliases.
COMMON_TIMEZONES: tuple[str, ...] = tuple(pytz.common_timezones)


def is_timezone(name: str) -> bool:
    """An IANA time zone name the app accepts."""
    return name in KNOWN_TIMEZONES


def standard_wall_time(naive: datetime, zone: ZoneInfo) -> datetime:
    """`naive` as a wall-clock time in `zone`, for times nobody chose an occurrence of (date
    filters' midnights, the demo data).

    A time the clocks pass twice is read in standard time (the occurrence without DST, or the
    later one when neither has DST), a time they skip with the offset in force before the jump:
    the readings pytz's `localize()` gave, so days and demo events stay where they were.
    Organizers' own times are placed by the event form, which asks which occurrence they mean.
    """
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    offset_first, offset_second = first.utcoffset(), second.utcoffset()
    assert offset_first is not None and offset_second is not None
    if offset_first <= offset_second:  # one reading, or a skipped time (fold=0: offset before)
        return first
    standard = [d for d in (first, second) if not d.dst()]
    return standard[0] if len(standard) == 1 else second
