"""Issue 13 items 1-3 in a real browser: the RSVP bar in a phone's first screen, the choice
for a party that does not fit, and the manage page's cancel confirmation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from events_app.services import rsvp as svc
from tests.factories import make_event
from tests.rsvp_helpers import manage_link, req, rsvps

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LONG = "\n\n".join(["Why this matters to the city and what we will ask the council. " * 6] * 8)


def _phone(new_page):
    return new_page(viewport=PHONE, is_mobile=True, has_touch=True)


def _in_viewport(page, selector: str) -> bool:
    return page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                      return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }""",
        selector)


def test_phone_bar_is_in_the_first_screen_and_jumps_to_the_form(db_url, live_server,
                                                                new_page) -> None:
    make_event(slug="hearing", title="Transit hearing", capacity=40, description=LONG,
               street_address="12 Main St")
    page = _phone(new_page)
    page.goto(f"{live_server.url}/events/hearing")
    bar = page.locator("#rsvp-bar")
    assert bar.is_visible() and _in_viewport(page, "#rsvp-bar")
    assert "40 spots left" in bar.inner_text()
    assert not _in_viewport(page, "#rsvp-heading")  # the form is far below, as on the issue
    bar.get_by_role("link", name="RSVP").click()
    page.wait_for_url(re.compile(r"#rsvp-heading$"))
    assert _in_viewport(page, "#rsvp-heading")
    page.get_by_label("Your name").click()  # the form's fields are reachable, not covered
    # The fixed bar leaves room: scrolled to the end, the footer is not hidden under it.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert page.evaluate("""() => {
        const bar = document.querySelector('#rsvp-bar').getBoundingClientRect();
        const foot = document.querySelector('.site-footer').getBoundingClientRect();
        return foot.bottom <= bar.top + 1; }""")


def test_party_that_does_not_fit_chooses_fewer_guests(db_url, live_server, new_page) -> None:
    ev = make_event(slug="walk", title="Neighbourhood walk", capacity=3, max_guests=3)
    svc.submit_rsvp(ev.id, req("first@example.org", guests=1))  # 1 spot left
    page = _phone(new_page)
    page.goto(f"{live_server.url}/events/walk")
    page.get_by_label("Your name").fill("Dana Cruz")
    page.get_by_label("E-mail", exact=True).fill("dana@example.org")
    page.get_by_label("Guests you're bringing").select_option("2")
    page.get_by_label("Comment").fill("Stroller")
    page.get_by_role("button", name="RSVP", exact=True).click()
    choice = page.locator("#rsvp-party")
    choice.wait_for()
    assert "Only 1 spot left, not enough for your party of 3." in choice.inner_text()
    assert page.get_by_label("Your name").input_value() == "Dana Cruz"  # input kept
    assert page.get_by_label("Comment").input_value() == "Stroller"
    assert rsvps(ev.id).keys() == {"first@example.org"}
    page.get_by_label(re.compile("^Just me")).check()
    page.get_by_role("button", name="Send my choice").click()
    assert "Check your e-mail" in page.get_by_role("status").inner_text()
    dana = rsvps(ev.id)["dana@example.org"]
    assert (dana.status, dana.guests, dana.comment) == ("confirmed", 0, "Stroller")


def test_party_that_does_not_fit_may_wait_whole(db_url, live_server, new_page) -> None:
    ev = make_event(slug="forum", title="Housing forum", capacity=3, max_guests=3)
    svc.submit_rsvp(ev.id, req("first@example.org", guests=1))
    page = _phone(new_page)
    page.goto(f"{live_server.url}/events/forum")
    page.get_by_label("Your name").fill("Eli Park")
    page.get_by_label("E-mail", exact=True).fill("eli@example.org")
    page.get_by_label("Guests you're bringing").select_option("2")
    page.get_by_role("button", name="RSVP", exact=True).click()
    page.get_by_label(re.compile("^All 3 of us on the waitlist")).check()
    page.get_by_role("button", name="Send my choice").click()
    assert "Check your e-mail" in page.get_by_role("status").inner_text()
    eli = rsvps(ev.id)["eli@example.org"]
    assert (eli.status, eli.guests) == ("waitlisted", 2)


def test_manage_page_shows_the_place_and_asks_before_cancelling(db_url, live_server,
                                                                new_page) -> None:
    ev = make_event(slug="rally", title="Rally for transit", venue_name="City Hall steps",
                    street_address="1200 Market St", city="St. Louis", capacity=5)
    svc.submit_rsvp(ev.id, req("gil@example.org"))
    page = _phone(new_page)
    page.goto(live_server.url + manage_link("gil@example.org"))
    where = page.get_by_role("region", name="Where")
    assert "1200 Market St" in where.inner_text()
    assert where.get_by_role("link", name="OpenStreetMap").is_visible()
    assert page.get_by_role("heading", name="Add to calendar").is_visible()
    page.get_by_role("button", name="Cancel my RSVP…").click()
    # A new page loads after each tap: wait for it (is_visible() alone does not wait).
    expect(page.get_by_role("heading", name="Cancel your RSVP?")).to_be_visible()
    assert rsvps(ev.id)["gil@example.org"].status == "confirmed"  # one tap changed nothing
    page.get_by_role("link", name="No, keep it").click()
    expect(page.get_by_role("heading", name="You're going")).to_be_visible()
    page.get_by_role("button", name="Cancel my RSVP…").click()
    page.get_by_role("button", name="Yes, cancel my RSVP").click()
    page.wait_for_url("**?m=cancelled")
    assert "your spot is free for someone else" in page.get_by_role("status").inner_text()
    assert rsvps(ev.id)["gil@example.org"].status == "cancelled"
