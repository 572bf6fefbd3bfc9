"""The month view and the day lists: which events fall on which calendar days.

Days are calendar days in the site's timezone (settings.DEFAULT_TIMEZONE), as the list's date
filters are: an event that runs past midnight, or over several days, is on each day it
covers. All-day events keep the days they were given in their own timezone (a Berlin
"Saturday, all day" is Saturday in New York too), by the same rule the feeds and pages use
(timefmt.all_day_last_day). The filters are the list's (EventQuery: categories, cities, online,
search); its time window (upcoming/past, from/to, page) does not apply here, since a month
shows both what was and what is to come.

Months and days are bounded like the event form (1970 to ten years ahead): outside that no
event can exist, and a crawler following "next month" links finds an end.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from events_app import settings, timefmt
from events_app.i18n import gettext
from events_app.models import Event, utcnow
from events_app.services import spans
from events_app.services.event_form import event_date_range
from events_app.services.events import VISIBLE_STATUSES, EventQuery, _day_start_utc

# Weeks start on Sunday, as wall calendars do where the site's default timezone is.
FIRST_WEEKDAY = calendar.SUNDAY
_MONTH_RE = re.compile(r"([0-9]{4})-([0-9]{2})")
_DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class OutOfRange(ValueError):
    """A month or day that is not a real date, or outside the calendar's years (a 404)."""


def site_zone() -> ZoneInfo:
    return ZoneInfo(settings.DEFAULT_TIMEZONE)


def today(now: datetime | None = None) -> date:
    """Today in the site's timezone (what the month view marks and opens on)."""
    return (now or utcnow()).astimezone(site_zone()).date()


def _check_range(first: date, last: date, now: datetime | None) -> None:
    earliest, latest = event_date_range(today(now))
    if last < earliest or first > latest:
        raise OutOfRange(gettext("The calendar covers %(first)s to %(last)s.") % {
            "first": earliest.year, "last": timefmt.format_month(latest)})


def parse_month(raw: str, now: datetime | None = None) -> date:
    """'2027-03' -> 1 March 2027, within the calendar's range; else OutOfRange."""
    match = _MONTH_RE.fullmatch(raw)
    if not match or not 1 <= int(match[2]) <= 12:
        raise OutOfRange(gettext("A month looks like 2027-03."))
    month = date(int(match[1]), int(match[2]), 1)
    _check_range(month, month_last_day(month), now)
    return month


def parse_day(raw: str, now: datetime | None = None) -> date:
    """'2027-03-14' -> that date, within the calendar's range; else OutOfRange."""
    try:
        if not _DAY_RE.fullmatch(raw):
            raise ValueError
        day = date.fromisoformat(raw)
    except ValueError:
        raise OutOfRange(gettext("A day looks like 2027-03-14.")) from None
    _check_range(day, day, now)
    return day


def month_last_day(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def next_month(month: date) -> date:
    return month_last_day(month) + timedelta(days=1)


def in_range(day: date, now: datetime | None = None) -> bool:
    """Whether the month view offers a link to `day`'s month (or day list)."""
    earliest, latest = event_date_range(today(now))
    return earliest <= day <= latest


def weeks(month: date) -> list[list[date]]:
    """The month's grid: whole weeks (FIRST_WEEKDAY first), days of the neighbouring months
    filling the first and last rows."""
    return calendar.Calendar(FIRST_WEEKDAY).monthdatescalendar(month.year, month.month)


def weekday_names(width: str = "wide") -> list[str]:
    """The grid's column headings, in order ('Sunday', 'Monday', ...; 'domingo', 'lunes',
    ... in Spanish), in the reader's language from Babel rather than the machine's locale;
    width "abbreviated" gives 'Sun' / 'dom'."""
    sunday = date(2026, 3, 1)  # any Sunday: the names come from the weekday of a real day
    return [timefmt.weekday_name(sunday + timedelta(days=(FIRST_WEEKDAY + 1 + i) % 7), width)
            for i in range(7)]


def days_covered(event: Event | GridEvent, zone: ZoneInfo) -> tuple[date, date]:
    """The first and last calendar day `event` is on: in `zone` (the site's) for a timed
    event, its own days for an all-day one. The end is exclusive: an event ending at midnight
    is not on the day after."""
    if event.all_day:
        start, end = event.local_start, event.local_end
    else:
        start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    return start.date(), timefmt.all_day_last_day(start, end)


@dataclass(frozen=True, slots=True)
class GridEvent:
    """An event as the month grid (templates/events/month.html) draws it: the few columns it
    reads, as a plain row, with Event's own rules for what they mean (no rule copied).

    A busy month at 100,000 events holds ~1,650 events. As ORM objects, even loading only
    these columns, they held 4.3 MB for the length of each render (instance state, identity
    map, attribute dicts), which two renders at once added to a worker's peak RSS."""

    id: int
    slug: str
    title: str
    status: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    all_day: bool

    tz = Event.tz
    local_start = Event.local_start
    local_end = Event.local_end
    is_cancelled = Event.is_cancelled


# What the month grid reads of each event, in GridEvent's order.
GRID_FIELDS = tuple(f for f in GridEvent.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class DayEntry:
    """One event on one day of the grid."""

    event: Event | GridEvent
    starts_today: bool  # False on the second and later days of a longer event
    local_start: datetime  # its start in the site's timezone (the time the grid shows)


def events_by_day(session: Session, query: EventQuery, first: date, last: date,
                  grid: bool = False) -> dict[date, list[DayEntry]]:
    """Visible events matching the list's filters on each day from `first` to `last`
    (inclusive), in start order; days without events are absent. `grid`: each event as a
    GridEvent (only the month grid's columns, no ORM object) instead of an Event."""
    zone = site_zone()
    # A day's margin either side catches all-day events of far-away timezones, whose days
    # are not the site's; days_covered then places each event exactly.
    window_start = _day_start_utc(first - timedelta(days=1))
    window_end = _day_start_utc(last + timedelta(days=2))
    stmt = (select(*(getattr(Event, f) for f in GRID_FIELDS)) if grid  # type: ignore[call-overload]
            else select(Event))
    rows = session.exec(
        stmt
        .where(col(Event.status).in_(VISIBLE_STATUSES), *query.view_conditions(session),
               col(Event.starts_at) < window_end, col(Event.ends_at) >= window_start,
               # Changes no result; lets the starts_at index walk from the month, not from
               # the calendar's first event (services/spans.py).
               col(Event.starts_at) >= spans.earliest_start(session, window_start))
        .order_by(col(Event.starts_at), col(Event.id))
    ).all()
    events = [GridEvent(*row) for row in rows] if grid else rows
    del rows
    days: dict[date, list[DayEntry]] = {}
    for event in events:
        start_day, end_day = days_covered(event, zone)
        local_start = event.starts_at.astimezone(zone)
        day = max(start_day, first)
        while day <= min(end_day, last):
            days.setdefault(day, []).append(DayEntry(event, day == start_day, local_start))
            day += timedelta(days=1)
    for entries in days.values():
        # All-day and continuing events first, then by start: how a day reads on a wall.
        entries.sort(key=lambda e: (e.starts_today and not e.event.all_day,
                                    e.event.starts_at, e.event.id or 0))
    return days
