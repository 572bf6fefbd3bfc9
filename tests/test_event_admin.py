"""Creating and editing events: validation, SEQUENCE bumps, capacity, duplicate, cancel, audit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlmodel import select

from events_app import i18n
from events_app.db import read_session, write_session
from events_app.models import AuditLog, Event, EventHost, Organizer, Outbox, Rsvp, utcnow
from events_app.services import audit_detail, event_admin
from events_app.services.event_form import form_values, occurrence_choices, parse_event_form
from events_app.util.forms import FormError
from tests.factories import make_event, make_rsvp
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    csrf_token,
    edit_event,
    field_error,
    input_value,
    login,
    make_organizer,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def _form(**overrides: str) -> dict[str, str]:
    values = {
        "title": "Airport protest", "summary": "Stand with travellers", "description": "",
        "category": "protest", "timezone": "America/Chicago",
        "start_date": "2031-06-14", "start_time": "18:00",
        "end_date": "2031-06-14", "end_time": "20:30",
        "venue_name": "O'Hare Terminal 5", "city": "Chicago", "capacity": "",
        "max_guests": "4", "waitlist_enabled": "on",
    }
    values.update(overrides)
    return values


def _load(event_id: int | None) -> Event:
    with read_session() as s:
        event = s.get(Event, event_id)
        assert event is not None
        return event


# --- the form --------------------------------------------------------------------------------

def test_wall_clock_times_are_stored_as_utc_across_dst() -> None:
    summer = parse_event_form(_form())
    assert summer.starts_at == datetime(2031, 6, 14, 23, 0, tzinfo=UTC)  # CDT = UTC-5
    winter = parse_event_form(_form(start_date="2031-12-14", end_date="2031-12-14"))
    assert winter.starts_at == datetime(2031, 12, 15, 0, 0, tzinfo=UTC)  # CST = UTC-6
    assert winter.ends_at - winter.starts_at == timedelta(hours=2, minutes=30)


def test_all_day_events_end_at_the_exclusive_next_midnight() -> None:
    data = parse_event_form(_form(all_day="on", start_time="", end_time="",
                                  start_date="2031-03-07", end_date="2031-03-09",
                                  timezone="Europe/Berlin"))
    assert data.all_day
    assert data.starts_at == datetime(2031, 3, 6, 23, 0, tzinfo=UTC)
    assert data.ends_at == datetime(2031, 3, 9, 23, 0, tzinfo=UTC)


def test_times_skipped_by_dst_are_refused() -> None:
    with pytest.raises(FormError) as exc:
        parse_event_form(_form(start_date="2031-03-09", start_time="02:30",
                               end_date="2031-03-09", end_time="04:00"))
    assert "does not exist" in exc.value.errors["start_time"]


def test_repeated_hour_asks_which_one_and_keeps_the_answer(owner: Organizer) -> None:
    """01:30 happens twice in Chicago on 2 Nov 2031: the form asks, then stores the chosen
    instant, and shows the same choice when the event is edited again."""
    night = {"start_date": "2031-11-02", "start_time": "01:30",
             "end_date": "2031-11-02", "end_time": "03:30"}
    with pytest.raises(FormError) as exc:
        parse_event_form(_form(**night))
    assert "happens twice" in exc.value.errors["start_occurrence"]
    assert "end_occurrence" not in exc.value.errors  # 03:30 happens once
    choices = occurrence_choices(_form(**night))
    assert choices["start_occurrence"] == [
        ("first", "The first time: 1:30 AM CDT"),
        ("second", "The second time, an hour later: 1:30 AM CST")]
    with i18n.using("es"):
        assert occurrence_choices(_form(**night))["start_occurrence"] == [
            ("first", "La primera vez: 1:30 CDT"),
            ("second", "La segunda vez, una hora después: 1:30 CST")]
    first = parse_event_form(_form(**night, start_occurrence="first"))
    assert first.starts_at == datetime(2031, 11, 2, 6, 30, tzinfo=UTC)
    assert first.ends_at - first.starts_at == timedelta(hours=3)
    second = parse_event_form(_form(**night, start_occurrence="second"))
    assert second.starts_at == datetime(2031, 11, 2, 7, 30, tzinfo=UTC)
    with write_session() as s:
        event = event_admin.create_event(s, owner, second)
    values = form_values(_load(event.id))
    assert (values["start_time"], values["start_occurrence"]) == ("01:30", "second")
    assert values["end_occurrence"] == ""
    assert edit_event(owner, _load(event.id)) == {}  # the choice round-trips
    # Spring forward is still refused, whatever the answer.
    with pytest.raises(FormError) as exc:
        parse_event_form(_form(start_date="2031-03-09", start_time="02:30", end_date="2031-03-09",
                               end_time="04:00", start_occurrence="second"))
    assert "does not exist" in exc.value.errors["start_time"]


def test_web_form_offers_the_choice_and_the_page_shows_both_offsets(client,
                                                                    owner: Organizer) -> None:
    login(client, "owner@example.org")
    token = csrf_token(client, "/organizer/events/new")
    night = _form(start_date="2031-11-02", start_time="01:30", end_date="2031-11-02",
                  end_time="02:30", title="Night vigil")
    r = post(client, "/organizer/events/new", {**night, "then": "publish"}, token)
    assert r.status_code == 422
    assert 'name="start_occurrence" type="radio" value="first" checked' in r.text
    assert "1:30 AM CST" in r.text
    assert "happens twice" in field_error(r.text, "start_occurrence")
    assert input_value(r.text, "start_time") == "01:30"  # input kept
    r = post(client, "/organizer/events/new",
             {**night, "then": "publish", "start_occurrence": "first"}, token)
    assert r.status_code == 303
    with read_session() as s:
        event = s.exec(select(Event).where(Event.title == "Night vigil")).one()
    assert event.starts_at == datetime(2031, 11, 2, 6, 30, tzinfo=UTC)
    page = client.get(f"/events/{event.slug}").text
    assert "1:30 AM CDT – 2:30 AM CST (2 hours)" in page


@pytest.mark.parametrize("overrides,field,message", [
    ({"end_time": "17:00"}, "end_time", "must end after it starts"),
    ({"end_date": "2031-06-13", "end_time": "23:00"}, "end_date", "must end after it starts"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Choose a timezone"),
    ({"timezone": "chicago"}, "timezone", "Choose a timezone"),
    ({"online_url": "javascript:alert(1)"}, "online_url", "https://"),
    ({"online_url": "www.example.org"}, "online_url", "https://"),
    ({"latitude": "91", "longitude": "0"}, "latitude", "between -90 and 90"),
    ({"latitude": "10", "longitude": "-180.5"}, "longitude", "between -180 and 180"),
    ({"latitude": "41.97"}, "longitude", "both latitude and longitude"),
    ({"latitude": "north", "longitude": "1"}, "latitude", "decimal number"),
    ({"capacity": "ten"}, "capacity", "whole number"),
    ({"capacity": "0"}, "capacity", "from 1 to"),
    ({"max_guests": "-1"}, "max_guests", "from 0 to 50"),
    ({"title": "   "}, "title", "required"),
    ({"title": "x" * 201}, "title", "200 characters"),
    ({"title": "Two\nlines"}, "title", "one line"),
    ({"start_date": "2031-02-30"}, "start_date", "does not exist"),
    ({"start_time": "25:00"}, "start_time", "between 00:00 and 23:59"),
    ({"start_time": ""}, "start_time", "start time"),
    ({"category": "party"}, "category", "Choose a category"),
    ({"cohosts": "friend@example.org, not an address"}, "cohosts",
     "not: This doesn't look like an e-mail address"),
    ({"cohosts": "all-staff,x@example.org"}, "cohosts", "all-staff: This doesn"),
    ({"rsvp_deadline": "2031-06-15T09:00"}, "rsvp_deadline", "before the event ends"),
    ({"description": "bad \x00 byte"}, "description", "not allowed"),
])
def test_form_validation_messages(overrides: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(FormError) as exc:
        parse_event_form(_form(**overrides))
    assert field in exc.value.errors, exc.value.errors
    assert message in exc.value.errors[field]


def test_valid_optional_values_are_parsed() -> None:
    data = parse_event_form(_form(latitude="41.9773", longitude="-87.9048", capacity="120",
                                  online_url="https://stream.example.org/live?x=1",
                                  rsvp_deadline="2031-06-14T12:00", waitlist_enabled=""))
    assert (data.latitude, data.longitude, data.capacity) == (41.9773, -87.9048, 120)
    assert data.rsvp_deadline == datetime(2031, 6, 14, 17, 0, tzinfo=UTC)
    assert data.waitlist_enabled is False


# --- slugs -----------------------------------------------------------------------------------

def test_slugs_are_readable_and_unique(owner: Organizer) -> None:
    assert event_admin.slugify("Café Town-Hall: Budget 2031!") == "cafe-town-hall-budget-2031"
    assert event_admin.slugify("Митинг у мэрии") == "event"
    assert len(event_admin.slugify("word " * 50)) <= event_admin.SLUG_MAX
    slugs = []
    for _ in range(3):
        with write_session() as s:
            slugs.append(event_admin.create_event(s, owner, parse_event_form(_form())).slug)
    assert slugs == ["airport-protest", "airport-protest-2", "airport-protest-3"]


# --- SEQUENCE and updated_at -----------------------------------------------------------------

def test_time_place_and_status_edits_bump_sequence(owner: Organizer) -> None:
    with write_session() as s:
        event = event_admin.create_event(s, owner, parse_event_form(_form()))
    assert event.sequence == 0

    def check(bumped: bool, **changes: Any) -> None:
        before = _load(event.id)
        assert edit_event(owner, before, **changes)
        after = _load(event.id)
        assert after.sequence == before.sequence + (1 if bumped else 0), changes
        assert after.updated_at > before.updated_at

    check(True, start_time="17:30")
    check(True, end_date="2031-06-15", end_time="01:00")
    check(True, timezone="America/New_York")
    check(True, venue_name="City Hall")
    check(True, street_address="121 N LaSalle St")
    check(True, latitude="41.88", longitude="-87.63")
    check(True, online_url="https://example.org/live")
    check(False, description="Bring signs.\n\nWear comfortable shoes.")
    check(False, title="Airport protest (updated)")
    check(False, capacity="200")

    seq = _load(event.id).sequence
    for action in (event_admin.publish, event_admin.unpublish, event_admin.publish):
        with write_session() as s:
            action(s, owner, s.get(Event, event.id))
        seq += 1
        assert _load(event.id).sequence == seq
    with write_session() as s:
        event_admin.cancel(s, owner, s.get(Event, event.id), "")
    assert _load(event.id).sequence == seq + 1


def test_saving_without_changes_changes_nothing(owner: Organizer) -> None:
    with write_session() as s:
        event = event_admin.create_event(s, owner, parse_event_form(_form()))
    # Stored with seconds (e.g. seeded): the form shows minutes, which is not a move.
    odd = make_event(owner_id=owner.id, starts_at=datetime(2031, 5, 1, 12, 0, 42, tzinfo=UTC))
    for stored in (event, odd):
        before = _load(stored.id)
        assert edit_event(owner, before) == {}
        after = _load(stored.id)
        assert (after.sequence, after.updated_at) == (before.sequence, before.updated_at)


class _EventFormFields(HTMLParser):
    """What a browser would submit from the event form as rendered (inputs, checked boxes and
    radios, textareas, selected options), to test the page-to-post round trip."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._in_form = False
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "event-form" in a.get("class", ""):
            self._in_form = True
        if not self._in_form or "name" not in a and tag != "option":
            return
        if tag == "input" and a.get("type") in ("checkbox", "radio"):
            if "checked" in a:
                self.values[a["name"]] = a.get("value", "on")
        elif tag == "input" and a.get("type") not in ("submit", "button"):
            self.values[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False


def test_web_unchanged_save_changes_nothing(client, owner: Organizer) -> None:
    """Saved from the edit page as rendered, unchanged, then with only a new description: the
    map pin (6+ significant digits) and every other field read back exactly, so SEQUENCE, the
    stored row and the audit log don't move, and the organizer is not told about calendars."""
    event = make_event(owner_id=owner.id, latitude=32.71573, longitude=-117.1534,
                       description="Bring water.", capacity=40, max_guests=2,
                       rsvp_deadline=utcnow().replace(second=0, microsecond=0)
                       + timedelta(days=6))
    login(client, "owner@example.org")
    with read_session() as s:
        audit_before = s.exec(select(AuditLog)).all()
    before = _load(event.id)
    page = client.get(f"/organizer/events/{event.slug}/edit").text
    fields = _EventFormFields()
    fields.feed(page)
    assert fields.values["longitude"] == "-117.1534" and fields.values["latitude"] == "32.71573"
    token = csrf_token(client, f"/organizer/events/{event.slug}/edit")
    r = post(client, f"/organizer/events/{event.slug}/edit", fields.values, token)
    assert r.status_code == 303
    after = _load(event.id)
    assert after.model_dump() == before.model_dump()
    with read_session() as s:
        assert s.exec(select(AuditLog)).all() == audit_before

    r = post(client, f"/organizer/events/{event.slug}/edit",
             {**fields.values, "description": "Bring water and a hat."}, token)
    assert r.status_code == 303
    edited = _load(event.id)
    assert edited.sequence == before.sequence
    assert (edited.latitude, edited.longitude) == (32.71573, -117.1534)
    with read_session() as s:
        (entry,) = s.exec(select(AuditLog).where(AuditLog.action == "event.update")).all()
    said = audit_detail.in_words(entry.detail)
    assert "Description: " in said
    assert "Latitude" not in said and "Longitude" not in said
    assert "subscribed calendars" not in client.get(r.headers["location"]).text


# --- capacity --------------------------------------------------------------------------------

def test_capacity_cannot_go_below_confirmed_seats(owner: Organizer) -> None:
    event = make_event(owner_id=owner.id, capacity=20)
    make_rsvp(event, "Ann", "ann@example.org", guests=3)  # 4 seats
    make_rsvp(event, "Ben", "ben@example.org", guests=1)  # 2 seats
    make_rsvp(event, "Cat", "cat@example.org", guests=4, status="waitlisted")
    make_rsvp(event, "Dan", "dan@example.org", guests=4, status="cancelled")
    with pytest.raises(FormError) as exc:
        edit_event(owner, event, capacity="5")
    assert "6 spots are already confirmed" in exc.value.errors["capacity"]
    assert _load(event.id).capacity == 20
    assert edit_event(owner, event, capacity="6")["capacity"] == (20, 6)
    assert _load(event.id).capacity == 6


def test_raising_capacity_confirms_the_waitlist_in_order(owner: Organizer) -> None:
    event = make_event(owner_id=owner.id, capacity=2)
    make_rsvp(event, "Ann", "ann@example.org", guests=1)
    now = utcnow()
    make_rsvp(event, "Wes", "wes@example.org", status="waitlisted", waitlisted_at=now)
    make_rsvp(event, "Xia", "xia@example.org", guests=2, status="waitlisted",
              waitlisted_at=now + timedelta(seconds=1))
    changes = edit_event(owner, event, capacity="4")  # room for Wes (1), not for Xia (3)
    assert changes["confirmed from the waitlist"] == ("", "Wes")
    with read_session() as s:
        statuses = dict(s.exec(select(Rsvp.name, Rsvp.status)).all())
        mails = s.exec(select(Outbox.to_addr)).all()
    assert statuses == {"Ann": "confirmed", "Wes": "confirmed", "Xia": "waitlisted"}
    assert mails == ["wes@example.org"]
    edit_event(owner, event, capacity="")  # unlimited: everyone fits
    with read_session() as s:
        assert s.exec(select(Rsvp.status).where(Rsvp.name == "Xia")).one() == "confirmed"


# --- duplicate, publish, cancel --------------------------------------------------------------

def test_duplicate_is_a_fresh_draft_with_the_same_details(owner: Organizer) -> None:
    cohost = make_organizer("co@example.org")
    admin = make_organizer("admin@example.org", admin=True)
    event = make_event(owner_id=owner.id, capacity=30, description="Details", sequence=4)
    with write_session() as s:
        s.add(EventHost(event_id=event.id, organizer_id=cohost.id))
    make_rsvp(event, "Ann", "ann@example.org")
    with write_session() as s:
        copy = event_admin.duplicate_event(s, admin, s.get(Event, event.id))
    assert copy.slug != event.slug and copy.uid != event.uid
    assert (copy.title, copy.description, copy.capacity) == (event.title, "Details", 30)
    # Proposed for the same weekday and wall-clock time one week later (issue 13 item 9).
    week_later = event.local_start.replace(tzinfo=None) + timedelta(days=7)
    assert copy.local_start.replace(tzinfo=None) == week_later
    assert copy.ends_at - copy.starts_at == event.ends_at - event.starts_at
    assert copy.status == "draft" and copy.sequence == 0
    assert copy.owner_id == admin.id
    with read_session() as s:
        assert set(event_admin.cohost_emails(s, copy)) == {"co@example.org", "owner@example.org"}
        from events_app.services import attendees
        assert attendees.list_attendees(s, copy) == []


def test_publishing_a_cancelled_event_is_refused(owner: Organizer) -> None:
    event = make_event(owner_id=owner.id)
    with write_session() as s:
        event_admin.cancel(s, owner, s.get(Event, event.id), "")
    for action in (event_admin.publish, event_admin.unpublish):
        with pytest.raises(event_admin.EventStateError), write_session() as s:
            action(s, owner, s.get(Event, event.id))
    with pytest.raises(event_admin.EventStateError), write_session() as s:
        event_admin.cancel(s, owner, s.get(Event, event.id), "again")


def test_cancel_emails_everyone_holding_a_place(owner: Organizer) -> None:
    event = make_event(owner_id=owner.id, title="Budget town hall")
    make_rsvp(event, "Ann", "ann@example.org")
    make_rsvp(event, "Wes", "wes@example.org", status="waitlisted")
    make_rsvp(event, "Gone", "gone@example.org", status="cancelled")
    with write_session() as s:
        n = event_admin.cancel(s, owner, s.get(Event, event.id), "The hall flooded. Sorry!")
    assert n == 2
    stored = _load(event.id)
    assert stored.status == "cancelled" and stored.cancel_message == "The hall flooded. Sorry!"
    assert stored.cancelled_at is not None
    with read_session() as s:
        mails = s.exec(select(Outbox).order_by(Outbox.to_addr)).all()
    assert [m.to_addr for m in mails] == ["ann@example.org", "wes@example.org"]
    assert all(m.subject == "Cancelled: Budget town hall" for m in mails)
    assert all("The hall flooded. Sorry!" in m.body_text for m in mails)
    assert all(f"/events/{event.slug}" in m.body_text for m in mails)


# --- co-hosts --------------------------------------------------------------------------------

def test_cohosts_must_be_existing_organizers(owner: Organizer) -> None:
    make_organizer("co@example.org")
    event = make_event(owner_id=owner.id)
    with pytest.raises(FormError) as exc:
        edit_event(owner, event, cohosts="nobody@example.org")
    assert "No active organizer account for nobody@example.org" in exc.value.errors["cohosts"]
    changes = edit_event(owner, event, cohosts="CO@example.org, owner@example.org")
    assert changes["co-hosts"] == ("", "co@example.org")  # the owner is not a co-host
    assert _load(event.id).sequence == event.sequence  # not a time/place change
    assert edit_event(owner, event, cohosts="")["co-hosts"] == ("co@example.org", "")


# --- audit -----------------------------------------------------------------------------------

def test_changes_are_audited_with_actor_and_details(owner: Organizer) -> None:
    with write_session() as s:
        event = event_admin.create_event(s, owner, parse_event_form(_form()))
    edit_event(owner, event, title="Airport rally", venue_name="Terminal 1")
    with read_session() as s:
        entries = s.exec(select(AuditLog).where(AuditLog.entity_type == "event")
                         .order_by(AuditLog.id)).all()
    assert [e.action for e in entries] == ["event.create", "event.update"]
    assert all(e.actor_id == owner.id and e.entity_id == event.id for e in entries)
    said = audit_detail.in_words(entries[1].detail)
    assert "Title: Airport protest -> Airport rally" in said
    assert "Venue: O'Hare Terminal 5 -> Terminal 1" in said


# --- through the web -------------------------------------------------------------------------

def test_create_publish_and_see_it_public(client, owner: Organizer) -> None:
    login(client, "owner@example.org")
    token = csrf_token(client, "/organizer/events/new")
    r = post(client, "/organizer/events/new", {**_form(), "then": "publish"}, token)
    assert r.status_code == 303
    assert r.headers["location"] == "/organizer/events/airport-protest/edit"
    public = client.get("/events/airport-protest")
    assert public.status_code == 200 and "Airport protest" in public.text
    draft = post(client, "/organizer/events/new", {**_form(title="Quiet draft"),
                                                   "then": "draft"}, token)
    assert draft.status_code == 303
    assert client.get("/events/quiet-draft").status_code == 404


def test_invalid_form_is_rerendered_with_messages_and_input(client, owner: Organizer) -> None:
    login(client, "owner@example.org")
    token = csrf_token(client, "/organizer/events/new")
    r = post(client, "/organizer/events/new",
             _form(title='Town <hall> & "more"', end_time="17:00", online_url="ftp://x",
                   capacity="lots"), token)
    assert r.status_code == 422
    assert field_error(r.text, "end_time") == "The event must end after it starts."
    # Every problem at once: field formats and the end-after-start check.
    assert "https://" in (field_error(r.text, "online_url") or "")
    assert "whole number" in (field_error(r.text, "capacity") or "")
    assert 'aria-describedby="f-capacity-hint f-capacity-error" aria-invalid="true"' in r.text
    assert input_value(r.text, "title") == "Town &lt;hall&gt; &amp; &#34;more&#34;"
    assert input_value(r.text, "capacity") == "lots"
    with read_session() as s:
        assert s.exec(select(Event)).all() == []


def test_web_edit_refuses_capacity_below_confirmed(client, owner: Organizer) -> None:
    event = make_event(owner_id=owner.id, capacity=10, title="Full house")
    make_rsvp(event, "Ann", "ann@example.org", guests=4)
    login(client, "owner@example.org")
    page = client.get(f"/organizer/events/{event.slug}/edit")
    assert "5 seats are confirmed now." in page.text
    with read_session() as s:
        values = form_values(s.get(Event, event.id))
    values.update(capacity="3", summary="New summary")
    token = csrf_token(client, f"/organizer/events/{event.slug}/edit")
    r = post(client, f"/organizer/events/{event.slug}/edit", values, token)
    assert r.status_code == 422
    assert "5 spots are already confirmed" in field_error(r.text, "capacity")
    assert input_value(r.text, "summary") == "New summary"
    stored = _load(event.id)
    assert (stored.capacity, stored.summary) == (10, "A test event")  # nothing half-saved


def test_web_description_edit_keeps_sequence_time_edit_bumps(client, owner: Organizer) -> None:
    event = make_event(owner_id=owner.id)
    login(client, "owner@example.org")
    token = csrf_token(client, f"/organizer/events/{event.slug}/edit")
    with read_session() as s:
        values = form_values(s.get(Event, event.id))
    r = post(client, f"/organizer/events/{event.slug}/edit", {**values, "description": "New"},
             token)
    assert r.status_code == 303
    assert _load(event.id).sequence == 0
    moved = {**values, "description": "New", "start_time": "07:00", "end_time": "08:00"}
    r = post(client, f"/organizer/events/{event.slug}/edit", moved, token)
    assert r.status_code == 303
    assert _load(event.id).sequence == 1
    page = client.get(r.headers["location"])
    assert "subscribed calendars" in page.text


def test_web_duplicate_publish_unpublish_cancel(client, owner: Organizer) -> None:
    event = make_event(owner_id=owner.id, status="draft", title="Training night")
    make_rsvp(event, "Ann", "ann@example.org")
    login(client, "owner@example.org")
    token = csrf_token(client, "/organizer/")
    base = f"/organizer/events/{event.slug}"
    assert post(client, f"{base}/publish", token=token).status_code == 303
    assert _load(event.id).status == "published"
    assert post(client, f"{base}/unpublish", token=token).status_code == 303
    assert _load(event.id).status == "draft"
    r = post(client, f"{base}/duplicate", token=token)
    copy_slug = re.match(r"/organizer/events/([^/]+)/edit", r.headers["location"]).group(1)
    assert copy_slug == "training-night"  # the factory's slug differs from the title's
    cancel_page = client.get(f"{base}/cancel")
    assert "1 confirmed seat" in cancel_page.text
    r = post(client, f"{base}/cancel", {"message": "m" * 2001}, token)
    assert r.status_code == 422 and "2000 characters" in r.text
    r = post(client, f"{base}/cancel", {"message": "Snow day"}, token)
    assert r.status_code == 303
    flashed = client.get(r.headers["location"]).text
    assert "1 person was e-mailed" in flashed
    r = post(client, f"{base}/publish", token=token)
    assert "cannot be published again" in client.get(r.headers["location"]).text
    client.cookies.set("lang", "es")  # the organizer works in Spanish: so does the refusal
    r = post(client, f"{base}/publish", token=token)
    assert "Un evento cancelado no se puede volver a publicar. Duplíquelo para programarlo " \
        "de nuevo." in client.get(r.headers["location"]).text


def test_timezone_field_is_searchable_without_js(client, owner: Organizer) -> None:
    login(client, "owner@example.org")
    html = client.get("/organizer/events/new").text
    assert 'list="timezones"' in html
    assert '<option value="America/Chicago">' in html
    assert html.count("<option value=\"") > 400  # pytz.common_timezones


# --- numbers and dates at the edges ----------------------------------------------------------

@pytest.mark.parametrize("overrides,field,message", [
    ({"capacity": "٣٠"}, "capacity", "digits 0-9"),  # int() would read it as 30
    ({"capacity": "²"}, "capacity", "whole number"),
    ({"max_guests": "①"}, "max_guests", "whole number"),
    ({"latitude": "٣٨.٦", "longitude": "1"}, "latitude", "digits 0-9"),
    ({"latitude": "nan", "longitude": "1"}, "latitude", "decimal number"),
    ({"latitude": "1e1", "longitude": "1"}, "latitude", "decimal number"),
    ({"start_date": "٢٠٣١-٠٦-١٤"}, "start_date", "Enter a date like"),
    ({"start_time": "١٨:٠٠"}, "start_time", "Enter a time like"),
])
def test_numbers_and_dates_take_ascii_digits_only(overrides, field, message) -> None:
    with pytest.raises(FormError) as exc:
        parse_event_form(_form(**overrides))
    assert message in exc.value.errors[field], exc.value.errors


def _in_years(years: int) -> str:
    today = datetime.now(UTC).date()
    return today.replace(year=today.year + years, day=min(today.day, 28)).isoformat()


@pytest.mark.parametrize("overrides,fields", [
    ({"all_day": "on", "start_date": "2031-06-14", "end_date": "9999-12-31"}, {"end_date"}),
    ({"start_date": "0001-01-01", "end_date": "0001-01-01"}, {"start_date", "end_date"}),
    ({"start_date": "9999-12-31", "end_date": "9999-12-31"}, {"start_date", "end_date"}),
    ({"start_date": "1969-12-31"}, {"start_date"}),
    ({"rsvp_deadline": "0001-01-01T00:00"}, {"rsvp_deadline"}),
    ({"rsvp_deadline": "9999-12-31T23:59"}, {"rsvp_deadline"}),
    ({"start_date": _in_years(11), "end_date": _in_years(11)}, {"start_date", "end_date"}),
])
def test_event_dates_must_fall_between_1970_and_ten_years_ahead(overrides, fields) -> None:
    with pytest.raises(FormError) as exc:
        parse_event_form(_form(**overrides))
    assert fields <= exc.value.errors.keys(), exc.value.errors
    for field in fields:
        assert "Choose a date from 1970-01-01 to" in exc.value.errors[field]


def test_dates_inside_the_range_are_accepted_at_both_ends() -> None:
    first = parse_event_form(_form(start_date="1970-01-01", end_date="1970-01-01",
                                   timezone="UTC"))
    assert first.starts_at == datetime(1970, 1, 1, 18, 0, tzinfo=UTC)
    ahead = _in_years(9)
    assert parse_event_form(_form(start_date=ahead, end_date=ahead)).starts_at.year == \
        int(ahead[:4])


def test_out_of_range_dates_are_a_form_error_on_the_web_and_store_nothing(
        client, owner: Organizer) -> None:
    login(client, "owner@example.org")
    token = csrf_token(client, "/organizer/events/new")
    for overrides in ({"all_day": "on", "end_date": "9999-12-31"},
                      {"start_date": "0001-01-01", "end_date": "0001-01-01"},
                      {"rsvp_deadline": "0001-01-01T00:00"}):
        r = post(client, "/organizer/events/new", _form(**overrides), token)
        assert r.status_code == 422, overrides
        assert "Choose a date from 1970-01-01" in r.text
        assert input_value(r.text, "title") == "Airport protest"
    with read_session() as s:
        assert s.exec(select(Event)).all() == []


def test_an_event_stored_at_the_edge_of_time_still_opens_in_the_form(
        client, owner: Organizer) -> None:
    """Rows saved before dates were range-checked: the edit form opens (in UTC where the
    event's timezone cannot show the instant) and asks for a sane date on save."""
    edge = make_event(owner_id=owner.id, timezone="Asia/Tokyo", all_day=True,
                      starts_at=datetime(9999, 12, 30, 15, 0, tzinfo=UTC),
                      ends_at=datetime(9999, 12, 31, 15, 0, tzinfo=UTC),
                      rsvp_deadline=datetime(1, 1, 1, 0, 0, tzinfo=UTC))
    early = make_event(owner_id=owner.id, timezone="America/Chicago",
                       starts_at=datetime(1, 1, 1, 0, 0, tzinfo=UTC),
                       ends_at=datetime(1, 1, 1, 2, 0, tzinfo=UTC))
    login(client, "owner@example.org")
    for event in (edge, early):
        page = client.get(f"/organizer/events/{event.slug}/edit")
        assert page.status_code == 200
        token = csrf_token(client, f"/organizer/events/{event.slug}/edit")
        with read_session() as s:
            values = form_values(s.get(Event, event.id))
        r = post(client, f"/organizer/events/{event.slug}/edit", values, token)
        assert r.status_code == 422
        assert "Choose a date from 1970-01-01" in r.text
    assert _load(edge.id).starts_at == datetime(9999, 12, 30, 15, 0, tzinfo=UTC)
