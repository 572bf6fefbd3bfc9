"""VTIMEZONE components computed from the tz database (Python's zoneinfo).

A feed carries a VTIMEZONE for every TZID it uses so that a client without that zone (or with
an older tz database) still places each event at the right instant, on both sides of every DST
change in the years the feed covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import icalendar

from events_app.models import Event


def _offset_key(local: datetime) -> tuple[timedelta | None, str | None, bool]:
    """What a VTIMEZONE observance describes. Negative DST (Europe/Dublin's winter time in
    the tz database) counts as standard time, as clients expect."""
    dst = local.dst()
    return local.utcoffset(), local.tzname(), dst is not None and dst > timedelta(0)


def _transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """UTC instants in [start, end) at which the zone's offset, abbreviation or DST flag
    changes: scanned a day at a time, then narrowed to the second by bisection."""
    found: list[datetime] = []
    day = timedelta(days=1)
    t = start
    while t < end:
        nxt = min(t + day, end)
        if _offset_key(t.astimezone(tz)) != _offset_key(nxt.astimezone(tz)):
            lo, hi = t, nxt  # lo has the old rule, hi the new one
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if _offset_key(mid.astimezone(tz)) == _offset_key(lo.astimezone(tz)):
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
        t = nxt
    return found


@lru_cache(maxsize=256)
def vtimezone(tzid: str, first_year: int, last_year: int) -> icalendar.Timezone:
    """VTIMEZONE for tzid from the tz database, covering [first_year, last_year).

    icalendar's Timezone.from_tzinfo was tried first and not used: it writes a DAYLIGHT
    onset as the wall time *after* the jump (03:00 where RFC 5545 3.6.5 and its examples
    write 02:00, read in TZOFFSETFROM), which misplaces the change by an hour for clients
    that follow the RFC; and it leaves each observance's first onset only in DTSTART, which
    RDATE-driven readers (e.g. the `ical` parser) skip. So the onsets are computed here
    from the same zoneinfo data, written in TZOFFSETFROM wall time, and repeated in RDATE
    (duplicates of DTSTART are ignored by RFC 5545 3.8.5.2, and it helps such readers).

    Built once per process per (zone, years): the component is only serialised, never
    mutated, so calendars can share it.
    """
    tz = ZoneInfo(tzid)
    start = datetime(first_year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(last_year, 1, 1, tzinfo=tz).astimezone(UTC)
    # (offset from, offset to, name, is_dst) -> onsets as wall time in the "from" offset
    groups: dict[tuple[timedelta, timedelta, str, bool], list[datetime]] = {}
    onsets = [(start, start.astimezone(tz).utcoffset())] + [
        (t, (t - timedelta(seconds=1)).astimezone(tz).utcoffset()) for t in _transitions(
            tz, start, end)
    ]
    for instant, offset_from in onsets:
        local = instant.astimezone(tz)
        offset_to, name, is_dst = _offset_key(local)
        assert offset_from is not None and offset_to is not None
        key = (offset_from, offset_to, name or "", is_dst)
        wall = (instant + offset_from).replace(tzinfo=None)
        groups.setdefault(key, []).append(wall)
    vtz = icalendar.Timezone()
    vtz.add("TZID", tzid)
    vtz.add("X-LIC-LOCATION", icalendar.vText(tzid))
    for (offset_from, offset_to, name, is_dst), walls in groups.items():
        sub = icalendar.TimezoneDaylight() if is_dst else icalendar.TimezoneStandard()
        sub.add("DTSTART", walls[0])
        sub.add("RDATE", walls)
        sub.add("TZOFFSETFROM", offset_from)
        sub.add("TZOFFSETTO", offset_to)
        if name:
            sub.add("TZNAME", name)
        vtz.add_component(sub)
    return vtz


def add_timezones(cal: icalendar.Calendar, events: Sequence[Event]) -> None:
    """A VTIMEZONE per TZID used, covering every event's years (and DST changes in them)."""
    years: dict[str, list[int]] = {}
    for event in events:
        if event.all_day:
            continue
        tz = ZoneInfo(event.timezone)
        span = years.setdefault(event.timezone, [9999, 0])
        span[0] = min(span[0], event.starts_at.astimezone(tz).year)
        span[1] = max(span[1], event.ends_at.astimezone(tz).year)
    for tzid in sorted(years):
        if tzid in ("UTC", "Etc/UTC"):
            continue  # UTC times are written with a Z suffix and need no VTIMEZONE
        first, last = years[tzid]
        # One year of margin on each side so the first/last transitions are fully described.
        cal.add_component(vtimezone(tzid, first - 1, last + 2))
