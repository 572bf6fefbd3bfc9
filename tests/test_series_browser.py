"""Issue 14's "done when", in a real browser against a real server: an organizer creates
"every second Tuesday at 7 PM America/Chicago until June" through the event form (previewing
the dates first, no script needed), lands on the series page with every date, and a member
of the public RSVPs to one of the dates: that date alone gets the RSVP."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from events_app.db import read_session
from events_app.models import Event, Rsvp
from tests.organizer_support import (
    PASSWORD,
    cheap_passwords,  # noqa: F401 - fixture
    make_organizer,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cheap_passwords")]

CHICAGO = ZoneInfo("America/Chicago")
PHONE = {"width": 390, "height": 844}


def _first_tuesday_after(day: date) -> date:
    return day + timedelta(days=(1 - day.weekday() - 1) % 7 + 1)


def test_create_every_second_tuesday_then_rsvp_to_one_date(db_url, live_server,
                                                           new_page) -> None:
    make_organizer("olga@example.org", "Olga Organizer")
    base = live_server.url
    first = _first_tuesday_after(datetime.now(CHICAGO).date() + timedelta(days=3))
    until = date(first.year + (first.month > 5), 6, 30)  # "until June"
    expected = []
    d = first
    while d <= until:
        expected.append(datetime(d.year, d.month, d.day, 19, 0, tzinfo=CHICAGO).astimezone(UTC))
        d += timedelta(days=14)

    page = new_page()
    page.goto(f"{base}/organizer/login?next=/organizer/events/new")
    page.get_by_label("E-mail").fill("olga@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/organizer/events/new")

    page.get_by_role("textbox", name="Title", exact=True).fill("Rapid-response network meeting")
    page.get_by_label("Timezone").fill("America/Chicago")
    page.get_by_label("Start date").fill(first.isoformat())
    page.get_by_label("Start time").fill("19:00")
    page.get_by_label("End date").fill(first.isoformat())
    page.get_by_label("End time").fill("20:30")
    page.get_by_label("Venue", exact=True).fill("Union hall")
    page.get_by_label("Capacity (seats)").fill("25")
    page.get_by_label("Weekly").check()
    page.get_by_label("Every how many days, weeks or months").fill("2")
    page.get_by_label("Tuesday").check()
    page.get_by_label("On a date").check()
    page.get_by_label("Last date").fill(until.isoformat())

    # The dates before saving: the page comes back with them, everything entered kept.
    page.get_by_role("button", name="Preview dates").click()
    page.wait_for_load_state()  # the click returns once the page has begun loading
    preview = page.locator("#preview-dates")
    preview.wait_for()
    assert "Repeats every second Tuesday" in preview.inner_text()
    times = preview.locator("time")
    assert times.count() == min(8, len(expected))
    assert [times.nth(i).get_attribute("datetime") for i in range(times.count())] == \
        [s.strftime("%Y-%m-%dT%H:%M:%SZ") for s in expected[:8]]
    assert all("7:00 PM" in times.nth(i).inner_text() for i in range(times.count()))
    assert page.get_by_label("Tuesday").is_checked()
    assert page.get_by_role("textbox", name="Title", exact=True).input_value() == \
        "Rapid-response network meeting"

    page.get_by_role("button", name="Save and publish").click()
    page.wait_for_url(re.compile(r"/organizer/events/[\w-]+/series$"))
    assert "Repeats every second Tuesday" in page.locator(".series-rule").inner_text()
    rows = page.locator(".series-table tbody tr")
    assert rows.count() == len(expected)

    with read_session() as s:
        dates = list(s.exec(select(Event).where(col(Event.series_id).is_not(None))
                            .order_by(col(Event.starts_at))).all())
    assert [e.starts_at for e in dates] == expected
    chosen = dates[1]

    # A member of the public, on a phone, RSVPs to the second date only.
    member = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    member.goto(f"{base}/events/{chosen.slug}")
    member.get_by_label("Your name").fill("Ann Lee")
    member.get_by_label("E-mail", exact=True).fill("ann@example.org")
    member.get_by_role("button", name="RSVP", exact=True).click()
    member.wait_for_url(re.compile(rf"/events/{chosen.slug}/rsvp"))
    assert "Check your e-mail" in member.get_by_role("status").inner_text()

    with read_session() as s:
        rsvps = s.exec(select(Rsvp.event_id, Rsvp.email)).all()
    assert rsvps == [(chosen.id, "ann@example.org")]

    # The organizer's series page counts it on that date.
    page.reload()
    row = page.locator(f'tr[data-slug="{chosen.slug}"]')
    assert row.locator(".seats").inner_text().split()[:3] == ["1", "/", "25"]
