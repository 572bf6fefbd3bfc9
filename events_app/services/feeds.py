"""Which events a feed holds: the public feed (optionally filtered) and a person's own feed.

Drafts never appear, except one unpublished after it was published: subscribed calendars
already hold it, so it stays CANCELLED_KEEP_DAYS as cancelled (as cancelled events do after
their cancellation) and clients drop or mark their copy rather than keep a stale one.

The public feeds have a horizon (settings.FEED_PAST_DAYS back, FEED_MONTHS_AHEAD ahead, at
most FEED_MAX_EVENTS, the nearest first): with tens of thousands of future events a feed of
them all is tens of megabytes, which Google and Outlook give up on. A person's own feed holds
the few events they RSVPed to, however far ahead, within the same count.

Rendered feeds are reused until the data behind them changes. Calendar apps poll feeds every
few minutes and a 2,000-event feed costs about a second to render, so rendered bytes are kept
per process and reused while a *validator* is unchanged: the events' data version
(services/data_version.py: O(1) to read, bumped by every write of an event), the feed's filter
key and the day the date window starts. Every worker process serves a new version within
data_version.CHECK_INTERVAL, and the rendered output is deterministic, so the ETag (a hash of
the bytes) agrees across workers too. A hit needs no database session (`cached_public_feed`).

Last-Modified has one-second resolution, so two changes within a second would share one: a
client that fetched between them and revalidates with If-Modified-Since would get a 304 and
miss the second. So Last-Modified is only announced once the latest change has *settled*
(LAST_MODIFIED_SETTLE old, a margin for the commit of a change stamped a little earlier);
until then the ETag alone validates. Every Last-Modified a client sees therefore belongs to
one version of the bytes, and a later version always has a later one.
"""

from __future__ import annotations

import calendar
import contextlib
import hashlib
import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import bindparam, func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from events_app import i18n, settings
from events_app.i18n import N_, gettext
from events_app.models import (
    CATEGORIES,
    Event,
    EventStatus,
    Rsvp,
    RsvpStatus,
    Series,
    utcnow,
)
from events_app.services import data_version, site_settings, spans
from events_app.services import events as event_service
from events_app.services.data_version import Version
from events_app.services.event_text import texts_for
from events_app.services.ical import FeedEntry, category_text, render_calendar
from events_app.services.ical_series import feed_entries
from events_app.util import memory
from events_app.util.lru import LruCache

PAST_DAYS = settings.FEED_PAST_DAYS
CANCELLED_KEEP_DAYS = 30
VISIBLE_STATUSES = (EventStatus.PUBLISHED.value, EventStatus.CANCELLED.value)


class UnknownFilter(LookupError):
    """A category or city no visible event has: answered with 404, not an empty calendar."""


def _unique_casefold(values: Iterable[str]) -> tuple[str, ...]:
    """Trimmed, one spelling per value ignoring case, sorted by the lower-cased form."""
    by_lower: dict[str, str] = {}
    for v in values:
        v = v.strip()
        if v:
            by_lower.setdefault(v.lower(), v)
    return tuple(by_lower[k] for k in sorted(by_lower))


@dataclass(frozen=True)
class FeedFilter(event_service.PlaceFilter):
    """A public feed's filters (event_service.PlaceFilter: the same limits, the same SQL) in
    canonical form: sorted and de-duplicated ignoring case, so each filtered feed has one
    stable URL and one cache entry whatever order the parameters came in.
    `canonical_filter` then puts each value in its stored spelling, so the feed's name and
    bytes never depend on how the first request happened to spell it."""

    months: int | None = None  # a horizon nearer than settings.FEED_MONTHS_AHEAD

    @classmethod
    def of(cls, categories: Iterable[str], cities: Iterable[str],
           months: int | None = None) -> FeedFilter:
        return cls(_unique_casefold(categories), _unique_casefold(cities), months)

    @property
    def is_empty(self) -> bool:
        return not (self.categories or self.cities)

    @property
    def months_ahead(self) -> int:
        if self.months is None:
            return settings.FEED_MONTHS_AHEAD
        return min(self.months, settings.FEED_MONTHS_AHEAD)

    def key(self) -> str:
        return (f"c={','.join(c.lower() for c in self.categories)};"
                f"t={','.join(c.lower() for c in self.cities)};m={self.months_ahead}")


def _stored_spellings(session: Session, column: str, wanted: tuple[str, ...]) -> dict[str, str]:
    """lower-cased value -> the stored spelling among events that are or were public (the
    smallest, when rows differ only in case, so every worker picks the same one).

    Reading every matching row (a city's share of 100,000 events) to find a handful of
    spellings cost more than the rest of a filtered list: instead each distinct spelling is
    found by one probe of the column's index for the next value after the previous one (a
    recursive query, as events.known_cities does), and only those few are compared. Nothing
    wanted (a list filtered by neither), nothing to ask."""
    if not wanted:
        return {}
    rows = session.exec(_SPELLINGS[column],
                        params={"wanted": sorted({w.lower() for w in wanted})}).all()
    found: dict[str, str] = {}
    for value in sorted(rows):
        found.setdefault(value.lower(), value)
    return found


def _spellings_query(column: str) -> SelectOfScalar[str]:
    attr = getattr(Event, column)
    shown = or_(col(Event.status).in_(VISIBLE_STATUSES), col(Event.unpublished_at).is_not(None))
    first = select(func.min(attr).label("value")).where(attr > "", shown)
    spellings = first.cte("spellings", recursive=True)
    previous = spellings.alias("previous")
    following = select(func.min(attr)).where(attr > previous.c.value, shown).scalar_subquery()
    spellings = spellings.union_all(select(following).where(previous.c.value.is_not(None)))
    return select(spellings.c.value).where(
        spellings.c.value.is_not(None),
        func.lower(spellings.c.value).in_(bindparam("wanted", expanding=True)))


# Built once, the wanted values as a parameter: building the recursive query's SQLAlchemy
# objects cost more Python than running it (~1 ms a filtered list, as events.known_cities).
_SPELLINGS = {column: _spellings_query(column) for column in ("category", "city")}


def canonical_filter(session: Session, flt: FeedFilter) -> FeedFilter:
    """The filter with each value in its stored spelling; UnknownFilter for a category or
    city that no published, cancelled or unpublished event has (a category offered in the
    forms counts as known even before its first event)."""
    categories = {k: k for k in CATEGORIES}
    categories.update(_stored_spellings(session, "category", flt.categories))
    cities = _stored_spellings(session, "city", flt.cities)
    for message, values, known in (
            (N_("There is no category '%(value)s' in this calendar."), flt.categories, categories),
            (N_("There is no city '%(value)s' in this calendar."), flt.cities, cities)):
        missing = [v for v in values if v.lower() not in known]
        if missing:
            raise UnknownFilter(gettext(message) % {"value": missing[0]})
    return FeedFilter(tuple(categories[c.lower()] for c in flt.categories),
                      tuple(cities[c.lower()] for c in flt.cities), flt.months)


def _today(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)


def window_start(now: datetime) -> datetime:
    """Start of the feed window: midnight UTC, PAST_DAYS ago.

    Rounded to the day so the window (and so the cached feed) changes once a day, not on
    every request: events leave the feed between PAST_DAYS and PAST_DAYS + 1 days after they
    end, and cancelled events the same after their cancellation.
    """
    return _today(now) - timedelta(days=PAST_DAYS)


def _add_months(day: date, months: int) -> date:
    year, month0 = divmod(day.month - 1 + months, 12)
    year += day.year
    return day.replace(year=year, month=month0 + 1,
                       day=min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def horizon_end(now: datetime, months: int) -> datetime:
    """End of the public feeds' window: midnight UTC, `months` ahead (moves with the start,
    once a day)."""
    today = _today(now)
    return datetime.combine(_add_months(today.date(), months), time.min, tzinfo=UTC)


def _visible_conditions(now: datetime) -> list:
    cutoff = window_start(now)
    cancel_cutoff = cutoff + timedelta(days=PAST_DAYS - CANCELLED_KEEP_DAYS)
    cancelled_since = func.coalesce(Event.cancelled_at, Event.updated_at)
    return [
        col(Event.ends_at) >= cutoff,
        or_(
            Event.status == EventStatus.PUBLISHED.value,
            (Event.status == EventStatus.CANCELLED.value) & (cancelled_since >= cancel_cutoff),
            (Event.status == EventStatus.DRAFT.value)
            & col(Event.unpublished_at).is_not(None)
            & (col(Event.unpublished_at) >= cancel_cutoff),
        ),
    ]


def feed_events(session: Session, flt: FeedFilter, now: datetime) -> list[Event]:
    """The events of a public feed: the window, the filters, the nearest FEED_MAX_EVENTS."""
    conds = _visible_conditions(now)
    conds.append(col(Event.starts_at) < horizon_end(now, flt.months_ahead))
    # Changes no result; lets the starts_at index walk from the window (services/spans.py).
    conds.append(col(Event.starts_at) >= spans.earliest_start(session, window_start(now)))
    conds += flt.conditions()
    stmt = (select(Event).where(*conds).order_by(col(Event.starts_at), col(Event.id))
            .limit(settings.FEED_MAX_EVENTS))
    return list(session.exec(stmt).all())


def feed_title(flt: FeedFilter) -> tuple[str, str]:
    """Calendar name and description; a filtered feed says what it is filtered to (in the
    reader's language, as the subscribe block on the list page names it)."""
    scope = ", ".join([*(category_text(c) for c in flt.categories), *flt.cities])
    name = f"{settings.SITE_NAME} ({scope})" if scope else settings.SITE_NAME
    return name, site_settings.site_description().text


def series_of(session: Session, events: Iterable[Event]) -> dict[int, Series]:
    """The Series rows of these events' occurrences, by id."""
    ids = sorted({e.series_id for e in events if e.series_id is not None})
    if not ids:
        return {}
    return {s.id: s for s in session.exec(select(Series).where(col(Series.id).in_(ids)))
            if s.id is not None}


def render_public_feed(session: Session, flt: FeedFilter, now: datetime) -> bytes:
    """A series is one VEVENT with its RRULE (services/ical_series.py) holding the
    occurrences this feed holds; a person's own feed lists occurrences one by one instead
    (personal_entries)."""
    name, description = feed_title(flt)
    events = feed_events(session, flt, now)
    texts = texts_for(session, events, i18n.current())
    entries = feed_entries(events, series_of(session, events), _today(now), texts)
    return render_calendar(entries, name, description,
                           timed=[*events, *(e.event for e in entries)])


# --- The personal feed -----------------------------------------------------------------------

def personal_entries(session: Session, email: str, now: datetime) -> list[FeedEntry]:
    """Events this person is confirmed or waitlisted for, across the RSVPs verified through
    their inbox (Rsvp.verified_at): one that someone else typed their address into, and that
    they never opened, stays out. The key is the address's feed token (personal_feeds).

    An occurrence of a series is listed alone, with its own UID as in the e-mails' .ics: the
    person holds the dates they signed up for, not the series, and an override without its
    series' master (RECURRENCE-ID alone) is read badly by calendar apps."""
    stmt = (
        select(Event, Rsvp.status)
        .join(Rsvp, col(Rsvp.event_id) == col(Event.id))
        .where(
            Rsvp.email == email,
            col(Rsvp.verified_at).is_not(None),
            col(Rsvp.status).in_((RsvpStatus.CONFIRMED.value, RsvpStatus.WAITLISTED.value)),
            *_visible_conditions(now),
        )
        .order_by(col(Event.starts_at), col(Event.id))
        .limit(settings.FEED_MAX_EVENTS)
    )
    rows = session.exec(stmt).all()
    texts = texts_for(session, [event for event, _ in rows], i18n.current())
    entries = []
    for event, status in rows:
        waitlisted = status == RsvpStatus.WAITLISTED.value
        note = gettext("You are on the waitlist for this event.") if waitlisted else ""
        entries.append(FeedEntry(event, note=note, waitlisted=waitlisted,
                                 confirmed_reader=not waitlisted,
                                 text=texts.get(event.id or 0)))
    return entries


def render_personal_feed(session: Session, email: str, now: datetime) -> bytes:
    name = gettext("My events · %(site)s") % {"site": settings.SITE_NAME}
    description = gettext("Events you have RSVPed to (confirmed or on the waitlist).")
    return render_calendar(personal_entries(session, email, now), name, description)


# --- Rendered feeds, reused until the data behind them changes ----------------------------

LAST_MODIFIED_SETTLE = timedelta(seconds=60)


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    etag: str  # a quoted strong entity tag
    last_modified: datetime  # aware UTC, whole seconds


class FeedCache:
    """The one cache of rendered output ("an LRU entry valid for one data version"): the
    iCalendar feeds here, the list page, API, Atom and embed through listing_cache.

    Rendered feeds by key, each valid for one validator; one render per (key, validator)
    even under concurrency: concurrent pollers of a feed that just changed wait for one render
    (striped locks, so unrelated feeds still render in parallel) instead of all rendering it.
    """

    def __init__(self, max_entries: int = 64, max_bytes: int | None = None,
                 parallel_renders: int | None = None) -> None:
        """`parallel_renders`: at most this many renders at once (the rest wait). A cold
        2,000-event feed holds ~20 MB while it renders, and a poller storm of 17 cities' feeds
        rendering at once took a worker to 228 MB; on a 2-core machine more than two
        CPU-bound renders at once finish no sooner anyway."""
        self._entries: LruCache[str, tuple[Hashable, RenderedFeed]] = LruCache(
            max_entries, max_bytes, weigh=lambda entry: len(entry[1].body) + ENTRY_OVERHEAD)
        self._render_slots = (threading.BoundedSemaphore(parallel_renders)
                              if parallel_renders else contextlib.nullcontext())
        self._render_locks = [threading.Lock() for _ in range(64)]
        self._count_lock = threading.Lock()
        self.renders = 0

    def lookup(self, key: str, validator: Hashable) -> RenderedFeed | None:
        """The stored render of `key` if it is valid for `validator` (no rendering)."""
        found = self._entries.get(key)
        return found[1] if found is not None and found[0] == validator else None

    def get(self, key: str, validator: Hashable, last_modified: datetime,
            render: Callable[[], bytes],
            reusable: Callable[[Hashable], bool] | None = None) -> RenderedFeed:
        """`reusable(old_validator)`: whether the stored render may still be served while
        another thread renders the new one (e.g. only the minute moved, not the data), so
        that readers never queue behind a slow render for a change that is not a write."""
        found = self._entries.get(key)
        if found is not None and found[0] == validator:
            return found[1]
        lock = self._render_locks[hash(key) % len(self._render_locks)]
        if found is not None and reusable is not None and reusable(found[0]):
            if not lock.acquire(blocking=False):
                return found[1]
            lock.release()
        with lock:
            hit = self.lookup(key, validator)  # another thread may have just rendered it
            if hit is not None:
                return hit
            with self._render_slots:
                body = render()
            feed = RenderedFeed(body, make_etag(body), last_modified.replace(microsecond=0))
            self._entries.put(key, (validator, feed))
            with self._count_lock:
                self.renders += 1
        # What the render held (rows, objects, text) is free now: back to the system, so a
        # worker's RSS is what it keeps (util/memory.py; at most once a second).
        memory.give_back_free_memory()
        return feed

    def stored(self, key: str) -> tuple[Hashable, RenderedFeed] | None:
        """The stored (validator, render) of `key`, whatever its validator."""
        return self._entries.get(key)

    def restamp(self, key: str, feed: RenderedFeed, validator: Hashable) -> bool:
        """Keep `feed` under `validator`, if it is still the stored render of `key` (the
        caller checked that what it shows is still right for `validator`); under the key's
        render lock, so it never replaces a render stored meanwhile."""
        with self._render_locks[hash(key) % len(self._render_locks)]:
            found = self._entries.get(key)
            if found is None or found[1] is not feed:
                return False
            self._entries.put(key, (validator, feed))
            return True

    def clear(self) -> None:
        self._entries.clear()
        with self._count_lock:
            self.renders = 0

    @property
    def size_bytes(self) -> int:
        return self._entries.weight


def settled_last_modified(feed: RenderedFeed, now: datetime | None = None) -> datetime | None:
    """The feed's Last-Modified when it may be announced (see the module docstring), else
    None. The stored value is truncated to the second: the change happened before its end."""
    now = now or utcnow()
    if now < feed.last_modified + timedelta(seconds=1) + LAST_MODIFIED_SETTLE:
        return None
    return feed.last_modified


def make_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _last_modified(*changes: datetime, now: datetime) -> datetime:
    """Latest change to anything in the feed, including the daily move of its date window
    (which drops old events without touching any row)."""
    window_moved = window_start(now) + timedelta(days=PAST_DAYS)
    return max([window_moved, *changes])


# What a cached entry costs besides its body (key, validator, objects): a rough bound.
ENTRY_OVERHEAD = 1024
# Separate so that many people's small personal feeds never push the public feeds out;
# bounded by bytes as well (a 2,000-event feed is a few MB).
# (listing_cache.MAX_BYTES lists every budget.) One render at a time each: a cold
# 2,000-event feed holds ~15 MB while it renders, and the CPU-bound renders of two feeds at
# once finish no sooner on a 2-core machine that is serving pages meanwhile.
public_cache = FeedCache(max_entries=64, max_bytes=8 * 1024 * 1024, parallel_renders=1)
personal_cache = FeedCache(max_entries=512, max_bytes=4 * 1024 * 1024, parallel_renders=1)


def public_key(flt: FeedFilter) -> str:
    """The same for a filter and its canonical form (the key ignores case), so a hit needs no
    query for the stored spellings; one entry per language (the feed's texts are in it)."""
    return f"public:{i18n.current()}:{flt.key()}"


def cached_public_feed(flt: FeedFilter, version: Version, now: datetime | None = None
                       ) -> RenderedFeed | None:
    """The public feed if rendered for this version and day, without touching the database."""
    return cached_public_entry(public_key(flt), version, now)


def cached_public_entry(key: str, version: Version, now: datetime | None = None
                        ) -> RenderedFeed | None:
    """`cached_public_feed` by the filter's `public_key`, for a caller that kept the key (the
    fast path answers a poll without parsing its query string again: web/feeds.py)."""
    window = window_start(now) if now is not None else _todays_window_start()
    return public_cache.lookup(key, (version.events, window))


_todays_window: tuple[int, datetime] | None = None


def _todays_window_start() -> datetime:
    """window_start(utcnow()), worked out once per UTC day: every poll and every 304 asks for
    it, and the date arithmetic cost a tenth of a 304's CPU. The day is the one utcnow()
    falls in, numbered from the same clock."""
    global _todays_window
    now = utcnow()
    day = now.toordinal()
    found = _todays_window
    if found is None or found[0] != day:
        found = _todays_window = (day, window_start(now))
    return found[1]


def public_feed(session: Session, flt: FeedFilter, now: datetime | None = None,
                version: Version | None = None) -> RenderedFeed:
    """Raises UnknownFilter for a category or city the calendar doesn't have. `version`: the
    data version read before this call (read here when not given)."""
    now = now or utcnow()
    version = version or data_version.current(session.get_bind())
    flt = canonical_filter(session, flt)
    return public_cache.get(
        public_key(flt),
        (version.events, window_start(now)),
        _last_modified(version.events_changed, now=now),
        lambda: render_public_feed(session, flt, now),
    )


def _personal_key(token: str) -> str:
    """One entry per token and language (the feed's texts are in it)."""
    return f"personal:{i18n.current()}:" + hashlib.sha256(token.encode()).hexdigest()


def _personal_validator(version: Version, now: datetime) -> Hashable:
    """A person's feed changes with their RSVPs (a promotion from the waitlist, a
    cancellation, a verification), which no event row records, and its token changes on
    rotation: each is a write the seats version counts (services/data_version.py)."""
    return (version.events, version.seats, window_start(now))


def cached_personal_feed(token: str, version: Version, now: datetime | None = None
                         ) -> RenderedFeed | None:
    """The personal feed of this feed token if rendered for this version and day, without
    touching the database (keyed by the token: a rotated one stops answering at once)."""
    return personal_cache.lookup(_personal_key(token),
                                 _personal_validator(version, now or utcnow()))


def personal_feed(session: Session, token: str, email: str, now: datetime | None = None,
                  version: Version | None = None) -> RenderedFeed:
    """The feed of `email`, reached through its feed `token`. `version`: as for
    public_feed."""
    now = now or utcnow()
    version = version or data_version.current(session.get_bind())
    return personal_cache.get(
        _personal_key(token),
        _personal_validator(version, now),
        _last_modified(data_version.last_changed(version), now=now),
        lambda: render_personal_feed(session, email, now),
    )


def single_event(event_ics: bytes, updated_at: datetime) -> RenderedFeed:
    """One event renders in about a millisecond: no cache, just the validators."""
    return RenderedFeed(event_ics, make_etag(event_ics), updated_at.replace(microsecond=0))
