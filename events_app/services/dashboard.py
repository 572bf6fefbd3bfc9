"""The organizer's overview: their events, upcoming and past, with seats taken."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from events_app.models import Event, Organizer, utcnow
from events_app.services import access, rsvp

PAGE_SIZE = 25


@dataclass(frozen=True)
class DashboardRow:
    event: Event
    seats: rsvp.SeatCounts
    is_owner: bool


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
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, page), pages)
    events = session.exec(base.order_by(*order).offset((page - 1) * PAGE_SIZE)
                          .limit(PAGE_SIZE)).all()
    rows = [DashboardRow(e, rsvp.seat_counts(session, e), e.owner_id == organizer.id)
            for e in events]
    return DashboardSection(rows=rows, page=page, pages=pages, total=total)
