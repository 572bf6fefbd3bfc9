"""E-mail to all of an event's attendees (services/attendee_mail.py)."""

from __future__ import annotations

import pytest

from events_app.db import write_session
from events_app.models import Event
from events_app.services import attendee_mail
from events_app.services import rsvp as svc
from tests.factories import make_event
from tests.rsvp_helpers import outbox, req


def test_notify_event_cancelled_reaches_confirmed_and_waitlisted_only(db_url) -> None:
    ev = make_event(capacity=1)
    svc.submit_rsvp(ev.id, req("a@example.org"))
    svc.submit_rsvp(ev.id, req("w@example.org"))
    gone = svc.submit_rsvp(ev.id, req("gone@example.org"))
    svc.cancel_rsvp(gone.rsvp.token)
    with write_session() as s:
        event = s.get(Event, ev.id)
        event.status = "cancelled"
        message = "Storm warning.\n\nSee you next month."
        assert attendee_mail.notify_event_cancelled(s, event, message) == 2
    sent = outbox("event_cancelled")
    assert sorted(m.to_addr for m in sent) == ["a@example.org", "w@example.org"]
    assert "Storm warning." in sent[0].body_text and "See you next month." in sent[0].body_html


def test_email_attendees_goes_to_confirmed_only(db_url) -> None:
    ev = make_event(capacity=1)
    svc.submit_rsvp(ev.id, req("a@example.org"))
    svc.submit_rsvp(ev.id, req("w@example.org"))
    with write_session() as s:
        event = s.get(Event, ev.id)
        n = attendee_mail.email_attendees(s, event, "Room change\r\nBcc: x@evil.test",
                                          "Now in room 2.")
        with pytest.raises(svc.RsvpError, match="subject"):
            attendee_mail.email_attendees(s, event, "  ", "body")
        with pytest.raises(svc.RsvpError, match="message"):
            attendee_mail.email_attendees(s, event, "Subject", "\n")
    assert n == 1
    (msg,) = outbox("organizer_message")
    assert msg.to_addr == "a@example.org"
    # One line (no header injection), naming the event.
    assert msg.subject == f"{ev.title}: Room change Bcc: x@evil.test"
    assert "Now in room 2." in msg.body_text
