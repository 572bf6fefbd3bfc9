"""iCalendar (RFC 5545) rendering: one event for e-mail attachments and downloads, feeds.

Subscribed calendars (Google, Apple, Outlook, Thunderbird) only follow changes they can match:
UID is the event's stored UID (never derived from title or slug), SEQUENCE is the counter the
organizer workspace bumps on time/place/status edits, and cancelled events stay in the feed
with STATUS:CANCELLED for a while so clients drop or mark their copy instead of keeping it.

Output is deterministic for the same data (DTSTAMP comes from the row, not the clock), so every
worker process renders byte-identical feeds and an ETag computed from the bytes agrees across
processes. No attendee data is ever read here. Which events a feed holds is decided in
feeds.py; VTIMEZONEs come from vtimezone.py.

Event text in the reader's language (services/event_text.py): a feed is in one language (its
URL's `?lang=`, or the e-mail recipient's), and each VEVENT has exactly one SUMMARY and one
DESCRIPTION in it, with the site default's text where no translation was given. RFC 5545
allows one SUMMARY per VEVENT, so one SUMMARY;LANGUAGE=xx line per language is not an option:
a reader shows one of them, not necessarily its user's. Nor is one feed holding every language:
the reader chose one when subscribing (the subscribe links carry the page's language), and the
calendar app cannot choose for them. So the LANGUAGE parameter (3.2.10) marks only what is
not in the feed's language, as lang= marks fallback text in a page: SUMMARY;LANGUAGE=en when a
Spanish feed falls back to the English title, DESCRIPTION;LANGUAGE=en when the event's own
words in it (summary and description) all fall back; it names the language of the event's
words even where a fixed prefix ("Cancelled:") is in the feed's. Outlook writes
SUMMARY;LANGUAGE=en-us itself, and the four readers of tests/ical_readers.py show such text as
usual. Text in the feed's own language carries no parameter, so a feed in the default
language, which never falls back, is byte for byte what it was before translations existed.
The VEVENT caches key on the texts and their languages (`FeedEntry.text`), so an edited
translation renders afresh and the feed's ETag changes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import icalendar
from icalendar.parser.string import _foldline
from icalendar.timezone.tzid import tzid_from_tzinfo

from events_app import i18n, settings, urls
from events_app.i18n import gettext
from events_app.models import Event, EventStatus, category_label
from events_app.services.event_text import cancel_message
from events_app.services.vtimezone import add_timezones, wall_time
from events_app.timefmt import all_day_last_day
from events_app.util.forms import strip_control_chars
from events_app.util.lru import LruCache

if TYPE_CHECKING:
    from events_app.services.event_text import LocalText

PRODID = "-//events_app//Events calendar//EN"
REFRESH = timedelta(hours=1)

# RFC 5545 3.3.11: TEXT may not hold control characters other than HTAB (newlines are escaped
# as \n by the serializer); a stray \r or \x00 from a pasted description would break parsers.
# Line endings become \n first, then forms' one control-character rule drops the rest.


def clean_text(text: str) -> str:
    """Normalise line endings to \\n and drop control characters a strict parser rejects."""
    return strip_control_chars(text.replace("\r\n", "\n").replace("\r", "\n"))


def parameter_text(text: str) -> str:
    """Text for a parameter value such as CN: one line, no double quotes.

    Parameter values cannot hold newlines or DQUOTE except through RFC 6868's ^n/^' codes,
    which many clients show literally; a display name loses nothing by becoming one line
    with ' for ".
    """
    return " ".join(clean_text(text).split()).replace('"', "'")


def event_url(event: Event) -> str:
    return urls.event_url(event.slug)


def rsvp_url(event: Event) -> str:
    """The RSVP form lives on the event page; the fragment jumps to it."""
    return f"{event_url(event)}#rsvp"


def ics_filename(event: Event) -> str:
    """A download name safe inside a quoted Content-Disposition header, whatever the slug."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", event.slug).strip("-.")[:80] + ".ics"


def _organizer_address() -> str:
    """ORGANIZER must be a cal-address (a URI), and RFC 5546 requires it with METHOD:PUBLISH.

    The host is often a person, so their own e-mail never goes here: the site's sender address
    (the one confirmation e-mails come from) is a role address that already is public.
    """
    return f"mailto:{settings.MAIL_FROM}"


def _location(entry: FeedEntry) -> str:
    event = entry.event
    parts = [event.venue_name, event.address_line]
    text = ", ".join(p for p in parts if p)
    return text or entry.join_url or (gettext("Online") if event.online_url else "")


def _summary(entry: FeedEntry) -> str:
    """The title as the reader's calendar shows it: marked when cancelled or waitlisted (most
    apps don't show STATUS:CANCELLED or TENTATIVE at all)."""
    title = clean_text(entry.title)
    if entry.is_cancelled:
        return gettext("Cancelled: %(title)s") % {"title": title}
    if entry.waitlisted:
        return gettext("%(title)s (waitlist)") % {"title": title}
    return title


def category_text(slug: str) -> str:
    """A category's name in the reader's language (CATEGORIES' labels are catalog entries)."""
    return gettext(category_label(slug))


def _description(entry: FeedEntry) -> str:
    event = entry.event
    paragraphs: list[str] = []
    if entry.note:
        paragraphs.append(entry.note)
    if event.is_cancelled:
        paragraphs.append(gettext("This event has been cancelled.") + (
            f" {cancel_message(event.cancel_message)}" if event.cancel_message else ""))
    elif entry.withdrawn:
        paragraphs.append(gettext("Your RSVP was cancelled, so this event is off your calendar."))
    elif event.status == EventStatus.DRAFT:
        paragraphs.append(gettext("This event is no longer on the calendar."))
    if entry.summary:
        paragraphs.append(entry.summary)
    if entry.description:
        paragraphs.append(entry.description)
    if entry.join_url:
        paragraphs.append(gettext("Join online: %(url)s") % {"url": entry.join_url})
    elif event.online_url:
        paragraphs.append(gettext("Online: the join link is sent to confirmed attendees."))
    paragraphs.append(gettext("Event page: %(url)s") % {"url": event_url(event)})
    if not entry.is_cancelled:
        paragraphs.append(gettext("RSVP: %(url)s") % {"url": rsvp_url(event)})
    return clean_text("\n\n".join(paragraphs))


def _local_date(instant: datetime, tzid: str) -> datetime:
    """Wall-clock time in tzid, or in UTC for an instant at the edge of datetime's range."""
    try:
        return instant.astimezone(ZoneInfo(tzid))
    except (OverflowError, ValueError):
        return instant.astimezone(UTC)


def _all_day_dates(event: Event) -> tuple[date, date | None]:
    """Local first day and exclusive end day; the end is at least one day after the start.
    None when that day would be past 9999-12-31 (no DTEND then means one day)."""
    start = _local_date(event.starts_at, event.timezone)
    last = all_day_last_day(start, _local_date(event.ends_at, event.timezone))
    return start.date(), (last + timedelta(days=1) if last < date.max else None)


def _zoned(instant: datetime, tzid: str) -> datetime:
    """The instant as wall-clock time with TZID, or in UTC (the Z form) where wall-clock
    time would not say it to every reader (see vtimezone.wall_time)."""
    local = wall_time(instant, tzid)
    return instant.astimezone(UTC) if local is None else local


@dataclass(frozen=True)
class FeedEntry:
    """An event placed in a calendar, with what the personal feed and the e-mails add: the
    reader's place (`note`, `waitlisted`), and for an e-mailed invitation update the
    recipient (`attendee`, `attendee_name`), whether it is a cancellation for them alone
    (`withdrawn`) and how far its SEQUENCE is above the event's (`sequence_bump`)."""

    event: Event
    note: str = ""
    waitlisted: bool = False
    attendee: str = ""
    attendee_name: str = ""
    withdrawn: bool = False
    sequence_bump: int = 0
    confirmed_reader: bool = False  # a confirmed attendee's copy: carries a private join link
    # A recurring series' VEVENTs (services/ical_series.py): the series' UID instead of the
    # row's; the master's RRULE and EXDATEs; an override's RECURRENCE-ID. The dates are
    # written as given (wall-clock time with its zone, UTC, or a date).
    uid: str = ""
    rrule: str = ""
    exdates: tuple[datetime | date, ...] = ()
    recurrence_id: datetime | date | None = None
    # The event's title, summary and description in the feed's language (None: the row's
    # own, in the site default): services/event_text.texts_for.
    text: LocalText | None = None

    @property
    def title(self) -> str:
        return self.event.title if self.text is None else self.text.title

    @property
    def summary(self) -> str:
        return self.event.summary if self.text is None else self.text.summary

    @property
    def description(self) -> str:
        return self.event.description if self.text is None else self.text.description

    def text_key(self) -> tuple | None:
        """What `text` adds to a cache key beyond the row's own columns: the languages, and
        only the fields that are translations (a fallback field is the row's, already in the
        key; hashing it twice cost a fifth more on a warm 2,000-event re-render). None for
        the default language: its text is the row's, rendered as without `text`."""
        if self.text is None or self.text.language == settings.DEFAULT_LANGUAGE:
            return None
        key: list[str | None] = [self.text.language]
        for field in ("title", "summary", "description"):
            lang = getattr(self.text, f"{field}_lang")
            key += [lang, None if lang == settings.DEFAULT_LANGUAGE else getattr(self.text, field)]
        return tuple(key)

    def language_of(self, field: str) -> str | None:
        """The LANGUAGE parameter of SUMMARY ("title") or DESCRIPTION ("description"): the
        language of the event's own words in it when that is not the feed's (a fallback),
        else None (see the module docstring)."""
        if self.text is None:
            return None
        if field == "title":
            return self.text.fallback("title")
        shown = [f for f in ("summary", "description") if getattr(self, f)]
        marks = {self.text.fallback(f) for f in shown}
        return marks.pop() if len(marks) == 1 and None not in marks else None

    @property
    def join_url(self) -> str:
        return self.event.join_url_for(self.confirmed_reader and not self.is_cancelled)

    @property
    def is_cancelled(self) -> bool:
        """Cancelled for this reader: a cancelled event; one unpublished after publication
        (feeds keep it as cancelled so subscribed calendars drop it, see services/feeds.py); or a
        cancellation sent to one attendee."""
        return self.event.is_cancelled or self.withdrawn or (
            self.event.status == EventStatus.DRAFT)


def build_vevent(entry: FeedEntry | Event) -> icalendar.Event:
    """One VEVENT."""
    entry = entry if isinstance(entry, FeedEntry) else FeedEntry(entry)
    event = entry.event
    cancelled = entry.is_cancelled
    ev = icalendar.Event()
    ev.add("UID", entry.uid or event.uid)
    if entry.recurrence_id is not None:
        ev.add("RECURRENCE-ID", entry.recurrence_id)
    if entry.rrule:
        ev.add("RRULE", icalendar.vRecur.from_ical(entry.rrule))
    for exdate in entry.exdates:  # one line each: see _recurrence_lines
        ev.add("EXDATE", exdate)
    ev.add("DTSTAMP", event.updated_at.astimezone(UTC))
    ev.add("CREATED", event.created_at.astimezone(UTC))
    ev.add("LAST-MODIFIED", event.updated_at.astimezone(UTC))
    ev.add("SEQUENCE", event.sequence + entry.sequence_bump)
    if event.all_day:
        first, end = _all_day_dates(event)
        ev.add("DTSTART", first)
        if end is not None:
            ev.add("DTEND", end)
    else:
        ev.add("DTSTART", _zoned(event.starts_at, event.timezone))
        ev.add("DTEND", _zoned(event.ends_at, event.timezone))
    for prop, value, field in (("SUMMARY", _summary(entry), "title"),
                               ("DESCRIPTION", _description(entry), "description")):
        language = entry.language_of(field)
        ev.add(prop, value, parameters={"LANGUAGE": language} if language else None)
    location = _location(entry)
    if location:
        ev.add("LOCATION", clean_text(location))
    if event.latitude is not None and event.longitude is not None:
        ev.add("GEO", (event.latitude, event.longitude))
    ev.add("URL", event_url(event))
    ev.add("CATEGORIES", [clean_text(category_text(event.category))])
    ev.add("ORGANIZER", _organizer_address(),
           parameters={"CN": parameter_text(event.host_name or settings.SITE_NAME)})
    if entry.attendee:
        # RFC 5546 REQUEST and CANCEL name the attendees concerned; Outlook and Gmail match
        # the update to the recipient's copy by UID and this address.
        params = {"PARTSTAT": "DECLINED" if entry.withdrawn else "ACCEPTED",
                  "RSVP": "FALSE", "ROLE": "REQ-PARTICIPANT"}
        if entry.attendee_name:
            params["CN"] = parameter_text(entry.attendee_name)
        ev.add("ATTENDEE", f"mailto:{entry.attendee}", parameters=params)
    ev.add("CLASS", "PUBLIC")
    if cancelled:
        ev.add("STATUS", "CANCELLED")
    else:
        ev.add("STATUS", "TENTATIVE" if entry.waitlisted else "CONFIRMED")
    # All-day and cancelled events should not block the reader's free/busy time.
    ev.add("TRANSP", "TRANSPARENT" if event.all_day or cancelled else "OPAQUE")
    return ev


# Rendered VEVENTs keyed by a digest of every column of the row plus the personal-feed
# extras: an edit to any field makes a new key, so a feed re-rendered after one edit
# re-serialises only that event (~0.5 ms an event; a 2,000-event feed would take a second).
# The digest, not the values, is the key, so long descriptions are not held twice.
_vevent_cache: LruCache[bytes, bytes] = LruCache(  # 6 MB with keys: see listing_cache.MAX_BYTES
    max_entries=10_000, max_weight=6 * 1024 * 1024, weigh=lambda vevent: len(vevent) + 160)
_END = b"END:VCALENDAR\r\n"


def clear_vevent_cache() -> None:
    """Forget rendered VEVENTs (benchmarks measure cold renders with it)."""
    _vevent_cache.clear()


def _vevent_bytes(entry: FeedEntry) -> bytes:
    extras = (*(getattr(entry, f.name) for f in fields(entry) if f.name not in ("event", "text")),
              entry.text_key())
    # The language too: the fixed texts (DESCRIPTION's lines, "Cancelled:") are in it.
    values = (i18n.current(), extras, tuple(entry.event.model_dump().values()))
    key = hashlib.blake2b(repr(values).encode(), digest_size=20).digest()
    cached = _vevent_cache.get(key)
    if cached is None:
        cached = vevent_ical(entry)
        _vevent_cache.put(key, cached)
    return cached


# --- The VEVENT serialised directly ------------------------------------------------------------
# icalendar builds a component tree and folds every line a character at a time: ~0.4 ms an
# event, so a cold 2,000-event feed took most of a second of CPU. Feeds write the same few
# properties every time, so they are written here as text, line by line, in exactly
# icalendar's output (its property order, escaping, date formats and folding):
# tests/test_ical_fast.py compares the two byte for byte over generated events, so an
# icalendar upgrade that changes its output is caught there. E-mails to one attendee
# (ATTENDEE with its parameters) are rare and keep the component path.

def _text(value: str) -> str:
    """RFC 5545 TEXT escaping, in icalendar's order (see icalendar.parser.string)."""
    return (value.replace("\\N", "\n").replace("\\", "\\\\").replace(";", "\\;")
            .replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
            .replace("\r", "\\n"))


def _fold(line: str) -> str:
    """RFC 5545 folding as icalendar does it: 74 octets a line (75 with the leading space of
    a continuation), never right after a backslash or caret that starts an escape. ASCII
    lines are cut in slices; others go through icalendar's own folding."""
    if not line.isascii():
        return _foldline(line)
    if len(line) <= 74:
        return line
    pieces = []
    start, end = 0, len(line)
    while end - start > 74:
        cut = start + 74
        if line[cut - 1] in "\\^":
            cut -= 1
        pieces.append(line[start:cut])
        start = cut
    pieces.append(line[start:])
    return "\r\n ".join(pieces)


def _utc_stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _dt_line(name: str, value: datetime | date) -> str:
    if not isinstance(value, datetime):
        return f"{name};VALUE=DATE:{value.year:04d}{value.month:02d}{value.day:02d}"
    stamp = (f"{value.year:04d}{value.month:02d}{value.day:02d}"
             f"T{value.hour:02d}{value.minute:02d}{value.second:02d}")
    tzid = _tzid(value.tzinfo)
    return f"{name}:{stamp}Z" if tzid == "UTC" else f"{name};TZID={tzid}:{stamp}"


def written_in_utc(tzid: str) -> bool:
    """Whether times in this zone are written in UTC (a Z) rather than with a TZID."""
    return (wall_time(datetime(2000, 1, 3, 12, tzinfo=UTC), tzid) is None
            or _tzid(ZoneInfo(tzid)) == "UTC")


@lru_cache(maxsize=1024)
def _tzid(zone: tzinfo | None) -> str | None:
    """The TZID icalendar writes for a zone ("UTC", written with a Z, for GMT and its kin)."""
    return tzid_from_tzinfo(zone)


_organizer_lines: LruCache[str, str] = LruCache(max_entries=1000)


def _organizer_line(cn: str) -> str:
    """The ORGANIZER line, folded, with its CN parameter (quoting rules and RFC 6868
    escapes): few distinct hosts, so icalendar writes each once."""
    line = _organizer_lines.get(cn)
    if line is None:
        ev = icalendar.Event()
        ev.add("ORGANIZER", _organizer_address(), parameters={"CN": cn})
        text = ev.to_ical().decode()  # BEGIN:VEVENT, the (folded) line, END:VEVENT
        line = text[text.index("\r\n") + 2: text.rindex("\r\nEND:VEVENT")]
        _organizer_lines.put(cn, line)
    return line


def _recurrence_lines(entry: FeedEntry, sequence: int) -> list[str]:
    """RECURRENCE-ID, SEQUENCE, RRULE and EXDATE in icalendar's order. Each EXDATE is a
    line of its own, as vtimezone.py writes RDATEs: some readers take only the first value
    of a list, which would bring back every other skipped date."""
    lines = []
    if entry.recurrence_id is not None:
        lines.append(_dt_line("RECURRENCE-ID", entry.recurrence_id))
    lines.append(f"SEQUENCE:{sequence}")
    if entry.rrule:
        lines.append("RRULE:" + icalendar.vRecur.from_ical(entry.rrule).to_ical().decode())
    lines += [_dt_line("EXDATE", exdate) for exdate in entry.exdates]
    return lines


def _with_language(name: str, entry: FeedEntry, field: str) -> str:
    """The property's name with its LANGUAGE parameter, if any (a language tag needs no
    quoting)."""
    language = entry.language_of(field)
    return f"{name};LANGUAGE={language}" if language else name


def vevent_ical(entry: FeedEntry) -> bytes:
    """build_vevent(entry).to_ical(), without building the component (see above)."""
    if entry.attendee:
        return build_vevent(entry).to_ical()
    event = entry.event
    cancelled = entry.is_cancelled
    title = _summary(entry)
    if event.all_day:
        first, end = _all_day_dates(event)
        dates = [_dt_line("DTSTART", first)] + ([_dt_line("DTEND", end)] if end else [])
    else:
        dates = [_dt_line("DTSTART", _zoned(event.starts_at, event.timezone)),
                 _dt_line("DTEND", _zoned(event.ends_at, event.timezone))]
    lines = ["BEGIN:VEVENT", f"{_with_language('SUMMARY', entry, 'title')}:{_text(title)}",
             *dates,
             f"DTSTAMP:{_utc_stamp(event.updated_at)}", f"UID:{_text(entry.uid or event.uid)}",
             *_recurrence_lines(entry, event.sequence + entry.sequence_bump),
             f"CATEGORIES:{_text(clean_text(category_text(event.category)))}",
             "CLASS:PUBLIC",
             f"CREATED:{_utc_stamp(event.created_at)}",
             f"{_with_language('DESCRIPTION', entry, 'description')}:"
             f"{_text(_description(entry))}"]
    if event.latitude is not None and event.longitude is not None:
        lines.append(f"GEO:{float(event.latitude)};{float(event.longitude)}")
    lines.append(f"LAST-MODIFIED:{_utc_stamp(event.updated_at)}")
    location = _location(entry)
    if location:
        lines.append(f"LOCATION:{_text(clean_text(location))}")
    lines.append(_organizer_line(parameter_text(event.host_name or settings.SITE_NAME)))
    organizer = len(lines) - 1  # already folded
    if cancelled:
        lines.append("STATUS:CANCELLED")
    else:
        lines.append("STATUS:TENTATIVE" if entry.waitlisted else "STATUS:CONFIRMED")
    lines.append("TRANSP:TRANSPARENT" if event.all_day or cancelled else "TRANSP:OPAQUE")
    lines.append(f"URL:{event_url(event)}")
    lines.append("END:VEVENT\r\n")
    return "\r\n".join(line if i == organizer else _fold(line)
                         for i, line in enumerate(lines)).encode()


def calendar_shell(events: Sequence[Event], name: str, description: str,
                   method: str = "PUBLISH") -> icalendar.Calendar:
    """The VCALENDAR with its properties and the VTIMEZONEs these events need, no VEVENTs."""
    cal = icalendar.Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", PRODID)
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", method)
    # RFC 7986 NAME/DESCRIPTION plus the X-WR- forms older clients read. All are TEXT, but
    # icalendar has no registered type for NAME and X- properties and would write them
    # unescaped (a newline even aborts serialisation): wrap them as vText explicitly. And
    # say VALUE=TEXT: ical.js and icalendar leave an untyped X- or NAME value escaped, so a
    # comma in a name would show as "\," there.
    for prop, text in (("NAME", name), ("X-WR-CALNAME", name),
                       ("DESCRIPTION", description), ("X-WR-CALDESC", description)):
        params = {} if prop == "DESCRIPTION" else {"VALUE": "TEXT"}
        cal.add(prop, icalendar.vText(clean_text(text)), parameters=params)
    cal.add("X-WR-TIMEZONE", icalendar.vText(settings.DEFAULT_TIMEZONE),
            parameters={"VALUE": "TEXT"})
    cal.add("REFRESH-INTERVAL", icalendar.vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("X-PUBLISHED-TTL", icalendar.vDuration(REFRESH))
    add_timezones(cal, events)
    return cal


def render_calendar(entries: Iterable[FeedEntry | Event], name: str, description: str,
                    method: str = "PUBLISH", timed: Sequence[Event] | None = None) -> bytes:
    """The complete iCalendar text: the shell, then each VEVENT's (cached) serialisation.

    A component serialises as its own lines followed by its subcomponents', so splicing the
    VEVENT bytes before END:VCALENDAR gives exactly what serialising the full tree would.
    `timed`: the events whose times the VTIMEZONEs must cover, when the entries' own do not
    say them all (a series' master stands for instances up to its UNTIL).
    """
    items = [e if isinstance(e, FeedEntry) else FeedEntry(e) for e in entries]
    zoned = [i.event for i in items] if timed is None else timed
    shell = calendar_shell(zoned, name, description, method).to_ical()
    assert shell.endswith(_END)
    return b"".join([shell[: -len(_END)], *(_vevent_bytes(i) for i in items), _END])


def event_ics(event: Event, confirmed_reader: bool = False, text: LocalText | None = None
              ) -> bytes:
    """A complete VCALENDAR for one event: the per-event download and the confirmation's
    attachment (METHOD:PUBLISH: the reader adds it to their calendar as is), which alone
    (`confirmed_reader`) carries a join link kept for confirmed attendees. `text`: the
    event's text in the file's language."""
    entry = FeedEntry(event, confirmed_reader=confirmed_reader, text=text)
    return render_calendar([entry], name=entry.title,
                           description=f"{entry.title} ({settings.SITE_NAME})")


def attendee_ics(event: Event, method: str, email: str, name: str = "",
                 withdrawn: bool = False, text: LocalText | None = None) -> bytes:
    """The .ics an e-mail to one attendee carries to move or remove their calendar entry.

    RFC 5546 METHOD:REQUEST (an update: new time or place) or METHOD:CANCEL, with the
    ORGANIZER and the recipient as ATTENDEE, which Apple Mail, Gmail and Outlook need before
    they offer to update or remove the entry with that UID. The SEQUENCE must be above the one
    the reader has: an event's own cancellation or edit already raised it; a cancellation of
    one attendee's place (`withdrawn`) changes nothing for anyone else, so it is one above.
    """
    entry = FeedEntry(event, attendee=email, attendee_name=name, withdrawn=withdrawn,
                      sequence_bump=1 if withdrawn else 0, confirmed_reader=not withdrawn,
                      text=text)
    return render_calendar([entry], name=entry.title,
                           description=f"{entry.title} ({settings.SITE_NAME})", method=method)
