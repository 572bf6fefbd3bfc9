"""Human-readable event times, always in the event's own timezone with its abbreviation, in
the reader's language (i18n.current()).

A member reading "2:00 PM CDT" for an event in St. Louis must see the time on the clocks in
St. Louis, whatever the server's or reader's timezone and on either side of a DST change; a
Spanish reader sees the same moment as "14:00 CDT". Names of days and months come from
Babel (CLDR); the order and punctuation are CLDR patterns kept in the catalogs, so each
language writes dates its own way and adding a language needs no code here. The zone's
abbreviation is zoneinfo's (CLDR has none for most zones outside English).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_day_names

from events_app import i18n
from events_app.i18n import gettext, ngettext, pgettext
from events_app.util.lru import LruCache

# The texts with the context "date pattern" are CLDR patterns, which translators adapt
# (https://unicode.org/reports/tr35/tr35-dates.html#Date_Field_Symbol_Table): EEE short
# weekday, EEEE weekday, d day, MMM short month, MMMM month, LLLL month on its own, y year,
# h 1-12 hour, H 0-23 hour, mm minutes, ss seconds, a AM/PM; words go in single quotes.


# Babel takes ~0.1-0.4 ms a time (its AM/PM rule alone walks CLDR's day periods), and pages
# write the same times again and again: a list re-rendered after each check-in, every card
# of an event. Its answers are kept per wall clock, zone, pattern and language (a few
# thousand short strings).
_formatted: LruCache[tuple[object, ...], str] = LruCache(max_entries=4096)


def _format(d: datetime | date, pattern: str) -> str:
    """`d` as its wall clock shows it (Babel converts only when given a tzinfo, and none is
    given: callers pass local times); a date is its midnight, for patterns without a time."""
    if not isinstance(d, datetime):
        d = datetime(d.year, d.month, d.day)
    locale = i18n.locale()
    # The wall clock and the zone, not the aware datetime: 2 PM CDT and 3 PM EDT are equal
    # (and hash alike) as instants but are written differently.
    key = (d.replace(tzinfo=None), d.utcoffset(), d.tzname(), pattern, str(locale))
    found = _formatted.get(key)
    if found is None:
        found = format_datetime(d, pattern, locale=locale)
        _formatted.put(key, found)
    return found


def _day(d: datetime | date) -> str:
    # Translators: CLDR date pattern (see timefmt.py): "Sat 14 Mar".
    return _format(d, pgettext("date pattern", "EEE d MMM"))


def _day_year(d: datetime | date) -> str:
    # Translators: CLDR date pattern (see timefmt.py): "Sat 14 Mar 2027".
    return _format(d, pgettext("date pattern", "EEE d MMM y"))


def _clock(d: datetime) -> str:
    # Translators: CLDR time pattern (see timefmt.py): "2:00 PM".
    return _format(d, pgettext("date pattern", "h:mm a"))


def upper_first(text: str) -> str:
    """A heading starts with a capital where the language writes names of days and months in
    lower case ('sábado, 14 de marzo' heads a list as 'Sábado, 14 de marzo'); mid-sentence
    they stay as they are."""
    return text[:1].upper() + text[1:]


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
    """'Sat 14 Mar, 2:00 PM CDT' / 'sáb 14 mar, 14:00 CDT'."""
    loc = local(starts_at, tz_name)
    # Translators: CLDR pattern (see timefmt.py): "Sat 14 Mar, 2:00 PM" (the zone follows).
    pattern = pgettext("date pattern", "EEE d MMM, h:mm a")
    return f"{_format(loc, pattern)} {loc.tzname()}"


def format_clock(dt: datetime, tz_name: str) -> str:
    """'7:05 PM CST': a time of day at the event (check-ins), with the zone's abbreviation."""
    loc = local(dt, tz_name)
    return f"{_clock(loc)} {loc.tzname()}"


def format_instant(at: datetime, tz_name: str) -> str:
    """'Wed 25 Nov 2026, 3:01:51 PM EST': a moment that happened (an audit entry), to the
    second, with the zone's abbreviation."""
    loc = local(at, tz_name)
    # Translators: CLDR pattern (see timefmt.py): "Wed 25 Nov 2026, 3:01:51 PM" (zone follows).
    pattern = pgettext("date pattern", "EEE d MMM y, h:mm:ss a")
    return f"{_format(loc, pattern)} {loc.tzname()}"


def format_range(starts_at: datetime, ends_at: datetime, tz_name: str, all_day: bool) -> str:
    """The full when-line of an event.

    All-day events show their days (all_day_last_day: the stored end is exclusive).
    """
    start, end = local(starts_at, tz_name), local(ends_at, tz_name)
    if all_day:
        last = all_day_last_day(start, end)
        if last <= start.date():
            # Translators: "Sat 14 Mar 2026, all day".
            return gettext("%(day)s, all day") % {"day": _day_year(start)}
        # Translators: "Sat 14 Mar – Sun 15 Mar 2026, all day".
        return gettext("%(first)s – %(last)s, all day") % {"first": _day(start),
                                                           "last": _day_year(last)}
    if start.date() == end.date() and start.utcoffset() == end.utcoffset():
        return f"{_day_year(start)}, {_clock(start)} – {_clock(end)} {end.tzname()}"
    if start.date() == end.date():
        # The clocks changed during the event (e.g. 1:30 AM CDT – 2:30 AM CST is two hours):
        # both offsets, and the duration the wall-clock times no longer show.
        return (f"{_day_year(start)}, {_clock(start)} {start.tzname()} – "
                f"{_clock(end)} {end.tzname()} ({format_duration(ends_at - starts_at)})")
    return (
        f"{_day_year(start)}, {_clock(start)} {start.tzname()} – "
        f"{_day_year(end)}, {_clock(end)} {end.tzname()}"
    )


def format_duration(length: timedelta) -> str:
    """'2 hours', '1 hour 30 minutes', '45 minutes'."""
    hours, rest = divmod(int(length.total_seconds()) // 60, 60)
    parts = [ngettext("%(num)d hour", "%(num)d hours", hours) % {"num": hours}] if hours else []
    if rest or not hours:
        parts.append(ngettext("%(num)d minute", "%(num)d minutes", rest) % {"num": rest})
    return " ".join(parts)


def format_day_heading(d: date) -> str:
    """'Saturday 14 March 2026' / 'sábado, 14 de marzo de 2026': the list's day headings (with
    upper_first), the day list's title, a date in a sentence."""
    # Translators: CLDR date pattern (see timefmt.py): "Saturday 14 March 2026".
    return _format(d, pgettext("date pattern", "EEEE d MMMM y"))


def format_month(d: date) -> str:
    """'March 2027' / 'marzo de 2027': the month view's title (with upper_first)."""
    # Translators: CLDR date pattern (see timefmt.py): "March 2027", a heading.
    return _format(d, pgettext("date pattern", "LLLL y"))


def format_month_after_day(d: date) -> str:
    """'March' / 'de marzo': what follows a day's number ('14 March', '14 de marzo')."""
    # Translators: CLDR date pattern (see timefmt.py): the month after a day ("14 March").
    return _format(d, pgettext("date pattern", "MMMM"))


def format_year_after_month(d: date) -> str:
    """'2027' / 'de 2027': what follows a day and month ('14 March 2027')."""
    # Translators: CLDR date pattern (see timefmt.py): the year after "14 March".
    return _format(d, pgettext("date pattern", "y"))


def weekday_name(d: date, width: str = "wide") -> str:
    """'Saturday' / 'sábado' ('abbreviated': 'Sat' / 'sáb'), as a column heading."""
    return get_day_names(width, context="stand-alone", locale=i18n.locale())[d.weekday()]


def utc_iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
