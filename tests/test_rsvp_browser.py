"""RSVP in a real browser on a phone: confirm, manage link, cancel, waitlist promotion."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_event
from tests.rsvp_helpers import outbox, statuses

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _fill_and_send(page, name: str, email: str, button: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Guests you're bringing").select_option("0")
    page.get_by_role("button", name=button, exact=True).click()


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_rsvp_manage_cancel_and_promotion_on_a_phone(db_url, live_server, new_page) -> None:
    ev = make_event(slug="town-hall", title="Town hall on transit", capacity=1)

    ann = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    ann.goto(f"{live_server.url}/events/town-hall")
    assert ann.locator(".spots").inner_text().strip() == "1 of 1 spots left"
    assert _fits_the_screen(ann)
    _fill_and_send(ann, "Ann Lee", "ann@example.org", "RSVP")
    ann.wait_for_url(re.compile(r"/events/town-hall/rsvp"))
    assert "Check your e-mail" in ann.get_by_role("status").inner_text()
    assert "/rsvp/" not in ann.content()  # the manage link goes by e-mail only
    assert _fits_the_screen(ann)

    bob = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    bob.goto(f"{live_server.url}/events/town-hall")
    assert "This event is full" in bob.locator("#rsvp").inner_text()
    _fill_and_send(bob, "Bob Ray", "bob@example.org", "Join the waitlist")
    bob.wait_for_url(re.compile(r"/events/town-hall/rsvp"))
    assert "Check your e-mail" in bob.get_by_role("status").inner_text()
    # Bob opens the link in his waitlist e-mail.
    (waitlisted,) = outbox("waitlisted")
    bob.goto(re.search(r"http://\S+/rsvp/[\w-]+", waitlisted.body_text).group(0))
    assert bob.locator(".waitlist-position").inner_text() == "number 1"

    # Ann opens the private link from her confirmation e-mail, on a fresh phone, and cancels.
    (confirmation,) = [m for m in outbox("confirmation") if m.to_addr == "ann@example.org"]
    link = re.search(r"http://\S+/rsvp/[\w-]+", confirmation.body_text).group(0)
    assert link.startswith(live_server.url)
    ann2 = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    ann2.goto(link)
    assert ann2.get_by_role("heading", name="You're going").is_visible()
    ann2.get_by_role("button", name="Cancel my RSVP…").click()  # asks first
    ann2.get_by_role("button", name="Yes, cancel my RSVP").click()
    ann2.wait_for_url("**?m=cancelled-moved")
    assert "Your RSVP is cancelled." in ann2.get_by_role("status").inner_text()
    assert ann2.locator(".rsvp-status").get_attribute("data-status") == "cancelled"
    assert ann2.get_by_role("link", name="RSVP again").is_visible()

    # Bob, still on his manage page, reloads and finds himself confirmed.
    bob.reload()
    assert bob.get_by_role("heading", name="You're going").is_visible()
    assert bob.locator(".rsvp-status").get_attribute("data-status") == "confirmed"
    assert statuses(ev.id) == {"ann@example.org": "cancelled", "bob@example.org": "confirmed"}
    assert [m.to_addr for m in outbox("promoted")] == ["bob@example.org"]


def test_form_errors_are_shown_next_to_fields_on_a_phone(db_url, live_server, new_page) -> None:
    make_event(slug="briefing", title="Budget briefing", capacity=10)
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(f"{live_server.url}/events/briefing")
    # Typed text that passes the browser's own checks but not ours (a dotless domain).
    page.get_by_label("Your name").fill("Cy Young")
    page.get_by_label("E-mail", exact=True).fill("cy@localhost")
    page.get_by_role("button", name="RSVP", exact=True).click()
    page.wait_for_load_state()
    error = page.locator("#rsvp-email-error")
    assert "doesn't look like an e-mail address" in error.inner_text()
    assert page.get_by_label("Your name").input_value() == "Cy Young"
    assert page.get_by_label("E-mail", exact=True).get_attribute("aria-invalid") == "true"
    assert _fits_the_screen(page)
