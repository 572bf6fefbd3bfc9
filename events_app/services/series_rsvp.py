"""A person's RSVPs across a recurring series: RSVP to every upcoming date at once, and the
one page that lists and changes all of them.

Every date stays an ordinary RSVP, decided by services/rsvp.py (the one place seats are
counted) under that occurrence's own lock and capacity: this module only chooses the dates,
holds the transaction, and writes the one e-mail that sums them up (fifty "you're going"
messages for a weekly meeting would bury the inbox).

RSVP to all (and cancel all) is one transaction: the RSVPs and the summary e-mail commit
together or not at all. The occurrences' rows are locked up front in id order
(locking.lock_events), so two people doing it at once cannot deadlock, and a single-date RSVP
holds one lock only. A date that refuses (closed, full without a waitlist, a party too big
for it) is skipped inside a savepoint and reported in the e-mail; where the party does not
fit, the whole party joins that date's waitlist (it asked for every date, not for a choice
per date).

Privacy is the single RSVP's: the form's answer never depends on the address (the outcome
per date goes to the address by e-mail), and the series page, reached with one of the
person's e-mailed manage links, shows only RSVPs of that same address in that same series.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from events_app import settings, urls
from events_app.db import read_session, write_session
from events_app.i18n import gettext
from events_app.models import (
    Event,
    EventStatus,
    Rsvp,
    RsvpStatus,
    Series,
    is_token_shaped,
    utcnow,
)
from events_app.services import (
    data_version,
    event_text,
    locking,
    mail,
    messages,
    personal_feeds,
)
from events_app.services import rsvp as rsvp_service
from events_app.services import series as series_service
from events_app.services.rsvp_input import WAITLIST_CHOICE, RsvpRequest

# "You already RSVP'd to these dates" goes out at most once per window (as for one event).
ALREADY_MAIL_WINDOW = rsvp_service.ALREADY_MAIL_WINDOW


@dataclass(frozen=True)
class DateOutcome:
    """What happened to one date: `status` is the RSVP's ("confirmed", "waitlisted",
    "cancelled") or "skipped" with `note` saying why."""

    event: Event
    status: str
    rsvp: Rsvp | None = None
    position: int | None = None
    already: bool = False  # the address held this RSVP before; nothing changed
    note: str = ""


@dataclass
class SeriesResult:
    series: Series
    dates: list[DateOutcome]
    mail_ids: list[int] = field(default_factory=list)

    @property
    def changed(self) -> list[DateOutcome]:
        return [d for d in self.dates if d.status != "skipped" and not d.already]

    @property
    def anchor(self) -> Rsvp | None:
        """The RSVP whose token opens the series page after this change (a new one when there
        is one: an RSVP made again after cancelling gets a new link, and opening it verifies
        the batch, see verify_batch)."""
        held = [d.rsvp for d in self.dates if d.rsvp is not None]
        return next((d.rsvp for d in self.changed if d.rsvp is not None),
                    held[0] if held else None)


def open_dates(session: Session, series: Series, now: datetime) -> list[Event]:
    """The series' upcoming dates that take RSVPs now, in date order: what "every upcoming
    date" means."""
    return [e for e in series_service.occurrences(session, series, upcoming_only=True, now=now)
            if e.status == EventStatus.PUBLISHED and rsvp_service.closed_reason(e, now) is None]


def _locked_open_dates(session: Session, series: Series,
                       now: datetime | None) -> tuple[list[Event], datetime]:
    """open_dates with their rows locked (id order) and re-checked now that they are ours,
    and the time of the decision: read after the locks, as rsvp.submit_rsvp reads it, so
    waitlist stamps follow the order in which RSVPs took the locks."""
    ids = [e.id for e in open_dates(session, series, now or utcnow()) if e.id is not None]
    locked = locking.lock_events(session, ids)
    at = now or utcnow()
    locked.sort(key=lambda e: (e.starts_at, e.id or 0))
    return [e for e in locked if rsvp_service.closed_reason(e, at) is None], at


def _series_of(session: Session, event: Event) -> Series:
    series = (series_service.get_series(session, event.series_id)
              if event.series_id is not None else None)
    if series is None or not series.rsvp_all:
        raise rsvp_service.RsvpClosed(gettext("This event takes RSVPs one date at a time."))
    return series


def submit_all(event_id: int, req: RsvpRequest, now: datetime | None = None) -> SeriesResult:
    """RSVP `req`'s person to every upcoming date of the series `event_id` belongs to (own
    transaction). Each date: confirmed if the party fits, else the whole party waitlisted
    (skipped where the date has no waitlist or the party is too big for it); a date the
    address already holds stays as it is. Raises the first date's RsvpError when no date at
    all takes the RSVP (about the dates only, never the address), for the form to show."""
    with write_session() as session:
        event = session.get(Event, event_id)
        if event is None:
            raise rsvp_service.RsvpNotFound(gettext("We could not find that event."))
        series = _series_of(session, event)
        dates, at = _locked_open_dates(session, series, now)
        if not dates:
            raise rsvp_service.RsvpClosed(rsvp_service.closed_reason(event, at)
                                          or gettext(
                                              "No upcoming dates of this series take RSVPs."))
        each = replace(req, choice=WAITLIST_CHOICE)
        outcomes: list[DateOutcome] = []
        mail_ids: list[int] = []
        first_error: rsvp_service.RsvpError | None = None
        for date_event in dates:
            try:
                with session.begin_nested():
                    result = rsvp_service.submit_in(session, date_event.id or 0, each, at,
                                                    notify=False)
            except rsvp_service.RsvpError as exc:
                first_error = first_error or exc
                outcomes.append(DateOutcome(date_event, "skipped", note=exc.message))
                continue
            mail_ids += result.mail_ids  # others' promotions
            outcomes.append(DateOutcome(result.event, result.rsvp.status, result.rsvp,
                                        result.position, already=not result.created))
        if all(o.rsvp is None for o in outcomes):
            assert first_error is not None
            raise first_error  # every date refused: an answer about the dates, not the address
        summary = SeriesResult(series, outcomes, mail_ids)
        for made in summary.changed:
            if made.rsvp is not None:
                made.rsvp.created_at = at  # one stamp for the batch (see verify_batch)
                session.add(made.rsvp)
        session.flush()
        _mail_summary(session, summary, "joined", at)
        return summary


def _mail_summary(session: Session, result: SeriesResult, what: str, at: datetime) -> None:
    """The one e-mail about a change to several dates, to the address itself; with nothing
    new ("already" everywhere) at most once per ALREADY_MAIL_WINDOW."""
    anchor = result.anchor
    if anchor is None:
        return
    dedupe = None
    if not result.changed:
        window = int(at.timestamp() // ALREADY_MAIL_WINDOW.total_seconds())
        dedupe = f"series-already:{anchor.id}:{window}"
    calendar = personal_feeds.page_url(personal_feeds.feed_for(session, anchor.email).token)
    content = messages.series_summary(result.dates[0].event, anchor, result.dates, what,
                                      series_url=urls.rsvp_series_url(anchor.token),
                                      calendar_page=calendar)
    mail.queue_to(session, anchor, content, "series_summary", result.mail_ids,
                  dedupe_key=dedupe)


# --- The person's page for the whole series -------------------------------------------------

@dataclass(frozen=True)
class SeriesRsvpRow:
    rsvp: Rsvp
    event: Event
    position: int | None
    can_cancel: bool
    can_change_guests: bool


@dataclass
class SeriesView:
    rsvp: Rsvp  # the one whose link opened the page
    series: Series
    title: str  # in the language asked for (event_text), else the event's own
    rows: list[SeriesRsvpRow]  # the address's RSVPs to dates not over yet, in date order
    missing: list[Event]  # open dates without a live RSVP (offered when the series allows)
    title_lang: str | None = None  # the title's language when it fell back to another

    @property
    def live(self) -> list[SeriesRsvpRow]:
        return [r for r in self.rows if r.rsvp.status != RsvpStatus.CANCELLED]

    @property
    def max_guests(self) -> int:
        return max((r.event.max_guests for r in self.rows if r.can_change_guests), default=0)


def _same_person_rows(session: Session, rsvp: Rsvp, series_id: int,
                      now: datetime) -> list[tuple[Rsvp, Event]]:
    """The RSVPs of `rsvp`'s address to this series' dates that are not over, published or
    cancelled (never a draft's): the whole of what the series page may show."""
    rows = session.exec(
        select(Rsvp, Event).join(Event, col(Event.id) == col(Rsvp.event_id))
        .where(Event.series_id == series_id, Rsvp.email == rsvp.email,
               col(Rsvp.erased_at).is_(None), col(Event.ends_at) > now,
               col(Event.status).in_([EventStatus.PUBLISHED.value,
                                      EventStatus.CANCELLED.value]))
        .order_by(col(Event.starts_at), col(Event.id))
    ).all()
    return [(r, e) for r, e in rows]


def _anchor(session: Session, token: str) -> tuple[Rsvp, Event, Series] | None:
    if not is_token_shaped(token):
        return None
    found = session.exec(select(Rsvp).where(Rsvp.token == token)).first()
    if found is None or found.is_erased:
        return None
    event = session.get(Event, found.event_id)
    if event is None or event.series_id is None:
        return None
    series = series_service.get_series(session, event.series_id)
    return None if series is None else (found, event, series)


def get_series_view(token: str, now: datetime | None = None,
                    language: str | None = None) -> SeriesView | None:
    """What the series page shows for the holder of manage link `token`, its title in
    `language` (the site's default when None); None when the link is unknown or its RSVP is
    not to an occurrence of a series."""
    at = now or utcnow()
    with read_session() as session:
        found = _anchor(session, token)
        if found is None:
            return None
        rsvp, event, series = found
        rows = []
        for r, e in _same_person_rows(session, rsvp, series.id or 0, at):
            live = r.status != RsvpStatus.CANCELLED and e.status == EventStatus.PUBLISHED
            rows.append(SeriesRsvpRow(
                rsvp=r, event=e, position=rsvp_service.waitlist_position(session, r),
                can_cancel=live and at < e.ends_at, can_change_guests=live and at < e.starts_at))
        held = {r.event.id for r in rows if r.rsvp.status != RsvpStatus.CANCELLED}
        missing = ([e for e in open_dates(session, series, at) if e.id not in held]
                   if series.rsvp_all else [])
        text = event_text.text_for(session, event, language or settings.DEFAULT_LANGUAGE)
        return SeriesView(rsvp=rsvp, series=series, title=text.title, rows=rows,
                          missing=missing, title_lang=text.fallback("title"))


def verify_batch(token: str, now: datetime | None = None) -> int:
    """Opening the summary e-mail's link proves the address got it, for every RSVP that
    e-mail announced: those made with the link's own RSVP, in the same transaction (so with
    its `created_at`), by the same address, to this series. They join the address's personal
    feed as a single RSVP does when its link is opened (rsvp.verify_link); others typed with
    the address at other times do not. Returns how many were verified. The dates' rows are
    locked first, in id order, as every write to RSVPs of several dates does (an RSVP row is
    locked after its event's, services/locking.py): an UPDATE of several RSVPs alone would
    lock them in whatever order the database reads them."""
    at = now or utcnow()
    with write_session() as session:
        found = _anchor(session, token)
        if found is None:
            return 0
        rsvp, _event, series = found
        dates = select(Event.id).where(Event.series_id == series.id)
        announced = (Rsvp.email == rsvp.email, Rsvp.created_at == rsvp.created_at,
                     col(Rsvp.event_id).in_(dates), col(Rsvp.verified_at).is_(None),
                     col(Rsvp.erased_at).is_(None))
        event_ids = list(session.exec(select(Rsvp.event_id).where(*announced).distinct()).all())
        if not event_ids:
            return 0  # nothing left to verify: no write, no data version changed
        locking.lock_events(session, event_ids)
        result = session.exec(  # type: ignore[call-overload]
            update(Rsvp).where(*announced, col(Rsvp.event_id).in_(event_ids))
            .values(verified_at=at, updated_at=at)
            .execution_options(**data_version.rsvps_of(event_ids)))
        return int(result.rowcount or 0)


def cancel_all(token: str, now: datetime | None = None) -> SeriesResult:
    """Cancel every live RSVP of the address to this series' dates not started yet (own
    transaction), each through rsvp.cancel_in so its seats go to that date's waitlist; one
    e-mail says which."""
    at = now or utcnow()
    with write_session() as session:
        found = _anchor(session, token)
        if found is None:
            raise rsvp_service.RsvpNotFound(gettext("This RSVP link is not valid."))
        rsvp, _event, series = found
        pairs = [(r, e) for r, e in _same_person_rows(session, rsvp, series.id or 0, at)
                 if r.status != RsvpStatus.CANCELLED and e.status == EventStatus.PUBLISHED]
        locking.lock_events(session, [e.id for _r, e in pairs if e.id is not None])
        outcomes: list[DateOutcome] = []
        mail_ids: list[int] = []
        for r, e in pairs:
            try:
                with session.begin_nested():
                    result = rsvp_service.cancel_in(session, r.token, at, notify=False)
            except rsvp_service.RsvpError as exc:
                outcomes.append(DateOutcome(e, "skipped", rsvp=r, note=exc.message))
                continue
            mail_ids += result.mail_ids
            outcomes.append(DateOutcome(result.event, result.rsvp.status, result.rsvp))
        summary = SeriesResult(series, outcomes, mail_ids)
        if summary.changed:
            _mail_summary(session, summary, "cancelled", at)
        return summary


def change_guests_all(token: str, guests: int,
                      now: datetime | None = None) -> list[DateOutcome]:
    """Set the party size on every live RSVP of the address to dates not started yet, each
    date through rsvp.change_guests in its own transaction and under its own capacity: a
    date without room for more keeps its party and says so (the outcomes list each date)."""
    view = get_series_view(token, now)
    if view is None:
        raise rsvp_service.RsvpNotFound(gettext("This RSVP link is not valid."))
    outcomes: list[DateOutcome] = []
    for row in view.live:
        if not row.can_change_guests or row.rsvp.guests == guests:
            continue
        try:
            result = rsvp_service.change_guests(row.rsvp.token, guests, now)
        except rsvp_service.RsvpError as exc:
            outcomes.append(DateOutcome(row.event, "skipped", row.rsvp, note=exc.message))
            continue
        outcomes.append(DateOutcome(result.event, result.rsvp.status, result.rsvp,
                                    result.position))
    return outcomes


def join_missing(token: str, now: datetime | None = None) -> SeriesResult:
    """RSVP the address to the series' open dates it holds no RSVP for, with the party and
    details of the RSVP whose link opened the page (own transaction, as submit_all)."""
    with read_session() as session:
        found = _anchor(session, token)
    if found is None:
        raise rsvp_service.RsvpNotFound(gettext("This RSVP link is not valid."))
    rsvp, event, _series = found
    req = RsvpRequest(name=rsvp.name, email=rsvp.email, phone=rsvp.phone, guests=rsvp.guests,
                      comment=rsvp.comment)
    return submit_all(event.id or 0, req, now)

