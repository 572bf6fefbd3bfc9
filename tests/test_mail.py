"""E-mail delivery against a real SMTP server on localhost (aiosmtpd), on both databases:
recipients, plain-text and HTML parts, the .ics attachment, retries, claims and locks."""

from __future__ import annotations

import logging
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import icalendar
import psycopg
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import make_url

from events_app import cli, settings
from events_app.db import read_session, write_session
from events_app.models import Event, ThrottleBucket, utcnow
from events_app.services import event_admin, mail, throttle
from events_app.services import rsvp as svc
from tests.factories import make_event
from tests.feed_helpers import parse
from tests.ical_readers import read_icaljs
from tests.organizer_support import make_organizer
from tests.rsvp_helpers import manage_link, outbox, post_rsvp, req


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class Collector:
    """An aiosmtpd handler that keeps what it receives; `on_data` runs mid-conversation."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[Received] = []
        self.on_data: Callable[[], None] | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.on_data:
            self.on_data()
        msg = message_from_bytes(envelope.original_content or envelope.content,
                                 policy=default_policy)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(monkeypatch) -> Iterator[Collector]:
    port = _free_port()
    handler = Collector(port)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setattr(settings, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setattr(settings, "SMTP_PORT", port)
    monkeypatch.setattr(settings, "MAIL_FROM", "events@example.org")
    yield handler
    controller.stop()


def parts(msg: EmailMessage) -> tuple[str, str, list[EmailMessage]]:
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content(), list(msg.iter_attachments())


def test_confirmation_has_both_parts_and_the_event_as_ics(db_url, smtp) -> None:
    ev = make_event(title="Airport protest", capacity=5, venue_name="Lambert Terminal 1")
    result = svc.submit_rsvp(ev.id, req("ann@example.org", guests=1, name="Ann <b>Lee</b>"))
    report = mail.deliver_pending()
    assert (report.sent, report.failed) == (1, 0)
    (got,) = smtp.received
    assert got.rcpt_tos == ["ann@example.org"] and got.mail_from == "events@example.org"
    assert got.message["Subject"] == "You're going: Airport protest"
    assert got.message["To"] == "ann@example.org"
    text, html, attachments = parts(got.message)
    manage = f"{settings.BASE_URL}/rsvp/{result.rsvp.token}"
    assert manage in text and manage in html
    assert "Hello Ann <b>Lee</b>," in text
    assert "Ann &lt;b&gt;Lee&lt;/b&gt;" in html and "<b>Lee</b>" not in html  # escaped
    assert "you and 1 guest (2 spots)" in text and "Lambert Terminal 1" in html
    (ics,) = attachments
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_filename() == "event.ics"
    cal = icalendar.Calendar.from_ical(ics.get_content())
    (vevent,) = cal.walk("VEVENT")
    assert str(vevent["UID"]) == ev.uid
    assert str(vevent["SUMMARY"]) == "Airport protest"
    assert vevent.decoded("DTSTART") == ev.starts_at
    (row,) = outbox()
    assert row.sent_at is not None and row.attempts == 1 and row.last_error == ""


def test_each_kind_of_mail_reaches_its_person_with_both_parts(db_url, smtp) -> None:
    ev = make_event(capacity=1)
    a = svc.submit_rsvp(ev.id, req("a@example.org"))
    svc.submit_rsvp(ev.id, req("w@example.org"))
    svc.cancel_rsvp(a.rsvp.token)  # cancelled (to a) + promoted (to w)
    mail.deliver_pending()
    got = {(r.rcpt_tos[0], r.message["Subject"].split(":")[0]) for r in smtp.received}
    assert got == {("a@example.org", "You're going"), ("w@example.org", "You're on the waitlist"),
                   ("a@example.org", "RSVP cancelled"),
                   ("w@example.org", "A spot opened up, you're going")}
    for r in smtp.received:
        text, html, attachments = parts(r.message)
        assert text.strip() and "<html" in html
        # a had a seat, so a's cancellation carries a METHOD:CANCEL for the calendar entry.
        wants_ics = r.message["Subject"].startswith(("You're going", "A spot opened up",
                                                      "RSVP cancelled"))
        assert bool(attachments) == wants_ics
    waitlisted = next(r for r in smtp.received if "waitlist" in r.message["Subject"])
    assert "number 1 on the waitlist" in parts(waitlisted.message)[0]


def test_cancellation_ics_removes_the_calendar_entry(db_url, smtp) -> None:
    """Apple Mail, Gmail and Outlook remove an entry for METHOD:CANCEL with the same UID, a
    higher SEQUENCE, STATUS:CANCELLED, the ORGANIZER and the recipient as ATTENDEE, and (for
    Outlook) the same method on the MIME part."""
    ev = make_event(title="Vigil, downtown", capacity=1)
    ann = svc.submit_rsvp(ev.id, req("ann@example.org", name="Ann Lee"))
    svc.submit_rsvp(ev.id, req("bo@example.org"))  # waitlisted: never got an .ics
    svc.cancel_rsvp(ann.rsvp.token)  # Ann cancels; Bo is promoted
    mail.deliver_pending()
    by_subject = {r.message["Subject"]: r for r in smtp.received}
    got = by_subject["RSVP cancelled: Vigil, downtown"]
    (attachment,) = parts(got.message)[2]
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "CANCEL"
    raw = attachment.get_content().encode()
    p = parse(raw)  # four readers agree on the times
    assert str(p.lib["METHOD"]) == "CANCEL"
    (vevent,) = p.lib.walk("VEVENT")
    assert str(vevent["UID"]) == ev.uid
    assert int(vevent["SEQUENCE"]) == ev.sequence + 1  # above the confirmation's
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert str(vevent["ATTENDEE"]) == "mailto:ann@example.org"
    assert str(vevent["ORGANIZER"]) == f"mailto:{settings.MAIL_FROM}"
    assert b"bo@example.org" not in raw  # only the recipient's own address
    strict = p.strict_event(ev.uid)
    assert strict.status.value == "CANCELLED" and strict.sequence == ev.sequence + 1
    assert read_icaljs(raw)["method"] == "CANCEL"

    # The confirmation and the promotion stay METHOD:PUBLISH (the person adds the event).
    promoted = by_subject["A spot opened up, you're going: Vigil, downtown"]
    assert parts(promoted.message)[2][0].get_param("method") == "PUBLISH"


def test_event_cancelled_mail_carries_a_cancel_for_confirmed_people(db_url, smtp) -> None:
    ev = make_event(title="Town hall", capacity=1)
    svc.submit_rsvp(ev.id, req("ann@example.org"))
    svc.submit_rsvp(ev.id, req("bo@example.org"))  # waitlisted
    before = ev.sequence
    actor = make_organizer("org@example.org")
    with write_session() as session:
        row = session.get(Event, ev.id)
        event_admin.cancel(session, actor, row, "The hall flooded.")
    mail.deliver_pending()
    cancelled = {r.rcpt_tos[0]: r for r in smtp.received
                 if r.message["Subject"] == "Cancelled: Town hall"}
    (attachment,) = parts(cancelled["ann@example.org"].message)[2]
    assert attachment.get_param("method") == "CANCEL"
    p = parse(attachment.get_content().encode())
    (vevent,) = p.lib.walk("VEVENT")
    assert str(p.lib["METHOD"]) == "CANCEL"
    assert str(vevent["UID"]) == ev.uid and int(vevent["SEQUENCE"]) > before
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert str(vevent["ATTENDEE"]) == "mailto:ann@example.org"
    assert parts(cancelled["bo@example.org"].message)[2] == []


def test_a_failed_send_stays_queued_and_is_retried_later(db_url, smtp, monkeypatch) -> None:
    ev = make_event()
    svc.submit_rsvp(ev.id, req("ann@example.org"))
    monkeypatch.setattr(settings, "SMTP_PORT", _free_port())  # nothing listens there
    report = mail.deliver_pending()
    assert (report.sent, report.failed) == (0, 1)
    (row,) = outbox()
    assert row.sent_at is None and row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at is not None and row.next_attempt_at > utcnow()
    monkeypatch.setattr(settings, "SMTP_PORT", smtp.port)
    assert mail.deliver_pending().sent == 0  # backing off: not due yet
    report = mail.deliver_pending(now=utcnow() + mail.retry_delay(1) + timedelta(seconds=1))
    assert report.sent == 1 and len(smtp.received) == 1
    (row,) = outbox()
    assert row.sent_at is not None and row.attempts == 2 and row.last_error == ""


def test_without_smtp_host_messages_are_logged_once_and_kept(db_url, caplog, smtp,
                                                            monkeypatch) -> None:
    monkeypatch.setattr(settings, "SMTP_HOST", "")
    ev = make_event(title="Town hall")
    svc.submit_rsvp(ev.id, req("ann@example.org"))
    with caplog.at_level(logging.INFO, logger="events_app.services.mail"):
        assert mail.deliver_pending().logged == 1
        assert mail.deliver_pending().logged == 0  # cron runs don't repeat it
    assert caplog.text.count("You're going: Town hall") == 1
    (row,) = outbox()
    assert row.sent_at is None and row.attempts == 0
    monkeypatch.setattr(settings, "SMTP_HOST", "127.0.0.1")  # mail configured later
    assert mail.deliver_pending().sent == 1
    assert [r.rcpt_tos for r in smtp.received] == [["ann@example.org"]]


def _probe_write(db_url: str, msg_id: int) -> str:
    """Try to write (and lock) the message's row from a separate connection, not waiting long.

    Succeeds only if the sender holds no database lock while it talks SMTP.
    """
    try:
        if db_url.startswith("sqlite"):
            conn = sqlite3.connect(make_url(db_url).database, timeout=0.5,
                                   isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("UPDATE outbox SET kind = kind WHERE id = ?", (msg_id,))
                conn.execute("COMMIT")
            finally:
                conn.close()
        else:
            url = make_url(db_url).set(drivername="postgresql").render_as_string(
                hide_password=False)
            with psycopg.connect(url) as conn:
                conn.execute("SET lock_timeout = '500ms'")
                conn.execute("SELECT id FROM outbox WHERE id = %s FOR UPDATE", (msg_id,))
                conn.execute("UPDATE outbox SET kind = kind WHERE id = %s", (msg_id,))
        return "ok"
    except (sqlite3.OperationalError, psycopg.errors.LockNotAvailable) as exc:
        return f"locked: {exc}"


def test_no_database_lock_is_held_while_talking_smtp(db_url, smtp) -> None:
    ev = make_event()
    result = svc.submit_rsvp(ev.id, req("ann@example.org"))
    probes: list[str] = []
    smtp.on_data = lambda: probes.append(_probe_write(db_url, result.mail_ids[0]))
    assert mail.deliver_pending().sent == 1
    assert probes == ["ok"]
    # ... and an RSVP can be taken while a slow SMTP conversation is in progress.
    smtp.on_data = lambda: probes.append(
        svc.submit_rsvp(ev.id, req("bob@example.org")).rsvp.status)
    svc.submit_rsvp(ev.id, req("cy@example.org"))
    mail.deliver_pending()
    assert probes == ["ok", "confirmed"]


def test_two_senders_never_send_the_same_message_twice(db_url, smtp) -> None:
    ev = make_event()
    result = svc.submit_rsvp(ev.id, req("ann@example.org"))
    in_data, release = threading.Event(), threading.Event()

    def hold() -> None:
        in_data.set()
        release.wait(5)

    smtp.on_data = hold
    reports: list[mail.DeliveryReport] = []
    first = threading.Thread(target=lambda: reports.append(mail.deliver(result.mail_ids)))
    first.start()
    assert in_data.wait(5)
    second = mail.deliver_pending()  # while the first sender is mid-conversation
    release.set()
    first.join(10)
    assert (second.sent, second.failed) == (0, 0)
    assert reports[0].sent == 1
    assert len(smtp.received) == 1


def test_rsvp_over_http_is_delivered_right_after_the_response(client, smtp) -> None:
    ev = make_event(title="Policy briefing")
    r = post_rsvp(client, ev.slug, email="ann@example.org")
    assert r.status_code == 200
    (got,) = smtp.received  # the background task ran after the response
    assert got.rcpt_tos == ["ann@example.org"]
    assert outbox()[0].sent_at is not None


def test_a_broken_smtp_server_never_fails_the_rsvp(client, monkeypatch) -> None:
    monkeypatch.setattr(settings, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setattr(settings, "SMTP_PORT", _free_port())
    ev = make_event()
    r = post_rsvp(client, ev.slug, email="ann@example.org")
    assert r.status_code == 200 and "Check your e-mail" in r.text
    assert 'data-status="confirmed"' in client.get(manage_link("ann@example.org")).text
    (row,) = outbox()
    assert row.sent_at is None and row.attempts == 1 and row.last_error


def test_cli_send_outbox_and_send_reminders(db_url, smtp) -> None:
    ev = make_event(title="Training", starts_at=utcnow() + timedelta(hours=20))
    svc.submit_rsvp(ev.id, req("ann@example.org"))
    window = timedelta(minutes=1)
    with write_session() as s:
        throttle.allow(s, "rsvp:old", 10, window, utcnow() - timedelta(days=2))
        throttle.allow(s, "rsvp:new", 10, window)
    assert cli.main(["send-outbox"]) == 0
    assert [r.message["Subject"] for r in smtp.received] == ["You're going: Training"]
    with read_session() as s:  # day-old rate-limit counters are cleared on the way
        assert (s.get(ThrottleBucket, "rsvp:old"), s.get(ThrottleBucket, "rsvp:new").count) \
            == (None, 1)
    assert cli.main(["send-reminders"]) == 0
    assert cli.main(["send-reminders"]) == 0
    subjects = [r.message["Subject"] for r in smtp.received]
    assert len(subjects) == 2 and subjects[1].startswith("Reminder: Training")
    text, html, _ = parts(smtp.received[1].message)
    assert "coming up soon" in text and "coming up soon" in html
