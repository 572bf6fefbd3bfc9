"""Accessibility and phone layout of the public pages, checked in a real browser.

axe-core (the copy bundled in axe-playwright-python: nothing is fetched at run time) audits
each page as Chromium renders it, on a phone and on a desktop; the page must have no serious
or critical violation, no contrast failure, and none of the landmark/heading/label rules the
issue names. Headings must not skip levels. On a 360px-wide phone nothing may scroll sideways
and the controls people tap must be at least 40px tall.

One server and one database (SQLite, loaded with the demo calendar) serve the whole module:
these tests only read, except the RSVP posts they make, which leave the data as it was.
What they check is the HTML and CSS, which is the same on either database.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import select

from events_app import db as app_db
from events_app.db import read_session, write_session
from events_app.models import Event, utcnow
from events_app.services import auth, calendar_month, organizers
from events_app.services import rsvp as rsvp_service
from events_app.services.seed import seed
from tests.conftest import start_server
from tests.organizer_support import PASSWORD, mailed_link, make_organizer
from tests.rsvp_helpers import feed_token, req

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
NARROW_PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}

# Demo events (seed/events.json) with the features each page needs.
WITH_GUESTS = "know-your-rights-training-council-staff-chicago"  # capacity, guests select
CANCELLED = "pittsburgh-welcoming-city-briefing"
FEW_LEFT = "miami-dade-rapid-response-training"  # capacity 8, one guest allowed
ORGANIZER = "olga@example.org"

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                          "wcag22aa", "best-practice"]},
    "resultTypes": ["violations"],
}
# Beyond every serious or critical finding: the rules behind the issue's own words
# (landmarks, labels, headings in order, contrast), whatever impact axe gives them.
ALWAYS_FAIL = {
    "color-contrast", "heading-order", "page-has-heading-one", "empty-heading", "region",
    "landmark-one-main", "landmark-unique", "landmark-no-duplicate-banner",
    "landmark-no-duplicate-contentinfo", "landmark-banner-is-top-level",
    "landmark-contentinfo-is-top-level", "landmark-main-is-top-level", "label",
    "label-title-only", "select-name", "form-field-multiple-labels", "target-size",
}
AXE = Axe()


@dataclass
class Site:
    url: str
    manage_token: str
    feed_token: str
    organizer_state: Any = None  # the browser storage of a signed-in organizer
    invite_path: str = ""  # an invitation link, as e-mailed


def _sign_in(page, site: Site, password: str = PASSWORD) -> None:
    _open(page, site, "/organizer/login")
    page.get_by_label("E-mail").fill(ORGANIZER)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.fixture(scope="module")
def site(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory,
         browser) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("a11y")
    db_file = tmp / "events.db"
    shutil.copy(sqlite_template, db_file)
    url = f"sqlite:///{db_file}"
    engine = app_db.make_engine(url)
    app_db.set_engine(engine)
    try:
        with write_session() as session:
            assert seed(session) > 20
        with read_session() as session:
            event = session.exec(select(Event).where(Event.slug == WITH_GUESTS)).one()
        result = rsvp_service.submit_rsvp(event.id, req("ann@example.org", guests=1))
        # Cheap hashing parameters: verification reads them from the hash, so the server's
        # sign-in is fast too.
        previous = auth.use_hasher(PasswordHasher.from_parameters(CHEAPEST))
        try:
            make_organizer(ORGANIZER, "Olga Organizer", admin=True)
            with write_session() as session:
                organizers.invite_organizer(session, email="nia@example.org", name="Nia")
        finally:
            auth.use_hasher(previous)
        server = start_server(url, tmp)
        try:
            site = Site(server.url, result.rsvp.token, feed_token("ann@example.org"),
                        invite_path=mailed_link("nia@example.org", "invitation"))
            context = browser.new_context()
            _sign_in(context.new_page(), site)
            site.organizer_state = context.storage_state()
            context.close()
            yield site
        finally:
            server.stop()
    finally:
        app_db.set_engine(None)
        engine.dispose()


def _send_rsvp(page, email: str) -> None:
    page.get_by_label("Your name").fill("Cy Young")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_role("button", name="RSVP", exact=True).click()
    page.wait_for_load_state()


def _open(page, site: Site, path: str) -> None:
    response = page.goto(site.url + path)
    assert response is not None


def _month(ahead: int) -> str:
    """'2026-12': this month (ahead=0) or a later one, in the site's timezone."""
    month = calendar_month.today().replace(day=1)
    for _ in range(ahead):
        month = calendar_month.next_month(month)
    return f"{month:%Y-%m}"


def _event_with_errors(page, site: Site) -> None:
    _open(page, site, f"/events/{WITH_GUESTS}")
    _send_rsvp(page, "cy@localhost")  # passes the browser's check, not ours
    assert page.locator(".field-error").count() >= 1


def _received(page, site: Site) -> None:
    # The same address again: the "check your e-mail" page (the RSVP stays as it was).
    _open(page, site, f"/events/{WITH_GUESTS}")
    page.get_by_label("Your name").fill("Ann")
    page.get_by_label("E-mail", exact=True).fill("ann@example.org")
    page.get_by_label("Guests you're bringing").select_option("1")
    page.get_by_role("button", name="RSVP", exact=True).click()
    page.wait_for_load_state()
    assert "Check your e-mail" in page.get_by_role("heading", level=1).inner_text()


def _erase_question(page, site: Site) -> None:
    # The confirmation step only: the site is shared by every page of this module.
    _open(page, site, f"/rsvp/{site.manage_token}")
    page.get_by_role("button", name="Erase my data…").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Yes, erase my data").is_visible()


def _party_choice(page, site: Site) -> None:
    # One spot left of 8 (the same seven addresses each time: RSVPing again changes nothing).
    with read_session() as session:
        event = session.exec(select(Event).where(Event.slug == FEW_LEFT)).one()
    for i in range(7):
        rsvp_service.submit_rsvp(event.id, req(f"fill{i}@example.org"))
    _open(page, site, f"/events/{FEW_LEFT}")
    page.get_by_label("Your name").fill("Cy Young")
    page.get_by_label("E-mail", exact=True).fill("cy@example.org")
    page.get_by_label("Guests you're bringing").select_option("1")
    page.get_by_role("button", name="RSVP", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#rsvp-party").is_visible()


def _cancel_question(page, site: Site) -> None:
    _open(page, site, f"/rsvp/{site.manage_token}")
    page.get_by_role("button", name="Cancel my RSVP…").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Yes, cancel my RSVP").is_visible()


PAGES: dict[str, Callable[..., None]] = {
    "list": lambda page, site: _open(page, site, "/events"),
    "list-filtered": lambda page, site: _open(
        page, site, "/events?category=training&category=meeting&city=Chicago&q=rights"),
    "list-empty": lambda page, site: _open(page, site, "/events?q=nothing+matches+this"),
    "list-empty-past-matches": lambda page, site: _open(page, site, "/events?q=Bergstrom"),
    "month": lambda page, site: _open(page, site, f"/events/month/{_month(0)}"),
    "month-next-filtered": lambda page, site: _open(
        page, site, f"/events/month/{_month(1)}?category=training&city=Chicago&online=1"),
    "day": lambda page, site: _open(page, site, f"/events/day/{calendar_month.today()}"),
    "event": lambda page, site: _open(page, site, f"/events/{WITH_GUESTS}"),
    "event-form-errors": _event_with_errors,
    "event-cancelled": lambda page, site: _open(page, site, f"/events/{CANCELLED}"),
    "rsvp-manage": lambda page, site: _open(page, site, f"/rsvp/{site.manage_token}?m=new"),
    "rsvp-received": _received,
    "rsvp-erase-confirm": _erase_question,
    "rsvp-party-choice": _party_choice,
    "rsvp-cancel-confirm": _cancel_question,
    "my-events": lambda page, site: _open(page, site, f"/my/{site.feed_token}"),
    "not-found": lambda page, site: _open(page, site, "/no/such/page"),
    "embed-builder": lambda page, site: _open(page, site, "/embed?theme=dark&limit=3"),
    "embed-box": lambda page, site: _open(page, site, "/embed/upcoming"),
    "embed-box-dark": lambda page, site: _open(page, site, "/embed/upcoming?theme=dark"),
    "api-reference": lambda page, site: _open(page, site, "/api"),
}


def _organizer_event_with_errors(page, site: Site) -> None:
    _open(page, site, f"/organizer/events/{WITH_GUESTS}/edit")
    page.get_by_label("End time").fill("09:00")  # before it starts; the browser can't tell
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state()
    assert page.locator(".field-error").count() >= 1


def _organizer_login_error(page, site: Site) -> None:
    _sign_in(page, site, password="not the password")
    assert page.locator(".banner-error, .field-error").count() >= 1


def _email_preview(page, site: Site) -> None:
    _open(page, site, f"/organizer/events/{WITH_GUESTS}/email")
    page.get_by_label("Subject").fill("Doors open at 6")
    page.get_by_label("Message").fill("Hi all,\n\nBring a photo ID.")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state()
    assert page.locator("#preview-text").count() == 1


def _forgot_sent(page, site: Site) -> None:
    _open(page, site, "/organizer/forgot-password")
    page.get_by_label("E-mail").fill("someone@example.org")
    page.get_by_role("button", name="Send me a link").click()
    page.wait_for_load_state()
    assert page.locator(".banner-ok").count() == 1


def _invitation_errors(page, site: Site) -> None:
    _open(page, site, site.invite_path)
    page.locator("#f-new_password").fill("short")
    page.locator("#f-confirm_password").fill("short")
    page.get_by_role("button", name="Set my password and sign in").click()
    page.wait_for_load_state()
    assert page.locator(".banner-error").count() == 1


def _repeats_filled(page, site: Site) -> None:
    """The new-event form with a weekly series chosen and its dates previewed."""
    _open(page, site, "/organizer/events/new")
    page.get_by_role("textbox", name="Title", exact=True).fill("Phone bank")
    page.get_by_label("Start date").fill(f"{utcnow().year + 1}-03-03")
    page.get_by_label("Start time").fill("18:00")
    page.get_by_label("Weekly").check()
    page.get_by_label("After a number of dates").check()
    page.get_by_label("How many dates").fill("4")


def _series_preview(page, site: Site) -> None:
    _repeats_filled(page, site)
    page.get_by_role("button", name="Preview dates").click()
    page.wait_for_load_state()
    assert page.locator("#preview-dates li").count() == 4


def _series_page(page, site: Site) -> None:
    _repeats_filled(page, site)
    page.get_by_role("button", name="Save and publish").click()
    page.wait_for_url("**/series")


def _series_date_edit(page, site: Site) -> None:
    _series_page(page, site)
    page.locator(".series-table a.event-link").first.click()
    page.wait_for_url("**/edit")


_E = f"/organizer/events/{WITH_GUESTS}"
# Pages of the organizer workspace, opened signed in (an admin, so every page is there).
ORGANIZER_PAGES: dict[str, Callable[..., None]] = {
    "organizer-dashboard": lambda page, site: _open(page, site, "/organizer/"),
    "organizer-new-event": lambda page, site: _open(page, site, "/organizer/events/new"),
    "organizer-edit-errors": _organizer_event_with_errors,
    "organizer-attendees": lambda page, site: _open(page, site, f"{_E}/attendees"),
    "organizer-email": lambda page, site: _open(page, site, f"{_E}/email"),
    "organizer-email-preview": _email_preview,
    "organizer-cancel": lambda page, site: _open(page, site, f"{_E}/cancel"),
    "organizer-new-series-preview": _series_preview,
    "organizer-series": _series_page,
    "organizer-series-date-edit": _series_date_edit,
    "organizer-make-it-repeat": lambda page, site: _open(page, site, f"{_E}/repeat"),
    "organizer-accounts": lambda page, site: _open(page, site, "/organizer/organizers"),
    "organizer-audit": lambda page, site: _open(page, site, "/organizer/audit"),
    "organizer-account": lambda page, site: _open(page, site, "/organizer/account"),
    "organizer-two-factor": lambda page, site: _open(page, site,
                                                     "/organizer/account/two-factor"),
}
PAGES.update({
    "organizer-login": lambda page, site: _open(page, site, "/organizer/login"),
    "organizer-login-error": _organizer_login_error,
    "organizer-forgot-password": lambda page, site: _open(page, site,
                                                          "/organizer/forgot-password"),
    "organizer-forgot-password-sent": _forgot_sent,
    "organizer-invitation": lambda page, site: _open(page, site, site.invite_path),
    "organizer-invitation-errors": _invitation_errors,
    "organizer-link-expired": lambda page, site: _open(page, site, "/organizer/reset/old-link"),
    **ORGANIZER_PAGES,
})


def visit(new_page, site: Site, name: str, device: dict[str, Any]) -> Any:
    """A fresh browser on page `name` (signed in for the organizer workspace's pages)."""
    state = {"storage_state": site.organizer_state} if name in ORGANIZER_PAGES else {}
    page = new_page(**device, **state)
    PAGES[name](page, site)
    _show_everything(page)
    if name in ORGANIZER_PAGES:
        assert "/organizer/login" not in page.url  # really signed in
    return page


def _show_everything(page) -> None:
    """Open collapsed blocks (the Subscribe panel), so their contents are checked too."""
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")


HEADINGS_JS = """
() => Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6'))
  .filter(h => h.checkVisibility() && !h.closest('[aria-hidden="true"]'))
  .map(h => [Number(h.tagName[1]), h.textContent.trim().slice(0, 60)])
"""


def heading_problems(outline: list[list]) -> list[str]:
    """One h1, first; each heading at most one level deeper than the one before it."""
    problems = []
    levels = [level for level, _ in outline]
    if not levels or levels[0] != 1:
        problems.append("the first heading is not an h1")
    if levels.count(1) != 1:
        problems.append(f"{levels.count(1)} h1 headings")
    for (prev, _), (level, text) in zip(outline, outline[1:], strict=False):
        if level > prev + 1:
            problems.append(f"h{prev} is followed by h{level} ({text!r})")
    return problems


def test_heading_rule_catches_skips() -> None:
    assert heading_problems([[1, "a"], [2, "b"], [3, "c"], [2, "d"]]) == []
    assert heading_problems([[1, "a"], [3, "c"]]) == ["h1 is followed by h3 ('c')"]
    assert heading_problems([[2, "a"]]) == ["the first heading is not an h1", "0 h1 headings"]


def _report(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:150]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", " ")[:300])
    return "\n".join(lines)


TAP_TARGETS_JS = """
() => Array.from(document.querySelectorAll(
    'button, .button, input:not([type=hidden]), select, textarea, form a, summary, '
    + '.pagination a, .site-header nav a'))
  .filter(el => el.checkVisibility() && !el.closest('.visually-hidden, [aria-hidden="true"]'))
  .map(el => {
    // A checkbox is tapped through its label as much as its box: measure the two together.
    const parts = ['checkbox', 'radio'].includes(el.type) ? [el, ...el.labels] : [el];
    const boxes = parts.map(part => part.getBoundingClientRect());
    const height = Math.max(...boxes.map(b => b.bottom)) - Math.min(...boxes.map(b => b.top));
    return [el.outerHTML.slice(0, 100), Math.round(height)];
  })
  .filter(([, height]) => height < 40)
"""
OVERFLOW_JS = """
() => Array.from(document.querySelectorAll('body *'))
  .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .map(el => el.outerHTML.slice(0, 100))
"""


def _audit(page, viewport: str) -> None:
    violations = AXE.run(page, options=AXE_OPTIONS).response["violations"]
    failing = [v for v in violations
               if v["impact"] in ("serious", "critical") or v["id"] in ALWAYS_FAIL]
    assert failing == [], f"on a {viewport}:\n" + _report(failing)
    assert heading_problems(page.evaluate(HEADINGS_JS)) == [], viewport


@pytest.mark.parametrize("name", list(PAGES))
def test_page_is_accessible_on_a_phone_and_a_desktop(site, new_page, name) -> None:
    """axe and the heading outline on a phone; the layout squeezed to 360px; then a desktop.

    One page load serves all three (resizing re-lays it out), which keeps the module quick.
    """
    page = visit(new_page, site, name, PHONE)
    _audit(page, "phone")

    page.set_viewport_size(NARROW_PHONE["viewport"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, (
        page.evaluate(OVERFLOW_JS))
    assert page.evaluate(TAP_TARGETS_JS) == [], "tap targets under 40px on a 360px phone"

    page.set_viewport_size(DESKTOP["viewport"])
    _audit(page, "desktop")


def test_the_audit_flags_what_it_must(new_page) -> None:
    """The audit itself runs offline in this Chromium and fails the pages it should."""
    page = new_page(**PHONE)
    page.set_content(
        '<!doctype html><html lang="en"><title>t</title><body><main><h1>Title</h1>'
        '<h3>Skipped a level</h3><p style="color:#bbb;background:#fff">Faint text</p>'
        '<input type="text" name="unlabelled"></main></body></html>')
    found = {v["id"] for v in AXE.run(page, options=AXE_OPTIONS).response["violations"]}
    assert {"color-contrast", "label", "heading-order"} <= found
    outline = page.evaluate(HEADINGS_JS)
    assert heading_problems(outline) == ["h1 is followed by h3 ('Skipped a level')"]


# --- Keyboard focus: every focus ring stands out from what is behind it (WCAG 1.4.11). -----

FOCUSED_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const backgroundOf = (start) => {
    for (let node = start; node; node = node.parentElement) {
      const c = getComputedStyle(node).backgroundColor;
      if (c !== 'transparent' && !c.endsWith(', 0)')) return c;
    }
    return 'rgb(255, 255, 255)';
  };
  // What the ring is drawn on: whatever lies under the middle of its bottom edge.
  const box = el.getBoundingClientRect();
  const ringY = box.bottom + parseFloat(style.outlineOffset) + parseFloat(style.outlineWidth) / 2;
  let behind = backgroundOf(el.parentElement);
  if (ringY >= 0 && ringY < window.innerHeight) {
    const under = document.elementsFromPoint(box.left + box.width / 2, ringY)
      .find(node => node !== el && !el.contains(node));
    if (under) behind = backgroundOf(under);
  }
  return {html: el.outerHTML.slice(0, 80), style: style.outlineStyle,
          width: parseFloat(style.outlineWidth), color: style.outlineColor, behind: behind};
}
"""
_RGB_RE = re.compile(r"rgba?\((\d+), (\d+), (\d+)")


def contrast(color_a: str, color_b: str) -> float:
    """WCAG contrast ratio of two computed CSS colours."""

    def luminance(css: str) -> float:
        match = _RGB_RE.match(css)
        assert match, css
        channels = []
        for value in (int(v) / 255 for v in match.groups()):
            channels.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
        r, g, b = channels
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(color_a), luminance(color_b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_formula() -> None:
    assert round(contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)"), 1) == 21.0
    assert round(contrast("rgb(118, 118, 118)", "rgb(255, 255, 255)"), 1) == 4.5


@pytest.mark.parametrize("name", ["list-filtered", "month", "event-form-errors",
                                  "organizer-edit-errors"])
def test_keyboard_focus_is_visible_everywhere(site, new_page, name) -> None:
    page = visit(new_page, site, name, DESKTOP)
    page.locator("body").focus()
    weak, seen = [], set()
    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        if focused is None or focused["html"] in seen:
            break  # back at the start: every stop was visited
        seen.add(focused["html"])
        ratio = contrast(focused["color"], focused["behind"])
        if focused["style"] == "none" or focused["width"] < 2 or ratio < 3:
            weak.append((focused["html"], focused["color"], focused["behind"], round(ratio, 2)))
    assert len(seen) > 5
    assert weak == []
