"""VTIMEZONE components computed from the tz database (Python's zoneinfo), and the rule for
which instants are written as wall-clock time with a TZID at all.

A feed carries a VTIMEZONE for every TZID it uses so that a client without that zone (or with
an older tz database) still places each event at the right instant, on both sides of every DST
change in the years the feed covers.

Every onset is its own RDATE line: ical.js (Thunderbird, Nextcloud) and vobject (Radicale) read
only the first value of a comma-separated RDATE, which put every DST period after the first in
standard time, an hour late. Observances are computed for the years the events fall in (one
year of margin each side), not for the span between the first and the last, so one event in a
far year costs a few years of onsets, not thousands.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import icalendar

from events_app.models import Event

# Local years written as wall-clock time with a TZID. Outside them (a mistyped year 0001 or
# 9999 that is stored all the same) an instant is written in UTC: exact for every reader, and
# no VTIMEZONE has to describe the tz database's guesses about year 1 or year 9997.
TZID_YEARS = range(1900, 2200)
_UTC_NAMES = frozenset({"UTC", "Etc/UTC"})

Observance = tuple[timedelta, timedelta, str, bool]  # offset from, offset to, name, is_dst


def _offset_key(local: datetime) -> tuple[timedelta | None, str | None, bool]:
    """What a VTIMEZONE observance describes. Negative DST (Europe/Dublin's winter time in
    the tz database) counts as standard time, as clients expect."""
    dst = local.dst()
    return local.utcoffset(), local.tzname(), dst is not None and dst > timedelta(0)


def wall_time(instant: datetime, tzid: str) -> datetime | None:
    """The instant as wall-clock time in tzid, or None where it must be written in UTC.

    UTC: zones that are UTC (written with a Z, no VTIMEZONE); years outside TZID_YEARS; and
    the repeated hour on the night clocks go back. RFC 5545 3.3.5 says such a local time
    means its first occurrence, but khal and ical.js read it as the second, so either pass
    written with a TZID lands an hour apart in different apps; in UTC every reader agrees.
    """
    if tzid in _UTC_NAMES:
        return None
    try:
        local = instant.astimezone(ZoneInfo(tzid))
    except (OverflowError, ValueError):
        return None  # beyond datetime's range in that zone (year 1 or 9999)
    if local.year not in TZID_YEARS:
        return None
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return None  # ambiguous: happens twice
    return local


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


def _year_start(tz: ZoneInfo, year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)


def _onset(tz: ZoneInfo, instant: datetime, offset_from: timedelta
           ) -> tuple[Observance, datetime]:
    offset_to, name, is_dst = _offset_key(instant.astimezone(tz))
    assert offset_to is not None
    # RFC 5545 3.6.5: the onset is wall-clock time in the offset in force before it.
    return (offset_from, offset_to, name or "", is_dst), (instant + offset_from).replace(
        tzinfo=None)


@lru_cache(maxsize=4096)
def _year_onsets(tzid: str, year: int) -> tuple[tuple[Observance, datetime], ...]:
    """The zone's changes during one local year, each with the wall time it happens at."""
    tz = ZoneInfo(tzid)
    return tuple(
        _onset(tz, t, (t - timedelta(seconds=1)).astimezone(tz).utcoffset() or timedelta(0))
        for t in _transitions(tz, _year_start(tz, year), _year_start(tz, year + 1))
    )


def _runs(years: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted years as inclusive runs of consecutive years: {1, 2, 3, 7} -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for y in sorted(set(years)):
        if runs and runs[-1][1] == y - 1:
            runs[-1] = (runs[-1][0], y)
        else:
            runs.append((y, y))
    return runs


@lru_cache(maxsize=256)
def vtimezone(tzid: str, years: frozenset[int]) -> icalendar.Timezone:
    """VTIMEZONE for tzid from the tz database, covering each of `years` (local years).

    icalendar's Timezone.from_tzinfo was tried first and not used: it writes a DAYLIGHT
    onset as the wall time *after* the jump (03:00 where RFC 5545 3.6.5 and its examples
    write 02:00, read in TZOFFSETFROM), which misplaces the change by an hour for clients
    that follow the RFC; and it leaves each observance's first onset only in DTSTART, which
    RDATE-driven readers (e.g. the `ical` parser) skip. So the onsets are computed here
    from the same zoneinfo data, written in TZOFFSETFROM wall time, and repeated in RDATE
    (duplicates of DTSTART are ignored by RFC 5545 3.8.5.2, and it helps such readers).

    Each run of consecutive years opens with an onset restating the offset in force at its
    start, so a reader never extrapolates across a gap between runs.

    Built once per process per (zone, years): the component is only serialised, never
    mutated, so calendars can share it.
    """
    tz = ZoneInfo(tzid)
    groups: dict[Observance, list[datetime]] = {}
    for first, last in _runs(years):
        start = _year_start(tz, first)
        before = start.astimezone(tz).utcoffset() or timedelta(0)
        onsets = [_onset(tz, start, before)]
        for year in range(first, last + 1):
            onsets.extend(_year_onsets(tzid, year))
        for key, wall in onsets:
            groups.setdefault(key, []).append(wall)
    vtz = icalendar.Timezone()
    vtz.add("TZID", tzid)
    vtz.add("X-LIC-LOCATION", icalendar.vText(tzid))
    for (offset_from, offset_to, name, is_dst), walls in groups.items():
        sub = icalendar.TimezoneDaylight() if is_dst else icalendar.TimezoneStandard()
        sub.add("DTSTART", walls[0])
        for wall in walls:
            sub.add("RDATE", wall)
        sub.add("TZOFFSETFROM", offset_from)
        sub.add("TZOFFSETTO", offset_to)
        if name:
            sub.add("TZNAME", name)
        vtz.add_component(sub)
    return vtz


# vobject (Radicale) checks each VTIMEZONE against UTC over 2000-2019; one with no change in
# those years and UTC's offset before its first onset (London, Lisbon, Dublin...) counts as
# UTC and is not used: vobject takes the zone from pytz instead, with which dateutil expands a
# repeating event at its first date's UTC offset all year (an hour off across DST, EXDATEs
# missed). So such a zone also describes this year, which shows vobject it is not UTC.
_VOBJECT_PROBE_YEAR = 2019


def _looks_like_utc_to_vobject(tzid: str, years: set[int]) -> bool:
    tz = ZoneInfo(tzid)
    first = _year_start(tz, min(years))
    return (first.astimezone(tz).utcoffset() == timedelta(0)
            and bool(_year_onsets(tzid, _VOBJECT_PROBE_YEAR)))


def add_timezones(cal: icalendar.Calendar, events: Sequence[Event]) -> None:
    """A VTIMEZONE per TZID used, covering the years of every instant written with it."""
    years: dict[str, set[int]] = {}
    for event in events:
        if event.all_day:
            continue
        for instant in (event.starts_at, event.ends_at):
            local = wall_time(instant, event.timezone)
            if local is not None:
                # A year of margin each side, so changes near New Year are fully described.
                years.setdefault(event.timezone, set()).update(
                    y for y in (local.year - 1, local.year, local.year + 1))
    for tzid in sorted(years):
        if _looks_like_utc_to_vobject(tzid, years[tzid]):
            years[tzid].add(_VOBJECT_PROBE_YEAR)
        cal.add_component(vtimezone(tzid, frozenset(years[tzid])))
