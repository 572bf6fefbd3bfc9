"""Recurrence rules: the organizer's "Repeats" choices <-> an RFC 5545 RRULE <-> start instants.

Pure (no database): the event form previews dates with it, services/series.py generates
occurrence rows with it, and the feeds write the same RRULE, so one module decides what a rule
means. Expansion is python-dateutil's RFC 5545 engine run on *wall-clock* times in the series'
timezone, then each local time is placed with zoneinfo: 7 PM stays 7 PM across DST. A local
time that does not exist (the spring gap) takes the UTC offset from before the gap, and one that
happens twice is its first pass, as RFC 5545 section 3.3.5 says every calendar reader must; so
the site's rows and every subscribed calendar agree on each instant.

The rule subset is what the form offers: daily / weekly on weekdays / monthly on a day of the
month or on the Nth or last weekday, every N, until a local date (inclusive) or N times. As in
RFC 5545, a monthly rule on the 31st (or the 29th, or a fifth Monday) skips the months that have
no such day rather than moving to another day: readers expand it that way, and so must we.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date
from dateutil import rrule as du

from events_app import i18n
from events_app.i18n import gettext, ngettext, pgettext

Freq = Literal["daily", "weekly", "monthly"]
FREQS: tuple[Freq, ...] = ("daily", "weekly", "monthly")

# One series holds at most this many occurrences and spans at most this long: enough for any
# real calendar (a weekly meeting for two years is 105), small enough that one save cannot
# write thousands of rows or a feed grow without bound.
MAX_OCCURRENCES = 400
MAX_YEARS = 2
MAX_INTERVAL = {"daily": 365, "weekly": 52, "monthly": 12}

_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NTH_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
_EVERY_WORDS = {2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth"}
_ADVERBS = {"daily": "daily", "weekly": "weekly", "monthly": "monthly"}
# The RRULE parts this module writes; a value with any other part is not one of ours.
_KNOWN_PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "WKST", "UNTIL", "COUNT"}


@dataclass(frozen=True)
class Rule:
    """One recurrence rule, as the form states it.

    A field left None/empty means "as the first occurrence": a weekly rule with no weekdays
    repeats on the start's weekday, a monthly rule with neither a day nor an Nth weekday on the
    start's day of the month, and `monthly_nth` without `monthly_weekday` on the start's
    weekday. `resolved(start_local)` fills those in; stored rules are resolved.
    """

    freq: Freq
    interval: int = 1
    weekdays: tuple[int, ...] = field(default=())  # 0 = Monday .. 6 = Sunday (weekly)
    monthly_day: int | None = None  # 1..31
    monthly_nth: int | None = None  # 1..5, or -1 = last
    monthly_weekday: int | None = None  # 0..6, with monthly_nth
    until: date | None = None  # local date, inclusive
    count: int | None = None

    def __post_init__(self) -> None:
        if self.freq not in FREQS:
            raise ValueError(f"unknown frequency {self.freq!r}")
        if not 1 <= self.interval <= MAX_INTERVAL[self.freq]:
            raise ValueError(f"interval must be 1..{MAX_INTERVAL[self.freq]}")
        if (self.until is None) == (self.count is None):
            raise ValueError("a rule ends either on a date (until) or after a count, not both")
        if self.count is not None and not 1 <= self.count <= MAX_OCCURRENCES:
            raise ValueError(f"count must be 1..{MAX_OCCURRENCES}")
        if any(not 0 <= d <= 6 for d in self.weekdays):
            raise ValueError("weekdays are 0 (Monday) .. 6 (Sunday)")
        object.__setattr__(self, "weekdays", tuple(sorted(set(self.weekdays))))
        if self.weekdays and self.freq != "weekly":
            raise ValueError("weekdays belong to a weekly rule")
        if self.freq != "monthly" and (self.monthly_day or self.monthly_nth
                                       or self.monthly_weekday is not None):
            raise ValueError("a day of the month belongs to a monthly rule")
        if self.monthly_day is not None and not 1 <= self.monthly_day <= 31:
            raise ValueError("monthly_day must be 1..31")
        if self.monthly_nth is not None and self.monthly_nth not in _NTH_WORDS:
            raise ValueError("monthly_nth must be 1..5 or -1 (last)")
        if self.monthly_weekday is not None and (
                self.monthly_nth is None or not 0 <= self.monthly_weekday <= 6):
            raise ValueError("monthly_weekday needs monthly_nth, and is 0..6")
        if self.monthly_day is not None and self.monthly_nth is not None:
            raise ValueError("a monthly rule is on a day of the month or on an Nth weekday")

    def resolved(self, start_local: datetime) -> Rule:
        """This rule with "as the first occurrence" fields filled in from `start_local`."""
        if self.freq == "weekly" and not self.weekdays:
            return replace(self, weekdays=(start_local.weekday(),))
        if self.freq == "monthly":
            if self.monthly_nth is not None and self.monthly_weekday is None:
                return replace(self, monthly_weekday=start_local.weekday())
            if self.monthly_nth is None and self.monthly_day is None:
                return replace(self, monthly_day=start_local.day)
        return self

    def to_rrule(self, start_local: datetime) -> str:
        """The RRULE value (no DTSTART) for a series starting at `start_local` (aware).

        UNTIL is the end of the local `until` day in UTC, as RFC 5545 requires with a DTSTART
        that has a TZID; `from_rrule` reads the same local date back.
        """
        _check_aware(start_local)
        rule = self.resolved(start_local)
        parts = [f"FREQ={rule.freq.upper()}"]
        if rule.interval != 1:
            parts.append(f"INTERVAL={rule.interval}")
        if rule.freq == "weekly":
            parts.append("BYDAY=" + ",".join(_CODES[d] for d in rule.weekdays))
            if rule.interval != 1:
                # Which weeks count depends on the week start with several weekdays; RFC 5545's
                # default is Monday, written out so no reader guesses otherwise.
                parts.append("WKST=MO")
        elif rule.freq == "monthly":
            if rule.monthly_nth is not None:
                assert rule.monthly_weekday is not None
                parts.append(f"BYDAY={rule.monthly_nth}{_CODES[rule.monthly_weekday]}")
            else:
                parts.append(f"BYMONTHDAY={rule.monthly_day}")
        if rule.until is not None:
            end = datetime.combine(rule.until, time(23, 59, 59), start_local.tzinfo)
            parts.append(f"UNTIL={end.astimezone(UTC):%Y%m%dT%H%M%SZ}")
        else:
            parts.append(f"COUNT={rule.count}")
        value = ";".join(parts)
        _dateutil_parses(value)
        return value

    @classmethod
    def from_rrule(cls, value: str, tz: ZoneInfo | str) -> Rule:
        """Read back an RRULE this module wrote (or one in the same subset); ValueError if not.

        `tz` is the series' timezone: UNTIL is read as the local date it falls on there.
        """
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        value = value.strip().removeprefix("RRULE:")
        parts: dict[str, str] = {}
        for part in value.split(";"):
            name, _, val = part.partition("=")
            parts[name.upper()] = val
        if "UNTIL" in parts and "COUNT" in parts:
            raise ValueError("a rule ends either on a date (UNTIL) or after a COUNT, not both")
        _dateutil_parses(value)
        unknown = set(parts) - _KNOWN_PARTS
        if unknown:
            raise ValueError(f"unsupported RRULE parts: {', '.join(sorted(unknown))}")
        freq = parts["FREQ"].lower()
        if freq not in FREQS:
            raise ValueError(f"unsupported frequency {parts['FREQ']}")
        days = [d for d in parts.get("BYDAY", "").split(",") if d]
        weekdays: tuple[int, ...] = ()
        nth = weekday = None
        if freq == "weekly":
            weekdays = tuple(_CODES.index(d) for d in days)
        elif freq == "monthly" and days:
            if len(days) != 1 or days[0][-2:] not in _CODES or not days[0][:-2]:
                raise ValueError("a monthly BYDAY is one Nth weekday, like 2TU or -1FR")
            nth, weekday = int(days[0][:-2]), _CODES.index(days[0][-2:])
        elif days:
            raise ValueError("BYDAY is not supported on a daily rule")
        until = None
        if "UNTIL" in parts:
            until = _until_date(parts["UNTIL"], zone)
        return cls(
            freq=freq,  # type: ignore[arg-type]
            interval=int(parts.get("INTERVAL", "1")),
            weekdays=weekdays,
            monthly_day=int(parts["BYMONTHDAY"]) if "BYMONTHDAY" in parts else None,
            monthly_nth=nth,
            monthly_weekday=weekday,
            until=until,
            count=int(parts["COUNT"]) if "COUNT" in parts else None,
        )


def _dateutil_parses(value: str) -> None:
    """ValueError unless dateutil's RFC 5545 parser reads the value (a UTC UNTIL needs an
    aware DTSTART there, a floating or DATE one a naive DTSTART)."""
    utc_until = any(p.upper().startswith("UNTIL=") and p.upper().endswith("Z")
                    for p in value.split(";"))
    du.rrulestr(value, dtstart=datetime(2000, 1, 1, tzinfo=UTC if utc_until else None))


def _until_date(value: str, zone: ZoneInfo) -> date:
    """UNTIL as the local date it falls on: a UTC instant is converted, a DATE or a floating
    time is taken as written."""
    if len(value) == 8:
        return datetime.strptime(value, "%Y%m%d").date()
    if value.endswith("Z"):
        instant = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return instant.astimezone(zone).date()
    return datetime.strptime(value, "%Y%m%dT%H%M%S").date()


def _check_aware(start_local: datetime) -> None:
    if not isinstance(start_local.tzinfo, ZoneInfo):
        raise ValueError("start_local must carry its ZoneInfo timezone")


def _dateutil_rule(rule: Rule, start_local: datetime) -> du.rrule:
    """dateutil's rule over naive wall-clock times (DST is applied after, per instance)."""
    rule = rule.resolved(start_local)
    kwargs: dict[str, object] = {"interval": rule.interval, "wkst": du.MO}
    if rule.freq == "weekly":
        kwargs["byweekday"] = [du.weekdays[d] for d in rule.weekdays]
    elif rule.freq == "monthly":
        if rule.monthly_nth is not None:
            assert rule.monthly_weekday is not None
            kwargs["byweekday"] = du.weekdays[rule.monthly_weekday](rule.monthly_nth)
        else:
            kwargs["bymonthday"] = rule.monthly_day
    if rule.until is not None:
        kwargs["until"] = datetime.combine(rule.until, time(23, 59, 59))
    else:
        kwargs["count"] = rule.count
    freq = {"daily": du.DAILY, "weekly": du.WEEKLY, "monthly": du.MONTHLY}[rule.freq]
    return du.rrule(freq, dtstart=start_local.replace(tzinfo=None), cache=False, **kwargs)


def place(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone` as a UTC instant, the RFC 5545 way: a time in the spring
    gap takes the offset before the gap (PEP 495's fold=0 does exactly that), a repeated time
    is its first pass."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def instance_starts(rule: Rule, start_local: datetime, until_utc: datetime | None = None,
                    limit: int | None = None) -> list[datetime]:
    """The rule's instances as UTC instants, in order: those starting before `until_utc`
    (exclusive) if given, at most `limit` if given.

    As dateutil (and RFC 5545 readers that skip a DTSTART the rule does not match) expand it:
    the first instance is `start_local` only if the rule matches it; services/series.py makes
    the series' first start the first instance, so every reader agrees. An ambiguous
    `start_local` chosen as its second pass (fold=1) keeps that for the first instance only.
    """
    _check_aware(start_local)
    zone = start_local.tzinfo
    assert isinstance(zone, ZoneInfo)
    naive_start = start_local.replace(tzinfo=None)
    out: list[datetime] = []
    for local in _dateutil_rule(rule, start_local):
        if limit is not None and len(out) >= limit:
            break
        instant = start_local.astimezone(UTC) if local == naive_start else place(local, zone)
        if until_utc is not None and instant >= until_utc:
            break
        out.append(instant)
    return out


def preview(start_local: datetime, rule: Rule, n: int = 8) -> list[datetime]:
    """The form's "next dates": the first `n` instances, in the series' timezone (aware)."""
    zone = start_local.tzinfo
    return [s.astimezone(zone) for s in instance_starts(rule, start_local, limit=n)]


# --- words ---------------------------------------------------------------------------------

def _ordinal(n: int) -> str:
    """"15th" (a day of the month); each language writes its own ("15" in Spanish)."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return _ORDINAL_PATTERNS[suffix]() % {"num": n}


# The words of describe(), written whole per case so each language can order and inflect
# them (Spanish puts the weekday in the plural after "todos los", and "every second
# Tuesday" is "cada dos martes", while "the second Tuesday" of a month is "el segundo").
_ORDINAL_PATTERNS = {
    "st": lambda: pgettext("day of the month", "%(num)dst"),
    "nd": lambda: pgettext("day of the month", "%(num)dnd"),
    "rd": lambda: pgettext("day of the month", "%(num)drd"),
    "th": lambda: pgettext("day of the month", "%(num)dth"),
}
def _every_day(day: int) -> str:
    """"every Tuesday", "on Monday and Wednesday" (every week): Spanish "martes", "sábados"."""
    return (pgettext("every", "Monday"), pgettext("every", "Tuesday"),
            pgettext("every", "Wednesday"), pgettext("every", "Thursday"),
            pgettext("every", "Friday"), pgettext("every", "Saturday"),
            pgettext("every", "Sunday"))[day]


def _every_nth(interval: int) -> str:
    """"every second week": Spanish "cada dos semanas"."""
    return {2: pgettext("every", "second"), 3: pgettext("every", "third"),
            4: pgettext("every", "fourth"), 5: pgettext("every", "fifth"),
            6: pgettext("every", "sixth")}[interval]


def _month_day(day: int) -> str:
    """"the second Tuesday" of a month: Spanish "el segundo martes"."""
    return (pgettext("of the month", "Monday"), pgettext("of the month", "Tuesday"),
            pgettext("of the month", "Wednesday"), pgettext("of the month", "Thursday"),
            pgettext("of the month", "Friday"), pgettext("of the month", "Saturday"),
            pgettext("of the month", "Sunday"))[day]


def _month_nth(nth: int) -> str:
    return {1: pgettext("of the month", "first"), 2: pgettext("of the month", "second"),
            3: pgettext("of the month", "third"), 4: pgettext("of the month", "fourth"),
            5: pgettext("of the month", "fifth"), -1: pgettext("of the month", "last")}[nth]


def _join(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]
    return gettext("%(list)s and %(last)s") % {
        "list": gettext(", ").join(words[:-1]), "last": words[-1]}


def describe(rule: Rule, start_local: datetime, with_end: bool = False) -> str:
    """The rule in words for lists and pages, in the reader's language: "Repeats every second
    Tuesday", "Repeats weekly on Monday and Wednesday", "Repeats monthly on the last Friday".
    `with_end` adds ", until June 1, 2027" / ", 10 times" (the organizer's pages)."""
    rule = rule.resolved(start_local)
    n = rule.interval
    nth = n in _EVERY_WORDS
    if rule.freq == "daily":
        if n == 1:
            text = gettext("Repeats daily")
        elif nth:
            text = gettext("Repeats every %(nth)s day") % {"nth": _every_nth(n)}
        else:
            text = gettext("Repeats every %(num)d days") % {"num": n}
    elif rule.freq == "weekly":
        if rule.weekdays == (0, 1, 2, 3, 4) and n == 1:
            text = gettext("Repeats every weekday")
        elif len(rule.weekdays) == 1:
            day = _every_day(rule.weekdays[0])
            if n == 1:
                text = gettext("Repeats every %(day)s") % {"day": day}
            elif nth:
                text = gettext("Repeats every %(nth)s %(day)s") % {"nth": _every_nth(n),
                                                                   "day": day}
            else:
                text = gettext("Repeats every %(num)d weeks on %(day)s") % {"num": n,
                                                                            "day": day}
        else:
            days = _join([_every_day(d) for d in rule.weekdays])
            if n == 1:
                text = gettext("Repeats weekly on %(day)s") % {"day": days}
            elif nth:
                text = gettext("Repeats every %(nth)s week on %(day)s") % {
                    "nth": _every_nth(n), "day": days}
            else:
                text = gettext("Repeats every %(num)d weeks on %(day)s") % {"num": n,
                                                                            "day": days}
    else:
        if rule.monthly_nth is not None:
            assert rule.monthly_weekday is not None
            on = gettext("the %(nth)s %(day)s") % {
                "nth": _month_nth(rule.monthly_nth), "day": _month_day(rule.monthly_weekday)}
        else:
            assert rule.monthly_day is not None
            on = gettext("the %(day)s") % {"day": _ordinal(rule.monthly_day)}
        if n == 1:
            text = gettext("Repeats monthly on %(on)s") % {"on": on}
        elif nth:
            text = gettext("Repeats every %(nth)s month on %(on)s") % {"nth": _every_nth(n),
                                                                       "on": on}
        else:
            text = gettext("Repeats every %(num)d months on %(on)s") % {"num": n, "on": on}
    if with_end:
        text += ", " + describe_end(rule)
    return text


def _long_date(day: date) -> str:
    """"June 1, 2027" / "1 de junio de 2027": a date in a sentence, in the reader's words."""
    return format_date(day, format="long", locale=i18n.locale())


def describe_end(rule: Rule) -> str:
    """"until June 1, 2027" or "10 times" ("once" for 1)."""
    if rule.until is not None:
        # Translators: %(day)s is a date as Babel writes it in full: "June 1, 2027".
        return gettext("until %(day)s") % {"day": _long_date(rule.until)}
    assert rule.count is not None
    if rule.count == 1:
        return gettext("once")
    return ngettext("%(num)d time", "%(num)d times", rule.count) % {"num": rule.count}


# --- the form's "Repeats" fieldset ---------------------------------------------------------

def _first(form: Mapping[str, str | list], name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()


def _many(form: Mapping[str, str | list], name: str) -> list[str]:
    getlist = getattr(form, "getlist", None)  # Starlette's FormData keeps repeated fields
    value = getlist(name) if callable(getlist) else form.get(name, [])
    if isinstance(value, str):
        value = [value] if value else []
    return [str(v).strip() for v in value if str(v).strip()]


def _int(text: str, low: int, high: int) -> int | None:
    """ASCII digits in low..high, else None (no signs, spaces or other scripts' digits)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        return None
    n = int(text)
    return n if low <= n <= high else None


def _weekday(text: str) -> int | None:
    if text.upper() in _CODES:
        return _CODES.index(text.upper())
    return _int(text, 0, 6)


def parse_form(form: Mapping[str, str | list], start_local: datetime | None = None
               ) -> tuple[Rule | None, dict[str, str]]:
    """The "Repeats" fieldset -> (Rule, {}) or (None, {field: message}); repeat=none -> (None, {}).

    Fields: repeat (none|daily|weekly|monthly), interval, weekday (repeated, 0..6 or MO..SU),
    monthly_by (day|weekday), monthly_day, monthly_nth (1..5|-1), monthly_weekday, ends
    (until|count), until (YYYY-MM-DD), count. Left out: weekday(s), monthly day and weekday
    default to the first occurrence's. With `start_local` (the event's start), the limits that
    depend on it are checked too: see `limit_errors`.
    """
    repeat = _first(form, "repeat") or "none"
    if repeat == "none":
        return None, {}
    errors: dict[str, str] = {}
    if repeat not in FREQS:
        return None, {"repeat": gettext("Choose how often the event repeats.")}
    freq: Freq = repeat  # type: ignore[assignment]
    interval_text = _first(form, "interval") or "1"
    interval = _int(interval_text, 1, MAX_INTERVAL[freq])
    if interval is None:
        errors["interval"] = _interval_error(freq)
    weekdays: list[int] = []
    if freq == "weekly":
        for text in _many(form, "weekday"):
            day = _weekday(text)
            if day is None:
                errors["weekday"] = gettext("Choose weekdays from the list.")
            else:
                weekdays.append(day)
    monthly_day = nth = monthly_weekday = None
    if freq == "monthly":
        by = _first(form, "monthly_by") or "day"
        if by == "day":
            day_text = _first(form, "monthly_day")
            if day_text:
                monthly_day = _int(day_text, 1, 31)
                if monthly_day is None:
                    errors["monthly_day"] = gettext("Enter a day of the month from 1 to 31.")
        elif by == "weekday":
            nth_text = _first(form, "monthly_nth")
            nth = {"-1": -1, "last": -1}.get(nth_text) or _int(nth_text, 1, 5)
            if nth is None:
                errors["monthly_nth"] = gettext(
                    "Choose first, second, third, fourth, fifth or last.")
            weekday_text = _first(form, "monthly_weekday")
            if weekday_text:
                monthly_weekday = _weekday(weekday_text)
                if monthly_weekday is None:
                    errors["monthly_weekday"] = gettext("Choose a weekday from the list.")
        else:
            errors["monthly_by"] = gettext("Choose a day of the month or a weekday.")
    until = count = None
    ends = _first(form, "ends") or "until"
    if ends == "until":
        try:
            until = date.fromisoformat(_first(form, "until"))
        except ValueError:
            errors["until"] = gettext("Enter the last date, like 2027-06-01.")
    elif ends == "count":
        count = _int(_first(form, "count"), 1, MAX_OCCURRENCES)
        if count is None:
            errors["count"] = gettext("Enter a number of dates from 1 to %(max)d.") % {
                "max": MAX_OCCURRENCES}
    else:
        errors["ends"] = gettext(
            "Choose whether the series ends on a date or after a number of dates.")
    if errors:
        return None, errors
    assert interval is not None
    rule = Rule(freq=freq, interval=interval, weekdays=tuple(weekdays),
                monthly_day=monthly_day, monthly_nth=nth, monthly_weekday=monthly_weekday,
                until=until, count=count)
    if start_local is not None:
        errors = limit_errors(rule, start_local)
        if errors:
            return None, errors
    return rule, {}


def _interval_error(freq: Freq) -> str:
    values = {"max": MAX_INTERVAL[freq]}
    if freq == "daily":
        return gettext("Enter a whole number from 1 to %(max)d (days between dates).") % values
    if freq == "weekly":
        return gettext("Enter a whole number from 1 to %(max)d (weeks between dates).") % values
    return gettext("Enter a whole number from 1 to %(max)d (months between dates).") % values


def limit_errors(rule: Rule, start_local: datetime) -> dict[str, str]:
    """What is wrong with this rule for a series starting at `start_local`, by form field:
    an end before the start, more than MAX_YEARS or MAX_OCCURRENCES, or no date at all.
    The service checks the same before it writes a row."""
    first = start_local.date()
    try:
        last_allowed = _add_years(first, MAX_YEARS)
        span_end = datetime.combine(last_allowed + timedelta(days=1), time(), start_local.tzinfo)
    except (ValueError, OverflowError):  # its years would run past date.max
        latest = date(date.max.year - MAX_YEARS, 12, 30)
        return {"start_date": gettext("A series needs room to run for %(years)d years: choose "
                                      "a start date up to %(day)s.") % {
            "years": MAX_YEARS, "day": _long_date(latest)}}
    field_name = "until" if rule.until is not None else "count"
    if rule.until is not None:
        if rule.until < first:
            return {"until": gettext("The last date must be on or after the first one.")}
        if rule.until > last_allowed:
            return {"until": gettext("A series can run for at most %(years)d years: choose a "
                                     "last date up to %(day)s.") % {
                "years": MAX_YEARS, "day": _long_date(last_allowed)}}
    starts = instance_starts(rule, start_local, until_utc=span_end.astimezone(UTC),
                             limit=MAX_OCCURRENCES + 1)
    if not starts:
        return {field_name: gettext("These choices give no date: check the weekdays, day and "
                                    "end.")}
    if len(starts) > MAX_OCCURRENCES:
        return {field_name: gettext("A series can have at most %(max)d dates: choose an "
                                    "earlier end or fewer days.") % {"max": MAX_OCCURRENCES}}
    if rule.count is not None and len(starts) < rule.count:
        return {"count": gettext("A series can run for at most %(years)d years: choose fewer "
                                 "dates or repeat more often.") % {"years": MAX_YEARS}}
    return {}


def _add_years(day: date, years: int) -> date:
    """The same day `years` later; Feb 29 becomes Feb 28 in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
