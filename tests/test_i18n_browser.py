"""The translated pages in a real browser: a Spanish browser gets Spanish pages — public ones
and the organizer workspace — that pass the axe-core audit and fit a phone (Spanish runs
longer than English), and the switcher changes the language and keeps it from page to page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe

from events_app.db import write_session
from events_app.models import Organizer, RsvpStatus, utcnow
from events_app.services import audit
from tests.factories import make_event, make_rsvp
from tests.organizer_support import (
    PASSWORD,
    cheap_passwords,  # noqa: F401 - fixture
    make_organizer,
)
from tests.series_public_helpers import make_series

pytestmark = pytest.mark.browser

SPANISH_PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True,
                 "has_touch": True, "locale": "es-MX"}  # Accept-Language: es-MX
SPANISH_DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "es-MX"}
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                          "wcag22aa", "best-practice"]},
    "resultTypes": ["violations"],
}
YEAR = utcnow().year + 1  # next March: the event stays upcoming whenever the suite runs
PATHS = ["/events", "/events?q=nothing+matches", f"/events/month/{YEAR}-03",
         f"/events/day/{YEAR}-03-14", "/no/such/page", "/api", "/embed"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # HTML and CSS: one database
def test_spanish_pages_pass_axe_and_fit_a_phone(live_server, new_page) -> None:
    make_event(title="Taller: conozca sus derechos",
               starts_at=datetime(YEAR, 3, 14, 19, tzinfo=UTC))
    axe = Axe()
    for device in (SPANISH_PHONE, SPANISH_DESKTOP):
        page = new_page(**device)
        for path in PATHS:
            page.goto(live_server.url + path)
            assert page.locator("html").get_attribute("lang") == "es", path
            serious = _serious(axe.run(page, options=AXE_OPTIONS).response["violations"])
            assert serious == [], (path, serious)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (path, device["viewport"], overflow)


def _serious(violations: list[dict]) -> list[tuple[str, list[str]]]:
    """The findings that fail a page: serious or critical ones, and the rules the issue names
    whatever impact axe gives them."""
    return [(v["id"], [n["html"] for n in v["nodes"]][:3]) for v in violations
            if v["impact"] in ("serious", "critical")
            or v["id"] in ("color-contrast", "target-size", "landmark-unique")]


@pytest.mark.usefixtures("cheap_passwords")
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_spanish_organizer_pages_pass_axe_and_fit_a_phone(live_server, new_page) -> None:
    """The workspace an organizer works in all day, in Spanish (longer words, longer column
    headings and buttons), with its tables full: the dashboard, the event form new and
    filled, the attendee list with every kind of RSVP, a series and the audit log."""
    owner = make_organizer("olga@example.org", "Olga Organizer", admin=True)
    start = utcnow().replace(microsecond=0) + timedelta(days=5)
    event = make_event(title="Taller: conozca sus derechos", slug="taller", owner_id=owner.id,
                       capacity=3, max_guests=2, starts_at=start)
    make_event(title="Audiencia de presupuesto", owner_id=owner.id, status="draft")
    make_rsvp(event, name="Ana Asistente", email="ana@example.org", guests=1,
              checked_in_at=start)
    make_rsvp(event, name="Wes Espera", email="wes@example.org",
              status=RsvpStatus.WAITLISTED.value)
    make_rsvp(event, name="Cy Cancelado", email="cy@example.org",
              status=RsvpStatus.CANCELLED.value)
    beto = make_rsvp(event, name="Beto Bienvenido", email="beto@example.org")
    _series, dates = make_series(dates=3, capacity=5, owner_id=owner.id)
    with write_session() as s:
        actor = s.get(Organizer, owner.id)
        audit.record(s, actor, "event.create", event)
        audit.record(s, actor, "event.publish", event)
        audit.record(s, actor, "rsvp.check_in", event)
    paths = ["/organizer/", "/organizer/events/new", "/organizer/events/taller/edit",
             "/organizer/events/taller/attendees", f"/organizer/events/{dates[0].slug}/series",
             "/organizer/audit"]
    axe = Axe()
    for device in (SPANISH_PHONE, SPANISH_DESKTOP):
        page = new_page(**device)
        page.goto(live_server.url + "/organizer/login")
        page.locator("#f-email").fill("olga@example.org")
        page.locator("#f-password").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_url("**/organizer/")
        for path in paths:
            page.goto(live_server.url + path)
            assert "/organizer/login" not in page.url, path  # still signed in
            assert page.locator("html").get_attribute("lang") == "es", path
            if path.endswith("/attendees"):  # the list really is full: every kind of RSVP
                assert all(page.get_by_text(name).count() for name in
                           ("Ana Asistente", "Wes Espera", "Cy Cancelado")), path
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            serious = _serious(axe.run(page, options=AXE_OPTIONS).response["violations"])
            assert serious == [], (path, device["viewport"], serious)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (path, device["viewport"], overflow)
    # The door's script (static/organizer.js) announces a check-in in the page's language: the
    # words come from the server, which answers the script's request in that language.
    page.goto(live_server.url + "/organizer/events/taller/attendees")
    page.evaluate("window.__noReload = true")
    page.get_by_role("button", name="Registrar la llegada de Beto Bienvenido").click()
    page.locator(f"#rsvp-{beto.id} .undo-button").wait_for()
    assert page.evaluate("window.__noReload") is True  # updated in place, not reloaded
    assert page.locator("#checkin-status").inner_text() == \
        "Se registró la llegada de Beto Bienvenido."
    # The form's script speaks the page's language (its words come from the page).
    page.goto(live_server.url + "/organizer/events/new")
    page.locator("#f-start_date").fill("2020-01-07")
    page.locator("#f-start_date").dispatch_event("change")
    assert page.locator("#f-start-past").inner_text().startswith("Esta fecha ya pasó.")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_switcher_changes_and_keeps_the_language(live_server, new_page) -> None:
    page = new_page(locale="es-MX")
    page.goto(live_server.url + f"/events/month/{YEAR}-03?category=protest")
    assert page.get_by_role("heading", level=1).inner_text() == f"Marzo de {YEAR}"
    switcher = page.get_by_role("navigation", name="Idioma")
    switcher.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == f"March {YEAR}"
    assert "category=protest" in page.url  # the same page, its filters kept
    # Remembered: the next page is English too, though the browser asks for Spanish.
    page.get_by_role("link", name="List view").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Upcoming events"
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Próximos eventos"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_copy_buttons_speak_spanish(live_server, new_page) -> None:
    """static/share.js and static/copy.js hold no words: they say what the page gives them,
    so on a Spanish page they say it in Spanish."""
    make_event(slug="vigilia", title="Vigilia")
    page = new_page(locale="es-MX", permissions=["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server.url}/events/vigilia")
    page.locator("button[data-copy-target]").click()
    page.wait_for_function("() => document.querySelector('.share-status').textContent !== ''")
    assert page.locator(".share-status").inner_text() == "Enlace copiado."
    page.goto(f"{live_server.url}/events")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.locator("button[data-copy]").click()
    status = page.locator("[data-copy-status]")
    page.wait_for_function("() => document.querySelector('[data-copy-status]').textContent")
    assert status.inner_text() == "Enlace copiado. Péguelo en su aplicación de calendario."
    assert page.evaluate("navigator.clipboard.readText()").endswith("/calendar.ics?lang=es")
