"""RSVP rules: the one place seats are counted."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from events_app.models import Event, Rsvp, RsvpStatus


@dataclass(frozen=True)
class SeatCounts:
    confirmed: int
    waitlisted: int
    capacity: int | None

    @property
    def remaining(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.confirmed)

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.confirmed >= self.capacity


def seat_counts(session: Session, event: Event) -> SeatCounts:
    """Seats taken by confirmed and waitlisted parties (each party is 1 + guests)."""
    rows = session.exec(
        select(Rsvp.status, func.coalesce(func.sum(Rsvp.guests + 1), 0))
        .where(Rsvp.event_id == event.id, Rsvp.status != RsvpStatus.CANCELLED.value)
        .group_by(Rsvp.status)
    ).all()
    by_status = {status: int(n) for status, n in rows}
    return SeatCounts(
        confirmed=by_status.get(RsvpStatus.CONFIRMED.value, 0),
        waitlisted=by_status.get(RsvpStatus.WAITLISTED.value, 0),
        capacity=event.capacity,
    )
