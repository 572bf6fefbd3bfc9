"""The share panel in a real browser: the copy button appears with JavaScript, copies the
event's link to the clipboard and says so; the plain share links are there regardless."""

from __future__ import annotations

import pytest

from tests.factories import make_event

pytestmark = pytest.mark.browser


def test_copy_link(db_url, live_server, new_page) -> None:
    make_event(slug="vigil", title="Vigil")
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server.url}/events/vigil")
    button = page.get_by_role("button", name="Copy link")
    button.click()
    page.wait_for_function("() => document.querySelector('.share-status').textContent !== ''")
    assert page.locator(".share-status").inner_text() == "Link copied."
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{live_server.url}/events/vigil"
    assert page.get_by_role("link", name="E-mail").get_attribute("href").startswith("mailto:?")


def test_without_javascript_the_link_is_still_there(db_url, live_server, new_page) -> None:
    make_event(slug="vigil", title="Vigil")
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_server.url}/events/vigil")
    assert page.get_by_role("button", name="Copy link").count() == 0  # hidden without JS
    assert page.get_by_label("Link to this event").input_value() == (
        f"{live_server.url}/events/vigil")
    assert page.get_by_role("link", name="WhatsApp").count() == 1
