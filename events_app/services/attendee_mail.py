"""E-mail to everyone who RSVP'd to an event: it was cancelled, its time or place changed,
or its organizers wrote to them.

Each is queued in the caller's write transaction, the one that makes the change, so a change
that is refused (or rolled back) e-mails no one and a saved one cannot lose its e-mail. The
event row is locked first (services/locking.py), so no RSVP is booked between choosing the
recipients and the commit: nobody who counts as coming misses the news. E-mails about one
person's own seat (confirmed, waitlisted, moved up) belong to the seat decisions in
services/rsvp.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from events_app import urls
from events_app.db import write_session
from events_app.i18n import N_, gettext
from events_app.models import Event, EventStatus, Organizer, Outbox, Rsvp, RsvpStatus, utcnow
from events_app.services import access, audit, audit_detail, locking, mail, messages
from events_app.services.rsvp import RsvpError


def _live_rsvps(session: Session, event: Event, statuses: tuple[RsvpStatus, ...]) -> list[Rsvp]:
    """The event's RSVPs in these statuses that still have someone to write to."""
    return list(session.exec(
        select(Rsvp)
        .where(Rsvp.event_id == event.id, col(Rsvp.status).in_([s.value for s in statuses]),
               col(Rsvp.erased_at).is_(None))
        .order_by(col(Rsvp.id))
    ).all())


def notify_event_cancelled(session: Session, event: Event, message: str) -> int:
    """Queue the "event cancelled" e-mail to every confirmed and waitlisted attendee, in the
    caller's transaction (the one that cancels the event). Returns how many were queued."""
    locking.lock_event_row(session, event)
    people = _live_rsvps(session, event, (RsvpStatus.CONFIRMED, RsvpStatus.WAITLISTED))
    for rsvp in people:
        content = messages.event_cancelled(event, rsvp, message)
        mail.queue_to(session, rsvp, content, "event_cancelled", [])
    return len(people)


def notify_event_uncancelled(session: Session, event: Event,
                             cancelled_at: datetime | None) -> int:
    """Queue "it is back on" to each person who was e-mailed that the event was cancelled
    (the outbox holds that e-mail since `cancelled_at`) and still holds a confirmed or
    waitlisted RSVP, in the caller's transaction (the one that un-cancels). Nothing for an
    event that has started: there is nothing left to come to. Returns how many were queued.
    Confirmed people get a REQUEST .ics with the raised SEQUENCE, putting the entry their
    calendar removed back."""
    if utcnow() >= event.starts_at:
        return 0
    locking.lock_event_row(session, event)
    people = _live_rsvps(session, event, (RsvpStatus.CONFIRMED, RsvpStatus.WAITLISTED))
    told = select(Outbox.rsvp_id).where(
        Outbox.kind == "event_cancelled",
        col(Outbox.rsvp_id).in_([r.id for r in people]))
    if cancelled_at is not None:  # told about this cancellation, not an earlier one
        told = told.where(col(Outbox.created_at) >= cancelled_at - timedelta(seconds=1))
    told_ids = set(session.exec(told).all())
    people = [r for r in people if r.id in told_ids]
    for rsvp in people:
        mail.queue_to(session, rsvp, messages.event_uncancelled(event, rsvp),
                      "event_uncancelled", [])
    return len(people)


def _takes_change_mail(event: Event, now: datetime | None) -> bool:
    return event.status == EventStatus.PUBLISHED and (now or utcnow()) < event.starts_at


def change_recipients(session: Session, event: Event, now: datetime | None = None) -> int:
    """How many people `notify_event_changed` would e-mail about a time or place change now:
    the organizer's form offers the e-mail only when this is above zero."""
    if not _takes_change_mail(event, now):
        return 0
    return int(session.exec(
        select(func.count()).select_from(Rsvp).where(
            Rsvp.event_id == event.id,
            col(Rsvp.status).in_([RsvpStatus.CONFIRMED.value, RsvpStatus.WAITLISTED.value]))
    ).one())


def notify_event_changed(session: Session, event: Event, changes: dict[str, tuple[Any, Any]],
                         now: datetime | None = None) -> int:
    """Queue "the time/place changed" to every confirmed and waitlisted attendee, in the
    caller's transaction (the one that saves the edit, so a refused edit mails no one).

    `changes` is the edit's {field: (old, new)}. Their calendar entry came from the .ics in
    their confirmation e-mail, which no feed refreshes, so this mail is how it moves. Only a
    published event that has not started yet, and only when the time or place reads
    differently; cancelling has its own e-mail. Returns how many were queued.
    """
    if not _takes_change_mail(event, now):
        return 0
    change = messages.event_change(event, changes)
    if not change:
        return 0
    locking.lock_event_row(session, event)
    people = _live_rsvps(session, event, (RsvpStatus.CONFIRMED, RsvpStatus.WAITLISTED))
    for rsvp in people:
        content = messages.event_changed(event, rsvp, change)
        mail.queue_to(session, rsvp, content, "event_changed", [])
    return len(people)


# --- Organizers writing to their attendees --------------------------------------------------

class Audience(StrEnum):
    """Whom an organizer's message goes to. Every group leaves out erased RSVPs (no address
    left) and cancelled ones."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CHECKED_IN = "checked_in"
    NOT_CHECKED_IN = "not_checked_in"


AUDIENCE_LABELS: dict[Audience, str] = {
    Audience.CONFIRMED: N_("Everyone confirmed"),
    Audience.WAITLISTED: N_("Everyone on the waitlist"),
    Audience.CHECKED_IN: N_("Confirmed and checked in at the door"),
    Audience.NOT_CHECKED_IN: N_("Confirmed but not checked in"),
}
# A link only the real recipient's e-mail carries: previews and test mails show this instead
# of someone's private manage link.
PREVIEW_MANAGE_URL = urls.rsvp_manage_url("their-own-private-link")
TEST_PREFIX = "[Test] "


def _audience_conds(event: Event, audience: Audience) -> list[Any]:
    conds: list[Any] = [Rsvp.event_id == event.id, col(Rsvp.erased_at).is_(None)]
    if audience == Audience.WAITLISTED:
        return [*conds, Rsvp.status == RsvpStatus.WAITLISTED.value]
    conds.append(Rsvp.status == RsvpStatus.CONFIRMED.value)
    if audience == Audience.CHECKED_IN:
        conds.append(col(Rsvp.checked_in_at).is_not(None))
    elif audience == Audience.NOT_CHECKED_IN:
        conds.append(col(Rsvp.checked_in_at).is_(None))
    return conds


def audience_counts(session: Session, event: Event) -> dict[Audience, int]:
    """How many people (RSVPs, one e-mail each) each audience has now."""
    return {a: int(session.exec(select(func.count()).select_from(Rsvp)
                                .where(*_audience_conds(event, a))).one())
            for a in Audience}


def recipients(session: Session, event: Event, audience: Audience) -> list[Rsvp]:
    return list(session.exec(select(Rsvp).where(*_audience_conds(event, audience))
                             .order_by(col(Rsvp.id))).all())


def reply_to(organizer: Organizer) -> str:
    """'"Ada Lovelace" <ada@example.org>': replies reach the organizer who wrote."""
    return str(Address(display_name=organizer.name, addr_spec=organizer.email))


@dataclass(frozen=True)
class Draft:
    audience: Audience
    subject: str
    body: str

    def check(self) -> None:
        """RsvpError (with the field) for an empty subject or body."""
        if not messages.clean_subject(self.subject):
            raise RsvpError(gettext("Please write a subject."), field="subject")
        if not self.body.strip():
            raise RsvpError(gettext("Please write a message."), field="body")


@dataclass(frozen=True)
class Preview:
    """Exactly what one recipient gets, but for their private manage link (shown as
    PREVIEW_MANAGE_URL), and how many get it."""

    recipient: str  # "Zoë Quinn <zoe@example.org>", or a stand-in when the group is empty
    count: int
    content: messages.MailContent
    reply_to: str


def _sample(people: list[Rsvp], event: Event) -> Rsvp:
    if people:
        return people[0]
    return Rsvp(event_id=event.id or 0, name="(an attendee)", email="attendee@example.org",
                token="preview")  # noqa: S106 - never stored


def preview(session: Session, event: Event, actor: Organizer, draft: Draft) -> Preview:
    draft.check()
    people = recipients(session, event, draft.audience)
    sample = _sample(people, event)
    content = messages.organizer_message(event, sample, draft.subject, draft.body, actor.name,
                                         manage_url=PREVIEW_MANAGE_URL)
    shown = f"{sample.name} <{sample.email}>" if people else "(nobody in this group yet)"
    return Preview(recipient=shown, count=len(people), content=content,
                   reply_to=reply_to(actor))


def email_attendees(session: Session, event: Event, subject: str, body: str,
                    audience: Audience = Audience.CONFIRMED,
                    actor: Organizer | None = None) -> int:
    """Queue an organizer's message to everyone in `audience` (caller's transaction), one
    e-mail each, answered to `actor`. Returns how many were queued. Raises RsvpError for an
    empty subject or body."""
    Draft(audience, subject, body).check()
    people = recipients(session, event, audience)
    answer_to = reply_to(actor) if actor else ""
    for rsvp in people:
        content = messages.organizer_message(event, rsvp, subject, body,
                                             actor.name if actor else "")
        mail.queue_to(session, rsvp, content, "organizer_message", [], reply_to=answer_to)
    return len(people)


def message_attendees(actor: Organizer, slug: str, subject: str, body: str,
                      audience: Audience = Audience.CONFIRMED) -> tuple[Event, int] | None:
    """An organizer's message to an audience of an event they manage (own transaction), with
    its audit entry in the same transaction, so the trail says who wrote to the attendees
    exactly when the e-mails were queued. None when `actor` may not manage an event of that
    slug; RsvpError for an empty subject or body (nothing queued)."""
    with write_session() as session:
        event = access.get_event(session, actor, slug)
        if event is None:
            return None
        sent = email_attendees(session, event, subject, body, audience, actor)
        audit.record(session, actor, "event.email_attendees", event,
                     [audit_detail.line(N_("%(num)s recipient(s) (%(audience)s): %(subject)s"),
                                        num=sent,
                                        audience=audit_detail.code("audience", audience.value),
                                        subject=messages.clean_subject(subject))])
        return event, sent


def send_test(actor: Organizer, slug: str, draft: Draft) -> tuple[Event, Preview, int] | None:
    """The preview, as an e-mail to the signed-in organizer only (own transaction): subject
    marked "[Test]", the private manage link replaced as in the preview. Returns the event,
    the preview and the outbox id; None when `actor` may not manage the event."""
    with write_session() as session:
        event = access.get_event(session, actor, slug)
        if event is None:
            return None
        shown = preview(session, event, actor, draft)
        msg = mail.enqueue(session, kind="organizer_message", to_addr=actor.email,
                           subject=messages.clean_subject(TEST_PREFIX + shown.content.subject),
                           body_text=shown.content.text, body_html=shown.content.html,
                           language=shown.content.language, reply_to=shown.reply_to)
        audit.record(session, actor, "event.email_test", event,
                     [audit_detail.line(N_("to %(email)s: %(subject)s"), email=actor.email,
                                        subject=messages.clean_subject(draft.subject))])
        assert msg is not None and msg.id is not None
        return event, shown, msg.id
