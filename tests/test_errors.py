"""Failures a visitor can cause get friendly pages; server errors get a 500 page, not a trace."""

from __future__ import annotations

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
