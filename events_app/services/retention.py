"""Erasing attendees' personal data: after the retention period, or when they ask.

Who RSVP'd to an immigrant-rights protest must not sit in a database for ever. An RSVP's
name, e-mail, phone and comment are erased PERSONAL_DATA_RETENTION_DAYS after its event ends
(`events-app purge-personal-data`, from cron), or at once from the person's manage page. The
row itself stays, anonymised, with its status, party size, RSVP and check-in times, so seat
counts and attendance statistics still add up; everything that repeated the personal data
goes with it: the e-mails kept in the outbox (they hold names and links), the audit entries'
details about that RSVP, and the address's personal-feed link once nothing of it is left.

Erasure is irreversible by design (nothing is kept to undo it with) and idempotent: running
the purge again, or overlapping runs, find nothing left to do for rows already erased.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, update
from sqlmodel import Session, col, select

from events_app import settings
from events_app.db import write_session
from events_app.models import AuditLog, Event, Outbox, PersonalFeed, Rsvp, new_token, utcnow
from events_app.services import audit_detail, personal_feeds

ERASED_NAME = "(erased)"
ERASED_AUDIT_DETAIL = audit_detail.ERASED_DETAIL  # shown in the reader's language
BATCH = 500  # RSVPs per transaction, so a big purge never holds SQLite's write lock long


def retention() -> timedelta:
    return timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)


def erase_after(event: Event) -> datetime:
    """When the purge erases this event's attendee data (organizers are shown this date)."""
    return event.ends_at + retention()


@dataclass
class PurgeReport:
    rsvps: int = 0
    audit_entries: int = 0
    emails: int = 0
    feeds: int = 0


def erase(session: Session, rsvps: Sequence[Rsvp], now: datetime,
          report: PurgeReport | None = None) -> int:
    """Anonymise these RSVPs in the caller's transaction; returns how many were erased.

    The e-mail becomes a per-row placeholder that is not an address (no "@"), so it keeps
    the (event, e-mail) uniqueness, can never match a form entry and is never mailed; the
    token is replaced, so the old manage link stops working.
    """
    todo = [r for r in rsvps if not r.is_erased and r.id is not None]
    if not todo:
        return 0
    ids = [r.id for r in todo]
    addresses = {r.email for r in todo}
    names = {(r.event_id, r.name) for r in todo if r.name}
    for r in todo:
        r.name, r.email, r.phone, r.comment = ERASED_NAME, f"erased-{r.id}", "", ""
        r.token = new_token()
        r.verified_at = None
        r.erased_at = r.updated_at = now
        session.add(r)
    session.flush()
    report = report or PurgeReport()
    report.rsvps += len(todo)
    report.emails += session.exec(  # type: ignore[call-overload]
        delete(Outbox).where(col(Outbox.rsvp_id).in_(ids))).rowcount
    report.audit_entries += session.exec(  # type: ignore[call-overload]
        update(AuditLog)
        .where(AuditLog.entity_type == "rsvp", col(AuditLog.entity_id).in_(ids),
               AuditLog.detail != ERASED_AUDIT_DETAIL)
        .values(detail=ERASED_AUDIT_DETAIL)).rowcount
    # Entries about other RSVPs of the event may name this person too ("confirmed from the
    # waitlist: ..."); those lose their detail as well.
    for event_id, name in names:
        same_event = select(Rsvp.id).where(Rsvp.event_id == event_id)
        # As typed in a plain detail, or as JSON writes it in a structured one (audit_detail).
        spellings = {name, json.dumps(name, ensure_ascii=False)[1:-1]}
        report.audit_entries += session.exec(  # type: ignore[call-overload]
            update(AuditLog)
            .where(AuditLog.entity_type == "rsvp", col(AuditLog.entity_id).in_(same_event),
                   or_(*(col(AuditLog.detail).contains(n, autoescape=True)
                         for n in spellings)))
            .values(detail=ERASED_AUDIT_DETAIL)
            .execution_options(synchronize_session=False)).rowcount
    for address in addresses:
        still_used = session.exec(select(Rsvp.id).where(Rsvp.email == address)).first()
        if still_used is None:
            report.feeds += personal_feeds.forget(session, address)
    return len(todo)


def purge(now: datetime | None = None) -> PurgeReport:
    """Erase what the retention period says must go (what the command runs).

    RSVPs of events that ended more than the retention period ago, in batches of BATCH per
    transaction; then what outlived the RSVPs it was about: outbox e-mails older than the
    period, audit details about RSVPs that no longer exist (their event was deleted), and
    feed links of addresses with no RSVP left.
    """
    now = now or utcnow()
    cutoff = now - retention()
    report = PurgeReport()
    while True:
        with write_session() as session:
            batch = list(session.exec(
                select(Rsvp).join(Event, col(Event.id) == Rsvp.event_id)
                .where(col(Event.ends_at) < cutoff, col(Rsvp.erased_at).is_(None))
                .order_by(col(Rsvp.id)).limit(BATCH)
                # Overlapping runs (cron, or an operator by hand) share the work on PostgreSQL
                # instead of erasing the same rows twice; SQLite runs them one at a time.
                .with_for_update(of=Rsvp, skip_locked=True)
            ).all())
            erase(session, batch, now, report)
        if len(batch) < BATCH:
            break
    with write_session() as session:
        report.emails += session.exec(  # type: ignore[call-overload]
            delete(Outbox).where(col(Outbox.created_at) < cutoff)).rowcount
        orphaned = ~exists().where(Rsvp.id == AuditLog.entity_id)
        report.audit_entries += session.exec(  # type: ignore[call-overload]
            update(AuditLog)
            .where(AuditLog.entity_type == "rsvp", col(AuditLog.at) < cutoff, orphaned,
                   AuditLog.detail != ERASED_AUDIT_DETAIL)
            .values(detail=ERASED_AUDIT_DETAIL)).rowcount
        unused = ~exists().where(Rsvp.email == PersonalFeed.email)
        report.feeds += session.exec(  # type: ignore[call-overload]
            delete(PersonalFeed).where(unused)).rowcount
    return report
