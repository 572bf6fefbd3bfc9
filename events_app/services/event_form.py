"""The organizer's event form: raw strings in, a checked `EventData` (UTC instants) out.

Times are entered as wall-clock date + time in the event's own timezone, because that is how
organizers think ("6 pm in Chicago"); they are converted to UTC here, once, with the DST rules
of that timezone. Checks that need the database (capacity vs. seats taken, co-host accounts)
live in `event_admin`, not here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from events_app import settings, timefmt
from events_app.i18n import N_, gettext
from events_app.models import CATEGORIES, Event, EventText
from events_app.services.event_text import FIELDS as TEXT_FIELDS
from events_app.services.event_text import translated_languages
from events_app.services.series_rules import Rule, describe
from events_app.timefmt import all_day_last_day, upper_first, weekday_name
from events_app.util.forms import (
    Checkbox,
    DateField,
    Form,
    FormError,
    HttpUrl,
    LocalDateTime,
    TimeField,
    choice,
    email_list,
    optional_float,
    optional_int,
    parse_form,
    text,
)
from events_app.util.timezones import KNOWN_TIMEZONES, is_timezone

MAX_CAPACITY = 100_000
MAX_GUESTS = 50
MAX_COHOSTS = 20
# Events (and RSVP deadlines) fall within these years: far enough for any real calendar, and
# away from the edges where timezone and iCalendar arithmetic overflow (year 1, year 9999).
EARLIEST_EVENT_YEAR = 1970
MAX_YEARS_AHEAD = 10
# An event whose end is left empty lasts this long (the form's script fills the same in).
DEFAULT_LENGTH = timedelta(hours=1)


Title = text(200, required=True)
Summary = text(500)
Description = text(20_000, multiline=True)
Category = choice(lambda: CATEGORIES, N_("Choose a category from the list."))
Timezone = choice(lambda: KNOWN_TIMEZONES,
                  N_("Choose a timezone from the list, like America/Chicago."))
Line200 = text(200)
Line100 = text(100)
Line20 = text(20)
Latitude = optional_float(-90, 90, N_("latitude"))
Longitude = optional_float(-180, 180, N_("longitude"))
Capacity = optional_int(1, MAX_CAPACITY, 50)
GuestLimit = optional_int(0, MAX_GUESTS, 4)
CohostList = email_list(MAX_COHOSTS)
# Which of the two 01:30s on the night clocks go back: "first" (still daylight time) or
# "second" (an hour later, standard time); empty when the form did not ask.
Occurrence = choice(lambda: ("", "first", "second"),
                    N_("Choose the first or the second time."))


class TranslationForm(Form):
    """The event's text in another language: the same limits as the main fields, but none is
    required (an empty one falls back to the main text; services/event_text.py)."""

    title: Line200 = None
    summary: Summary = None
    description: Description = None


class EventForm(Form):
    title: Title = None
    summary: Summary = None
    description: Description = None
    category: Category = None
    timezone: Timezone = None
    all_day: Checkbox = None
    start_date: DateField = None
    start_time: TimeField = None
    start_occurrence: Occurrence = None
    end_date: DateField = None
    end_time: TimeField = None
    end_occurrence: Occurrence = None
    venue_name: Line200 = None
    street_address: Line200 = None
    city: Line100 = None
    region: Line100 = None
    postal_code: Line20 = None
    latitude: Latitude = None
    longitude: Longitude = None
    online_url: HttpUrl = None
    join_link_private: Checkbox = None
    host_name: Line200 = None
    capacity: Capacity = None
    max_guests: GuestLimit = None
    waitlist_enabled: Checkbox = None
    rsvp_deadline: LocalDateTime = None
    cohosts: CohostList = None


@dataclass(frozen=True)
class EventData:
    """Validated values for the Event columns an organizer controls (times in UTC)."""

    title: str
    summary: str
    description: str
    category: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    all_day: bool
    venue_name: str
    street_address: str
    city: str
    region: str
    postal_code: str
    latitude: float | None
    longitude: float | None
    online_url: str
    host_name: str
    capacity: int | None
    max_guests: int
    waitlist_enabled: bool
    rsvp_deadline: datetime | None
    cohosts: tuple[str, ...] = ()
    join_link_private: bool = False
    # The text in other languages, {lang: {title, summary, description}} as a sorted tuple
    # of (lang, title, summary, description); None leaves the stored translations alone.
    translations: tuple[tuple[str, str, str, str], ...] | None = None

    def column_values(self) -> dict[str, Any]:
        """The values that map one-to-one onto Event columns."""
        values = asdict(self)
        values.pop("cohosts")
        values.pop("translations")
        return values

    def translation_texts(self) -> dict[str, dict[str, str]] | None:
        """The translations as services/event_text.save_translations takes them."""
        if self.translations is None:
            return None
        return {lang: dict(zip(TEXT_FIELDS, texts, strict=True))
                for lang, *texts in self.translations}


def translation_tuple(texts: dict[str, dict[str, str]]) -> tuple[tuple[str, str, str, str], ...]:
    """{lang: {title, summary, description}} as EventData.translations holds it."""
    return tuple((lang, *(texts[lang].get(f, "") for f in TEXT_FIELDS))  # type: ignore[misc]
                 for lang in sorted(texts))


def translation_field(field: str, language: str) -> str:
    """The form's name for a field in another language: "title_es"."""
    return f"{field}_{language}"


_NOT_COLUMNS = ("cohosts", "translations")
EVENT_COLUMNS = tuple(f.name for f in fields(EventData) if f.name not in _NOT_COLUMNS)
# Fields the form's value is stored as is (the others are converted in `_build`).
_COPIED_FIELDS = tuple(f.name for f in fields(EventData)
                       if f.name not in ("starts_at", "ends_at", "max_guests", "rsvp_deadline",
                                         "translations"))


def _to_utc(local: datetime, tzid: str, second_pass: bool = False) -> datetime:
    """Wall-clock time in tzid to UTC; a time skipped by a DST jump is an error.

    A time that happens twice (clocks going back) is its first occurrence unless
    `second_pass`; the form asks which one the organizer means (see _ambiguous).
    """
    zone = ZoneInfo(tzid)
    instant = local.replace(tzinfo=zone, fold=int(second_pass)).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local:
        raise ValueError("nonexistent")
    return instant


def _ambiguous(local: datetime, tzid: str) -> bool:
    """Whether this wall-clock time happens twice in tzid (the hour repeated when DST ends)."""
    zone = ZoneInfo(tzid)
    first, second = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    return (first.utcoffset() != second.utcoffset()
            and first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local)


def _clock(d: datetime) -> str:
    """"1:30 AM CDT" / "1:30 CDT": the wall clock in the reader's words, with the zone's
    abbreviation, which is what tells the two apart."""
    return f"{timefmt.format_wall_clock(d)} {d.tzname()}"


def occurrence_choices(values: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """For the form page: {"start_occurrence"/"end_occurrence": [(value, label), ...]} for
    each entered time that happens twice, so the organizer sees both and says which."""
    choices: dict[str, list[tuple[str, str]]] = {}
    tzid = values.get("timezone", "")
    if values.get("all_day") or not is_timezone(tzid):
        return choices
    for prefix in ("start", "end"):
        try:
            local = datetime.combine(date.fromisoformat(values.get(f"{prefix}_date", "")),
                                     time.fromisoformat(values.get(f"{prefix}_time", "")))
        except ValueError:
            continue
        if _ambiguous(local, tzid):
            zone = ZoneInfo(tzid)
            first, second = local.replace(tzinfo=zone), local.replace(tzinfo=zone, fold=1)
            choices[f"{prefix}_occurrence"] = [
                ("first", gettext("The first time: %(time)s") % {"time": _clock(first)}),
                ("second", gettext("The second time, an hour later: %(time)s") % {
                    "time": _clock(second)}),
            ]
    return choices


def _parse_translations(data: dict[str, Any]
                        ) -> tuple[tuple[tuple[str, str, str, str], ...] | None, dict[str, str]]:
    """The "<Language> version" fieldsets: their texts and their errors (keyed by the form's
    field names). A language none of whose fields was posted is left as stored (None when
    no language was posted at all: a form from before the fieldsets existed)."""
    texts: dict[str, dict[str, str]] = {}
    errors: dict[str, str] = {}
    for lang in translated_languages():
        names = {f: translation_field(f, lang) for f in TEXT_FIELDS}
        if not any(name in data for name in names.values()):
            continue
        try:
            form = parse_form(TranslationForm, {f: data.get(n) for f, n in names.items()})
        except FormError as exc:
            errors.update({names[f]: m for f, m in exc.errors.items() if f in names})
            continue
        texts[lang] = {f: getattr(form, f) or "" for f in TEXT_FIELDS}
    return (translation_tuple(texts) if texts else None), errors


def parse_event_form(data: dict[str, Any]) -> EventData:
    """Validate the posted form; raises FormError with a message per field."""
    translations, text_errors = _parse_translations(data)
    try:
        form = parse_form(EventForm, data)
    except FormError as exc:
        # Still run the checks across fields (end after start, ...) on what did parse, so
        # the organizer sees every problem at once instead of one round trip per kind.
        rest = {k: v for k, v in data.items() if k not in exc.errors}
        try:
            _build(parse_form(EventForm, rest))
        except FormError as more:
            for field, message in more.errors.items():
                exc.errors.setdefault(field, message)
        exc.errors.update(text_errors)
        raise
    try:
        built = _build(form)
    except FormError as exc:
        exc.errors.update(text_errors)
        raise
    if text_errors:
        raise FormError(text_errors)
    return replace(built, translations=translations)


def event_date_range(today: date | None = None) -> tuple[date, date]:
    """The first and last day an event may start, end or close its RSVPs on."""
    today = today or datetime.now(UTC).date()
    try:
        latest = today.replace(year=today.year + MAX_YEARS_AHEAD)
    except ValueError:  # 29 February, ten years on, is usually not a day
        latest = today.replace(year=today.year + MAX_YEARS_AHEAD, day=28)
    return date(EARLIEST_EVENT_YEAR, 1, 1), latest


def _out_of_range(form: EventForm) -> dict[str, str]:
    """Each date field outside `event_date_range`, with the message shown next to it."""
    first, last = event_date_range()
    message = gettext("Choose a date from %(first)s to %(last)s (up to %(years)s years ahead).") \
        % {"first": first.isoformat(), "last": last.isoformat(), "years": MAX_YEARS_AHEAD}
    days = {"start_date": form.start_date, "end_date": form.end_date,
            "rsvp_deadline": form.rsvp_deadline.date() if form.rsvp_deadline else None}
    return {name: message for name, day in days.items()
            if day is not None and not first <= day <= last}


def _end_defaults(form: EventForm) -> bool:
    """Whether the end is left for us to fill: a timed event with no end time, ending (if a
    day is given at all) on its first day. It then lasts DEFAULT_LENGTH."""
    return (not form.all_day and form.end_time is None
            and form.end_date in (None, form.start_date))


def _skipped_time(local: datetime, tzid: str) -> str:
    return gettext("%(time)s does not exist on that day in %(timezone)s (the clocks skip "
                   "forward); pick another time.") % {"time": f"{local:%H:%M}", "timezone": tzid}


def _build(form: EventForm) -> EventData:
    errors: dict[str, str] = {}
    if form.start_date is None:
        errors["start_date"] = gettext("Enter the date the event starts.")
    default_end = _end_defaults(form)
    if not form.all_day:
        if form.start_time is None:
            errors["start_time"] = gettext("Enter the start time (or tick 'All day').")
        if form.end_time is None and not default_end:
            errors["end_time"] = gettext("Enter the end time (or leave the end date and time "
                                         "empty: the event then lasts an hour).")
    if (form.latitude is None) != (form.longitude is None):
        key = "longitude" if form.longitude is None else "latitude"
        errors[key] = gettext("Enter both latitude and longitude, or neither.")
    errors.update(_out_of_range(form))
    if errors:
        raise FormError(errors)
    assert form.start_date is not None

    if form.all_day:
        # All-day events run from local midnight to the midnight after the last day
        # (iCal's exclusive DTEND); the form asks for the inclusive last day.
        last_day = form.end_date or form.start_date
        if last_day < form.start_date:
            raise FormError({"end_date": gettext("The last day cannot be before the first day.")})
        local_start = datetime.combine(form.start_date, time.min)
        local_end = datetime.combine(last_day + timedelta(days=1), time.min)
    else:
        assert form.start_time
        local_start = datetime.combine(form.start_date, form.start_time)
        # An end time without an end date ends on the first day.
        local_end = datetime.combine(form.end_date or form.start_date,
                                     form.end_time or form.start_time)
    if not form.all_day:
        ends = (("end", local_end, form.end_occurrence),) if not default_end else ()
        for prefix, local, chosen in (("start", local_start, form.start_occurrence), *ends):
            if not chosen and _ambiguous(local, form.timezone):
                errors[f"{prefix}_occurrence"] = gettext(
                    "%(time)s happens twice on %(day)s in %(timezone)s (the clocks go back an "
                    "hour). Choose which one you mean and save again.") % {
                    "time": f"{local:%H:%M}", "day": f"{local:%Y-%m-%d}",
                    "timezone": form.timezone}
    try:
        starts_at = _to_utc(local_start, form.timezone, form.start_occurrence == "second")
    except ValueError:
        errors["start_time"] = _skipped_time(local_start, form.timezone)
    if default_end:
        ends_at = (starts_at + DEFAULT_LENGTH) if "start_time" not in errors else None
    else:
        try:
            ends_at = _to_utc(local_end, form.timezone, form.end_occurrence == "second")
        except ValueError:
            errors["end_time"] = _skipped_time(local_end, form.timezone)
    if errors:
        raise FormError(errors)
    assert ends_at is not None
    if ends_at <= starts_at:
        raise FormError({"end_time" if local_end.date() == local_start.date() else "end_date":
                         gettext("The event must end after it starts.")})

    deadline = None
    if form.rsvp_deadline is not None:
        try:
            deadline = _to_utc(form.rsvp_deadline, form.timezone)
        except ValueError:
            raise FormError({"rsvp_deadline": gettext(
                "That time does not exist on that day in %(timezone)s (the clocks skip "
                "forward).") % {"timezone": form.timezone}}) from None
        if deadline > ends_at:
            raise FormError({"rsvp_deadline": gettext(
                "The RSVP deadline must be before the event ends.")})

    copied = {name: getattr(form, name) for name in _COPIED_FIELDS}
    return EventData(
        **copied,
        starts_at=starts_at,
        ends_at=ends_at,
        max_guests=4 if form.max_guests is None else form.max_guests,
        rsvp_deadline=deadline,
    )


def warnings(data: EventData, now: datetime | None = None) -> dict[str, str]:
    """Things worth a second look that are not errors (the event is saved all the same):
    {field: message}. A start in the past is allowed (recording an event after the fact),
    but is more often a typo in the year or the month."""
    found: dict[str, str] = {}
    if data.starts_at < (now or datetime.now(UTC)):
        found["start_date"] = gettext("The start is in the past: the event is listed under "
                                      "past events and takes no RSVPs. Change the date if "
                                      "that is a mistake.")
    return found


def _fmt_float(value: float | None) -> str:
    """The shortest decimal that reads back as exactly this float (never an exponent), so
    saving the form unchanged never moves the map pin (and so never bumps SEQUENCE)."""
    return "" if value is None else format(Decimal(repr(value)), "f")


def _occurrence_of(instant: datetime, tzid: str) -> str:
    """"first"/"second" for an instant in a repeated hour, else "" (nothing to ask)."""
    try:
        local = instant.astimezone(ZoneInfo(tzid))
        ambiguous = _ambiguous(local.replace(tzinfo=None), tzid)
    except OverflowError:  # stored at the edge of time (see _wall_clock): nothing to ask
        return ""
    if not ambiguous:
        return ""
    return "second" if local.fold else "first"


def _wall_clock(instant: datetime, tz: ZoneInfo) -> datetime:
    """`instant` in the event's timezone; UTC where that would leave the years a datetime can
    hold (an event stored before dates were range-checked), so its form still opens and the
    date check then asks for a sane one."""
    try:
        return instant.astimezone(tz)
    except OverflowError:
        return instant.astimezone(UTC)


def translation_values(translations: dict[str, EventText]) -> dict[str, str]:
    """The "<Language> version" fieldsets' strings: every translation language's fields,
    empty where there is no text (so the form posts them all, and clearing them deletes)."""
    return {translation_field(f, lang): getattr(translations.get(lang), f, "") or ""
            for lang in translated_languages() for f in TEXT_FIELDS}


def form_values(event: Event, cohosts: list[str] | None = None,
                translations: dict[str, EventText] | None = None) -> dict[str, str]:
    """An existing event as the strings the form shows (wall-clock times in its timezone)."""
    tz = ZoneInfo(event.timezone)
    start = _wall_clock(event.starts_at, tz)
    end = _wall_clock(event.ends_at, tz)
    # An all-day event shows its inclusive last day (the stored end is the midnight after).
    end_date = all_day_last_day(start, end) if event.all_day else end.date()
    deadline = _wall_clock(event.rsvp_deadline, tz) if event.rsvp_deadline else None
    return {
        "title": event.title,
        "summary": event.summary,
        "description": event.description,
        "category": event.category,
        "timezone": event.timezone,
        "all_day": "on" if event.all_day else "",
        "start_date": start.date().isoformat(),
        "start_time": "" if event.all_day else start.strftime("%H:%M"),
        "start_occurrence": "" if event.all_day else _occurrence_of(event.starts_at,
                                                                    event.timezone),
        "end_date": end_date.isoformat(),
        "end_time": "" if event.all_day else end.strftime("%H:%M"),
        "end_occurrence": "" if event.all_day else _occurrence_of(event.ends_at, event.timezone),
        "venue_name": event.venue_name,
        "street_address": event.street_address,
        "city": event.city,
        "region": event.region,
        "postal_code": event.postal_code,
        "latitude": _fmt_float(event.latitude),
        "longitude": _fmt_float(event.longitude),
        "online_url": event.online_url,
        "join_link_private": "on" if event.join_link_private else "",
        "host_name": event.host_name,
        "capacity": "" if event.capacity is None else str(event.capacity),
        "max_guests": str(event.max_guests),
        "waitlist_enabled": "on" if event.waitlist_enabled else "",
        "rsvp_deadline": deadline.strftime("%Y-%m-%dT%H:%M") if deadline else "",
        "cohosts": ", ".join(cohosts or []),
        **translation_values(translations or {}),
    }


def blank_form_values() -> dict[str, str]:
    """Defaults for a new event."""
    return {
        "category": "meeting",
        "timezone": settings.DEFAULT_TIMEZONE,
        "max_guests": "4",
        "waitlist_enabled": "on",
    }


# --- The "Repeats" fieldset (the rule itself: services/series_rules.py) ---------------------

# What the fieldset shows before the organizer chose anything: no repetition; weekly and
# monthly choices follow the start date once there is one.
REPEAT_DEFAULTS: dict[str, str] = {"repeat": "none", "interval": "1", "monthly_by": "day",
                                   "ends": "until", "until": "", "count": ""}
NTH_CHOICES = (1, 2, 3, 4, 5, -1)  # "first" .. "fifth", "last" (series_rules.Rule.monthly_nth)
_ANY_MONDAY = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RepeatChoices:
    """Labels and default picks of the fieldset, worded for the start date entered (the form
    has no script: they are right after "Preview dates" or a failed save). The words are
    series_rules.describe's, so the choices read as the saved series will."""

    weekdays: list[tuple[str, str]]  # (value "0".."6", "Monday"...)
    monthly_day_label: str  # "On the 14th"
    nth_options: list[tuple[str, str]]  # (value "1".."5"/"-1", "On the second Tuesday")
    default_weekday: str  # the start date's weekday, ticked when none is
    default_nth: str  # the start date's place in its month ("2": second Tuesday)


def _words(rule: Rule, start: datetime, prefix: str) -> str:
    text = describe(rule, start).removeprefix(prefix)
    return text[:1].upper() + text[1:]


def repeat_choices(values: dict[str, Any]) -> RepeatChoices:
    try:
        day = date.fromisoformat(str(values.get("start_date", "")))
        start: datetime | None = datetime.combine(day, time(12), tzinfo=UTC)
    except ValueError:
        start = None
    # The day names in the reader's language (Babel), as the rule's words write them.
    weekdays = [(str(d), upper_first(weekday_name(_ANY_MONDAY.date() + timedelta(days=d))))
                for d in range(7)]
    if start is None:
        return RepeatChoices(
            weekdays=weekdays, monthly_day_label=gettext("On the first date's day of the month"),
            nth_options=[(str(n), gettext(label)) for n, label in zip(NTH_CHOICES, (
                N_("On the first (of the first date's weekday)"),
                N_("On the second (of the first date's weekday)"),
                N_("On the third (of the first date's weekday)"),
                N_("On the fourth (of the first date's weekday)"),
                N_("On the fifth (of the first date's weekday)"),
                N_("On the last (of the first date's weekday)")), strict=True)],
            default_weekday="", default_nth="1")
    nth = (start.day - 1) // 7 + 1
    return RepeatChoices(
        weekdays=weekdays,
        monthly_day_label=_words(Rule("monthly", count=1), start, "Repeats monthly "),
        nth_options=[(str(n), _words(Rule("monthly", monthly_nth=n, count=1), start,
                                     "Repeats monthly ")) for n in NTH_CHOICES],
        default_weekday=str(start.weekday()),
        # A fifth weekday is the month's last: "last Friday" is what a fifth Friday means.
        default_nth="-1" if nth == 5 else str(nth),
    )


def local_start(values: dict[str, Any]) -> datetime | None:
    """The wall-clock start entered (aware, in its timezone) if date, time and timezone read
    and the date is one an event may have, else None: what "Preview dates" counts from while
    other fields may still be unfinished."""
    tzid = str(values.get("timezone", ""))
    if not is_timezone(tzid):
        return None
    try:
        day = date.fromisoformat(str(values.get("start_date", "")))
        clock = time.min if values.get("all_day") else \
            time.fromisoformat(str(values.get("start_time", "")))
    except ValueError:
        return None
    first, last = event_date_range()
    if not first <= day <= last:  # the date field says so; no rule counts from year 9999
        return None
    fold = int(values.get("start_occurrence") == "second")
    return datetime.combine(day, clock, tzinfo=ZoneInfo(tzid)).replace(fold=fold)


def repeat_values(rule: Rule) -> dict[str, Any]:
    """A series' rule (series_rules.Rule) as the fieldset shows it, to change it."""
    return {
        "repeat": rule.freq,
        "interval": str(rule.interval),
        "weekday": [str(d) for d in rule.weekdays],
        "monthly_by": "weekday" if rule.monthly_nth is not None else "day",
        "monthly_nth": "" if rule.monthly_nth is None else str(rule.monthly_nth),
        "ends": "count" if rule.count is not None else "until",
        "until": rule.until.isoformat() if rule.until is not None else "",
        "count": "" if rule.count is None else str(rule.count),
    }
