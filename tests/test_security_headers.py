"""Hardening headers: strict CSP and no framing on pages, nosniff everywhere."""

from __future__ import annotations

from tests.factories import make_event
from tests.rsvp_helpers import manage_link, post_rsvp


def test_pages_get_csp_and_frame_denial(client) -> None:
    make_event(slug="e1")
    for path in ("/events", "/events/e1", "/organizer/login", "/no-such-page"):
        r = client.get(path)
        assert "script-src 'self'" in r.headers["content-security-policy"], path
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin", path


def test_non_html_gets_nosniff_only(client) -> None:
    make_event(slug="e1")
    for path in ("/calendar.ics", "/api/events", "/static/app.css"):
        r = client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert "content-security-policy" not in r.headers, path


def test_handler_values_win(client) -> None:
    """The private RSVP page keeps its stricter no-referrer policy."""
    make_event(slug="e1", capacity=5)
    post_rsvp(client, "e1", email="ann@example.org")
    manage = client.get(manage_link("ann@example.org"))
    assert manage.status_code == 200
    assert manage.headers["referrer-policy"] == "no-referrer"
