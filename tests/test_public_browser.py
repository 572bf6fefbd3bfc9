"""The public calendar in a real browser: list, filter by category, open an event; the list
on a phone (events first, filters behind a button, with and without JavaScript); the month
view by keyboard."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from events_app.models import utcnow
from events_app.services import calendar_month
from tests.conftest import shipped_font_loaded
from tests.factories import make_event

pytestmark = pytest.mark.browser


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_browse_filter_and_open_event(db_url, live_server, new_page, viewport) -> None:
    now = utcnow()
    make_event(slug="ohare-protest", title="O'Hare travel ban protest", category="protest",
               city="Chicago", starts_at=now + timedelta(days=2), capacity=30)
    make_event(slug="janus-briefing", title="Janus v. AFSCME briefing", category="briefing",
               city="Philadelphia", timezone="America/New_York",
               starts_at=now + timedelta(days=4))
    page = new_page(viewport=viewport)
    page.goto(f"{live_server.url}/events")
    assert page.get_by_role("heading", level=1).inner_text() == "Upcoming events"
    assert page.locator(".event-card").count() == 2

    if viewport is PHONE:  # folded behind the Filter button on a phone, open on a desktop
        assert not page.get_by_label("Protest", exact=True).is_visible()
        page.locator("summary", has_text="Filter").click()
    page.get_by_label("Protest", exact=True).check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**/events?category=protest")  # no empty fields in the URL
    cards = page.locator(".event-card")
    assert cards.count() == 1
    assert "O'Hare travel ban protest" in cards.first.inner_text()

    page.get_by_role("link", name="O'Hare travel ban protest").click()
    page.wait_for_url("**/events/ohare-protest")
    assert page.get_by_role("heading", level=1).inner_text() == "O'Hare travel ban protest"
    assert "30 of 30 spots left" in page.locator(".spots").inner_text()
    # Nothing overflows sideways on a phone.
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False


def test_pages_are_set_in_the_shipped_font_under_the_strict_csp(db_url, live_server,
                                                                 new_page) -> None:
    """The font in static/fonts/ loads under the pages' own Content-Security-Policy, so every
    visitor (and every layout test) gets the same letters, whatever fonts a machine has."""
    make_event(slug="marcha", title="Marcha por los derechos de los inmigrantes: ¡únete!")
    page = new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    for path in ("/events", "/events/marcha", "/organizer/login"):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and "content-security-policy" in response.headers, path
        assert shipped_font_loaded(page), path
    assert failed == [] and refused == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_phone_list_shows_events_first_and_filters_behind_a_button(db_url, live_server,
                                                                   new_page, javascript) -> None:
    now = utcnow()
    for i, city in enumerate(["Chicago", "Denver", "Miami", "Austin", "Boulder", "Dallas"]):
        make_event(slug=f"hall-{i}", title=f"Town hall in {city}", city=city,
                   starts_at=now + timedelta(days=i + 1), capacity=20)
    make_event(slug="stream", title="Streamed briefing", city="Chicago",
               online_url="https://example.org/live", starts_at=now + timedelta(days=9))
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True,
                    java_script_enabled=javascript)
    page.goto(f"{live_server.url}/events")
    assert shipped_font_loaded(page) or not javascript
    first = page.locator(".event-card").first.bounding_box()
    assert first is not None and first["y"] + 80 < PHONE["height"], first  # on screen one
    toggle = page.locator("summary", has_text="Filter")
    assert toggle.is_visible() and not page.get_by_label("Search").is_visible()

    toggle.click()
    assert page.get_by_label("Search").is_visible()
    page.get_by_label("Online and hybrid only").check()
    page.get_by_label("Chicago", exact=True).check()
    page.get_by_label("Denver", exact=True).check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"/events\?online=1&city=Chicago&city=Denver$"))
    assert [t.strip() for t in page.locator(".event-title a").all_inner_texts()] == [
        "Streamed briefing"]
    assert "(3 active)" in page.locator("summary", has_text="Filter").inner_text()


def test_month_view_by_keyboard(db_url, live_server, new_page) -> None:
    today = calendar_month.today()
    month = today.replace(day=1) + timedelta(days=32)  # next month: days 3 and 17 are ahead
    month = month.replace(day=1)
    zone = calendar_month.site_zone()

    def at(day: int, hour: int) -> datetime:
        return datetime(month.year, month.month, day, hour, tzinfo=zone).astimezone(UTC)

    make_event(slug="vigil", title="Overnight vigil", starts_at=at(3, 22), ends_at=at(4, 2))
    make_event(slug="training", title="Training day", starts_at=at(17, 10))
    page = new_page(viewport=DESKTOP)
    page.goto(f"{live_server.url}/events/month/{month:%Y-%m}")
    grid = page.get_by_role("table", name=f"Events in {month:%B} {month.year}")
    assert grid.get_by_role("columnheader").count() == 7

    page.locator("body").focus()
    stops: list[str] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        inside = page.evaluate("document.activeElement.closest('table') !== null")
        if inside:
            stops.append(page.evaluate("document.activeElement.getAttribute('href')"))
        elif stops:
            break  # left the grid
    # Every day with events, then its events, in the order of the weeks: day 4 is there
    # because the vigil runs past midnight.
    day = f"/events/day/{month:%Y-%m}"
    assert stops == [f"{day}-03", f"{live_server.url}/events/vigil",
                     f"{day}-04", f"{live_server.url}/events/vigil",
                     f"{day}-17", f"{live_server.url}/events/training"], stops
    # Back to the second day link, and open its day list with Enter.
    page.goto(f"{live_server.url}/events/month/{month:%Y-%m}")
    page.locator("table a.cal-day-link").nth(1).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/events/day/{month:%Y-%m}-04")
    assert "Overnight vigil" in page.locator(".event-card").inner_text()
    assert page.get_by_role("heading", level=1).inner_text().endswith(
        f"4 {month:%B} {month.year}")
    # Back to the month, then to the next one, by keyboard on the nav links.
    page.get_by_role("link", name=f"{month:%B} {month.year}").press("Enter")
    page.wait_for_url(f"**/events/month/{month:%Y-%m}")
    page.get_by_role("link", name="next month").press("Enter")
    page.wait_for_url(re.compile(r"/events/month/\d{4}-\d{2}$"))
    assert f"/events/month/{month:%Y-%m}" not in page.url
