"""The organizer's overview: their events, upcoming and past, with seats taken."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from events_app.models import Event, EventHost, Organizer, utcnow
from events_app.services import access, rsvp
from events_app.util import paging

PAGE_SIZE = 25

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


def section(session: Session, organizer: Organizer, when: Literal["upcoming", "past"],
            page: int = 1, now: datetime | None = None) -> DashboardSection:
    """One page of the organizer's events (drafts and cancelled ones included).

    Upcoming means "not over yet", soonest first; past is most recent first.
    """
    now = now or utcnow()
    if when == "upcoming":
        cond = col(Event.ends_at) >= now
        order = (col(Event.starts_at).asc(), col(Event.id).asc())
    else:
        cond = col(Event.ends_at) < now
        order = (col(Event.starts_at).desc(), col(Event.id).desc())
    base = access.manageable(organizer, select(Event).where(cond))
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    win = paging.window(total, page, PAGE_SIZE)
    events = list(session.exec(base.order_by(*order).offset(win.offset).limit(win.size)).all())
    cohosted = _cohosted(session, organizer, events)
    owners = _owner_names(session, events)
    seats = rsvp.seat_counts_for(session, events, now)
    rows = [DashboardRow(e, seats[e.id or 0],
                         "owner" if e.owner_id == organizer.id
                         else "cohost" if e.id in cohosted else "other",
                         owners.get(e.owner_id) if e.owner_id is not None else None)
            for e in events]
    return DashboardSection(rows=rows, page=win.page, pages=win.pages, total=total)


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
