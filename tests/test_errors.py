"""Failures a visitor can cause get friendly pages; server errors get a 500 page, not a trace."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from starlette.exceptions import HTTPException
from starlette.routing import Route
from starlette.testclient import TestClient

from events_app.web.app import create_app


def boom(request):
    raise RuntimeError("database exploded with secret detail")


def test_unhandled_error_renders_500_page_without_details() -> None:
    app = create_app()
    app.router.routes.insert(0, Route("/boom", boom))
    app.router.routes.insert(0, Route("/api/boom", boom))
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
        assert r.status_code == 500
        assert "Something went wrong on our side" in r.text
        assert "secret detail" not in r.text
        api = c.get("/api/boom")
        assert api.status_code == 500
        assert api.json() == {"error": "Internal server error", "status": 500}


def test_unknown_path_and_wrong_method(client) -> None:
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "Page not found" in r.text
    r = client.post("/events")
    assert r.status_code == 405
    assert "Method not allowed" in r.text


def test_pages_have_landmarks_and_one_h1(client) -> None:
    body = client.get("/events").text
    for marker in ('<html lang="en">', '<main id="main"', '<header class="site-header">',
                   '<footer class="site-footer">',
                   '<nav aria-label="Main">', 'class="skip-link"', 'name="viewport"'):
        assert marker in body
    assert body.count("<h1") == 1
    for field in ("f-q", "f-online", "f-category-1", "f-from", "f-to"):
        assert f'<label for="{field}">' in body and f'id="{field}"' in body
    assert "<legend>Category</legend>" in body  # the checkboxes' group has its name


@pytest.mark.parametrize("path", ["/no/such/page", "/organizer/no-such-page",
                                  "/static/no-such.css", "/events/a/b/c", "/favicon.ico.bak"])
def test_router_404s_are_the_friendly_page_not_the_bare_phrase(client, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in r.text
    assert "We could not find that page." in r.text
    assert "Not Found" not in r.text
    assert 'href="http://testserver/events"' in r.text  # a way on


def test_a_refusal_with_its_own_words_keeps_them(client) -> None:
    r = client.get("/events/no-such-event")
    assert r.status_code == 404 and "We could not find that event." in r.text


def test_405_is_friendly_and_keeps_the_allow_header(client) -> None:
    r = client.delete("/events")
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert "<h1>Method not allowed</h1>" in r.text and "Method Not Allowed" not in r.text


def _refuse(status: int):
    def handler(request):
        raise HTTPException(status)
    return handler


@pytest.mark.parametrize("status", [400, 403, 409, 413, 429])
def test_other_http_errors_get_friendly_pages_and_json_on_the_api(status: int) -> None:
    app = create_app()
    app.router.routes.insert(0, Route("/refuse", _refuse(status)))
    app.router.routes.insert(0, Route("/api/refuse", _refuse(status)))
    with TestClient(app) as c:
        r = c.get("/refuse")
        assert r.status_code == status and r.headers["content-type"].startswith("text/html")
        assert HTTPStatus(status).phrase not in r.text
        assert '<main id="main"' in r.text and "Back to upcoming events" in r.text
        api = c.get("/api/refuse")
        assert api.status_code == status
        assert api.json() == {"error": HTTPStatus(status).phrase, "status": status}


def test_api_paths_keep_json_404s(client) -> None:
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.json()["status"] == 404
