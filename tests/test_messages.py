"""The e-mail texts' attachments: the confirmation's .ics is the event as it is at the time
of the RSVP, even though it is rendered once per event version and reused."""

from __future__ import annotations

from datetime import timedelta

import icalendar

from events_app.db import write_session
from events_app.models import Event, utcnow
from events_app.services import rsvp as svc
from events_app.services.ical import event_ics
from tests.factories import make_event
from tests.rsvp_helpers import outbox, req


def _summary(ics: str) -> str:
    (vevent,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    return str(vevent["SUMMARY"])


def test_confirmation_ics_follows_every_edit_of_the_event(db_url) -> None:
    ev = make_event(title="Rally at noon")
    svc.submit_rsvp(ev.id, req("a@example.org"))
    svc.submit_rsvp(ev.id, req("b@example.org"))
    first, second = (m.ics for m in outbox("confirmation"))
    assert first == second == event_ics(ev).decode()
    with write_session() as s:
        stored = s.get(Event, ev.id)
        stored.title = "Rally moved to one"
        stored.starts_at += timedelta(hours=1)
        stored.ends_at += timedelta(hours=1)
        stored.updated_at = utcnow()
        s.add(stored)
    with write_session() as s:
        edited = s.get(Event, ev.id)
    svc.submit_rsvp(ev.id, req("c@example.org"))
    third = outbox("confirmation")[-1].ics
    assert _summary(third) == "Rally moved to one"
    assert third == event_ics(edited).decode() != first
