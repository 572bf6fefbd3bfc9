"""The public calendar in a real browser: list, filter by category, open an event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events_app.models import utcnow
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

    page.get_by_label("Category").select_option("protest")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/events?*category=protest*")
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
