"""Issue 13 item 4: an online link kept for confirmed attendees. It never reaches anything
public (event page, JSON-LD, API, feeds, Atom, embed, the .ics download), nor anyone who is
not confirmed; confirmed attendees get it on their manage page, in their confirmation and
reminder e-mails (text, HTML, .ics) and in their personal feed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events_app.db import read_session
from events_app.models import Event
from events_app.services import reminders
from events_app.services.event_form import form_values, parse_event_form
from tests.factories import make_event
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    csrf_token,
    edit_event,
    login,
    make_organizer,
    post,
)
from tests.rsvp_helpers import feed_token, manage_link, outbox, post_rsvp

SECRET = "https://meet.example.org/j/8675309?pwd=s3cret"
PUBLIC_PATHS = ("/events/{slug}", "/events/{slug}.ics", "/api/v1/events/{slug}", "/api/v1/events",
                "/api/events/{slug}", "/api/events", "/calendar.ics", "/events.atom",
                "/embed/upcoming", "/events")


def _online_event(private: bool, **kw) -> Event:
    fields = {"venue_name": "", "city": "", "online_url": SECRET, "join_link_private": private,
              "capacity": 1, "title": "Budget webinar"}
    fields.update(kw)
    return make_event(**fields)


def _public_bodies(client, slug: str) -> dict[str, str]:
    bodies = {}
    for path in PUBLIC_PATHS:
        r = client.get(path.format(slug=slug))
        assert r.status_code == 200, path
        bodies[path] = r.text
    return bodies


def test_a_public_link_shows_everywhere_as_before(client) -> None:
    """The control: without the option the link is public, so the checks below can fail.
    (The list page and the embed never show links to join.)"""
    ev = _online_event(private=False)
    bodies = _public_bodies(client, ev.slug)
    assert [p for p, b in bodies.items() if "8675309" not in b] == ["/embed/upcoming", "/events"]


@pytest.mark.parametrize("hybrid", [False, True])
def test_a_private_link_is_on_no_public_page_feed_or_api(client, hybrid: bool) -> None:
    kw = {"venue_name": "Library", "city": "Chicago"} if hybrid else {}
    ev = _online_event(private=True, **kw)
    bodies = _public_bodies(client, ev.slug)
    leaks = [p for p, b in bodies.items() if "8675309" in b]
    assert leaks == []
    page = bodies["/events/{slug}"]
    assert "The link is e-mailed to confirmed attendees" in page
    assert '"VirtualLocation"' in page if not hybrid else "Library" in page
    ics = bodies["/events/{slug}.ics"].replace("\r\n ", "")  # unfolded
    assert "the join link is sent to confirmed attendees" in ics
    api = client.get(f"/api/v1/events/{ev.slug}").json()
    assert api["online_url"] is None and api["attendance_mode"] == (
        "mixed" if hybrid else "online")


def test_confirmed_attendees_get_the_link_the_waitlisted_do_not(client) -> None:
    ev = _online_event(private=True)
    post_rsvp(client, ev.slug, email="in@example.org", name="Ines")
    post_rsvp(client, ev.slug, email="wait@example.org", name="Walt")

    confirmation = outbox("confirmation")[-1]
    assert confirmation.to_addr == "in@example.org"
    assert SECRET in confirmation.body_text and SECRET.replace("&", "&amp;") in (
        confirmation.body_html)
    assert "8675309" in (confirmation.ics or "")
    waitlisted = outbox("waitlisted")[-1]
    assert waitlisted.to_addr == "wait@example.org"
    assert "8675309" not in waitlisted.body_text + waitlisted.body_html
    assert "join link is sent to confirmed attendees" in waitlisted.body_text

    mine = client.get(manage_link("in@example.org"))
    assert SECRET in mine.text.replace("&amp;", "&")
    theirs = client.get(manage_link("wait@example.org"))
    assert "8675309" not in theirs.text
    assert "you'll get it by e-mail if a spot opens up" in theirs.text

    # Personal feeds (verified by opening the link above): only the confirmed one has it.
    feed_in = client.get(f"/my/{feed_token('in@example.org')}/calendar.ics").text
    feed_wait = client.get(f"/my/{feed_token('wait@example.org')}/calendar.ics").text
    assert "8675309" in feed_in and "8675309" not in feed_wait


def test_reminders_carry_the_private_link(db_url, client) -> None:
    ev = _online_event(private=True)
    post_rsvp(client, ev.slug, email="in@example.org")
    reminders.queue_reminders(now=ev.starts_at - timedelta(hours=2))
    reminder = outbox("reminder")[-1]
    assert reminder.to_addr == "in@example.org" and SECRET in reminder.body_text


@pytest.mark.usefixtures("cheap_passwords")
def test_the_organizer_form_sets_and_shows_the_option(client) -> None:
    make_organizer("owner@example.org", "Olga Owner")
    login(client, "owner@example.org")
    token = csrf_token(client, "/organizer/events/new")
    page = client.get("/organizer/events/new").text
    assert 'name="join_link_private"' in page
    data = {"title": "Private call", "category": "call", "timezone": "America/Chicago",
            "start_date": "2031-06-14", "start_time": "18:00", "end_date": "2031-06-14",
            "end_time": "19:00", "online_url": SECRET, "join_link_private": "on",
            "max_guests": "0", "capacity": "", "then": "publish"}
    r = post(client, "/organizer/events/new", data, token)
    assert r.status_code == 303
    with read_session() as s:
        from sqlmodel import select

        event = s.exec(select(Event).where(Event.title == "Private call")).one()
    assert event.join_link_private and event.online_url == SECRET
    assert form_values(event)["join_link_private"] == "on"
    values = form_values(event)
    values["join_link_private"] = ""
    assert parse_event_form(values).join_link_private is False


def test_keeping_the_link_for_attendees_reaches_subscribed_calendars(db_url) -> None:
    """Calendars keep their copy unless SEQUENCE rises: turning the option on must raise it,
    or subscribers would keep the link the organizer now keeps private; nobody is e-mailed."""
    owner = make_organizer("owner@example.org", "Olga Owner")
    event = _online_event(private=False, owner_id=owner.id)
    before = len(outbox())
    changes = edit_event(owner, event, notify=True, join_link_private="on")
    with read_session() as s:
        stored = s.get(Event, event.id)
    assert stored.join_link_private and stored.sequence == event.sequence + 1
    assert not changes.moves_calendar_entry and len(outbox()) == before
