"""Public event queries: listing with filters and pagination, lookup by slug.

The list filters are parsed by the web layer into an `EventQuery`; everything that decides
which events a visitor may see (drafts never, past vs upcoming) lives here.

`PlaceFilter` (categories and cities) is the one filter every public view shares: the list
page, the API v1, Atom, the embed (through EventQuery) and the iCalendar feeds (through
feeds.FeedFilter). Its limits are one rule for all of them: at most MAX_FILTER_VALUES values
of each kind, each at most MAX_FILTER_LENGTH characters and readable, else QueryError (a 400)
— never silently dropped, so a link shows what it says or says why it can't. Values match
ignoring letter case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, func, or_, true
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from events_app import settings
from events_app.i18n import gettext
from events_app.models import Event, EventStatus, utcnow
from events_app.services import event_search, locking, spans
from events_app.util import paging
from events_app.util.forms import has_control_chars
from events_app.util.timezones import standard_wall_time

VISIBLE_STATUSES = (EventStatus.PUBLISHED.value, EventStatus.CANCELLED.value)
MAX_PAGE = 10_000
MAX_SEARCH_LENGTH = 200
MAX_FILTER_VALUES = 20
MAX_FILTER_LENGTH = 100


class QueryError(ValueError):
    """A filter value the visitor sent that cannot be honoured (answered with 400)."""


@dataclass(frozen=True)
class PlaceFilter:
    """Categories and cities to keep (empty: all), checked against the limits above."""

    categories: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for label, values in (("category", self.categories), ("city", self.cities)):
            if len(values) > MAX_FILTER_VALUES:
                raise QueryError(gettext("At most %(max)d '%(name)s' filters at once.")
                                 % {"max": MAX_FILTER_VALUES, "name": label})
            if any(len(v) > MAX_FILTER_LENGTH for v in values):
                raise QueryError(gettext("A '%(name)s' filter is too long.") % {"name": label})
            if any(map(has_control_chars, values)):
                raise QueryError(gettext("A '%(name)s' filter has a character we could not read.")
                                 % {"name": label})

    def conditions(self) -> list:
        """The SQL conditions of this filter (case-insensitive, as the feeds' URLs are)."""
        conds = []
        if self.categories:
            conds.append(func.lower(Event.category).in_([c.lower() for c in self.categories]))
        if self.cities:
            conds.append(func.lower(Event.city).in_([c.lower() for c in self.cities]))
        return conds


@dataclass(frozen=True)
class EventQuery(PlaceFilter):
    when: Literal["upcoming", "past"] = "upcoming"
    q: str = ""
    online: bool = False  # only events people can join online (online-only and hybrid)
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.page < 1 or self.page > MAX_PAGE:
            raise QueryError(gettext("page must be a whole number from 1"))
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise QueryError(gettext("the 'from' date is after the 'to' date"))
        if len(self.q) > MAX_SEARCH_LENGTH:
            raise QueryError(gettext("the search text is too long (%(max)d characters at most)")
                             % {"max": MAX_SEARCH_LENGTH})
        if has_control_chars(self.q):
            raise QueryError(gettext("the filters contain a character we could not read"))

    def conditions(self) -> list:
        """The place filter's conditions plus the online filter."""
        conds = super().conditions()
        if self.online:
            conds.append(Event.online_url != "")
        return conds

    def view_conditions(self, session: Session) -> list:
        """The conditions every view of a list shares, whatever its time window: the list
        page, and the month view's days (services/calendar_month). The search needs the
        session: how it runs depends on the database (services/event_search.py)."""
        conds = self.conditions()
        if self.q.strip():
            conds += event_search.search_conditions(session, self.q)
        return conds


@dataclass
class EventPage:
    items: list[Event]
    total: int
    page: int
    page_size: int
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = paging.page_count(self.total, self.page_size)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _day_start_utc(d: date) -> datetime:
    """Date filters are calendar days in the site's default timezone.

    A filter may name any date a `date` can hold (a bookmarked `?to=9999-12-31` means "no end"):
    where the instant falls outside what `datetime` can hold, it is clamped to the first or last
    representable instant, which selects exactly the same events.
    """
    tz = ZoneInfo(settings.DEFAULT_TIMEZONE)
    try:
        return standard_wall_time(datetime.combine(d, time.min), tz).astimezone(UTC)
    except OverflowError:
        edge = datetime.max if d.year == MAXYEAR else datetime.min
        return edge.replace(tzinfo=UTC)


def _day_end_utc(d: date) -> datetime:
    """The start of the day after `d` (the exclusive end of a 'to' filter), clamped likewise."""
    if d == date.max:
        return datetime.max.replace(tzinfo=UTC)
    return _day_start_utc(d + timedelta(days=1))


def list_events(
    session: Session,
    query: EventQuery,
    page_size: int | None = None,
    now: datetime | None = None,
) -> EventPage:
    """Published (and cancelled, shown as such) events matching the filters, one page.

    Upcoming means "not yet over", so an event in progress stays listed until it ends.
    """
    page_size = page_size or settings.PAGE_SIZE
    now = now or utcnow()
    past = query.when == "past"
    conds = [col(Event.status).in_(VISIBLE_STATUSES),
             col(Event.ends_at) < now if past else col(Event.ends_at) >= now]
    conds += query.view_conditions(session)
    if query.date_from:
        conds.append(col(Event.starts_at) >= _day_start_utc(query.date_from))
    if query.date_to:
        conds.append(col(Event.starts_at) < _day_end_utc(query.date_to))
    offset = paging.offset(query.page, page_size)
    if query.q.strip():
        total, items = _searched_page(session, conds, past, offset, page_size)
    else:
        total, items = _walked_page(session, conds, past, now, offset, page_size)
    return EventPage(items=items, total=total, page=query.page, page_size=page_size)


def _order(starts_at: Any, event_id: Any, past: bool) -> tuple[Any, Any]:
    """The list's order (the latest first for past events), on any pair of columns."""
    return (starts_at.desc(), event_id.desc()) if past else (starts_at.asc(), event_id.asc())


def _walked_page(session: Session, conds: list, past: bool, now: datetime, offset: int,
                 limit: int) -> tuple[int, list[Event]]:
    """The total from an index, then the page by walking the starts_at index from now.

    `walk` changes no result (an event ends after it starts): it lets the page's query walk
    the starts_at index from "now" rather than from the oldest event (services/spans.py).
    The count goes without it, index-only on (status, ends_at).
    """
    if past:
        walk = col(Event.starts_at) < now
    else:
        walk = col(Event.starts_at) >= spans.earliest_start(session, now)
    order = _order(col(Event.starts_at), col(Event.id), past)
    total = session.exec(select(func.count()).select_from(Event).where(*conds)).one()
    # The page's ids first, then their rows: rows skipped by the offset are only ever read
    # from the index (ix_event_starts_at_id_status_ends_at), not fetched in full.
    ids = (select(Event.id).where(*conds, walk).order_by(*order)
           .offset(offset).limit(limit).subquery())
    items = list(session.exec(
        select(Event).join(ids, col(Event.id) == ids.c.id).order_by(*order)).all())
    return total, items


def _searched_page(session: Session, conds: list, past: bool, offset: int, limit: int
                   ) -> tuple[int, list[Event]]:
    """The total and the page from one reading of the matching events.

    A search's rows are found through its text indexes (services/event_search.py), and each
    candidate's text is then checked on its row: that reading is the search's whole cost
    (at 100,000 events a common word matches thousands). Counting and then paging would read
    them twice; here they are read once into `matched` (id and start only; a CTE used twice
    is materialized by both databases), counted and sorted from there, and only the page's
    rows are fetched in full. The count is joined to the page so that a page past the end
    still brings the total (with no event).
    """
    matched = select(col(Event.id).label("id"), col(Event.starts_at).label("starts_at")) \
        .where(*conds).cte("matched")
    total = select(func.count().label("n")).select_from(matched).subquery("total")
    order = _order(matched.c.starts_at, matched.c.id, past)
    page = select(matched.c.id, matched.c.starts_at).order_by(*order) \
        .offset(offset).limit(limit).subquery("page")
    rows = session.exec(
        select(total.c.n, Event).select_from(total)
        .outerjoin(page, true()).outerjoin(Event, col(Event.id) == page.c.id)
        .order_by(*_order(page.c.starts_at, page.c.id, past))
    ).all()
    return rows[0][0], [event for _, event in rows if event is not None]


def attendance_mode(event: Event) -> Literal["online", "offline", "mixed"]:
    """How people attend: in person, online only, or either (a venue plus a livestream)."""
    if not event.online_url:
        return "offline"
    return "online" if event.is_online_only else "mixed"


def get_public_event(session: Session, slug: str, *, lock: bool = False) -> Event | None:
    """An event a visitor may see: drafts are invisible to the public. With `lock`, its row
    is locked in the same statement (services/locking.py's rules), for a decision such as an
    RSVP that follows in the caller's write transaction."""
    if has_control_chars(slug):
        return None  # cannot be a stored slug (and PostgreSQL refuses NUL in a query)
    params = {"public_slug": slug}
    if lock:
        return locking.lock_event_found_by(session, _PUBLIC_BY_SLUG_LOCKED, params)
    return session.exec(_PUBLIC_BY_SLUG, params=params).first()


# Built once (every RSVP post and event page runs one), the slug as a parameter. The
# statuses as equalities, not IN: SQLAlchemy expands an IN list into its parameters anew at
# every execution (about 50 us of an RSVP post's CPU), where equalities are compiled once.
_PUBLIC_BY_SLUG = select(Event).where(
    Event.slug == bindparam("public_slug"),
    or_(*(col(Event.status) == status for status in VISIBLE_STATUSES)))
_PUBLIC_BY_SLUG_LOCKED = locking.locking_query(_PUBLIC_BY_SLUG)


def known_cities(session: Session) -> list[str]:
    """Cities with visible upcoming or recent events, for the filter's choices.

    A handful of cities among 100,000 events: each is found by one probe of the (city,
    status) index for the next city after the previous one (a recursive query), instead of
    reading every event.
    """
    return list(session.exec(_KNOWN_CITIES).all())


def _known_cities_query() -> SelectOfScalar[str]:
    visible = col(Event.status).in_(VISIBLE_STATUSES)
    first = select(func.min(Event.city).label("city")).where(Event.city > "", visible)
    cities = first.cte("cities", recursive=True)
    previous = cities.alias("previous")
    following = (select(func.min(Event.city)).where(Event.city > previous.c.city, visible)
                 .scalar_subquery())
    cities = cities.union_all(select(following).where(previous.c.city.is_not(None)))
    return select(cities.c.city).where(cities.c.city.is_not(None)).order_by(cities.c.city)


# Built once: every list page and embed form asks, and building the recursive query's
# SQLAlchemy objects cost more Python than running it (it has no parameters of its own).
_KNOWN_CITIES = _known_cities_query()


def known_categories(session: Session) -> list[str]:
    rows = session.exec(
        select(Event.category)
        .where(col(Event.status).in_(VISIBLE_STATUSES))
        .distinct()
        .order_by(Event.category)
    ).all()
    return list(rows)


def upcoming_counts(session: Session, column: str, now: datetime | None = None
                    ) -> list[tuple[str, int]]:
    """(value, number of upcoming events) for each category or city that has visible events,
    counting exactly what the upcoming list filtered by that value holds (cities grouped
    case-insensitively, as the filter matches them)."""
    if column not in ("category", "city"):
        raise ValueError(f"no counts by {column!r}")
    now = now or utcnow()
    attr = getattr(Event, column)
    key = func.lower(attr) if column == "city" else attr
    upcoming = func.sum(case((col(Event.ends_at) >= now, 1), else_=0))
    rows = session.exec(
        select(func.min(attr), upcoming)
        .where(col(Event.status).in_(VISIBLE_STATUSES), attr != "")
        .group_by(key)
        .order_by(func.min(attr))
    ).all()
    return [(value, int(n or 0)) for value, n in rows]
