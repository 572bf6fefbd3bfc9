"""RSVP rules: the one place seats are counted and decided.

Every decision that depends on how many seats are taken ("does this party fit?", "who moves
up from the waitlist?", "may capacity drop to N?") is made inside a write transaction that
first locks the event's row (`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite the transaction
already holds the database write lock from BEGIN IMMEDIATE). So the count and the write that
depends on it are atomic across threads, worker processes and hosts; nothing here relies on
process memory. Lock order is always event row first, then its RSVPs, so two decisions
never deadlock.

Waitlist order is (waitlisted_at, id). Promotion walks it in that order and confirms every
party that fits the free seats, skipping (but keeping the place of) one that is too big: seats
the head of the list cannot use would otherwise stay empty. Promotion runs before any new
party is admitted, so a newcomer only ever gets seats no waitlisted party could take.

Functions named `..._rsvp(...)` / taking ids or tokens open their own write transaction;
functions taking a `session` run in the caller's (which must come from `write_session()`:
services/locking.py refuses a lock anywhere else). Every change an attendee should hear about
queues its e-mail in the same transaction. E-mail to all of an event's attendees (the event
was cancelled or moved, a message from the organizers) is services/attendee_mail.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from events_app import i18n, timefmt
from events_app.db import read_session, write_session
from events_app.i18n import N_, gettext, ngettext
from events_app.models import (
    Event,
    EventStatus,
    Organizer,
    Outbox,
    PersonalFeed,
    Rsvp,
    RsvpStatus,
    is_token_shaped,
    new_token,
    utcnow,
)
from events_app.services import (
    audit,
    audit_detail,
    data_version,
    event_text,
    events,
    locking,
    mail,
    messages,
    personal_feeds,
    retention,
    throttle,
)
from events_app.services.rsvp_input import RsvpRequest

T = TypeVar("T")
RATE_WINDOW = timedelta(minutes=1)
# "You already RSVP'd" goes out at most once per RSVP in this window, so re-sending the form
# (by the person, or by someone pestering them) cannot flood an inbox.
ALREADY_MAIL_WINDOW = timedelta(minutes=10)


# --- Errors -------------------------------------------------------------------------------

class RsvpError(Exception):
    """A request the rules refuse. `message` is meant for the person; `field`, when set,
    names the form field the message belongs next to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class RsvpNotFound(RsvpError):
    """No such event or RSVP (or a manage link that does not exist)."""


class RsvpClosed(RsvpError):
    """The event does not take RSVPs (any more): draft, cancelled, started, past deadline."""


class EventFull(RsvpError):
    """No seats left and the event has no waitlist."""


class NotEnoughSeats(RsvpError):
    """The party is too big for the seats left (or for the whole event)."""


class PartyDoesNotFit(NotEnoughSeats):
    """Fewer spots are left than the party needs: the person chooses (fewer guests, or the
    waitlist with the whole party) instead of being waitlisted whole without being asked."""

    def __init__(self, left: int, party: int, waitlist: bool) -> None:
        super().__init__(
            ngettext("Only %(num)d spot left, not enough for your party of %(party)d.",
                     "Only %(num)d spots left, not enough for your party of %(party)d.",
                     left) % {"num": left, "party": party} if left else
            gettext("The last spots were just taken, so your party of %(party)d no longer "
                    "fits.") % {"party": party})
        self.left = left
        self.party = party
        self.waitlist = waitlist


class RateLimited(RsvpError):
    """Too many RSVP posts from one client address within RATE_WINDOW."""


class CapacityError(RsvpError):
    """An organizer's capacity change the confirmed RSVPs don't allow."""


# --- Counting ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SeatCounts:
    confirmed: int
    waitlisted: int
    capacity: int | None
    waitlist_enabled: bool = True
    closed_reason: str | None = None  # why the event takes no RSVPs right now, if it doesn't

    @property
    def remaining(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.confirmed)

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.confirmed >= self.capacity

    def fits(self, seats: int) -> bool:
        """Whether `seats` more confirmed seats stay within capacity: the one "does this party
        fit" rule. A new party asks with its size, a growing party with the seats it adds, a
        waitlisted party with its size when seats free up; no capacity means everyone fits."""
        return self.capacity is None or self.confirmed + seats <= self.capacity

    def after_promoting(self, seats: int) -> SeatCounts:
        """The counts after a waitlisted party of `seats` was confirmed in this transaction,
        so one decision that moves several parties up counts the database once."""
        return replace(self, confirmed=self.confirmed + seats,
                       waitlisted=max(0, self.waitlisted - seats))

    @property
    def accepting(self) -> bool:
        """Whether the RSVP form should be offered at all."""
        return self.closed_reason is None and (not self.is_full or self.waitlist_enabled)


def party_seats() -> ColumnElement[int]:
    """The seats an RSVP takes, in SQL: the person and their guests. Summed per status by
    every count of seats (here, and the door's totals in services/attendees.py)."""
    return col(Rsvp.guests) + 1


def seat_counts(session: Session, event: Event, now: datetime | None = None) -> SeatCounts:
    """Seats taken by confirmed and waitlisted parties (each party is 1 + guests)."""
    if event.id is None:
        raise ValueError("seats are counted for stored events only")
    return seat_counts_for(session, [event], now)[event.id]


def seat_counts_for(session: Session, events: Sequence[Event],
                    now: datetime | None = None) -> dict[int, SeatCounts]:
    """`seat_counts` for many events in one grouped query (lists, the organizer dashboard);
    keyed by event id. The single place the seat rule is written down."""
    ids = [e.id for e in events if e.id is not None]
    taken: dict[tuple[int, str], int] = {}
    if ids:
        rows = session.exec(
            select(Rsvp.event_id, Rsvp.status, func.coalesce(func.sum(party_seats()), 0))
            .where(col(Rsvp.event_id).in_(ids), Rsvp.status != RsvpStatus.CANCELLED.value)
            .group_by(Rsvp.event_id, Rsvp.status)
        ).all()
        taken = {(event_id, status): int(n) for event_id, status, n in rows}
    now = now or utcnow()
    return {
        e.id: _counted(e, taken.get((e.id, RsvpStatus.CONFIRMED.value), 0),
                       taken.get((e.id, RsvpStatus.WAITLISTED.value), 0), now)
        for e in events if e.id is not None
    }


def _counted(event: Event, confirmed: int, waitlisted: int, now: datetime) -> SeatCounts:
    return SeatCounts(confirmed=confirmed, waitlisted=waitlisted, capacity=event.capacity,
                      waitlist_enabled=event.waitlist_enabled,
                      closed_reason=closed_reason(event, now))


def _counts_and_address(session: Session, event: Event, email: str,
                        now: datetime) -> tuple[SeatCounts, int | None, str | None]:
    """`seat_counts` of a locked event, the id of `email`'s RSVP to it in any status (the
    unique (event, e-mail) index allows one) and the address's personal-feed token if it has
    one, read in the same statement: a new RSVP needs all three, and every statement is a
    round trip made while the event's lock is held. (None for both when the event has no
    RSVPs at all: no row to carry them; the token is then found as usual.)"""
    # On the session's connection, as Core: a read of plain columns gains nothing from the
    # ORM's execution path, which cost more CPU than the statement.
    rows = session.connection().execute(
        _COUNTS_AND_ADDRESS, {"c_event": event.id, "c_email": email}).all()
    seats = {status: int(n) for status, n, _, _ in rows}
    found = next((int(rsvp_id) for _, _, rsvp_id, _ in rows if rsvp_id is not None), None)
    feed = next((str(token) for *_, token in rows if token is not None), None)
    return _counted(event, seats.get(RsvpStatus.CONFIRMED.value, 0),
                    seats.get(RsvpStatus.WAITLISTED.value, 0), now), found, feed


# Built once: every RSVP post runs it under the event's lock (its values are parameters).
# The seats are summed from ix_rsvp_event_status_guests alone (an index-only scan on
# PostgreSQL); the address's RSVP is one probe of the unique (event, e-mail) index, a
# subquery of its own, so the sum never reads the rows for their e-mail addresses. The
# address's feed token is one more probe (of personal_feed's unique e-mail index): most
# people RSVP again, and their e-mail's calendar link then costs no statement of its own.
_ADDRESS = Rsvp.__table__.alias("address")  # type: ignore[attr-defined]
_COUNTS_AND_ADDRESS = (
    select(Rsvp.status, func.coalesce(func.sum(party_seats()), 0),
           select(_ADDRESS.c.id).where(_ADDRESS.c.event_id == bindparam("c_event"),
                                       _ADDRESS.c.email == bindparam("c_email"))
           .scalar_subquery(),
           personal_feeds.token_of(bindparam("c_email")))
    .where(Rsvp.event_id == bindparam("c_event")).group_by(Rsvp.status))


def closed_reason(event: Event, now: datetime) -> str | None:
    """Why `event` refuses new RSVPs at `now`, in words for the visitor; None if it accepts."""
    if event.status == EventStatus.CANCELLED:
        return gettext("This event has been cancelled, so it no longer takes RSVPs.")
    if event.status != EventStatus.PUBLISHED:
        return gettext("This event is not open for RSVPs yet.")
    if now >= event.ends_at:
        return gettext("This event is over, so it no longer takes RSVPs.")
    if now >= event.starts_at:
        return gettext("RSVPs closed when the event started.")
    if event.rsvp_deadline is not None and now >= event.rsvp_deadline:
        deadline = timefmt.format_start(event.rsvp_deadline, event.timezone)
        return gettext("RSVPs for this event closed on %(deadline)s.") % {"deadline": deadline}
    return None


def waitlist_position(session: Session, rsvp: Rsvp) -> int | None:
    """1 for the next party in line; None unless the RSVP is waitlisted."""
    if rsvp.status != RsvpStatus.WAITLISTED or rsvp.waitlisted_at is None:
        return None
    ahead = session.exec(
        select(func.count()).select_from(Rsvp).where(
            Rsvp.event_id == rsvp.event_id,
            Rsvp.status == RsvpStatus.WAITLISTED.value,
            or_(col(Rsvp.waitlisted_at) < rsvp.waitlisted_at,
                and_(col(Rsvp.waitlisted_at) == rsvp.waitlisted_at,
                     col(Rsvp.id) < rsvp.id)),
        )
    ).one()
    return int(ahead) + 1


def _waitlist(session: Session, event_id: int) -> list[Rsvp]:
    return list(session.exec(
        select(Rsvp)
        .where(Rsvp.event_id == event_id, Rsvp.status == RsvpStatus.WAITLISTED.value)
        .order_by(col(Rsvp.waitlisted_at), col(Rsvp.id))
    ).all())


# --- Locking and shared steps -----------------------------------------------------------------

def _lock_event(session: Session, event_id: int) -> Event:
    event = locking.lock_event(session, event_id)
    if event is None:
        raise RsvpNotFound(gettext("We could not find that event. It may have been removed."))
    return event


def _lock_rsvp(session: Session, rsvp: Rsvp) -> Rsvp:
    """Re-read (and lock) an RSVP after its event is locked, so decisions use committed
    values."""
    fresh = locking.lock_rsvp(session, rsvp.id or 0)
    if fresh is None:
        raise RsvpNotFound(gettext("We could not find that RSVP."))
    return fresh


def _calendar_page(session: Session, rsvp: Rsvp, token: str | None = None) -> str:
    """The address's "my events" page, for the e-mails that confirm a place (which go to the
    address itself, the only place the feed token is ever sent); `token`, when the caller
    already read it in this transaction."""
    return personal_feeds.page_url(token or personal_feeds.token_for(session, rsvp.email))


def _waitlist_stamp(session: Session, event: Event, now: datetime) -> datetime:
    """The waitlisted_at for a party joining the end of the line now (event row locked).

    Strictly after everyone already waiting, whatever the clocks say: `now` is read after
    the lock, but several hosts' clocks (or a returning party whose old id sorts early) could
    still put a newcomer ahead of someone who locked before them, and the "You are number N"
    already e-mailed to everyone behind would be wrong.
    """
    last = session.exec(
        select(func.max(Rsvp.waitlisted_at)).where(
            Rsvp.event_id == event.id, Rsvp.status == RsvpStatus.WAITLISTED.value)
    ).one()
    if last is None or now > last:
        return now
    return last + timedelta(microseconds=1)


def party_size_problem(event: Event, guests: int) -> str | None:
    """The one rule for the size of a party (the event's guest limit, its total capacity):
    enforced by _check_party_size under the lock, and asked by the RSVP form so it can report
    it next to the other fields' problems. A party no state of the event could seat is refused
    before seats are counted: waitlisting it would promise a seat that can never come. Whether
    it fits *now* is SeatCounts.fits."""
    if guests < 0 or guests > event.max_guests:
        return (gettext("This event allows no guests.") if event.max_guests == 0
                else ngettext("You can bring at most %(num)d guest.",
                              "You can bring at most %(num)d guests.",
                              event.max_guests) % {"num": event.max_guests})
    if event.capacity is not None and guests + 1 > event.capacity:
        return ngettext("This event has %(num)d spot in total, so a party of %(party)d can't "
                        "fit. Please bring fewer guests.",
                        "This event has %(num)d spots in total, so a party of %(party)d can't "
                        "fit. Please bring fewer guests.",
                        event.capacity) % {"num": event.capacity, "party": guests + 1}
    return None


def _check_party_size(event: Event, guests: int) -> None:
    problem = party_size_problem(event, guests)
    if problem:
        raise NotEnoughSeats(problem, field="guests")


def _promote(session: Session, event: Event, now: datetime, mail_ids: list[int]) -> list[Rsvp]:
    """Confirm waitlisted parties in order while seats allow (the event row must be locked)."""
    return _promote_counted(session, event, seat_counts(session, event, now), now, mail_ids)[0]


def _promote_counted(session: Session, event: Event, counts: SeatCounts, now: datetime,
                     mail_ids: list[int]) -> tuple[list[Rsvp], SeatCounts]:
    """`_promote` from seats already counted under the lock; returns the promoted parties and
    the counts after them, so the caller decides on the same numbers without counting again."""
    if event.status != EventStatus.PUBLISHED or now >= event.starts_at:
        return [], counts  # no one is "moved up" into a cancelled or already started event
    if counts.waitlisted == 0 or counts.is_full:
        return [], counts  # nobody waiting, or no seat to give: the list need not be read
    promoted: list[Rsvp] = []
    for rsvp in _waitlist(session, event.id or 0):
        if counts.is_full:
            break
        if not counts.fits(rsvp.seats):
            continue  # keeps its place; a smaller party behind it may use the seats
        rsvp.status = RsvpStatus.CONFIRMED.value
        rsvp.promoted_at = rsvp.updated_at = now
        counts = counts.after_promoting(rsvp.seats)
        promoted.append(rsvp)
    session.flush()
    tokens = personal_feeds.tokens_for(session, (rsvp.email for rsvp in promoted))
    for rsvp in promoted:
        content = messages.promoted(event, rsvp, _calendar_page(session, rsvp,
                                                                tokens[rsvp.email]))
        mail.queue_to(session, rsvp, content, "promoted", mail_ids)
    return promoted, counts


def _with_retry(work: Callable[[Session], T]) -> T:
    """Run `work` in a write transaction, retrying (twice at most) if a unique constraint
    raced us.

    The event row lock already serialises RSVPs for one event, so the unique (event, e-mail)
    index should never fire; if it does (a writer that skipped the lock), the retry sees the
    other row and takes the "update my RSVP" path instead of failing the request.
    """
    for attempt in range(3):
        try:
            with write_session() as session:
                return work(session)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# --- The public's RSVPs -------------------------------------------------------------------------

@dataclass
class RsvpResult:
    rsvp: Rsvp
    event: Event
    created: bool  # a new party (or a cancelled RSVP made anew, with a new manage link)
    position: int | None  # place on the waitlist, if waitlisted
    promoted: list[Rsvp] = field(default_factory=list)  # others confirmed by this change
    mail_ids: list[int] = field(default_factory=list)  # outbox messages queued by it

    @property
    def confirmed(self) -> bool:
        return self.rsvp.status == RsvpStatus.CONFIRMED


def allow_rsvp_post(client_key: str, limit: int) -> bool:
    """Count one RSVP post for a client (its IP) and say whether it is within the limit."""
    with write_session() as session:
        return throttle.allow(session, f"rsvp:{client_key}", limit, RATE_WINDOW)


@dataclass
class PublicPost:
    """What a post of the public RSVP form came to: the event it named, and the RSVP's
    outcome (None when there was nothing to decide: the form was refused, or a bot sent it)."""

    event: Event
    result: RsvpResult | None


def post_rsvp(slug: str, client_key: str, limit: int, req: RsvpRequest | None,
              now: datetime | None = None) -> PublicPost:
    """The public form's post, whole, in one write transaction on one pooled connection:
    count it against its client's limit, find and lock the event by its slug, and decide the
    RSVP exactly as `submit_rsvp` does (None: only count it and find the event).

    One transaction because each one costs a connection checkout, a BEGIN and a COMMIT, and
    posts are what the site must take most of at once. Lock order: every post locks its
    client's throttle row before the event row, so posts never wait for each other in a
    cycle, and a refused flood never touches the event's row. The price: posts from one
    address (an office behind one NAT) wait for each other's whole post, a few statements,
    where they used to wait for the count alone. Every post counts against the limit, also
    one the rules refuse (a bot could otherwise post to a closed event for free): a refusal
    rolls the transaction back, so its count is then written on its own. Raises RateLimited,
    or RsvpError subclasses with a message to show.
    """
    key = f"rsvp:{client_key}"

    def work(session: Session) -> PublicPost:
        if not throttle.allow(session, key, limit, RATE_WINDOW, now):
            raise RateLimited(gettext("You have sent a lot of RSVPs in a short time. Please "
                                      "wait a minute and try again."))
        event = events.get_public_event(session, slug, lock=req is not None)
        if event is None:
            raise RsvpNotFound(gettext("We could not find that event. It may have been removed."))
        if req is None:
            return PublicPost(event, None)
        # A party no state of the event could seat is the form's problem, before whether
        # the event is open at all (the form reports it with the other fields' problems).
        _check_party_size(event, req.guests)
        return PublicPost(event, _decide(session, event, req, now))

    try:
        return _with_retry(work)
    except RateLimited:
        raise
    except RsvpError:
        with write_session() as session:
            throttle.allow(session, key, limit, RATE_WINDOW, now)
        raise


def submit_rsvp(event_id: int, req: RsvpRequest, now: datetime | None = None) -> RsvpResult:
    """RSVP to an event from the public form (own transaction). `req` comes from
    `rsvp_input.parse_rsvp_form`, so it is well-formed and its e-mail normalised.

    The form is answered the same way whether or not the address already has an RSVP here,
    and what the answer reveals is about the event only (closed, full, party too big): anyone
    can type anyone's address, so the address's own RSVPs are only ever described in e-mails
    to it. Hence:

    - A new address (or one whose RSVP was cancelled) gets a confirmed seat if its party fits,
      else a waitlist place (or EventFull without a waitlist), decided now, under the event
      lock, exactly as before. The seat is held from this moment, because deciding later (at
      the click of the e-mailed link) would let the link's timing reorder seats and the
      waitlist; an RSVP typed with someone else's address holds a seat just as an RSVP from
      a person who never comes would, and the organizers see it in their list.
    - An address that already holds a live RSVP changes nothing: it is sent its existing
      manage link ("you already RSVP'd"), at most once per ALREADY_MAIL_WINDOW. The event-level
      checks run first and identically, so "full" or "closed" never tells the two apart.

    What the RSVP does not get until its e-mailed link is opened (`verify_link`) is a place
    in the address's personal feed: that is the proof the inbox got it.
    Raises RsvpError subclasses with a message to show.
    """
    return _with_retry(lambda session: _submit(session, event_id, req, now))


def submit_in(session: Session, event_id: int, req: RsvpRequest, now: datetime | None = None,
              *, notify: bool = True) -> RsvpResult:
    """`submit_rsvp` in the caller's write transaction, for services/series_rsvp.py's RSVP
    to every date of a series: the same decision per occurrence, under its own lock. With
    `notify` False the person's own e-mail (confirmed, waitlisted, already) is left to the
    caller, which sends one for all the dates; others' promotion e-mails still go out."""
    return _submit(session, event_id, req, now, notify)


def _submit(session: Session, event_id: int, req: RsvpRequest,
            now: datetime | None, notify: bool = True) -> RsvpResult:
    return _decide(session, _lock_event(session, event_id), req, now, notify)


def _decide(session: Session, event: Event, req: RsvpRequest,
            now: datetime | None, notify: bool = True) -> RsvpResult:
    """`submit_rsvp`'s decision, on an event whose row this transaction has locked."""
    event_id = event.id or 0
    # Read the clock only now that the event row is ours: the order of waitlisted_at is then
    # the order in which RSVPs took the lock, so positions e-mailed below are final.
    at = now or utcnow()
    reason = closed_reason(event, at)
    if reason:
        raise RsvpClosed(reason)
    _check_party_size(event, req.guests)
    mail_ids: list[int] = []
    # The waitlist comes before newcomers; the newcomer is then judged on the same count.
    counts, existing_id, feed_token = _counts_and_address(session, event, req.email, at)
    promoted, counts = _promote_counted(session, event, counts, at, mail_ids)
    fits = counts.fits(req.guests + 1)
    if not fits:
        _check_shortfall(event, counts, req)
    existing = session.get(Rsvp, existing_id) if existing_id is not None else None
    if existing is not None and existing.status != RsvpStatus.CANCELLED:
        if not notify:
            return RsvpResult(existing, event, created=False,
                              position=waitlist_position(session, existing),
                              promoted=promoted, mail_ids=mail_ids)
        return _remind_existing(session, event, existing, at, promoted, mail_ids)

    status = (RsvpStatus.CONFIRMED if fits else RsvpStatus.WAITLISTED).value
    waitlisted_at = None if fits else _waitlist_stamp(session, event, at)
    language = i18n.current()  # the page's language: their e-mails are written in it
    if existing is None:
        values = {
            "event_id": event_id, "email": req.email, "token": new_token(), "name": req.name,
            "phone": req.phone, "comment": req.comment, "guests": req.guests,
            "language": language, "created_at": utcnow(), "updated_at": at, "status": status,
            "waitlisted_at": waitlisted_at}
        if fits and notify and session.get_bind().dialect.name == "postgresql":
            rsvp = _insert_confirmed(session, event, values, feed_token, mail_ids)
            return RsvpResult(rsvp, event, created=True, position=None, promoted=promoted,
                              mail_ids=mail_ids)
        rsvp = _insert_new(session, values)
    else:
        # Coming back after cancelling: a fresh party, with a fresh link (the old one may
        # have been shared or forwarded when it was cancelled), verified afresh.
        rsvp = existing
        rsvp.token = new_token()
        rsvp.created_at = at
        rsvp.cancelled_at = rsvp.promoted_at = rsvp.checked_in_at = None
        rsvp.reminder_sent_at = rsvp.verified_at = None
        rsvp.name, rsvp.phone, rsvp.comment = req.name, req.phone, req.comment
        rsvp.guests, rsvp.language, rsvp.updated_at = req.guests, language, at
        rsvp.status, rsvp.waitlisted_at = status, waitlisted_at
        session.add(rsvp)
        session.flush()
    position = waitlist_position(session, rsvp)
    if not notify:
        return RsvpResult(rsvp, event, created=True, position=position, promoted=promoted,
                          mail_ids=mail_ids)
    calendar = _calendar_page(session, rsvp, feed_token)
    if fits:
        content = messages.confirmation(event, rsvp, calendar_page=calendar)
        mail.queue_to(session, rsvp, content, "confirmation", mail_ids)
    else:
        content = messages.waitlisted(event, rsvp, position or 0, calendar_page=calendar)
        mail.queue_to(session, rsvp, content, "waitlisted", mail_ids)
    return RsvpResult(rsvp, event, created=True, position=position, promoted=promoted,
                      mail_ids=mail_ids)


def _insert_new(session: Session, values: dict[str, object]) -> Rsvp:
    """Write a new RSVP with one INSERT ... RETURNING its row, built once, and let the ORM
    make the persistent object from that row, as a query would: the unit of work, and before
    it SQLModel's constructor (every field through the ORM's instrumentation and pydantic's
    defaults), cost a post more CPU than the statement itself. Columns not in `values` get
    the table's defaults. Through the session, so the data version sees the write and, from
    the parameters' event_id, which event's RSVPs changed; a unique (event, e-mail) race
    raises IntegrityError as a flush would (pending changes are flushed first, as always
    before an ORM statement)."""
    return session.execute(_INSERT_RSVP, values).scalar_one()


_RSVP_TABLE = Rsvp.__table__  # type: ignore[attr-defined]
_INSERT_RSVP = select(Rsvp).from_statement(
    insert(_RSVP_TABLE).returning(*_RSVP_TABLE.columns))


def _insert_confirmed(session: Session, event: Event, values: dict[str, object],
                      feed_token: str | None, mail_ids: list[int]) -> Rsvp:
    """A new confirmed RSVP, its address's feed row when it has none yet, and its
    confirmation e-mail, written by one statement (PostgreSQL, data-modifying CTEs): one
    round trip where `_insert_new`, `personal_feeds.token_for` and `mail.queue_to` take
    three, each made while the event's lock is held. Every post that gets a seat comes here
    on PostgreSQL (SQLite has no such CTEs, and a round trip there costs little).

    The e-mail is rendered first, from the RSVP object built from `values`, which then
    becomes the session's persistent object for the row written from its own attributes
    (make_transient_to_detached: the ORM writes nothing more). The address's feed token is
    the one read under the lock, or a new one created in the statement; if another
    transaction gave the address a feed meanwhile, the statement writes neither that feed
    nor the e-mail (its link would be wrong), which is then queued as on the general path.
    The Session events see none of these writes: they are named to the data version."""
    rsvp = Rsvp(**values)
    feed = personal_feeds.new_feed_params(rsvp.email) if feed_token is None else None
    token = str(feed["pf_token"]) if feed is not None else str(feed_token)
    content = messages.confirmation(event, rsvp, calendar_page=personal_feeds.page_url(token))
    row = mail.row_for(rsvp, content, "confirmation")
    params = {**{f"r_{key}": getattr(rsvp, key) for key in _RSVP_COLUMNS},
              **{f"m_{key}": value for key, value in row.items() if key != "rsvp_id"},
              **(feed or {})}
    rsvp_id, msg_id = session.connection().execute(
        _confirmed_statement(session, feed is not None, tuple(row)), params).one()
    rsvp.id = int(rsvp_id)
    make_transient_to_detached(rsvp)
    session.add(rsvp)
    data_version.wrote(session, Rsvp.__tablename__, [rsvp.event_id])
    if feed is not None:
        data_version.wrote(session, PersonalFeed.__tablename__)
    if msg_id is None:  # the address got its feed from another transaction meanwhile
        content = messages.confirmation(event, rsvp, calendar_page=_calendar_page(session, rsvp))
        mail.queue_to(session, rsvp, content, "confirmation", mail_ids)
    else:
        mail_ids.append(int(msg_id))
    return rsvp


_RSVP_COLUMNS = tuple(c.key for c in _RSVP_TABLE.columns if c.key != "id")
_OUTBOX_TABLE = Outbox.__table__  # type: ignore[attr-defined]
_confirmed_statements: dict[tuple[bool, tuple[str, ...]], Any] = {}


def _confirmed_statement(session: Session, with_feed: bool, mail_columns: tuple[str, ...]
                         ) -> Any:
    """`_insert_confirmed`'s statement, built once per shape: WITH new_rsvp AS (INSERT ...
    RETURNING id)[, new_feed AS (personal_feeds' INSERT)], new_mail AS (INSERT INTO outbox
    SELECT ..., new_rsvp.id [WHERE the feed was created]) SELECT the RSVP's id and the
    message's (NULL when not written). Parameters: r_<column> for the RSVP (every column
    but id, from the object: the row is what the object says), m_<column> for the message,
    and personal_feeds.new_feed_params'."""
    key = (with_feed, mail_columns)
    found = _confirmed_statements.get(key)
    if found is None:
        new_rsvp = insert(_RSVP_TABLE).values(
            {c: bindparam(f"r_{c}", type_=_RSVP_TABLE.c[c].type) for c in _RSVP_COLUMNS}
        ).returning(_RSVP_TABLE.c.id).cte("new_rsvp")
        columns = [c for c in mail_columns if c != "rsvp_id"]
        source = select(*(bindparam(f"m_{c}", type_=_OUTBOX_TABLE.c[c].type) for c in columns),
                        new_rsvp.c.id)
        if with_feed:
            feed = personal_feeds.create_statement(session).cte("new_feed")
            source = source.where(exists(select(feed.c.token)))
        new_mail = insert(_OUTBOX_TABLE).from_select(
            [*columns, "rsvp_id"], source).returning(_OUTBOX_TABLE.c.id).cte("new_mail")
        found = _confirmed_statements[key] = select(
            new_rsvp.c.id, select(new_mail.c.id).scalar_subquery())
    return found


def _check_shortfall(event: Event, counts: SeatCounts, req: RsvpRequest) -> None:
    """A party that does not fit now (event locked, counts fresh) is asked to choose rather
    than waitlisted whole unasked, whenever some spots are left; a choice made on an earlier
    answer is judged on today's counts, so a spot taken meanwhile means asking again. Returns
    only when the whole party joins the waitlist. Depends on the event's counts and the form,
    never on the address, so it cannot tell who already RSVP'd."""
    left = counts.remaining or 0
    if req.choice == "waitlist" and event.waitlist_enabled:
        return
    if left > 0 or (req.choice == "fewer" and event.waitlist_enabled):
        raise PartyDoesNotFit(left, req.guests + 1, event.waitlist_enabled)
    if not event.waitlist_enabled:
        raise EventFull(gettext("Sorry, this event is full."))


def _remind_existing(session: Session, event: Event, rsvp: Rsvp, now: datetime,
                     promoted: list[Rsvp], mail_ids: list[int]) -> RsvpResult:
    """The address already has a live RSVP: leave it as it is and e-mail its link."""
    position = waitlist_position(session, rsvp)
    window = int(now.timestamp() // ALREADY_MAIL_WINDOW.total_seconds())
    mail.queue_to(session, rsvp, messages.already_rsvped(event, rsvp, position), "already",
                  mail_ids, dedupe_key=f"already:{rsvp.id}:{window}")
    return RsvpResult(rsvp, event, created=False, position=position, promoted=promoted,
                      mail_ids=mail_ids)


def _resize(session: Session, event: Event, rsvp: Rsvp, guests: int, now: datetime,
            mail_ids: list[int]) -> list[Rsvp]:
    """Change a live party's size: growing must fit; shrinking lets the waitlist move up."""
    _check_party_size(event, guests)
    old = rsvp.guests
    if guests > old and rsvp.status == RsvpStatus.CONFIRMED:
        counts = seat_counts(session, event, now)
        if not counts.fits(guests - old):
            left = counts.remaining or 0
            raise NotEnoughSeats(
                ngettext("Only %(num)d more spot left, so we couldn't add %(guests)s.",
                         "Only %(num)d more spots left, so we couldn't add %(guests)s.",
                         left) % {"num": left, "guests": ngettext(
                             "%(num)d guest", "%(num)d guests", guests - old)
                             % {"num": guests - old}}
                + " " + gettext("Your RSVP for %(party)s is unchanged.")
                % {"party": messages.party_label(old)}, field="guests")
    rsvp.guests = guests
    rsvp.updated_at = now
    session.flush()
    if guests < old or rsvp.status == RsvpStatus.WAITLISTED:
        return _promote(session, event, now, mail_ids)
    return []


# --- The manage link ---------------------------------------------------------------------------

@dataclass
class ManageView:
    rsvp: Rsvp
    event: Event
    position: int | None
    closed_reason: str | None  # set when the event no longer takes new RSVPs or guests
    can_cancel: bool
    can_change_guests: bool
    others_waiting: bool = False  # someone else is on the waitlist: a freed spot goes to them
    text: event_text.LocalText | None = None  # the event's title... in the page's language

    @property
    def join_url(self) -> str:
        """The online link as this person may see it (a private one once confirmed)."""
        return self.event.join_url_for(self.rsvp.status == RsvpStatus.CONFIRMED)


def get_manage_view(token: str, now: datetime | None = None) -> ManageView | None:
    """What the private manage page shows; None for an unknown token."""
    now = now or utcnow()
    with read_session() as session:
        rsvp = _by_token(session, token)
        if rsvp is None:
            return None
        event = session.get(Event, rsvp.event_id)
        assert event is not None  # the foreign key cascades deletes
        live = rsvp.status != RsvpStatus.CANCELLED
        reason = closed_reason(event, now)
        waiting = seat_counts(session, event, now).waitlisted - (
            rsvp.seats if rsvp.status == RsvpStatus.WAITLISTED else 0)
        return ManageView(
            rsvp=rsvp, event=event, position=waitlist_position(session, rsvp),
            closed_reason=reason,
            can_cancel=live and event.status == EventStatus.PUBLISHED and now < event.ends_at,
            can_change_guests=live and event.status == EventStatus.PUBLISHED
            and now < event.starts_at,
            others_waiting=waiting > 0,
            text=event_text.text_for(session, event, i18n.current()),
        )


def verify_link(token: str, now: datetime | None = None) -> bool:
    """Record that this RSVP's manage link was opened (own short transaction).

    The link is only ever sent by e-mail, so opening it proves the address's inbox got it:
    from now on the RSVP shows in that address's personal feed. A conditional UPDATE, so
    only the first opening writes and two at once cannot disagree. True if it was the first.
    Later openings write nothing, so they change no data version; the first changes only its
    own event's RSVP state (services/data_version.py), which the UPDATE names.
    """
    if not is_token_shaped(token):
        return False
    at = now or utcnow()
    with write_session() as session:
        unverified = (col(Rsvp.token) == token, col(Rsvp.verified_at).is_(None),
                      col(Rsvp.erased_at).is_(None))
        event_id = session.exec(select(Rsvp.event_id).where(*unverified)).first()
        if event_id is None:
            return False
        result = session.exec(  # type: ignore[call-overload]
            update(Rsvp).where(*unverified, Rsvp.event_id == event_id)
            .values(verified_at=at, updated_at=at)
            .execution_options(**data_version.rsvps_of([event_id]))
        )
        return bool(result.rowcount)


def rotate_calendar(token: str) -> RsvpResult:
    """Replace the personal-feed token of this RSVP's address and e-mail the new link to the
    address (own transaction). The holder of the manage link never sees it: a forwarded
    manage link must not open its owner's calendar of every event."""
    def work(session: Session) -> RsvpResult:
        found = _by_token(session, token)
        if found is None or found.is_erased:
            raise RsvpNotFound(gettext(
                "This RSVP link is not valid. Check that you copied all of it."))
        event = session.get(Event, found.event_id)
        assert event is not None
        feed = personal_feeds.rotate(session, found.email)
        mail_ids: list[int] = []
        content = messages.calendar_link(event, found, personal_feeds.page_url(feed.token))
        mail.queue_to(session, found, content, "calendar_link", mail_ids)
        return RsvpResult(found, event, created=False, position=None, mail_ids=mail_ids)

    return _with_retry(work)


def _by_token(session: Session, token: str) -> Rsvp | None:
    if not is_token_shaped(token):
        return None
    return session.exec(select(Rsvp).where(Rsvp.token == token)).first()


def _locked_by_token(session: Session, token: str) -> tuple[Event, Rsvp]:
    found = _by_token(session, token)
    if found is None:
        raise RsvpNotFound(gettext(
                "This RSVP link is not valid. Check that you copied all of it."))
    event = _lock_event(session, found.event_id)
    return event, _lock_rsvp(session, found)


def change_guests(token: str, guests: int, now: datetime | None = None) -> RsvpResult:
    """Change the party size from the manage page (own transaction).

    Adding guests needs free seats and RSVPs still open (before the deadline); fewer guests
    is allowed until the event starts and lets the waitlist move up.
    """
    def work(session: Session) -> RsvpResult:
        at = now or utcnow()
        event, rsvp = _locked_by_token(session, token)
        if rsvp.status == RsvpStatus.CANCELLED:
            raise RsvpClosed(gettext(
                "This RSVP was cancelled. You can RSVP again on the event page."))
        if event.status != EventStatus.PUBLISHED or at >= event.starts_at:
            raise RsvpClosed(closed_reason(event, at) or gettext("This event takes no changes."))
        reason = closed_reason(event, at)
        if reason and guests > rsvp.guests:
            raise RsvpClosed(f"{reason} You can still bring fewer guests or cancel.",
                             field="guests")
        mail_ids: list[int] = []
        promoted = _resize(session, event, rsvp, guests, at, mail_ids)
        return RsvpResult(rsvp, event, created=False, position=waitlist_position(session, rsvp),
                          promoted=promoted, mail_ids=mail_ids)

    return _with_retry(work)


def _cancel(session: Session, event: Event, rsvp: Rsvp, now: datetime, by_organizer: bool,
            notify: bool, mail_ids: list[int]) -> list[Rsvp]:
    was_confirmed = rsvp.status == RsvpStatus.CONFIRMED
    rsvp.status = RsvpStatus.CANCELLED.value
    rsvp.cancelled_at = rsvp.updated_at = now
    session.flush()
    if notify:
        content = messages.cancelled(event, rsvp, by_organizer=by_organizer,
                                     had_seat=was_confirmed)
        mail.queue_to(session, rsvp, content, "cancelled", mail_ids)
    return _promote(session, event, now, mail_ids) if was_confirmed else []


def cancel_rsvp(token: str, now: datetime | None = None) -> RsvpResult:
    """Cancel from the manage page (own transaction); the freed seats go to the waitlist.

    Cancelling twice is harmless: the second time changes nothing and sends nothing.
    """
    return _with_retry(lambda session: cancel_in(session, token, now))


def cancel_in(session: Session, token: str, now: datetime | None = None, *,
              notify: bool = True) -> RsvpResult:
    """`cancel_rsvp` in the caller's write transaction (services/series_rsvp.py cancels
    several dates at once); with `notify` False the person's "cancelled" e-mail is left to
    the caller."""
    at = now or utcnow()
    event, rsvp = _locked_by_token(session, token)
    if rsvp.status == RsvpStatus.CANCELLED:
        return RsvpResult(rsvp, event, created=False, position=None)
    if at >= event.ends_at:
        raise RsvpClosed(gettext("This event is over, so its RSVPs can't be changed."))
    mail_ids: list[int] = []
    promoted = _cancel(session, event, rsvp, at, False, notify, mail_ids)
    return RsvpResult(rsvp, event, created=False, position=None, promoted=promoted,
                      mail_ids=mail_ids)


def erase_my_rsvp(token: str, now: datetime | None = None) -> RsvpResult:
    """Erase the person's own data from the manage page (own transaction).

    An RSVP still live for an event that has not ended is cancelled first, exactly as the
    cancel button does (its seats go to the waitlist), but without the "cancelled" e-mail:
    it would keep the address we were asked to forget. Past RSVPs keep their status and
    check-in time for the statistics. The manage link stops working.
    """
    def work(session: Session) -> RsvpResult:
        at = now or utcnow()
        event, rsvp = _locked_by_token(session, token)
        mail_ids: list[int] = []
        promoted: list[Rsvp] = []
        if rsvp.status != RsvpStatus.CANCELLED and at < event.ends_at:
            promoted = _cancel(session, event, rsvp, at, False, False, mail_ids)
        retention.erase(session, [rsvp], at)
        return RsvpResult(rsvp, event, created=False, position=None, promoted=promoted,
                          mail_ids=mail_ids)

    return _with_retry(work)


# --- For organizers ---------------------------------------------------------------------------

def _locked_by_id(session: Session, rsvp_id: int) -> tuple[Event, Rsvp]:
    found = session.get(Rsvp, rsvp_id)
    if found is None:
        raise RsvpNotFound(gettext("That RSVP does not exist (any more)."))
    event = _lock_event(session, found.event_id)
    return event, _lock_rsvp(session, found)


def force_confirm(rsvp_id: int, now: datetime | None = None, *,
                  actor: Organizer | None = None) -> bool:
    """Confirm a waitlisted party even if that goes over capacity (own transaction).

    For an organizer who knows the room has space; the person gets the "you're in" e-mail.
    With `actor`, the audit entry is written in the same transaction, so the trail holds it
    exactly when the change committed. Returns True if the event is now over capacity.
    """
    def work(session: Session) -> bool:
        at = now or utcnow()
        event, rsvp = _locked_by_id(session, rsvp_id)
        if rsvp.status != RsvpStatus.WAITLISTED:
            raise RsvpError(gettext("Only a waitlisted RSVP can be confirmed."))
        if event.status != EventStatus.PUBLISHED:
            raise RsvpClosed(gettext("RSVPs to a cancelled or unpublished event can't be "
                                     "confirmed."))
        over = not seat_counts(session, event, at).fits(rsvp.seats)
        rsvp.status = RsvpStatus.CONFIRMED.value
        rsvp.promoted_at = rsvp.updated_at = at
        session.flush()
        content = messages.promoted(event, rsvp, _calendar_page(session, rsvp))
        mail.queue_to(session, rsvp, content, "promoted", [])
        if actor is not None:
            audit.record(session, actor, "rsvp.force_confirm", rsvp, [audit_detail.line(
                N_("%(name)s, %(num)s seat(s), over capacity") if over else
                N_("%(name)s, %(num)s seat(s)"), name=rsvp.name, num=rsvp.seats)])
        return over

    return _with_retry(work)


def remove_rsvp(rsvp_id: int, notify: bool = True, now: datetime | None = None, *,
                actor: Organizer | None = None) -> list[Rsvp]:
    """Cancel someone's RSVP as an organizer (own transaction) and promote the waitlist.

    The person is told by e-mail unless `notify` is False. With `actor`, the audit entry is
    written in the same transaction (none when the RSVP was already cancelled: nothing
    changed). Returns the promoted RSVPs.
    """
    def work(session: Session) -> list[Rsvp]:
        event, rsvp = _locked_by_id(session, rsvp_id)
        if rsvp.status == RsvpStatus.CANCELLED:
            return []
        was = rsvp.status
        promoted = _cancel(session, event, rsvp, now or utcnow(), True, notify, [])
        if actor is not None:
            detail = [audit_detail.line(
                N_("%(name)s (%(status)s); e-mailed: %(told)s"), name=rsvp.name,
                status=audit_detail.code("RSVP status", was),
                told=audit_detail.word(N_("yes") if notify else N_("no")))]
            if promoted:
                detail.append(audit_detail.line(N_("confirmed from the waitlist: %(names)s"),
                                                names=", ".join(p.name for p in promoted)))
            audit.record(session, actor, "rsvp.remove", rsvp, detail)
        return promoted

    return _with_retry(work)


def validate_capacity(session: Session, event: Event, new_capacity: int | None) -> None:
    """Refuse a capacity below the seats already confirmed (caller's write transaction).

    Locks the event row, so no RSVP can be confirmed between this check and the caller's
    commit of the new capacity.
    """
    if new_capacity is None:
        return
    if new_capacity < 0:
        raise CapacityError(gettext("Capacity can't be negative. Leave it empty for no limit."),
                            field="capacity")
    locking.lock_event_row(session, event)
    confirmed = seat_counts(session, event).confirmed
    if new_capacity < confirmed:
        raise CapacityError(
            ngettext("%(num)d spot is already confirmed, so capacity can't go below %(num)d. "
                     "Cancel some RSVPs first, or keep a higher capacity.",
                     "%(num)d spots are already confirmed, so capacity can't go below %(num)d. "
                     "Cancel some RSVPs first, or keep a higher capacity.", confirmed)
            % {"num": confirmed}, field="capacity")


def change_capacity(session: Session, event: Event, new_capacity: int | None,
                    now: datetime | None = None) -> list[Rsvp]:
    """Validate and set a new capacity, then promote whoever now fits (caller's transaction).

    Returns the promoted RSVPs (their e-mails are queued).
    """
    validate_capacity(session, event, new_capacity)
    event.capacity = new_capacity
    session.add(event)
    session.flush()
    return _promote(session, event, now or utcnow(), [])


def promote_waitlist(session: Session, event: Event, now: datetime | None = None) -> list[Rsvp]:
    """Confirm waitlisted parties that fit now (caller's transaction), e.g. after an
    organizer raised capacity or turned the waitlist off; returns them."""
    locking.lock_event_row(session, event)
    return _promote(session, event, now or utcnow(), [])
