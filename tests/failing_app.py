"""The real app plus one route that raises, so a real server can show its 500 page.

Only the HTML validity test serves this (tests/test_html_valid.py); every other route is the
real app's, unchanged.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from events_app.web.app import create_app

BOOM_PATH = "/__test__/boom"


def _boom(request: Request) -> None:
    raise RuntimeError("a failure the visitor must not see the details of")


app = create_app()
app.router.routes.insert(0, Route(BOOM_PATH, _boom, name="test_boom"))
