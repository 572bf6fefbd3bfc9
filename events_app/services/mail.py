"""E-mail through an outbox: write first (in the caller's transaction), deliver later.

Queuing in the same transaction as the RSVP or edit it reports means a message exists if and
only if the change committed; delivery happens after, so a slow or broken SMTP server never
blocks or fails an RSVP. Undelivered messages stay in the table and `send-outbox` retries them.

Delivery never holds a database lock while talking SMTP: a sender first *claims* a message with
a conditional UPDATE (moving `next_attempt_at` a lease into the future) in a short transaction,
sends with no transaction open, then records the outcome in another short transaction. On
SQLite, where any open write transaction blocks every other writer, this keeps RSVPs flowing
while a slow SMTP server takes its time. Two senders running at once cannot both claim a
message; a sender that dies mid-send leaves a lease that expires, so the message is retried
(delivery is at least once, never silently dropped).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, or_, update
from sqlmodel import Session, col, select

from events_app import settings
from events_app.db import dialect_insert, read_session, write_session
from events_app.models import Outbox, Rsvp, utcnow

if TYPE_CHECKING:
    from events_app.services.messages import MailContent

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
# Longer than any single SMTP conversation (socket timeout 30 s), so a live sender's claim
# never expires under it; short enough that a crashed sender's messages go out soon after.
CLAIM_LEASE = timedelta(minutes=5)
NO_SMTP_NOTE = "not sent: SMTP_HOST is not set (message written to the log)"
# Kinds whose body holds a one-time link that sets a password: never written to the log.
SECRET_KINDS = frozenset({"invitation", "password_reset"})


def enqueue(
    session: Session,
    *,
    kind: str,
    to_addr: str,
    subject: str,
    body_text: str,
    language: str,
    body_html: str = "",
    ics: str = "",
    rsvp_id: int | None = None,
    dedupe_key: str | None = None,
    reply_to: str = "",
) -> Outbox | None:
    """Queue a message in the caller's transaction; returns it (id set, not attached to the
    session: callers want its id, and the row is written already).

    With a `dedupe_key`, a second message with the same key is silently dropped (returns
    None): the unique index makes "exactly once" hold even when two cron runs overlap.
    `language` is required, so no sender forgets it: what the message is written in
    (MailContent.language), sent as its Content-Language header.
    """
    values = _values(kind, to_addr, subject, body_text, body_html, ics, language, rsvp_id,
                     dedupe_key, reply_to)
    msg_id = _insert(session, values)
    return None if msg_id is None else Outbox(id=msg_id, **values)


def _values(kind: str, to_addr: str, subject: str, body_text: str, body_html: str, ics: str,
            language: str, rsvp_id: int | None, dedupe_key: str | None,
            reply_to: str) -> dict[str, Any]:
    return {"kind": kind, "to_addr": to_addr, "subject": subject, "body_text": body_text,
            "language": language, "body_html": body_html, "ics": ics, "rsvp_id": rsvp_id,
            "dedupe_key": dedupe_key,
            "reply_to": reply_to, "created_at": utcnow(), "sent_at": None,
            "next_attempt_at": None, "attempts": 0, "last_error": ""}


def _insert(session: Session, values: dict[str, Any]) -> int | None:
    """The row's id, or None when its dedupe_key was taken."""
    msg_id = session.connection().execute(_insert_statement(session), values).scalar()
    return None if msg_id is None else int(msg_id)


_insert_statements: dict[str, Any] = {}


def _insert_statement(session: Session) -> Any:
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, built once per dialect and
    run as Core: every RSVP post queues a message, and the ORM's unit of work (plus a SELECT,
    a SAVEPOINT and its RELEASE for a deduplicated one) cost more than the insert itself. A
    key another transaction holds uncommitted waits for it, as the unique index always did;
    rows without a key (NULL) never conflict."""
    dialect = session.get_bind().dialect.name
    found = _insert_statements.get(dialect)
    if found is None:
        found = _insert_statements[dialect] = (
            dialect_insert(session, Outbox)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(col(Outbox.id)))
    return found


def queue_to(session: Session, rsvp: Rsvp, content: MailContent, kind: str,
             mail_ids: list[int], dedupe_key: str | None = None, reply_to: str = "") -> None:
    """Queue `content` to the person behind an RSVP (caller's transaction), noting the
    outbox id in `mail_ids` so the request can deliver it right after commit. An erased RSVP
    is skipped: there is no address left to write to, and that is the point of erasing."""
    if rsvp.is_erased:
        return
    # The row alone, no Outbox object: nobody here reads it back (every RSVP post queues one).
    msg_id = _insert(session, row_for(rsvp, content, kind, dedupe_key, reply_to))
    if msg_id is not None:
        mail_ids.append(msg_id)


def row_for(rsvp: Rsvp, content: MailContent, kind: str, dedupe_key: str | None = None,
            reply_to: str = "") -> dict[str, Any]:
    """The outbox row `queue_to` writes for `rsvp` (column -> value): also for a caller that
    writes it within a statement of its own (services/rsvp.py, a new RSVP on PostgreSQL),
    where `rsvp_id` comes from the RSVP's row. The caller skips an erased RSVP, as
    `queue_to` does."""
    return _values(kind, rsvp.email, content.subject, content.text, content.html, content.ics,
                   content.language, rsvp.id, dedupe_key, reply_to)


def build_message(msg: Outbox) -> EmailMessage:
    """multipart/mixed( multipart/alternative(text, html), event.ics ) as clients expect."""
    em = EmailMessage()
    em["From"] = settings.MAIL_FROM
    em["To"] = msg.to_addr
    em["Subject"] = msg.subject
    if msg.reply_to:
        em["Reply-To"] = msg.reply_to
    em["Date"] = formatdate(localtime=False)
    em["Message-ID"] = make_msgid(domain=settings.MAIL_FROM.rpartition("@")[2] or "localhost")
    # Tells well-behaved auto-responders (vacation replies) not to answer.
    em["Auto-Submitted"] = "auto-generated"
    em.set_content(msg.body_text)
    if msg.body_html:
        em.add_alternative(msg.body_html, subtype="html")
    if msg.ics:
        # Outlook acts on an update or cancellation only when the MIME method matches the
        # file's METHOD.
        em.add_attachment(
            msg.ics.encode("utf-8"), maintype="text", subtype="calendar",
            filename="event.ics", params={"method": ics_method(msg.ics), "charset": "utf-8"},
        )
    if msg.language:
        # RFC 3282: clients and screen readers read the message in this language. Set last:
        # set_content and add_alternative move Content-* headers into the parts they make.
        em["Content-Language"] = msg.language
    return em


_METHOD_RE = re.compile(r"^METHOD:([A-Z-]+)\r?$", re.MULTILINE)


def ics_method(ics: str) -> str:
    """The iTIP method of a calendar attachment (PUBLISH, REQUEST, CANCEL)."""
    found = _METHOD_RE.search(ics)
    return found.group(1) if found else "PUBLISH"


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    logged: int = 0


def _smtp_send(em: EmailMessage) -> None:
    with smtplib.SMTP(settings.SMTP_HOST, settings.SMTP_PORT, timeout=30) as smtp:
        if settings.SMTP_STARTTLS:
            smtp.starttls(context=ssl.create_default_context())
        if settings.SMTP_USER:
            smtp.login(settings.SMTP_USER, str(settings.SMTP_PASSWORD))
        smtp.send_message(em)


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the n-th failed attempt: 1, 2, 4 ... minutes, at most an hour."""
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), timedelta(hours=1))


def _due(now: datetime | BindParameter[datetime]) -> list[ColumnElement[bool]]:
    return [
        col(Outbox.sent_at).is_(None),
        Outbox.attempts < MAX_ATTEMPTS,
        or_(col(Outbox.next_attempt_at).is_(None), col(Outbox.next_attempt_at) <= now),
    ]


def _claim(msg_id: int, now: datetime) -> Outbox | None:
    """Take a lease on one due message, or None when it is not due or another sender has it.

    The conditional UPDATE is the whole claim: the database applies it to a row only while
    the row still matches, so of two racing senders exactly one gets the row back. It hands
    back the claimed row itself (RETURNING), which the ORM makes the message from: one
    statement, where reading the row again cost a second (every RSVP's mail comes here).
    """
    with write_session() as session:
        return session.execute(_CLAIM, {
            "claim_id": msg_id, "claim_now": now, "claim_until": now + CLAIM_LEASE,
        }).scalar_one_or_none()


_OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
# Built once, its values parameters.
_CLAIM = select(Outbox).from_statement(
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("claim_id"), *_due(bindparam("claim_now")))
    .values(next_attempt_at=bindparam("claim_until"), attempts=_OUTBOX.c.attempts + 1)
    .returning(*_OUTBOX.columns))


def _finish(msg_id: int, error: str | None, attempts: int) -> None:
    """Record a send's outcome: one UPDATE (nothing when the row is gone)."""
    if error is None:
        values: dict[str, Any] = {"sent_at": utcnow(), "last_error": "",
                                  "next_attempt_at": None}
    else:
        values = {"last_error": error[:2000],
                  "next_attempt_at": utcnow() + retry_delay(attempts)}
    with write_session() as session:
        session.execute(update(_OUTBOX).where(_OUTBOX.c.id == msg_id).values(**values))


def _log_unsent(msg_id: int) -> bool:
    """With no SMTP server configured, write a message to the log once and keep it queued.

    The conditional UPDATE marks it as logged so cron runs don't repeat it; it still counts
    as unsent, so it goes out once SMTP_HOST is configured.
    """
    with write_session() as session:
        result = session.exec(  # type: ignore[call-overload]
            update(Outbox)
            .where(col(Outbox.id) == msg_id, col(Outbox.sent_at).is_(None),
                   Outbox.last_error == "")
            .values(last_error=NO_SMTP_NOTE)
        )
        if result.rowcount != 1:
            return False
        msg = session.get(Outbox, msg_id)
    assert msg is not None
    body = "(not shown: it holds a one-time link)" if msg.kind in SECRET_KINDS \
        else msg.body_text
    log.info("Mail (no SMTP_HOST; kept in outbox #%s) to %s: %s\n%s",
             msg.id, msg.to_addr, msg.subject, body)
    return True


def deliver(ids: Iterable[int], now: datetime | None = None) -> DeliveryReport:
    """Try to send the given messages now (those that are due and not claimed by others)."""
    report = DeliveryReport()
    for msg_id in ids:
        if not settings.SMTP_HOST:
            report.logged += _log_unsent(msg_id)
            continue
        msg = _claim(msg_id, now or utcnow())
        if msg is None:
            continue  # sent already, backing off, or another sender holds it
        try:
            _smtp_send(build_message(msg))
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            # ValueError: a header the e-mail library refuses; retrying won't fix it, but the
            # attempt cap stops it and last_error says why.
            error = f"{type(exc).__name__}: {exc}"
            _finish(msg_id, error, msg.attempts)
            report.failed += 1
            log.warning("Sending outbox #%s to %s failed: %s", msg_id, msg.to_addr, error)
        else:
            _finish(msg_id, None, msg.attempts)
            report.sent += 1
    return report


def deliver_pending(limit: int = 200, now: datetime | None = None) -> DeliveryReport:
    """Send every due message, oldest first (what `events-app send-outbox` runs)."""
    now = now or utcnow()
    conds = _due(now)
    if not settings.SMTP_HOST:
        conds.append(Outbox.last_error == "")  # each unsendable message is logged only once
    with read_session() as session:
        ids = session.exec(
            select(Outbox.id).where(*conds).order_by(col(Outbox.id)).limit(limit)
        ).all()
    return deliver([i for i in ids if i is not None], now)
