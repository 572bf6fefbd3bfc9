"""The organizer workspace in a real browser against a real server.

Sign in, create and publish an event, find it on the public calendar and in the feed, get an
RSVP through the public form in a second browser, check the person in at the door (with and
without JavaScript), and download the attendee CSV.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from events_app.db import read_session
from events_app.models import Rsvp, utcnow
from tests.factories import make_event, make_rsvp
from tests.organizer_support import (
    PASSWORD,
    cheap_passwords,  # noqa: F401 - fixture
    make_organizer,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cheap_passwords")]

PHONE = {"width": 390, "height": 844}


def _sign_in(page, base: str, email: str, start: str = "/organizer/") -> None:
    page.goto(f"{base}{start}")
    page.wait_for_url("**/organizer/login?next=*")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{start}")


def test_create_publish_rsvp_check_in_and_export(db_url, live_server, new_page,
                                                 tmp_path) -> None:
    make_organizer("olga@example.org", "Olga Organizer")
    base = live_server.url
    page = new_page()
    _sign_in(page, base, "olga@example.org")
    assert "Welcome back, Olga Organizer." in page.locator(".banner-ok").inner_text()

    # Create and publish an event through the form.
    day = (utcnow() + timedelta(days=3)).astimezone(ZoneInfo("America/Chicago")).date()
    page.get_by_role("link", name="New event").first.click()
    page.get_by_role("textbox", name="Title", exact=True).fill("Airport rally: Terminal 5")
    page.get_by_label("Summary").fill("Stand with arriving travellers")
    page.get_by_label("Category").select_option("rally")
    page.get_by_label("Timezone").fill("America/Chicago")
    page.get_by_label("Start date").fill(day.isoformat())
    page.get_by_label("Start time").fill("17:00")
    page.get_by_label("End date").fill(day.isoformat())
    page.get_by_label("End time").fill("16:00")  # wrong on purpose
    page.get_by_label("Venue", exact=True).fill("O'Hare Terminal 5")
    page.get_by_label("City", exact=True).fill("Chicago")
    page.get_by_label("Capacity (seats)").fill("40")
    page.get_by_role("button", name="Save and publish").click()
    # Server-side validation: message next to the field, everything typed is kept.
    assert page.locator("#f-end_time-error").inner_text() == "The event must end after it starts."
    title = page.get_by_role("textbox", name="Title", exact=True)
    assert title.input_value() == "Airport rally: Terminal 5"
    assert page.get_by_label("Capacity (seats)").input_value() == "40"
    page.get_by_label("End time").fill("19:00")
    page.get_by_role("button", name="Save and publish").click()
    page.wait_for_url("**/organizer/events/airport-rally-terminal-5/edit")
    assert "created and published" in page.locator(".banner-ok").inner_text()

    # It is on the public calendar and in the subscription feed.
    page.goto(f"{base}/events")
    assert page.get_by_role("link", name="Airport rally: Terminal 5").count() == 1
    feed = page.request.get(f"{base}/calendar.ics")
    assert feed.status == 200
    assert "SUMMARY:Airport rally: Terminal 5" in feed.text().replace("\r\n ", "")

    # Someone from the public RSVPs, in a browser of their own (no organizer cookie).
    visitor = new_page(viewport=PHONE)
    visitor.goto(f"{base}/events/airport-rally-terminal-5")
    visitor.get_by_label("Your name").fill("Ann O'Neil, Jr.")
    visitor.get_by_label("E-mail", exact=True).fill("ann@example.org")
    visitor.get_by_label("Phone").fill("+1 555 0100")
    visitor.get_by_label("Guests you're bringing").select_option("1")
    visitor.get_by_role("button", name="RSVP", exact=True).click()
    assert "Check your e-mail" in visitor.get_by_role("status").inner_text()
    with read_session() as s:
        ann = s.exec(select(Rsvp).where(Rsvp.email == "ann@example.org")).one()
    assert ann.status == "confirmed"

    # At the door: one tap checks Ann in; the counts update without a reload.
    page.goto(f"{base}/organizer/")
    row = page.locator('tr[data-slug="airport-rally-terminal-5"]')
    assert "2 / 40" in row.locator(".seats").inner_text()
    row.get_by_role("link", name="Attendees").click()
    page.wait_for_url("**/attendees")
    assert page.locator('[data-count="checked_in_seats"]').inner_text() == "0"
    page.evaluate("window.__noReload = true")
    page.get_by_role("button", name="Check in Ann O'Neil, Jr.").click()
    undo = page.get_by_role("button", name="Undo check-in for Ann O'Neil, Jr.")
    undo.wait_for()
    assert page.locator('[data-count="checked_in_seats"]').inner_text() == "2"
    assert page.evaluate("window.__noReload") is True  # same document: no reload happened
    assert page.locator(f"#rsvp-{ann.id} .checked-in-at").inner_text() != ""
    with read_session() as s:
        assert s.get(Rsvp, ann.id).checked_in_at is not None

    # Export the CSV.
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename.startswith("airport-rally-terminal-5-attendees-")
    path = tmp_path / "attendees.csv"
    download.save_as(path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(rows) == 1
    assert rows[0]["Name"] == "Ann O'Neil, Jr."
    assert rows[0]["Phone"] == "'+1 555 0100"  # neutralised, not a formula
    assert rows[0]["Checked in"] != ""


def test_door_check_in_on_a_phone_without_javascript(db_url, live_server, new_page) -> None:
    owner = make_organizer("olga@example.org", "Olga Organizer")
    event = make_event(owner_id=owner.id, title="Town hall", capacity=50)
    make_rsvp(event, "Bea", "bea@example.org")
    make_rsvp(event, "Cyrus", "cyrus@example.org", guests=2)
    base = live_server.url
    page = new_page(viewport=PHONE, java_script_enabled=False)
    start = f"/organizer/events/{event.slug}/attendees"
    _sign_in(page, base, "olga@example.org", start)

    # Rows are cards on a phone: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth > window.innerWidth") is False
    page.get_by_role("button", name="Check in Cyrus").click()
    page.wait_for_url(f"**{start}#rsvp-*")
    assert "Cyrus is checked in." in page.locator(".banner-ok").inner_text()
    assert page.locator('[data-count="checked_in_seats"]').inner_text() == "3"
    page.get_by_role("button", name="Undo check-in for Cyrus").click()
    page.wait_for_url(f"**{start}#rsvp-*")
    assert page.locator('[data-count="checked_in_seats"]').inner_text() == "0"

    # Search narrows the list at the door.
    page.get_by_role("searchbox", name="Search").fill("bea")
    page.get_by_role("button", name="Apply").click()
    assert page.locator("tbody tr").count() == 1
