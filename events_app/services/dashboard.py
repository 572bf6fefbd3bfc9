"""The organizer's overview: today's events for the door, their events upcoming and past
with seats taken, and a search over them.

Every query here is bounded (one page, or today's few events) and read through indexes:
an admin's dashboard covers all 100,000 events of a big calendar, so nothing may scan them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from events_app import settings
from events_app.models import Event, EventHost, EventStatus, Organizer, Rsvp, RsvpStatus, utcnow
from events_app.services import access, data_version, rsvp
from events_app.services.attendees import arrived_seats
from events_app.util import paging
from events_app.util.forms import has_control_chars
from events_app.util.text_search import contains_text

PAGE_SIZE = 25
TODAY_LIMIT = 20  # a door-staff list, not an archive: more than this is a page of its own
MAX_SEARCH = 200

Relation = Literal["owner", "cohost", "other"]


@dataclass(frozen=True)
class DashboardRow:
    event: Event
    seats: rsvp.SeatCounts
    # How the viewer relates to the event: "other" only happens for admins, who see all.
    relation: Relation
    owner_name: str | None  # None when the event has no owner (e.g. loaded from the seed)


@dataclass(frozen=True)
class DashboardSection:
    rows: list[DashboardRow]
    page: int
    pages: int
    total: int
    # The state of these events' RSVPs read before their seat counts were (for kept pages).
    seats: data_version.EventSeats | None = None


def clean_search(q: str) -> str:
    """The dashboard's search text, trimmed; ValueError for what no title could contain."""
    q = q.strip()
    if len(q) > MAX_SEARCH or has_control_chars(q):
        raise ValueError("search text too long or not text")
    return q


def section(session: Session, organizer: Organizer, when: Literal["upcoming", "past"],
            page: int = 1, now: datetime | None = None, q: str = "") -> DashboardSection:
    """One page of the organizer's events (drafts and cancelled ones included), optionally
    only those whose title, city or venue contains `q`.

    Upcoming means "not over yet", soonest first; past is most recent first.
    """
    now = now or utcnow()
    if when == "upcoming":
        # "ends_at >= now, by starts_at" has no index that gives both; but no event that is
        # not over started before the earliest start among them, so that start bounds the
        # range of the starts_at index to read. That start comes from ix_event_ends_starts
        # alone; min() of a bare starts_at would tempt both planners to walk ix_event_starts_at
        # from the oldest event, reading half the table (the coalesce stops that).
        earliest = _earliest_unfinished(session, now)
        cond = [col(Event.ends_at) >= now, col(Event.starts_at) >= (earliest or now)]
        order = (col(Event.starts_at).asc(), col(Event.id).asc())
    else:
        # Over means it also started before now: the starts_at index read backwards from now.
        cond = [col(Event.ends_at) < now, col(Event.starts_at) < now]
        order = (col(Event.starts_at).desc(), col(Event.id).desc())
    if q:
        cond.append(contains_text(q, Event.title, Event.city, Event.venue_name))
    parts = access.manageable_parts(organizer, select(Event).where(*cond))
    total = sum(session.exec(select(func.count()).select_from(part.subquery())).one()
                for part in parts)
    win = paging.window(total, page, PAGE_SIZE)
    events = _page(session, parts, order, when == "past", win.offset, win.size)
    seats = _seats_state(session, events)
    return DashboardSection(rows=_rows(session, organizer, events, now), page=win.page,
                            pages=win.pages, total=total, seats=seats)


def _seats_state(session: Session, events: list[Event]) -> data_version.EventSeats:
    """The state of these events' RSVPs, read after the events and before their RSVPs."""
    return data_version.seats_of([e.id for e in events if e.id is not None], session)


def _page(session: Session, parts: list[SelectOfScalar[Event]], order: tuple[Any, ...],
          newest_first: bool, offset: int, size: int) -> list[Event]:
    """One page of the events of disjoint `parts`, in `order` (start, then id): one part is
    read directly; several are each read up to the page's end (start and id only), merged,
    and the page's events then read by id."""
    if len(parts) == 1:
        return list(session.exec(parts[0].order_by(*order).offset(offset).limit(size)).all())
    keys = [(starts_at, event_id) for part in parts for event_id, starts_at in session.execute(
        part.with_only_columns(col(Event.id), col(Event.starts_at))
        .order_by(*order).limit(offset + size)).all()]
    keys.sort(reverse=newest_first)
    ids = [event_id for _, event_id in keys[offset:offset + size]]
    if not ids:
        return []
    found = {e.id: e for e in session.exec(select(Event).where(col(Event.id).in_(ids))).all()}
    return [found[i] for i in ids if i in found]


# Per database: (events version, the `now` it was read at, the earliest start then).
_EARLIEST: dict[int, tuple[str, datetime, datetime | None]] = {}
_EARLIEST_LOCK = threading.Lock()


def _earliest_unfinished(session: Session, now: datetime) -> datetime | None:
    """The earliest start among events not over at `now`: the lower end of the starts_at
    range the upcoming section reads.

    Reading it walks every unfinished event's entry in ix_event_ends_starts (half the table
    of a big calendar, the costliest query of a dashboard), so it is kept per data version
    of the events. Kept, it stays a true lower bound: with no event written since, the events
    not over at a later `now` are a subset of those it was taken over. The version is read
    exactly (a few primary-key rows), so an event another worker just added is never hidden.
    """
    engine = session.get_bind()
    version = data_version.refresh(engine).events  # type: ignore[arg-type]
    with _EARLIEST_LOCK:
        kept = _EARLIEST.get(id(engine))
    if kept is not None and kept[0] == version and kept[1] <= now:
        return kept[2]
    earliest = session.exec(
        select(func.min(func.coalesce(Event.starts_at, Event.starts_at)))
        .where(col(Event.ends_at) >= now)).one()
    with _EARLIEST_LOCK:
        _EARLIEST[id(engine)] = (version, now, earliest)
    return earliest


def _rows(session: Session, organizer: Organizer, events: list[Event],
          now: datetime) -> list[DashboardRow]:
    """Rows for a page of events: a fixed number of queries, whatever the page size."""
    cohosted = _cohosted(session, organizer, events)
    owners = _owner_names(session, events)
    seats = rsvp.seat_counts_for(session, events, now)
    return [DashboardRow(e, seats[e.id or 0],
                         "owner" if e.owner_id == organizer.id
                         else "cohost" if e.id in cohosted else "other",
                         owners.get(e.owner_id) if e.owner_id is not None else None)
            for e in events]


def next_change(session: Session, now: datetime) -> datetime:
    """The first moment after `now` at which the dashboard's lists could change by the clock
    alone, with no write to the database: the next end of any event (it leaves Upcoming and
    Today for Past) or the next midnight in the site's timezone (Today's window moves).

    Any event's end, not only the viewer's: one index lookup on ix_event_ends_starts, and an
    earlier moment than needed only makes a kept dashboard be redrawn sooner.
    """
    _, midnight = today_bounds(now)
    next_end = session.exec(select(func.min(Event.ends_at)).where(col(Event.ends_at) >= now)).one()
    return midnight if next_end is None else min(midnight, next_end)


@dataclass(frozen=True)
class TodayRow:
    row: DashboardRow
    checked_in_seats: int


@dataclass(frozen=True)
class Today:
    rows: list[TodayRow]
    # As DashboardSection.seats: read before the check-ins and seat counts were.
    seats: data_version.EventSeats | None


def today_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Today in the site's timezone, as UTC instants [start, end)."""
    tz = ZoneInfo(settings.DEFAULT_TIMEZONE)
    day = now.astimezone(tz).date()
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(now.tzinfo), end.astimezone(now.tzinfo)


def today(session: Session, organizer: Organizer,
          now: datetime | None = None) -> Today:
    """Published events of the organizer that start today (in the site's timezone) or
    started within the last day and are still on, not over yet, soonest first, with how many
    people are checked in: the door's list. The one-day look-back keeps the query a range
    of the starts_at index; a multi-day event is on the dashboard's Upcoming list anyway."""
    now = now or utcnow()
    start, end = today_bounds(now)
    parts = access.manageable_parts(organizer, select(Event).where(
        col(Event.starts_at) < end, col(Event.starts_at) >= start - timedelta(days=1),
        col(Event.ends_at) > max(start, now), Event.status == EventStatus.PUBLISHED.value))
    events = _page(session, parts, (col(Event.starts_at), col(Event.id)), False, 0, TODAY_LIMIT)
    ids = [e.id for e in events if e.id is not None]
    seats = _seats_state(session, events)
    here: dict[int, int] = {}
    if ids:
        here = {event_id: int(n) for event_id, n in session.exec(
            select(Rsvp.event_id, func.coalesce(func.sum(arrived_seats()), 0))
            .where(col(Rsvp.event_id).in_(ids), Rsvp.status == RsvpStatus.CONFIRMED.value,
                   col(Rsvp.checked_in_at).is_not(None))
            .group_by(Rsvp.event_id)).all()}
    return Today([TodayRow(r, here.get(r.event.id or 0, 0))
                  for r in _rows(session, organizer, events, now)], seats)


def _cohosted(session: Session, organizer: Organizer, events: list[Event]) -> set[int]:
    """Ids of these events that `organizer` co-hosts (one query for the page)."""
    ids = [e.id for e in events if e.id is not None]
    if not ids:
        return set()
    return set(session.exec(
        select(EventHost.event_id).where(EventHost.organizer_id == organizer.id,
                                         col(EventHost.event_id).in_(ids))
    ).all())


def _owner_names(session: Session, events: list[Event]) -> dict[int, str]:
    """Owner id -> name for these events (one query for the page)."""
    ids = {e.owner_id for e in events if e.owner_id is not None}
    if not ids:
        return {}
    return dict(session.exec(
        select(Organizer.id, Organizer.name).where(col(Organizer.id).in_(ids))
    ).all())
