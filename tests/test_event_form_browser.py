"""The event form's script in a real browser (issue 13 item 9): the end follows the start +
1 hour while the organizer has not set it, a past start date is warned about (not refused),
and the start time stops being required for all-day events. Without the script the server
does the same (tests/test_event_form_ux.py)."""

from __future__ import annotations

import pytest

from tests.organizer_support import (
    PASSWORD,
    cheap_passwords,  # noqa: F401 - fixture
    make_organizer,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cheap_passwords")]


def _new_event_form(page, base: str) -> None:
    page.goto(f"{base}/organizer/login?next=/organizer/events/new")
    page.get_by_label("E-mail").fill("olga@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/organizer/events/new")


def test_end_follows_start_until_set_and_past_dates_warn(db_url, live_server, new_page) -> None:
    make_organizer("olga@example.org", "Olga")
    page = new_page(viewport={"width": 390, "height": 844})
    _new_event_form(page, live_server.url)
    warning = page.locator("#f-start-past")
    assert warning.is_hidden()

    page.fill("#f-start_date", "2031-06-14")
    page.fill("#f-start_time", "23:30")
    assert page.input_value("#f-end_date") == "2031-06-15"  # an hour later is the next day
    assert page.input_value("#f-end_time") == "00:30"
    page.fill("#f-start_time", "18:00")  # still ours: follows again
    assert (page.input_value("#f-end_date"), page.input_value("#f-end_time")) == \
        ("2031-06-14", "19:00")
    page.fill("#f-end_time", "21:00")  # the organizer's own end is left alone
    page.fill("#f-start_time", "17:00")
    assert page.input_value("#f-end_time") == "21:00"
    assert warning.is_hidden()

    page.fill("#f-start_date", "2020-01-04")
    assert warning.is_visible() and "in the past" in warning.inner_text()
    assert page.get_attribute("#f-start-past", "role") == "status"
    page.fill("#f-start_date", "2031-06-14")
    assert warning.is_hidden()

    assert page.evaluate("document.getElementById('f-start_time').required")
    page.check("#f-all_day")
    assert not page.evaluate("document.getElementById('f-start_time').required")
    assert page.locator('label[for="f-start_time"] .req').is_hidden()
