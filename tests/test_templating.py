"""Links in pages: `url_for` answers are remembered, but stay those of the request's own
host, scheme and route parameters."""

from __future__ import annotations

from starlette.testclient import TestClient

from events_app.web.app import create_app
from tests.factories import make_event


def test_remembered_links_follow_the_host_scheme_and_slug_of_each_request(db_url) -> None:
    make_event(slug="first")
    make_event(slug="second")
    app = create_app()
    pages = {}
    for base in ("http://testserver", "http://localhost", "https://localhost"):
        with TestClient(app, base_url=base) as c:
            for slug in ("first", "second", "first"):
                r = c.get(f"/events/{slug}")
                assert r.status_code == 200
                pages[(base, slug)] = r.text
    for (base, slug), html in pages.items():
        assert f'href="{base}/static/app.css"' in html
        assert f'{base}/events/{slug}' in html
        other = "second" if slug == "first" else "first"
        assert f'{base}/events/{other}"' not in html
        for other_base in {"http://testserver", "http://localhost", "https://localhost"} - {base}:
            assert f'href="{other_base}/static/app.css"' not in html
