"""Attendees hear about a new time or place: who gets the e-mail, what it says, the .ics it
carries, and that it is queued in the edit's own transaction (or not at all)."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from events_app.db import read_session
from events_app.models import Event, Organizer, Outbox, utcnow
from events_app.services import event_admin
from events_app.services.event_form import form_values
from events_app.util.forms import FormError
from tests.factories import make_event, make_rsvp
from tests.feed_helpers import parse
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    csrf_token,
    edit_event,
    field_error,
    login,
    post,
)
from tests.rsvp_helpers import outbox, rsvps

pytestmark = pytest.mark.usefixtures("cheap_passwords")

START = datetime(2031, 6, 14, 23, 0, tzinfo=UTC)  # Sat 14 Jun 2031, 6:00 PM CDT
BOX = "E-mail the 2 people who RSVP'd about this change"  # as read: entities decoded


def _event_with_attendees(owner: Organizer, **fields: object) -> Event:
    """Ann confirmed, Wes waitlisted, Gone cancelled."""
    event = make_event(owner_id=owner.id, title="Budget town hall", starts_at=START, **fields)
    make_rsvp(event, "Ann", "ann@example.org")
    make_rsvp(event, "Wes", "wes@example.org", status="waitlisted")
    make_rsvp(event, "Gone", "gone@example.org", status="cancelled")
    return event


def _stored(event: Event) -> Event:
    with read_session() as s:
        found = s.get(Event, event.id)
        assert found is not None
        return found


def _mails() -> dict[str, Outbox]:
    return {m.to_addr: m for m in outbox("event_changed")}


def test_time_change_mails_confirmed_and_waitlisted_with_the_new_local_time(owner) -> None:
    event = _event_with_attendees(owner)
    changes = edit_event(owner, event, notify=True, start_time="19:30", end_time="21:00")
    assert changes.notified == 2
    mails = _mails()
    assert sorted(mails) == ["ann@example.org", "wes@example.org"]  # not the cancelled one
    ann = mails["ann@example.org"]
    assert ann.subject == "Time changed: Budget town hall"
    for body in (ann.body_text, ann.body_html):
        assert "Sat 14 Jun 2031, 6:00 PM – 8:00 PM CDT" in body
        assert "Sat 14 Jun 2031, 7:30 PM – 9:00 PM CDT" in body
        assert f"/rsvp/{rsvps(event.id)['ann@example.org'].token}" in body  # manage link
        assert "Place was" not in body
    assert "Time was: Sat 14 Jun 2031, 6:00 PM" in ann.body_text
    stored = _stored(event)
    # An update of the invitation (METHOD:REQUEST, to this attendee), read alike by all four
    # readers: clients move the entry with this UID when SEQUENCE is higher.
    cal = parse(ann.ics.encode()).lib
    assert str(cal["METHOD"]) == "REQUEST"
    (vevent,) = cal.walk("VEVENT")
    assert int(vevent["SEQUENCE"]) == stored.sequence == 1
    assert vevent.decoded("DTSTART").astimezone(UTC) == START + timedelta(minutes=90)
    assert str(vevent["ATTENDEE"]) == "mailto:ann@example.org"
    assert str(vevent["ORGANIZER"]).startswith("mailto:")
    wes = mails["wes@example.org"]
    assert "still on the waitlist" in wes.body_text and wes.ics == ""


def test_place_change_mails_old_and_new_place(owner) -> None:
    event = _event_with_attendees(owner)
    changes = edit_event(owner, event, notify=True, venue_name="Union Station",
                         street_address="1820 Market St")
    assert changes.notified == 2
    ann = _mails()["ann@example.org"]
    assert ann.subject == "Place changed: Budget town hall"
    assert "Place was: City Hall, St. Louis" in ann.body_text
    assert "Place now: Union Station, 1820 Market St, St. Louis" in ann.body_text
    assert "Time was" not in ann.body_text
    (vevent,) = icalendar.Calendar.from_ical(ann.ics).walk("VEVENT")
    assert int(vevent["SEQUENCE"]) == _stored(event).sequence == 1
    assert "Union Station" in str(vevent["LOCATION"])


@pytest.mark.parametrize("fields,edit", [
    ({}, {"description": "Bring a friend.", "summary": "New summary"}),  # no time or place
    ({"status": "draft"}, {"start_time": "19:30"}),  # nobody was invited to a draft
    ({}, {"latitude": "38.6270", "longitude": "-90.1994"}),  # only the map pin: feeds carry it
])
def test_edits_attendees_need_not_hear_about_send_nothing(owner, fields, edit) -> None:
    event = _event_with_attendees(owner, **fields)
    changes = edit_event(owner, event, notify=True, **edit)
    assert changes and changes.notified == 0
    assert outbox() == []


def test_no_mail_once_the_event_has_started(owner) -> None:
    event = make_event(owner_id=owner.id, starts_at=utcnow() - timedelta(hours=1))
    make_rsvp(event, "Ann", "ann@example.org")
    assert edit_event(owner, event, notify=True, venue_name="Elsewhere").notified == 0
    assert outbox() == []


def test_without_notify_nothing_is_queued(owner) -> None:
    event = _event_with_attendees(owner)
    assert edit_event(owner, event, start_time="19:30", end_time="21:00").notified == 0
    assert outbox() == []


def test_mail_is_queued_in_the_edit_transaction(owner, monkeypatch) -> None:
    """If anything after queuing fails (here the audit write), the e-mails go with the edit."""
    event = _event_with_attendees(owner)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(event_admin.audit, "record", broken)
    with pytest.raises(RuntimeError):
        edit_event(owner, event, notify=True, start_time="19:30", end_time="21:00")
    assert outbox() == []
    assert (_stored(event).starts_at, _stored(event).sequence) == (START, 0)


def test_capacity_refusal_queues_nothing(owner) -> None:
    event = _event_with_attendees(owner, capacity=5)
    make_rsvp(event, "Big", "big@example.org", guests=3)
    with pytest.raises(FormError):
        edit_event(owner, event, notify=True, start_time="19:30", end_time="21:00",
                   capacity="2")
    assert outbox() == []


# --- the edit form ----------------------------------------------------------------------------

def _edit_url(event: Event) -> str:
    return f"/organizer/events/{event.slug}/edit"


def test_form_offers_the_box_checked_and_the_flash_counts(client, owner) -> None:
    event = _event_with_attendees(owner)
    login(client, "owner@example.org")
    page = client.get(_edit_url(event)).text
    assert BOX in html.unescape(page)
    assert 'id="f-notify_attendees" name="notify_attendees" type="checkbox" value="on" checked' \
        in page
    token = csrf_token(client, _edit_url(event))
    values = {**form_values(_stored(event)), "start_time": "19:30", "end_time": "21:00",
              "notify_attendees": "on"}
    r = post(client, _edit_url(event), values, token)
    assert r.status_code == 303
    assert "2 people were e-mailed about it." in client.get(r.headers["location"]).text
    assert sorted(_mails()) == ["ann@example.org", "wes@example.org"]


def test_unchecked_box_sends_nothing(client, owner) -> None:
    event = _event_with_attendees(owner)
    login(client, "owner@example.org")
    token = csrf_token(client, _edit_url(event))
    values = {**form_values(_stored(event)), "venue_name": "Union Station"}  # box left out
    r = post(client, _edit_url(event), values, token)
    assert r.status_code == 303
    assert "e-mailed" not in client.get(r.headers["location"]).text
    assert _stored(event).venue_name == "Union Station" and outbox() == []


def test_refused_edit_keeps_the_box_as_posted_and_queues_nothing(client, owner) -> None:
    event = _event_with_attendees(owner)
    login(client, "owner@example.org")
    token = csrf_token(client, _edit_url(event))
    values = {**form_values(_stored(event)), "start_time": "19:30", "end_time": "19:00"}
    r = post(client, _edit_url(event), values, token)  # end before start; box unticked
    assert r.status_code == 422
    assert field_error(r.text, "end_time") == "The event must end after it starts."
    assert BOX in html.unescape(r.text)
    assert 'name="notify_attendees" type="checkbox" value="on" checked' not in r.text
    assert outbox() == [] and _stored(event).starts_at == START


def test_no_box_without_people_to_tell(client, owner) -> None:
    login(client, "owner@example.org")
    empty = make_event(owner_id=owner.id, starts_at=START)
    draft = _event_with_attendees(owner, status="draft")
    for event in (empty, draft):
        assert "notify_attendees" not in client.get(_edit_url(event)).text
