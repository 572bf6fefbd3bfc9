"""Human-readable event times, always in the event's own timezone with its abbreviation.

A member reading "2:00 PM CDT" for an event in St. Louis must see the time on the clocks in
St. Louis, whatever the server's or reader's timezone and on either side of a DST change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def _day(d: datetime | date) -> str:
    return f"{d:%a} {d.day} {d:%b}"


def _clock(d: datetime) -> str:
    hour = d.hour % 12 or 12
    return f"{hour}:{d:%M} {'AM' if d.hour < 12 else 'PM'}"


def format_wall_clock(d: datetime) -> str:
    """'2:00 PM' (the wall-clock time of an aware datetime, as it is: no conversion)."""
    return _clock(d)


def local(dt: datetime, tz_name: str) -> datetime:
    return dt.astimezone(ZoneInfo(tz_name))


def all_day_last_day(local_start: datetime, local_end: datetime) -> date:
    """The last day an all-day event covers, from its local wall-clock start and end.

    All-day events store an exclusive end, the midnight after the last day (as iCalendar's
    DTEND does); an end later in a day means that day is included. Never before the first
    day. The one rule for feeds (ical.py), pages, e-mails, JSON-LD and the event form.
    """
    last = local_end.date()
    if local_end.time() == datetime.min.time() and last > local_start.date():
        last -= timedelta(days=1)
    return max(last, local_start.date())


def format_start(starts_at: datetime, tz_name: str) -> str:
    """'Sat 14 Mar, 2:00 PM CDT'."""
    loc = local(starts_at, tz_name)
    return f"{_day(loc)}, {_clock(loc)} {loc.tzname()}"


def format_clock(dt: datetime, tz_name: str) -> str:
    """'7:05 PM CST': a time of day at the event (check-ins), with the zone's abbreviation."""
    loc = local(dt, tz_name)
    return f"{_clock(loc)} {loc.tzname()}"


def format_instant(at: datetime, tz_name: str) -> str:
    """'Wed 25 Nov 2026, 3:01:51 PM EST': a moment that happened (an audit entry), to the
    second, with the zone's abbreviation."""
    loc = local(at, tz_name)
    hour = loc.hour % 12 or 12
    return (f"{_day(loc)} {loc.year}, {hour}:{loc:%M:%S} {'AM' if loc.hour < 12 else 'PM'} "
            f"{loc.tzname()}")


def format_range(starts_at: datetime, ends_at: datetime, tz_name: str, all_day: bool) -> str:
    """The full when-line of an event.

    All-day events show their days (all_day_last_day: the stored end is exclusive).
    """
    start, end = local(starts_at, tz_name), local(ends_at, tz_name)
    if all_day:
        last = all_day_last_day(start, end)
        if last <= start.date():
            return f"{_day(start)} {start.year}, all day"
        return f"{_day(start)} – {_day(last)} {last.year}, all day"
    if start.date() == end.date() and start.utcoffset() == end.utcoffset():
        return f"{_day(start)} {start.year}, {_clock(start)} – {_clock(end)} {end.tzname()}"
    if start.date() == end.date():
        # The clocks changed during the event (e.g. 1:30 AM CDT – 2:30 AM CST is two hours):
        # both offsets, and the duration the wall-clock times no longer show.
        return (f"{_day(start)} {start.year}, {_clock(start)} {start.tzname()} – "
                f"{_clock(end)} {end.tzname()} ({format_duration(ends_at - starts_at)})")
    return (
        f"{_day(start)} {start.year}, {_clock(start)} {start.tzname()} – "
        f"{_day(end)} {end.year}, {_clock(end)} {end.tzname()}"
    )


def format_duration(length: timedelta) -> str:
    """'2 hours', '1 hour 30 minutes', '45 minutes'."""
    hours, rest = divmod(int(length.total_seconds()) // 60, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if rest or not hours:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)


def format_day_heading(d: date) -> str:
    """'Saturday 14 March 2026', used to group the list page by day."""
    return f"{d:%A} {d.day} {d:%B} {d.year}"


def utc_iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
