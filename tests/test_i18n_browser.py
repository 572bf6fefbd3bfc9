"""The translated pages in a real browser: a Spanish browser gets Spanish pages that pass the
axe-core audit and fit a phone (Spanish runs longer than English), and the switcher changes
the language and keeps it from page to page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.factories import make_event

pytestmark = pytest.mark.browser

SPANISH_PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True,
                 "has_touch": True, "locale": "es-MX"}  # Accept-Language: es-MX
SPANISH_DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "es-MX"}
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                          "wcag22aa", "best-practice"]},
    "resultTypes": ["violations"],
}
PATHS = ["/events", "/events?q=nothing+matches", "/events/month/2027-03",
         "/events/day/2027-03-14", "/no/such/page"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # HTML and CSS: one database
def test_spanish_pages_pass_axe_and_fit_a_phone(live_server, new_page) -> None:
    make_event(title="Taller: conozca sus derechos",
               starts_at=datetime(2027, 3, 14, 19, tzinfo=UTC))
    axe = Axe()
    for device in (SPANISH_PHONE, SPANISH_DESKTOP):
        page = new_page(**device)
        for path in PATHS:
            page.goto(live_server.url + path)
            assert page.locator("html").get_attribute("lang") == "es", path
            violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
            serious = [(v["id"], [n["html"] for n in v["nodes"]][:3]) for v in violations
                       if v["impact"] in ("serious", "critical")
                       or v["id"] in ("color-contrast", "target-size", "landmark-unique")]
            assert serious == [], (path, serious)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (path, device["viewport"], overflow)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_switcher_changes_and_keeps_the_language(live_server, new_page) -> None:
    page = new_page(locale="es-MX")
    page.goto(live_server.url + "/events/month/2027-03?category=protest")
    assert page.get_by_role("heading", level=1).inner_text() == "Marzo de 2027"
    switcher = page.get_by_role("navigation", name="Idioma")
    switcher.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "March 2027"
    assert "category=protest" in page.url  # the same page, its filters kept
    # Remembered: the next page is English too, though the browser asks for Spanish.
    page.get_by_role("link", name="List view").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Upcoming events"
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Próximos eventos"
