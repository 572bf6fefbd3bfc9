"""iCalendar (RFC 5545) output: one event for e-mail attachments and downloads, whole feeds.

Subscribed calendars (Google, Apple, Outlook, Thunderbird) only follow changes they can match:
UID is the event's stored UID (never derived from title or slug), SEQUENCE is the counter the
organizer workspace bumps on time/place/status edits, and cancelled events stay in the feed
with STATUS:CANCELLED for a while so clients drop or mark their copy instead of keeping it.

Output is deterministic for the same data (DTSTAMP comes from the row, not the clock), so every
worker process renders byte-identical feeds and an ETag computed from the bytes agrees across
processes. No attendee data is ever read here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from urllib.parse import quote
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from events_app import settings
from events_app.models import Event, EventStatus, Rsvp, RsvpStatus, category_label

PRODID = "-//events_app//Events calendar//EN"
# How far back a feed reaches, and how long a cancelled event stays in it.
PAST_DAYS = 30
CANCELLED_KEEP_DAYS = 30
REFRESH = timedelta(hours=1)

# RFC 5545 3.3.11: TEXT may not hold control characters other than HTAB (newlines are escaped
# as \n by the serializer); a stray \r or \x00 from a pasted description would break parsers.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Normalise line endings to \\n and drop control characters a strict parser rejects."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def event_url(event: Event) -> str:
    return f"{settings.BASE_URL}/events/{quote(event.slug)}"


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


def _location(event: Event) -> str:
    parts = [event.venue_name, event.address_line]
    text = ", ".join(p for p in parts if p)
    return text or event.online_url


def _description(event: Event, note: str = "") -> str:
    paragraphs: list[str] = []
    if note:
        paragraphs.append(note)
    if event.is_cancelled:
        paragraphs.append("This event has been cancelled." + (
            f" {event.cancel_message}" if event.cancel_message else ""))
    if event.summary:
        paragraphs.append(event.summary)
    if event.description:
        paragraphs.append(event.description)
    if event.online_url:
        paragraphs.append(f"Join online: {event.online_url}")
    paragraphs.append(f"Event page: {event_url(event)}")
    if not event.is_cancelled:
        paragraphs.append(f"RSVP: {rsvp_url(event)}")
    return clean_text("\n\n".join(paragraphs))


def _all_day_dates(event: Event) -> tuple[date, date]:
    """Local first day and exclusive end day; the end is at least one day after the start."""
    start = event.starts_at.astimezone(ZoneInfo(event.timezone))
    end = event.ends_at.astimezone(ZoneInfo(event.timezone))
    end_day = end.date() if end.time() == time.min else end.date() + timedelta(days=1)
    return start.date(), max(end_day, start.date() + timedelta(days=1))


def _zoned(instant: datetime, tzid: str) -> datetime:
    """The instant as wall-clock time with TZID, or in UTC where wall-clock time can't say it.

    RFC 5545 3.3.5: a local time that occurs twice (the hour repeated when DST ends) means
    its first occurrence. An event in the repeated hour's second pass would silently move an
    hour earlier, so that instant is written in UTC (the Z form) instead.
    """
    local = instant.astimezone(ZoneInfo(tzid))
    if local.replace(fold=0).astimezone(UTC) != instant.astimezone(UTC):
        return instant.astimezone(UTC)
    return local


def build_vevent(event: Event, note: str = "", tentative: bool = False) -> icalendar.Event:
    """One VEVENT; `note` and `tentative` serve the personal feed (e.g. a waitlisted place)."""
    ev = icalendar.Event()
    ev.add("UID", event.uid)
    ev.add("DTSTAMP", event.updated_at.astimezone(UTC))
    ev.add("CREATED", event.created_at.astimezone(UTC))
    ev.add("LAST-MODIFIED", event.updated_at.astimezone(UTC))
    ev.add("SEQUENCE", event.sequence)
    if event.all_day:
        first, end = _all_day_dates(event)
        ev.add("DTSTART", first)
        ev.add("DTEND", end)
    else:
        ev.add("DTSTART", _zoned(event.starts_at, event.timezone))
        ev.add("DTEND", _zoned(event.ends_at, event.timezone))
    title = clean_text(event.title)
    ev.add("SUMMARY", f"Cancelled: {title}" if event.is_cancelled else title)
    ev.add("DESCRIPTION", _description(event, note))
    location = _location(event)
    if location:
        ev.add("LOCATION", clean_text(location))
    if event.latitude is not None and event.longitude is not None:
        ev.add("GEO", (event.latitude, event.longitude))
    ev.add("URL", event_url(event))
    ev.add("CATEGORIES", [clean_text(category_label(event.category))])
    ev.add("ORGANIZER", _organizer_address(),
           parameters={"CN": clean_text(event.host_name or settings.SITE_NAME)})
    ev.add("CLASS", "PUBLIC")
    if event.is_cancelled:
        ev.add("STATUS", "CANCELLED")
    else:
        ev.add("STATUS", "TENTATIVE" if tentative else "CONFIRMED")
    # All-day and cancelled events should not block the reader's free/busy time.
    ev.add("TRANSP", "TRANSPARENT" if event.all_day or event.is_cancelled else "OPAQUE")
    return ev


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
def _vtimezone(tzid: str, first_year: int, last_year: int) -> icalendar.Timezone:
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


def _add_timezones(cal: icalendar.Calendar, events: Sequence[Event]) -> None:
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
        cal.add_component(_vtimezone(tzid, first - 1, last + 2))


@dataclass(frozen=True)
class FeedEntry:
    """An event placed in a feed, with what the personal feed adds about the reader's place."""

    event: Event
    note: str = ""
    tentative: bool = False


def build_calendar(entries: Iterable[FeedEntry | Event], name: str, description: str,
                   method: str = "PUBLISH") -> icalendar.Calendar:
    items = [e if isinstance(e, FeedEntry) else FeedEntry(e) for e in entries]
    cal = icalendar.Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", PRODID)
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", method)
    # RFC 7986 NAME/DESCRIPTION plus the X-WR- forms older clients read. All are TEXT, but
    # icalendar has no registered type for NAME and X- properties and would write them
    # unescaped (a newline even aborts serialisation): wrap them as vText explicitly.
    for prop, text in (("NAME", name), ("X-WR-CALNAME", name),
                       ("DESCRIPTION", description), ("X-WR-CALDESC", description)):
        cal.add(prop, icalendar.vText(clean_text(text)))
    cal.add("X-WR-TIMEZONE", icalendar.vText(settings.DEFAULT_TIMEZONE))
    cal.add("REFRESH-INTERVAL", icalendar.vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("X-PUBLISHED-TTL", icalendar.vDuration(REFRESH))
    _add_timezones(cal, [i.event for i in items])
    for item in items:
        cal.add_component(build_vevent(item.event, item.note, item.tentative))
    return cal


def event_ics(event: Event) -> bytes:
    """A complete VCALENDAR for one event: e-mail attachments and the per-event download."""
    cal = build_calendar([event], name=event.title,
                         description=f"{event.title} ({settings.SITE_NAME})")
    return cal.to_ical()


# --- Which events a feed holds ---------------------------------------------------------------

@dataclass(frozen=True)
class FeedFilter:
    """A public feed's filters in canonical form: sorted and de-duplicated, so each filtered
    feed has one stable URL and one cache entry whatever order the parameters came in."""

    categories: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()

    @classmethod
    def of(cls, categories: Iterable[str], cities: Iterable[str]) -> FeedFilter:
        cats = sorted({c.strip() for c in categories if c.strip()})
        # Cities match case-insensitively (as on the list page); keep one spelling per city.
        by_lower: dict[str, str] = {}
        for c in cities:
            c = c.strip()
            if c:
                by_lower.setdefault(c.lower(), c)
        return cls(tuple(cats), tuple(by_lower[k] for k in sorted(by_lower)))

    @property
    def is_empty(self) -> bool:
        return not (self.categories or self.cities)

    def key(self) -> str:
        return "c=" + ",".join(self.categories) + ";t=" + ",".join(c.lower() for c in self.cities)


def window_start(now: datetime) -> datetime:
    """Start of the feed window: midnight UTC, PAST_DAYS ago.

    Rounded to the day so the window (and so the cached feed) changes once a day, not on
    every request: events leave the feed between PAST_DAYS and PAST_DAYS + 1 days after they
    end, and cancelled events the same after their cancellation.
    """
    today = datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)
    return today - timedelta(days=PAST_DAYS)


def _visible_conditions(now: datetime) -> list:
    cutoff = window_start(now)
    cancel_cutoff = cutoff + timedelta(days=PAST_DAYS - CANCELLED_KEEP_DAYS)
    cancelled_since = func.coalesce(Event.cancelled_at, Event.updated_at)
    return [
        col(Event.ends_at) >= cutoff,
        or_(
            Event.status == EventStatus.PUBLISHED.value,
            (Event.status == EventStatus.CANCELLED.value) & (cancelled_since >= cancel_cutoff),
        ),
    ]


def feed_events(session: Session, flt: FeedFilter, now: datetime) -> list[Event]:
    """Published events from the window start on, plus recently cancelled ones; never drafts."""
    conds = _visible_conditions(now)
    if flt.categories:
        conds.append(col(Event.category).in_(flt.categories))
    if flt.cities:
        conds.append(func.lower(Event.city).in_([c.lower() for c in flt.cities]))
    stmt = select(Event).where(*conds).order_by(col(Event.starts_at), col(Event.id))
    return list(session.exec(stmt).all())


def feed_title(flt: FeedFilter) -> tuple[str, str]:
    """Calendar name and description; a filtered feed says what it is filtered to."""
    scope = ", ".join([*(category_label(c) for c in flt.categories), *flt.cities])
    name = f"{settings.SITE_NAME} ({scope})" if scope else settings.SITE_NAME
    return name, settings.SITE_DESCRIPTION


def render_public_feed(session: Session, flt: FeedFilter, now: datetime) -> bytes:
    name, description = feed_title(flt)
    return build_calendar(feed_events(session, flt, now), name, description).to_ical()


# --- The personal feed -----------------------------------------------------------------------

def rsvp_email_for_token(session: Session, token: str) -> str | None:
    """The e-mail behind a manage token: the token is the only key to a personal feed."""
    if not token or len(token) > 64:
        return None
    return session.exec(select(Rsvp.email).where(Rsvp.token == token)).first()


def personal_entries(session: Session, email: str, now: datetime) -> list[FeedEntry]:
    """Events this person is confirmed or waitlisted for, across all their RSVPs."""
    stmt = (
        select(Event, Rsvp.status)
        .join(Rsvp, col(Rsvp.event_id) == col(Event.id))
        .where(
            Rsvp.email == email,
            col(Rsvp.status).in_((RsvpStatus.CONFIRMED.value, RsvpStatus.WAITLISTED.value)),
            *_visible_conditions(now),
        )
        .order_by(col(Event.starts_at), col(Event.id))
    )
    entries = []
    for event, status in session.exec(stmt).all():
        waitlisted = status == RsvpStatus.WAITLISTED.value
        note = "You are on the waitlist for this event." if waitlisted else ""
        entries.append(FeedEntry(event, note=note, tentative=waitlisted))
    return entries


def personal_version(session: Session, email: str) -> tuple[str, int]:
    """A fingerprint of this person's RSVPs: a promotion from the waitlist or a cancellation
    changes their feed without touching any event row."""
    latest, count = session.exec(
        select(func.max(Rsvp.updated_at), func.count(Rsvp.id)).where(Rsvp.email == email)
    ).one()
    return (latest.isoformat() if latest else "", int(count))


def render_personal_feed(session: Session, email: str, now: datetime) -> bytes:
    name = f"My events · {settings.SITE_NAME}"
    description = "Events you have RSVPed to (confirmed or on the waitlist)."
    return build_calendar(personal_entries(session, email, now), name, description).to_ical()
