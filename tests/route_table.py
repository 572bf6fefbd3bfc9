"""The app's GET routes as tests walk them: the pages a test must open (the HTML validity
check, the translation crawl), found in the app's own route table so a new page is never
forgotten."""

from __future__ import annotations

from collections.abc import Iterator

from starlette.routing import BaseRoute, Mount, Route

from events_app.web.app import create_app


def get_routes(routes: list[BaseRoute] | None = None, prefix: str = "",
               path: str = "") -> Iterator[tuple[str, Route]]:
    """(name for url_path_for, route) for every GET route, inside Mounts too; a mounted
    route comes with its full path (/organizer/...), so `route.matches` takes request paths."""
    for route in routes if routes is not None else create_app().routes:
        if isinstance(route, Mount):
            if route.routes:  # a mounted app (static files) has no pages of its own
                inner = f"{prefix}{route.name}:" if route.name else prefix
                yield from get_routes(route.routes, inner, path + route.path)
        elif isinstance(route, Route) and "GET" in (route.methods or ()):
            name = f"{prefix}{route.name}"
            yield name, (route if not path else Route(path + route.path, route.endpoint,
                                                      methods=route.methods, name=name))
