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
from playwright.sync_api import expect
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
    page.get_by_label("Summary", exact=True).fill("Stand with arriving travellers")
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
    assert not raw.startswith(b"\xef\xbb\xbf")  # plain UTF-8; the Excel button adds a BOM
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert len(rows) == 1
    assert rows[0]["Name"] == "Ann O'Neil, Jr."
    assert rows[0]["Phone"] == "+1 555 0100"  # a phone number, not a formula: no apostrophe
    assert rows[0]["Checked in"] == "yes" and rows[0]["Check-in time"].endswith(("CST", "CDT"))


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
    # The URL is already start#rsvp-N: wait for the count itself, not the address.
    expect(page.locator('[data-count="checked_in_seats"]')).to_have_text("0")

    # Search narrows the list at the door.
    page.get_by_role("searchbox", name="Search").fill("bea")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/attendees?q=bea*")  # loaded, not just begun: count() does not wait
    assert page.locator("tbody tr").count() == 1


LONG_EMAIL = "maria.fernanda.de.los.angeles.gutierrez-villanueva@sanctuary-coalition.example.org"


def test_attendee_list_fits_a_laptop_and_checks_in_part_of_a_party(db_url, live_server,
                                                                    new_page) -> None:
    """No sideways scrolling at 1280 px, even with long names, addresses and comments; then
    2 of a party of 3 arrive, the third later, and the check-in is undone (with JavaScript)."""
    owner = make_organizer("olga@example.org", "Olga Organizer")
    event = make_event(owner_id=owner.id, title="Vigil at the detention centre", capacity=80,
                       timezone="America/Chicago")
    cyrus = make_rsvp(event, "Cyrus Bahrami-Castellanos", "cyrus@example.org", guests=2,
                      phone="+1 (312) 555-0199")
    make_rsvp(event, "María Fernanda de los Ángeles Gutiérrez Villanueva", LONG_EMAIL,
              guests=1, phone="+52 55 1234 5678",
              comment="Bringing my mother; she uses a wheelchair, step-free entrance please")
    make_rsvp(event, "Walt", "walt@example.org", status="waitlisted", guests=3)
    make_rsvp(event, "Bea", "bea@example.org", checked_in_at=utcnow())
    start = f"/organizer/events/{event.slug}/attendees"

    laptop = new_page(viewport={"width": 1280, "height": 800})
    _sign_in(laptop, live_server.url, "olga@example.org", start)
    assert laptop.evaluate(
        "document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")
    laptop.evaluate("window.__noReload = true")

    # 2 of 3 arrive.
    laptop.get_by_label("People of Cyrus Bahrami-Castellanos’s party who are here").fill("2")
    laptop.get_by_role("button", name="Check in Cyrus Bahrami-Castellanos").click()
    row = laptop.locator(f"#rsvp-{cyrus.id}")
    undo = row.get_by_role("button", name="Undo check-in for Cyrus Bahrami-Castellanos")
    undo.wait_for()
    assert "2 of 3 here" in row.locator(".checked-in-at").inner_text()
    assert row.locator(".checked-in-at").inner_text().split()[2] in ("CST", "CDT")
    assert laptop.locator('[data-count="checked_in_seats"]').inner_text() == "3"  # Bea + 2
    assert "Cyrus Bahrami-Castellanos: 2 of 3 checked in." in \
        laptop.locator("#checkin-status").inner_text()
    assert laptop.evaluate("document.activeElement.textContent.trim()") == "Undo check-in"

    # The third one turns up.
    row.get_by_label("People of Cyrus Bahrami-Castellanos’s party who are here").fill("3")
    row.get_by_role("button", name="Update how many of Cyrus Bahrami-Castellanos’s party "
                                   "are here").click()
    laptop.locator(f"#rsvp-{cyrus.id} .arrived", has_text="3 of 3 here").wait_for()
    assert laptop.locator('[data-count="checked_in_seats"]').inner_text() == "4"
    with read_session() as s:
        party = s.get(Rsvp, cyrus.id)
        assert (party.checked_in_seats, party.checked_in_at is not None) == (3, True)

    # Undo.
    laptop.locator(f"#rsvp-{cyrus.id}").get_by_role(
        "button", name="Undo check-in for Cyrus Bahrami-Castellanos").click()
    laptop.locator(f"#rsvp-{cyrus.id}").get_by_role(
        "button", name="Check in Cyrus Bahrami-Castellanos").wait_for()
    assert laptop.locator('[data-count="checked_in_seats"]').inner_text() == "1"
    assert laptop.evaluate("window.__noReload") is True
    assert laptop.evaluate(
        "document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")
    with read_session() as s:
        party = s.get(Rsvp, cyrus.id)
        assert (party.checked_in_seats, party.checked_in_at) == (0, None)


def test_part_of_a_party_without_javascript(db_url, live_server, new_page) -> None:
    owner = make_organizer("olga@example.org", "Olga Organizer")
    event = make_event(owner_id=owner.id, title="Town hall", capacity=50)
    cyrus = make_rsvp(event, "Cyrus", "cyrus@example.org", guests=2)
    start = f"/organizer/events/{event.slug}/attendees"
    page = new_page(viewport=PHONE, java_script_enabled=False)
    _sign_in(page, live_server.url, "olga@example.org", start)
    page.get_by_label("People of Cyrus’s party who are here").fill("2")
    page.get_by_role("button", name="Check in Cyrus").click()
    page.wait_for_url(f"**{start}#rsvp-{cyrus.id}")
    assert "Cyrus: 2 of 3 checked in." in page.locator(".banner-ok").inner_text()
    assert page.locator('[data-count="checked_in_seats"]').inner_text() == "2"
    assert page.evaluate("document.documentElement.scrollWidth > window.innerWidth") is False
