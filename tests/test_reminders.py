"""Reminders: confirmed attendees, about a day ahead, exactly once however often cron runs."""

from __future__ import annotations

import threading
from datetime import timedelta

from events_app.db import write_session
from events_app.models import Event, utcnow
from events_app.services import reminders
from events_app.services import rsvp as svc
from tests.factories import make_event
from tests.rsvp_helpers import outbox, req, rsvps


def test_confirmed_attendees_of_events_within_a_day_get_one_reminder(db_url) -> None:
    now = utcnow()
    soon = make_event(title="Soon", capacity=1, starts_at=now + timedelta(hours=23))
    later = make_event(title="Later", starts_at=now + timedelta(hours=30))
    gone = make_event(title="Cancelled", starts_at=now + timedelta(hours=5))
    svc.submit_rsvp(soon.id, req("a@example.org"))
    svc.submit_rsvp(soon.id, req("waiting@example.org"))  # waitlisted: no reminder
    quit_ = svc.submit_rsvp(soon.id, req("quit@example.org"))  # waitlisted, then cancelled
    svc.cancel_rsvp(quit_.rsvp.token)
    svc.submit_rsvp(later.id, req("b@example.org"))
    svc.submit_rsvp(gone.id, req("c@example.org"))
    with write_session() as s:
        s.get(Event, gone.id).status = "cancelled"

    assert reminders.queue_reminders(now=now) == 1
    assert reminders.queue_reminders(now=now) == 0
    assert reminders.queue_reminders(now=now + timedelta(hours=2)) == 0
    (msg,) = outbox("reminder")
    assert msg.to_addr == "a@example.org" and msg.subject.startswith("Reminder: Soon")
    assert "coming up soon" in msg.body_text and "coming up soon" in msg.body_html
    assert rsvps(soon.id)["a@example.org"].reminder_sent_at is not None

    # Seven hours on, "Later" enters its window: its attendee is reminded, nobody twice.
    assert reminders.queue_reminders(now=now + timedelta(hours=7)) == 1
    assert sorted(m.to_addr for m in outbox("reminder")) == ["a@example.org", "b@example.org"]


def test_nothing_for_events_that_started(db_url) -> None:
    now = utcnow()
    ev = make_event(starts_at=now + timedelta(hours=2))
    svc.submit_rsvp(ev.id, req("a@example.org"))
    assert reminders.queue_reminders(now=now + timedelta(hours=3)) == 0


def test_an_event_moved_to_a_later_day_reminds_again_before_the_new_date(db_url) -> None:
    now = utcnow()
    ev = make_event(starts_at=now + timedelta(hours=10))
    svc.submit_rsvp(ev.id, req("a@example.org"))
    assert reminders.queue_reminders(now=now) == 1
    with write_session() as s:
        event = s.get(Event, ev.id)
        event.starts_at += timedelta(days=7)
        event.ends_at += timedelta(days=7)
    assert reminders.queue_reminders(now=now + timedelta(hours=1)) == 0  # not yet due
    assert reminders.queue_reminders(now=now + timedelta(days=7)) == 1
    assert reminders.queue_reminders(now=now + timedelta(days=7, hours=1)) == 0
    assert len(outbox("reminder")) == 2


def test_overlapping_cron_runs_still_send_one_each(db_url) -> None:
    now = utcnow()
    ev = make_event(capacity=None, starts_at=now + timedelta(hours=12))
    for i in range(15):
        svc.submit_rsvp(ev.id, req(f"p{i}@example.org"))
    counts: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run() -> None:
        try:
            start.wait()
            counts.append(reminders.queue_reminders(now=now))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sum(counts) == 15
    sent = [m.to_addr for m in outbox("reminder")]
    assert sorted(sent) == sorted(f"p{i}@example.org" for i in range(15))
