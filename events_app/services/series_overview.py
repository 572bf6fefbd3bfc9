"""The series page of the workspace: every occurrence of a series with its seats and arrivals.

A series runs to a few hundred occurrences (series_rules caps it), each an ordinary event with
its own RSVPs; the page shows them all with confirmed, waitlisted and checked-in counts, so
the counts come from one grouped query over the series' events and their RSVPs, whatever the
number of dates. Seats are counted as everywhere (a party is its guests plus one, arrivals
as `attendees.arrived_seats`); changes go through services/series.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func
from sqlmodel import Session, col, select

from events_app.models import Event, EventStatus, Rsvp, RsvpStatus, Series, utcnow
from events_app.services.attendees import arrived_seats


@dataclass(frozen=True)
class OccurrenceRow:
    event: Event
    confirmed: int  # seats
    waitlisted: int  # seats
    checked_in: int  # people who arrived
    # The local day the rule gave it (a moved date keeps it): what skipping names, the EXDATE.
    rule_day: date

    @property
    def is_full(self) -> bool:
        return self.event.capacity is not None and self.confirmed >= self.event.capacity

    def is_past(self, now: datetime) -> bool:
        return self.event.ends_at <= now


@dataclass(frozen=True)
class SeriesOverview:
    series: Series
    rows: list[OccurrenceRow]
    now: datetime

    @property
    def upcoming(self) -> list[OccurrenceRow]:
        return [r for r in self.rows if not r.is_past(self.now)]

    @property
    def past(self) -> list[OccurrenceRow]:
        return [r for r in self.rows if r.is_past(self.now)]

    @property
    def first(self) -> Event | None:
        """The earliest occurrence still scheduled (its title and place stand for the series)."""
        live = [r.event for r in self.rows if r.event.status != EventStatus.CANCELLED]
        return (live or [r.event for r in self.rows] or [None])[0]


def occurrence_rows(session: Session, series: Series) -> list[OccurrenceRow]:
    """Every occurrence of the series in start order, with its counts (one query)."""
    seats = Rsvp.guests + 1
    confirmed = Rsvp.status == RsvpStatus.CONFIRMED.value
    waitlisted = Rsvp.status == RsvpStatus.WAITLISTED.value
    arrived = and_(confirmed, col(Rsvp.checked_in_at).is_not(None))
    # Grouping by the primary key lets both databases select the event's other columns.
    rows = session.exec(
        select(Event,
               func.coalesce(func.sum(case((confirmed, seats), else_=0)), 0),
               func.coalesce(func.sum(case((waitlisted, seats), else_=0)), 0),
               func.coalesce(func.sum(case((arrived, arrived_seats()), else_=0)), 0))
        .outerjoin(Rsvp, col(Rsvp.event_id) == col(Event.id))
        .where(Event.series_id == series.id)
        .group_by(col(Event.id))
        .order_by(col(Event.starts_at), col(Event.id))
    ).all()
    tz = series.tz
    return [OccurrenceRow(event, int(c), int(w), int(h),
                          (event.recurrence_id or event.starts_at).astimezone(tz).date())
            for event, c, w, h in rows]


def overview(session: Session, series: Series, now: datetime | None = None) -> SeriesOverview:
    """The series page's content. Who may see it is decided by the event page that leads
    here (services/access.py: whoever may manage its occurrences)."""
    return SeriesOverview(series, occurrence_rows(session, series), now or utcnow())
