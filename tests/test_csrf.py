"""CSRF cookie handling (the per-form checks are tested with each form)."""

from __future__ import annotations

from starlette.testclient import TestClient

from events_app.web.app import create_app
from tests.factories import make_event


def test_pages_set_the_cookie_feeds_and_json_do_not(db_url: str) -> None:
    make_event(slug="e1")
    with TestClient(create_app()) as c:
        assert "csrftoken=" in c.get("/events").headers.get("set-cookie", "")
        c.cookies.clear()
        for path in ("/calendar.ics", "/events/e1.ics", "/api/events", "/static/app.css"):
            r = c.get(path)
            assert r.status_code == 200, path
            assert "set-cookie" not in r.headers, path


def test_cookie_is_kept_not_rotated(db_url: str) -> None:
    with TestClient(create_app()) as c:
        first = c.get("/events")
        cookie = first.cookies["csrftoken"]
        second = c.get("/events")
        assert "set-cookie" not in second.headers
        assert c.cookies["csrftoken"] == cookie
        assert "HttpOnly" in first.headers["set-cookie"]
        assert "SameSite=Lax" in first.headers["set-cookie"]
