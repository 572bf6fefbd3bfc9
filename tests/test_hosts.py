"""Trusted hosts and HSTS (issue 9, item 13): no absolute link is built from a forged Host."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from events_app import settings
from events_app.web.app import create_app
from tests.factories import make_event


@pytest.mark.parametrize("path", ["/events", "/calendar.ics", "/organizer/login", "/nowhere"])
def test_a_forged_host_gets_a_friendly_400_without_its_name(db_url: str, path: str) -> None:
    make_event(slug="e1")
    with TestClient(create_app(), base_url="http://evil.example") as c:
        r = c.get(path, follow_redirects=False)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert "does not answer to that host name" in r.text
    assert "evil.example" not in r.text  # its links point at BASE_URL's host
    assert "http://testserver/" in r.text
    assert "set-cookie" not in r.headers


def test_the_api_refuses_a_forged_host_in_json(db_url: str) -> None:
    with TestClient(create_app(), base_url="http://evil.example") as c:
        r = c.get("/api/events")
    assert r.status_code == 400
    assert r.json()["status"] == 400 and "host" in r.json()["error"]


def test_absolute_links_use_an_allowed_host(client) -> None:
    make_event(slug="e1")
    r = client.get("/events/e1")
    assert r.status_code == 200
    assert 'href="http://testserver/static/' in r.text


@pytest.mark.parametrize("base_url,expected", [
    ("https://events.example.org", ["events.example.org"]),
    ("https://Events.Example.org:8443/sub", ["events.example.org"]),
    ("http://127.0.0.1:8000", ["127.0.0.1", "localhost", "testserver"]),
    ("http://testserver", ["testserver", "localhost", "127.0.0.1"]),
])
def test_default_allowed_hosts_follow_base_url(base_url: str, expected: list[str]) -> None:
    """A public BASE_URL allows only its own name: a forged Host: localhost gets no page."""
    assert settings._default_allowed_hosts(base_url) == expected


def test_hsts_only_when_the_site_is_https(db_url: str, monkeypatch) -> None:
    make_event(slug="e1")
    with TestClient(create_app()) as c:
        assert "strict-transport-security" not in c.get("/events").headers
    monkeypatch.setattr(settings, "HTTPS", True)
    with TestClient(create_app(), base_url="https://testserver") as c:
        for path in ("/events", "/calendar.ics", "/api/events", "/static/app.css"):
            assert c.get(path).headers["strict-transport-security"] == "max-age=31536000", \
                path
