"""Links in pages: `url_for` answers are remembered, but stay those of the request's own
host, scheme and route parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Mount, NoMatchFound
from starlette.testclient import TestClient

from events_app.web.app import create_app
from events_app.web.templating import url_path_for
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


def _named_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for route in routes:
        if isinstance(route, Mount) and route.name and route.routes:
            yield from _named_routes(route.routes, f"{prefix}{route.name}:")
        elif getattr(route, "name", None):
            yield f"{prefix}{route.name}", route


SAMPLES = {"string": "town-hall", "integer": 12, "path": "css/app.css"}


def test_links_are_the_ones_starlette_finds_for_every_route() -> None:
    """The route found once per name (templating.url_path_for) gives Starlette's URL for each
    named route of the app, and Starlette's error for a name or parameters no route has."""
    app = create_app()
    for name, route in _named_routes(app.routes):
        params = {k: SAMPLES[type(c).__name__.removesuffix("Convertor").lower()]
                  for k, c in route.param_convertors.items()}
        if isinstance(route, Mount):
            params = {"path": SAMPLES["path"]}
        for _ in range(2):  # found, then remembered
            assert url_path_for(app.router, name, params) == \
                app.router.url_path_for(name, **params), name
    for name, params in (("organizer:nothing", {}), ("event_detail", {}),
                         ("organizer:attendees", {"slug": "a", "extra": 1})):
        with pytest.raises(NoMatchFound):
            url_path_for(app.router, name, params)
        with pytest.raises(NoMatchFound):
            url_path_for(app.router, name, params)
