"""The organizer's event form, issue 13 item 9: end time defaults, required fields, past-date
warnings, draft slugs that follow the title, "Duplicate" a week later, un-cancel (with its
e-mail and the feed's CONFIRMED entry), draft wording, and no placeholder coordinates."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlmodel import select

from events_app.db import read_session, write_session
from events_app.models import AuditLog, Event, Organizer, Outbox, utcnow
from events_app.services import event_admin, feeds
from events_app.services.event_form import DEFAULT_LENGTH, parse_event_form, warnings
from events_app.services.feeds import FeedFilter
from events_app.util.forms import FormError
from tests.factories import make_event, make_rsvp
from tests.ical_readers import assert_readers_agree, read_icaljs
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    csrf_token,
    edit_event,
    field_error,
    login,
    make_organizer,
    post,
)
from tests.rsvp_helpers import outbox

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def _form(**overrides: str) -> dict[str, str]:
    values = {
        "title": "Airport protest", "summary": "", "description": "", "category": "protest",
        "timezone": "America/Chicago", "start_date": "2031-06-14", "start_time": "18:00",
        "end_date": "2031-06-14", "end_time": "20:30", "venue_name": "Terminal 5",
        "city": "Chicago", "capacity": "", "max_guests": "4", "waitlist_enabled": "on",
    }
    values.update(overrides)
    return values


def _load(event_id: int | None) -> Event:
    with read_session() as s:
        event = s.get(Event, event_id)
        assert event is not None
        return event


# --- end time defaults -----------------------------------------------------------------------

START = datetime(2031, 6, 14, 23, 0, tzinfo=UTC)  # 6:00 PM CDT


@pytest.mark.parametrize("end", [{"end_date": "", "end_time": ""},
                                 {"end_date": "2031-06-14", "end_time": ""}])
def test_empty_end_is_start_plus_one_hour(end: dict[str, str]) -> None:
    data = parse_event_form(_form(**end))
    assert data.starts_at == START
    assert data.ends_at == START + DEFAULT_LENGTH == START + timedelta(hours=1)


def test_late_start_ends_an_hour_later_the_next_day() -> None:
    data = parse_event_form(_form(start_time="23:30", end_date="", end_time=""))
    assert data.ends_at - data.starts_at == timedelta(hours=1)


def test_end_time_without_end_date_ends_on_the_first_day() -> None:
    data = parse_event_form(_form(end_date="", end_time="21:00"))
    assert data.ends_at == START + timedelta(hours=3)


def test_later_end_day_still_needs_its_time() -> None:
    with pytest.raises(FormError) as caught:
        parse_event_form(_form(end_date="2031-06-15", end_time=""))
    assert "end time" in caught.value.errors["end_time"]


def test_missing_start_time_is_still_an_error() -> None:
    with pytest.raises(FormError) as caught:
        parse_event_form(_form(start_time="", end_date="", end_time=""))
    assert set(caught.value.errors) == {"start_time"}


def test_server_fills_the_end_without_javascript(client, owner: Organizer) -> None:
    login(client, "owner@example.org")
    token = csrf_token(client, "/organizer/events/new")
    r = post(client, "/organizer/events/new", _form(end_date="", end_time=""), token)
    assert r.status_code == 303
    with read_session() as s:
        event = s.exec(select(Event)).one()
    assert event.ends_at - event.starts_at == timedelta(hours=1)
    page = client.get(r.headers["location"]).text
    assert 'name="end_time" type="time" value="19:00"' in page


# --- required fields, coordinates, description hint -----------------------------------------

def test_required_fields_are_marked_and_coordinates_optional(client, owner: Organizer) -> None:
    login(client, "owner@example.org")
    page = client.get("/organizer/events/new").text
    assert "are required" in page
    for name in ("title", "timezone", "start_date", "start_time"):
        tag = re.search(rf'<input id="f-{name}"[^>]*>', page)
        assert tag and " required" in tag.group(0), name
        assert re.search(rf'<label for="f-{name}">[^<]*<span class="req" aria-hidden="true">',
                         page), name
    for name in ("summary", "end_date", "end_time", "latitude", "longitude"):
        tag = re.search(rf'<input id="f-{name}"[^>]*>', page)
        assert tag and " required" not in tag.group(0), name
    # No coordinates to copy by mistake (they were St. Louis City Hall's).
    assert "38.6270" not in page and "-90.1994" not in page and "placeholder" not in page
    assert "Latitude (optional)" in page and "Coordinates are optional" in page
    assert "**bold**" in page  # the description says how to format
    assert 'src="http://testserver/static/event_form.js"' in page


def test_event_without_coordinates_is_saved_without_any(client, owner: Organizer) -> None:
    login(client, "owner@example.org")
    r = post(client, "/organizer/events/new", _form(street_address="1 Main St"),
             csrf_token(client, "/organizer/events/new"))
    assert r.status_code == 303
    with read_session() as s:
        stored = s.exec(select(Event)).one()
    assert stored.latitude is None and stored.longitude is None


# --- past dates: a warning, not an error ------------------------------------------------------

def test_past_start_is_a_warning_not_an_error(client, owner: Organizer) -> None:
    day = (utcnow() - timedelta(days=30)).date().isoformat()
    data = parse_event_form(_form(start_date=day, end_date=day))
    assert set(warnings(data)) == {"start_date"}
    assert warnings(parse_event_form(_form())) == {}

    login(client, "owner@example.org")
    r = post(client, "/organizer/events/new", _form(start_date=day, end_date=day),
             csrf_token(client, "/organizer/events/new"))
    assert r.status_code == 303  # saved
    page = client.get(r.headers["location"]).text
    assert 'class="banner banner-warn" role="status">The start is in the past' in page
    assert "This event starts in the past" in page
    assert field_error(page, "start_date") is None


# --- the slug follows the title while a draft ------------------------------------------------

def test_draft_slug_follows_title_until_first_published(owner: Organizer) -> None:
    with write_session() as s:
        event = event_admin.create_event(s, owner, parse_event_form(_form(title="Teach-in")))
    make_event(slug="budget-teach-in", title="Taken")
    changes = edit_event(owner, event, title="Budget teach-in")
    assert changes["slug"] == ("teach-in", "budget-teach-in-2")
    assert _load(event.id).slug == "budget-teach-in-2"
    event_admin.set_published(owner, "budget-teach-in-2", True)
    edit_event(owner, _load(event.id), title="Renamed after publishing")
    assert _load(event.id).slug == "budget-teach-in-2"
    # Unpublished again, it keeps its address: people may have it.
    event_admin.set_published(owner, "budget-teach-in-2", False)
    edit_event(owner, _load(event.id), title="Renamed as a draft again")
    assert _load(event.id).slug == "budget-teach-in-2"


def test_same_title_slug_is_kept(owner: Organizer) -> None:
    with write_session() as s:
        event = event_admin.create_event(s, owner, parse_event_form(_form(title="Teach-in")))
    changes = edit_event(owner, event, title="Teach-In!")
    assert "slug" not in changes and _load(event.id).slug == "teach-in"


def test_draft_rename_through_the_form_redirects_to_the_new_address(client,
                                                                   owner: Organizer) -> None:
    login(client, "owner@example.org")
    token = csrf_token(client, "/organizer/events/new")
    post(client, "/organizer/events/new", {**_form(title="Teach-in"), "then": "draft"}, token)
    page = client.get("/organizer/events/teach-in/edit").text
    assert "follows the title while it is a draft" in page
    r = post(client, "/organizer/events/teach-in/edit", _form(title="Spring teach-in"), token)
    assert r.headers["location"] == "/organizer/events/spring-teach-in/edit"
    page = client.get(r.headers["location"]).text
    assert "/events/spring-teach-in" in page
    # Drafts are not told their edit "will reach subscribed calendars".
    r = post(client, "/organizer/events/spring-teach-in/edit",
             _form(title="Spring teach-in", start_time="17:00"), token)
    page = client.get(r.headers["location"]).text
    assert "subscribed calendars" not in page
    assert "This is a draft" in page


def test_published_event_edit_mentions_subscribed_calendars(client, owner: Organizer) -> None:
    login(client, "owner@example.org")
    token = csrf_token(client, "/organizer/events/new")
    post(client, "/organizer/events/new", {**_form(), "then": "publish"}, token)
    r = post(client, "/organizer/events/airport-protest/edit", _form(start_time="17:00"), token)
    assert "will reach subscribed calendars" in client.get(r.headers["location"]).text


# --- duplicate: the same weekday one week later ---------------------------------------------

def test_duplicate_is_proposed_a_week_later_at_the_same_wall_clock_time(owner: Organizer) -> None:
    # Sat 1 Nov 2031, 6 PM CDT; a week later the clocks have gone back: 6 PM CST.
    start = datetime(2031, 11, 1, 23, 0, tzinfo=UTC)
    event = make_event(owner_id=owner.id, starts_at=start, ends_at=start + timedelta(hours=2),
                       rsvp_deadline=start - timedelta(hours=1))
    copy = event_admin.copy(owner, event.slug)
    assert copy.starts_at == datetime(2031, 11, 9, 0, 0, tzinfo=UTC)  # Sat 8 Nov, 6 PM CST
    assert copy.local_start.strftime("%a %H:%M") == "Sat 18:00"
    assert copy.ends_at - copy.starts_at == timedelta(hours=2)
    assert copy.rsvp_deadline == copy.starts_at - timedelta(hours=1)


def test_duplicate_of_a_long_past_event_lands_on_the_next_same_weekday(owner: Organizer) -> None:
    now = datetime(2031, 3, 12, 12, 0, tzinfo=UTC)  # a Wednesday
    start = datetime(2030, 1, 7, 15, 0, tzinfo=UTC)  # a Monday, 9 AM CST
    event = make_event(owner_id=owner.id, starts_at=start, timezone="America/Chicago")
    with write_session() as s:
        copy = event_admin.duplicate_event(s, owner, s.get(Event, event.id), now=now)
    assert copy.starts_at > now and copy.starts_at - now < timedelta(days=7)
    assert copy.local_start.strftime("%a %H:%M") == "Mon 09:00"


def test_duplicate_button_says_when(client, owner: Organizer) -> None:
    event = make_event(owner_id=owner.id, starts_at=START, ends_at=START + timedelta(hours=1))
    login(client, "owner@example.org")
    r = post(client, f"/organizer/events/{event.slug}/duplicate")
    page = client.get(r.headers["location"]).text
    assert "proposed for Sat 21 Jun 2031, 6:00 PM" in page


# --- un-cancel -------------------------------------------------------------------------------

def _ics_entry(raw: bytes, uid: str) -> icalendar.Event:
    [entry] = [e for e in icalendar.Calendar.from_ical(raw).walk("VEVENT")
               if str(e["UID"]) == uid]
    return entry


def _feed() -> bytes:
    with read_session() as s:
        return feeds.render_public_feed(s, FeedFilter.of((), ()), utcnow())


def test_uncancel_publishes_again_mails_those_told_and_feed_shows_it_confirmed(
        client, owner: Organizer) -> None:
    soon = utcnow().replace(second=0, microsecond=0) + timedelta(days=7)  # in the feed window
    event = make_event(owner_id=owner.id, title="Town hall", starts_at=soon,
                       ends_at=soon + timedelta(hours=2))
    make_rsvp(event, "Ann", "ann@example.org")
    make_rsvp(event, "Wes", "wes@example.org", status="waitlisted")
    make_rsvp(event, "Gone", "gone@example.org", status="cancelled")
    login(client, "owner@example.org")
    token = csrf_token(client, f"/organizer/events/{event.slug}/cancel")
    post(client, f"/organizer/events/{event.slug}/cancel", {"message": "Room flooded"}, token)
    cancelled_raw = _feed()
    cancelled = _ics_entry(cancelled_raw, event.uid)
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert "Undo the cancellation" in client.get(f"/organizer/events/{event.slug}/edit").text

    r = post(client, f"/organizer/events/{event.slug}/uncancel", token=token)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "is back on" in page and "2 people who were told" in page
    stored = _load(event.id)
    assert (stored.status, stored.cancel_message, stored.cancelled_at) == ("published", "", None)

    # The feed: CONFIRMED again, with a higher SEQUENCE, and every reader agrees.
    raw = _feed()
    entry = _ics_entry(raw, event.uid)
    assert str(entry["STATUS"]) == "CONFIRMED"
    assert int(entry["SEQUENCE"]) > int(cancelled["SEQUENCE"])
    assert_readers_agree(raw)
    [js] = [e for e in read_icaljs(raw)["events"] if e["uid"] == event.uid]
    assert (js["status"], js["sequence"]) == ("CONFIRMED", int(entry["SEQUENCE"]))

    # The e-mails: to the two who were told, not to the one who had cancelled.
    mails = {m.to_addr: m for m in outbox("event_uncancelled")}
    assert set(mails) == {"ann@example.org", "wes@example.org"}
    ann, wes = mails["ann@example.org"], mails["wes@example.org"]
    assert ann.subject == "Back on: Town hall" and "is back on" in ann.body_text
    assert "is back on" in ann.body_html
    request = icalendar.Calendar.from_ical(ann.ics)
    assert str(request["METHOD"]) == "REQUEST"
    [vevent] = request.walk("VEVENT")
    assert int(vevent["SEQUENCE"]) == int(entry["SEQUENCE"])
    assert wes.ics == "" and "still on the waitlist" in wes.body_text
    # And the public page takes RSVPs again.
    public = client.get(f"/events/{event.slug}").text
    assert "This event has been cancelled" not in public and 'id="rsvp"' in public
    with read_session() as s:
        actions = s.exec(select(AuditLog.action).where(AuditLog.entity_id == event.id)).all()
    assert "event.uncancel" in actions


def test_uncancel_mails_no_one_who_was_not_told(owner: Organizer) -> None:
    event = make_event(owner_id=owner.id, status="cancelled", starts_at=START,
                       cancelled_at=utcnow())
    make_rsvp(event, "Ann", "ann@example.org")  # no cancellation e-mail in the outbox
    _, told = event_admin.uncancel_event(owner, event.slug)
    assert told == 0 and outbox("event_uncancelled") == []
    assert _load(event.id).status == "published"


def test_uncancel_of_a_past_event_mails_no_one(owner: Organizer) -> None:
    start = utcnow() - timedelta(days=2)
    event = make_event(owner_id=owner.id, starts_at=start)
    make_rsvp(event, "Ann", "ann@example.org")
    event_admin.cancel_event(owner, event.slug, "")
    _, told = event_admin.uncancel_event(owner, event.slug)
    assert told == 0 and outbox("event_uncancelled") == []


def test_uncancel_of_an_event_that_is_not_cancelled_is_refused(client,
                                                               owner: Organizer) -> None:
    event = make_event(owner_id=owner.id)
    with pytest.raises(event_admin.EventStateError):
        event_admin.uncancel_event(owner, event.slug)
    login(client, "owner@example.org")
    r = post(client, f"/organizer/events/{event.slug}/uncancel")
    assert r.status_code == 303
    assert "not cancelled" in client.get(r.headers["location"]).text
    with read_session() as s:
        assert s.exec(select(Outbox)).all() == []


def test_uncancel_needs_the_right_to_manage_the_event(client, owner: Organizer) -> None:
    make_organizer("other@example.org")
    event = make_event(owner_id=owner.id, status="cancelled")
    login(client, "other@example.org")
    r = post(client, f"/organizer/events/{event.slug}/uncancel")
    assert r.status_code == 404
    assert _load(event.id).status == "cancelled"
