"""Reminder e-mails to confirmed attendees shortly before an event (run from cron).

"Exactly once per attendee" must hold however often cron fires and even when two runs
overlap: each reminder is queued with an outbox `dedupe_key` (a unique index) naming the RSVP
and the event's start, and the RSVP's `reminder_sent_at` is set in the same transaction. Keying
on the start time means an event moved to a later date reminds its attendees again before the
new date, while a run that finds nothing new queues nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from events_app import settings
from events_app.db import write_session
from events_app.models import Event, EventStatus, Rsvp, RsvpStatus, utcnow
from events_app.services import mail, messages


def reminder_key(rsvp: Rsvp, event: Event) -> str:
    return f"reminder:{rsvp.id}:{event.starts_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def queue_reminders(now: datetime | None = None, lead: timedelta | None = None) -> int:
    """Queue a reminder for each confirmed attendee of a published event starting within
    `lead` (default REMINDER_LEAD_HOURS) who has not had one for this start. Returns the count.
    """
    now = now or utcnow()
    lead = lead if lead is not None else timedelta(hours=settings.REMINDER_LEAD_HOURS)
    queued = 0
    with write_session() as session:
        rows = session.exec(
            select(Rsvp, Event)
            .join(Event, col(Event.id) == Rsvp.event_id)
            .where(
                Event.status == EventStatus.PUBLISHED.value,
                col(Event.starts_at) > now,
                col(Event.starts_at) <= now + lead,
                Rsvp.status == RsvpStatus.CONFIRMED.value,
                col(Rsvp.erased_at).is_(None),  # no address left (retention.erase)
            )
            .order_by(col(Event.starts_at), col(Rsvp.id))
        ).all()
        for rsvp, event in rows:
            # A reminder from before the window of the current start was for an earlier date.
            window_opened = event.starts_at - lead
            if rsvp.reminder_sent_at is not None and rsvp.reminder_sent_at >= window_opened:
                continue
            content = messages.reminder(event, rsvp)
            msg = mail.enqueue(session, kind="reminder", to_addr=rsvp.email,
                               subject=content.subject, body_text=content.text,
                               body_html=content.html, language=content.language,
                               rsvp_id=rsvp.id,
                               dedupe_key=reminder_key(rsvp, event))
            rsvp.reminder_sent_at = now
            session.add(rsvp)
            queued += msg is not None
    return queued
