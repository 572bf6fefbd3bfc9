"""Attendee lists for organizers: counts, search, sort and door check-in (the CSV export is
attendee_csv's).

The seat totals use `rsvp.party_seats` (the one seat rule); this module only adds what the
door needs on top: who is checked in, in which order to show people.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, case, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from events_app.db import write_session
from events_app.i18n import N_, gettext, ngettext, pgettext
from events_app.models import Event, Organizer, Rsvp, RsvpStatus, utcnow
from events_app.services import access, audit, audit_detail, locking, rsvp
from events_app.util import paging
from events_app.util.forms import has_control_chars
from events_app.util.text_search import contains_text

SortKey = Literal["name", "rsvp", "status", "checked_in", "guests"]
SORT_KEYS: dict[str, str] = {
    "name": N_("Name"),
    "rsvp": N_("RSVP time"),
    "status": N_("Status"),
    "checked_in": N_("Check-in"),
    "guests": N_("Guests"),
}
# Which people the attendee list shows: the words describe people ("Confirmados"), not an
# RSVP's status ("Confirmada"), hence the context (`translated` calls these when shown).
STATUS_FILTERS: dict[str, Callable[[], str]] = {
    "": lambda: gettext("Everyone"),
    "confirmed": lambda: pgettext("people", "Confirmed"),
    "waitlisted": lambda: gettext("Waitlisted"),
    "cancelled": lambda: pgettext("people", "Cancelled"),
    "here": lambda: gettext("Checked in"),
    "not_here": lambda: gettext("Confirmed, not checked in"),
}
MAX_SEARCH = 200
PAGE_SIZE = 100  # rows per page of the attendee list; the CSV has them all


class CheckInError(ValueError):
    """A check-in that does not make sense (e.g. a cancelled RSVP); shown to the organizer."""


@dataclass(frozen=True)
class AttendeeCounts:
    confirmed_parties: int
    confirmed_seats: int
    waitlisted_parties: int
    waitlisted_seats: int
    cancelled_parties: int
    checked_in_parties: int
    checked_in_seats: int
    capacity: int | None

    @property
    def over_capacity(self) -> bool:
        return self.capacity is not None and self.confirmed_seats > self.capacity


def counts(session: Session, event: Event) -> AttendeeCounts:
    """The door's totals: parties, seats and arrivals per status in one pass over the event's
    RSVPs (one query, whatever the size of the event; the door asks after every check-in)."""
    here = col(Rsvp.checked_in_at).is_not(None)
    per_status = {status: (int(parties), int(here_parties), int(here_seats), int(seats))
                  for status, parties, here_parties, here_seats, seats in session.exec(
        select(Rsvp.status, func.count(), func.count(Rsvp.checked_in_at),
               func.coalesce(func.sum(case((here, arrived_seats()), else_=0)), 0),
               func.coalesce(func.sum(rsvp.party_seats()), 0))
        .where(Rsvp.event_id == event.id).group_by(Rsvp.status)
    ).all()}
    none = (0, 0, 0, 0)
    confirmed = per_status.get(RsvpStatus.CONFIRMED.value, none)
    waitlisted = per_status.get(RsvpStatus.WAITLISTED.value, none)
    return AttendeeCounts(
        confirmed_parties=confirmed[0],
        confirmed_seats=confirmed[3],
        waitlisted_parties=waitlisted[0],
        waitlisted_seats=waitlisted[3],
        cancelled_parties=per_status.get(RsvpStatus.CANCELLED.value, none)[0],
        checked_in_parties=confirmed[1],
        checked_in_seats=confirmed[2],
        capacity=event.capacity,
    )


def arrived_seats() -> ColumnElement[int]:
    """People of a checked-in party who arrived, never more than the party's size now (the
    attendee may have made the party smaller after the door counted it)."""
    return case((col(Rsvp.checked_in_seats) > rsvp.party_seats(), rsvp.party_seats()),
                else_=col(Rsvp.checked_in_seats))


@dataclass(frozen=True)
class AttendeeQuery:
    q: str = ""
    status: str = ""
    sort: str = "name"
    descending: bool = False

    def __post_init__(self) -> None:
        if self.sort not in SORT_KEYS:
            raise ValueError(f"unknown sort {self.sort!r}")
        if self.status not in STATUS_FILTERS:
            raise ValueError(f"unknown status filter {self.status!r}")
        if len(self.q) > MAX_SEARCH or has_control_chars(self.q):
            raise ValueError("search text too long or not text")


@dataclass(frozen=True)
class AttendeeRow:
    rsvp: Rsvp
    waitlist_position: int | None


def _status_rank() -> ColumnElement[int]:
    return case(
        (Rsvp.status == RsvpStatus.CONFIRMED.value, 0),
        (Rsvp.status == RsvpStatus.WAITLISTED.value, 1),
        else_=2,
    )


def _filtered(event: Event, query: AttendeeQuery) -> SelectOfScalar[Rsvp]:
    """The event's RSVPs matching the search and filter, in the chosen order (ties broken by
    id, so pages never overlap or skip a row)."""
    conds = [Rsvp.event_id == event.id]
    if query.q.strip():
        conds.append(contains_text(query.q, Rsvp.name, Rsvp.email, Rsvp.phone))
    if query.status in ("confirmed", "waitlisted", "cancelled"):
        conds.append(Rsvp.status == query.status)
    elif query.status == "here":
        conds.append(col(Rsvp.checked_in_at).is_not(None))
    elif query.status == "not_here":
        conds += [Rsvp.status == RsvpStatus.CONFIRMED.value, col(Rsvp.checked_in_at).is_(None)]

    name_key = func.lower(Rsvp.name)
    keys = {
        "name": [name_key],
        "rsvp": [col(Rsvp.created_at)],
        "status": [_status_rank(), col(Rsvp.waitlisted_at), name_key],
        # Not-yet-arrived first: at the door, those are the ones still to find.
        "checked_in": [col(Rsvp.checked_in_at).is_not(None), col(Rsvp.checked_in_at),
                       name_key],
        "guests": [col(Rsvp.guests), name_key],
    }[query.sort]
    order = [k.desc() if query.descending else k for k in keys]  # type: ignore[attr-defined]
    return select(Rsvp).where(*conds).order_by(*order, col(Rsvp.id))


def _with_positions(session: Session, event: Event, rsvps: Sequence[Rsvp]) -> list[AttendeeRow]:
    waiting = session.exec(
        select(Rsvp.id).where(Rsvp.event_id == event.id,
                              Rsvp.status == RsvpStatus.WAITLISTED.value)
        .order_by(col(Rsvp.waitlisted_at), col(Rsvp.id))
    ).all()
    position = {rid: i for i, rid in enumerate(waiting, start=1)}
    return [AttendeeRow(r, position.get(r.id or 0)) for r in rsvps]


def list_attendees(session: Session, event: Event,
                   query: AttendeeQuery | None = None) -> list[AttendeeRow]:
    """Every matching RSVP (the CSV export: always complete)."""
    rsvps = session.exec(_filtered(event, query or AttendeeQuery())).all()
    return _with_positions(session, event, rsvps)


@dataclass(frozen=True)
class AttendeePage:
    rows: list[AttendeeRow]
    window: paging.Window


def attendee_page(session: Session, event: Event, query: AttendeeQuery, page: int = 1,
                  size: int = PAGE_SIZE) -> AttendeePage:
    """One page of the matching RSVPs, so a 2,000-person rally still loads fast on a phone."""
    stmt = _filtered(event, query)
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    win = paging.window(total, page, size)
    rsvps = session.exec(stmt.offset(win.offset).limit(win.size)).all()
    return AttendeePage(rows=_with_positions(session, event, rsvps), window=win)


def get_rsvp(session: Session, event: Event, rsvp_id: int) -> Rsvp | None:
    """An RSVP of this event (never one of another event, whatever id the URL carries)."""
    return session.exec(
        select(Rsvp).where(Rsvp.id == rsvp_id, Rsvp.event_id == event.id)).first()


def set_checked_in(session: Session, actor: Organizer, event: Event, rsvp_id: int,
                   here: bool, people: int | None = None) -> Rsvp | None:
    """Mark a confirmed party as arrived (or undo); None when the RSVP is not this event's.

    `people` is how many of the party are here (default: all of them); checking in again
    with another number corrects it (the rest of the party turned up) and keeps the first
    arrival time. Idempotent: a second tap from another phone at the door changes nothing.
    The RSVP's row is locked first, so two phones at the door never lose each other's count.
    """
    party = locking.lock_rsvp(session, rsvp_id, event_id=event.id)
    if party is None:
        return None
    if not here:
        if party.checked_in_at is None:
            return party
        party.checked_in_at = None
        party.checked_in_seats = 0
        action = "rsvp.undo_check_in"
        detail: str | list[audit_detail.Line] = party.name
    else:
        if party.status != RsvpStatus.CONFIRMED:
            refusal = gettext("%(name)s is waitlisted, not confirmed; confirm them before "
                              "checking them in.") \
                if party.status == RsvpStatus.WAITLISTED else \
                gettext("%(name)s is cancelled, not confirmed; confirm them before checking "
                        "them in.")
            raise CheckInError(refusal % {"name": party.name})
        arrived = party.seats if people is None else people
        if not 1 <= arrived <= party.seats:
            raise CheckInError(ngettext("%(name)s's party is %(num)s person; check in "
                                        "between 1 and %(num)s.",
                                        "%(name)s's party is %(num)s people; check in "
                                        "between 1 and %(num)s.", party.seats)
                               % {"name": party.name, "num": party.seats})
        if party.checked_in_at is not None and party.checked_in_seats == arrived:
            return party
        if party.checked_in_at is None:
            party.checked_in_at = utcnow()
        party.checked_in_seats = arrived
        action = "rsvp.check_in"
        detail = [audit_detail.line(N_("%(name)s (%(num)s of %(seats)s)"), name=party.name,
                                    num=arrived, seats=party.seats)]
    party.updated_at = utcnow()
    session.add(party)
    audit.record(session, actor, action, party, detail)
    return party


@dataclass(frozen=True)
class CheckIn:
    event: Event
    party: Rsvp
    counts: AttendeeCounts  # after the change, for the door's live totals


def check_in(actor: Organizer, slug: str, rsvp_id: int, here: bool,
             people: int | None = None) -> CheckIn | None:
    """`set_checked_in` in its own write transaction (audit entry included) for an event
    `actor` manages; None when the event or the RSVP is not theirs to see."""
    with write_session() as session:
        event = access.get_event(session, actor, slug)
        if event is None:
            return None
        party = set_checked_in(session, actor, event, rsvp_id, here, people)
        if party is None:
            return None
        return CheckIn(event, party, counts(session, event))
