"""Organizer URLs by route name, for redirects.

The route tables are the only place organizer paths are spelled out; handlers and templates
name the route (`url_for` in templates), so a path can change in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse


def path_for(request: Request, name: str, /, *, query: Mapping[str, str] | None = None,
             fragment: str = "", **path_params: object) -> str:
    """The site-relative URL of a named route, with an optional query (empty values dropped)
    and fragment.

    Relative rather than absolute, so a redirect's Location never depends on the Host header
    the client sent.
    """
    path = request.url_for(name, **path_params).path
    qs = urlencode({k: v for k, v in (query or {}).items() if v})
    return path + (f"?{qs}" if qs else "") + (f"#{fragment}" if fragment else "")


def redirect_to(request: Request, name: str, /, *, query: Mapping[str, str] | None = None,
                fragment: str = "", **path_params: object) -> RedirectResponse:
    """303 See Other to a named route: after a POST, the browser GETs the page."""
    return RedirectResponse(path_for(request, name, query=query, fragment=fragment,
                                     **path_params), status_code=303)
