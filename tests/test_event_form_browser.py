"""The event form's script in a real browser (issue 13 item 9): the end follows the start +
1 hour while the organizer has not set it, a past start date is warned about (not refused),
and the start time stops being required for all-day events. Without the script the server
does the same (tests/test_event_form_ux.py)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from events_app.db import read_session
from events_app.models import Event
from tests.organizer_support import (
    PASSWORD,
    cheap_passwords,  # noqa: F401 - fixture
    make_organizer,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cheap_passwords")]

CHICAGO = ZoneInfo("America/Chicago")


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


def test_enter_saves_as_draft_and_only_the_button_previews(db_url, live_server,
                                                           new_page) -> None:
    """Issue 14: the Repeats fieldset's "Preview dates" button sits above the save buttons,
    yet Enter in a field still saves as a draft (as before it came), script or no script."""
    make_organizer("olga@example.org", "Olga")
    page = new_page(java_script_enabled=False)
    _new_event_form(page, live_server.url)
    page.fill("#f-timezone", "America/Chicago")
    page.fill("#f-start_date", (datetime.now(CHICAGO).date() + timedelta(days=7)).isoformat())
    page.fill("#f-start_time", "19:00")
    page.get_by_label("Weekly").check()
    page.get_by_label("After a number of dates").check()
    page.fill("#f-count", "3")
    page.get_by_role("textbox", name="Title", exact=True).fill("Phone bank")

    page.get_by_role("button", name="Preview dates").click()  # the button still previews
    expect(page.locator("#preview-dates li")).to_have_count(3)  # retries while it loads
    with read_session() as s:
        assert s.exec(select(Event)).all() == []

    page.get_by_role("textbox", name="Title", exact=True).press("Enter")
    page.wait_for_url(re.compile(r"/organizer/events/[\w-]+/series$"))
    with read_session() as s:
        saved = s.exec(select(Event.title, Event.status)).all()
    assert saved == [("Phone bank", "draft")] * 3
