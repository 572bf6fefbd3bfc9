"""E-mail through an outbox: write first (in the caller's transaction), deliver later.

Queuing in the same transaction as the RSVP or edit it reports means a message exists if and
only if the change committed; delivery happens after, so a slow or broken SMTP server never
blocks or fails an RSVP. Undelivered messages stay in the table and `send-outbox` retries them.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from events_app import settings
from events_app.db import write_session
from events_app.models import Outbox, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10


def enqueue(
    session: Session,
    *,
    kind: str,
    to_addr: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    ics: str = "",
    rsvp_id: int | None = None,
    dedupe_key: str | None = None,
) -> Outbox | None:
    """Queue a message in the caller's transaction.

    With a `dedupe_key`, a second message with the same key is silently dropped (returns
    None): the unique index makes "exactly once" hold even when two cron runs overlap.
    """
    msg = Outbox(kind=kind, to_addr=to_addr, subject=subject, body_text=body_text,
                 body_html=body_html, ics=ics, rsvp_id=rsvp_id, dedupe_key=dedupe_key)
    if dedupe_key is not None:
        if session.exec(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key)).first():
            return None
        try:
            with session.begin_nested():
                session.add(msg)
                session.flush()
        except IntegrityError:
            return None
        return msg
    session.add(msg)
    session.flush()
    return msg


def build_message(msg: Outbox) -> EmailMessage:
    em = EmailMessage()
    em["From"] = settings.MAIL_FROM
    em["To"] = msg.to_addr
    em["Subject"] = msg.subject
    em["Date"] = formatdate(localtime=False)
    em["Message-ID"] = make_msgid(domain=settings.MAIL_FROM.rpartition("@")[2] or "localhost")
    em.set_content(msg.body_text)
    if msg.body_html:
        em.add_alternative(msg.body_html, subtype="html")
    if msg.ics:
        em.add_attachment(
            msg.ics.encode("utf-8"), maintype="text", subtype="calendar",
            filename="event.ics", params={"method": "PUBLISH", "charset": "utf-8"},
        )
    return em


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    logged: int = 0


def _smtp_send(em: EmailMessage) -> None:
    with smtplib.SMTP(settings.SMTP_HOST, settings.SMTP_PORT, timeout=30) as smtp:
        if settings.SMTP_STARTTLS:
            smtp.starttls()
        if settings.SMTP_USER:
            smtp.login(settings.SMTP_USER, str(settings.SMTP_PASSWORD))
        smtp.send_message(em)


def deliver_pending(limit: int = 200) -> DeliveryReport:
    """Send queued messages; each is marked sent in its own transaction.

    With no SMTP_HOST the message is written to the log and left queued, so nothing is lost
    when mail is configured later.
    """
    report = DeliveryReport()
    with write_session() as session:
        ids = session.exec(
            select(Outbox.id)
            .where(col(Outbox.sent_at).is_(None), Outbox.attempts < MAX_ATTEMPTS)
            .order_by(col(Outbox.id))
            .limit(limit)
        ).all()
    for msg_id in ids:
        with write_session() as session:
            msg = session.get(Outbox, msg_id, with_for_update=True)
            if msg is None or msg.sent_at is not None:
                continue  # another sender got it first
            if not settings.SMTP_HOST:
                log.info("Mail (no SMTP_HOST; kept in outbox #%s) to %s: %s\n%s",
                         msg.id, msg.to_addr, msg.subject, msg.body_text)
                report.logged += 1
                continue
            msg.attempts += 1
            try:
                _smtp_send(build_message(msg))
            except (OSError, smtplib.SMTPException) as exc:
                msg.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                report.failed += 1
                log.warning("Sending outbox #%s failed: %s", msg.id, msg.last_error)
            else:
                msg.sent_at = utcnow()
                msg.last_error = ""
                report.sent += 1
    return report
