"""Error pages: every failure a visitor can cause gets a friendly page (or JSON on /api/)."""

from __future__ import annotations

import logging
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from events_app.web.templating import render

log = logging.getLogger(__name__)

_TITLES = {
    400: "That request didn't make sense",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    413: "Too much data",
    422: "Please check your input",
    429: "Too many requests",
}


# What a visitor is told when the code that refused the request gave no words of its own:
# Starlette's router (an unknown path, a wrong method) and StaticFiles answer with the bare
# status phrase ("Not Found"), which helps nobody.
_MESSAGES = {
    400: "Something in the address or the form could not be read. Please check it and try "
         "again.",
    403: "You are not allowed to do that. If you think you should be, sign in and try again.",
    404: "We could not find that page. The link may be mistyped, or the page may have moved "
         "or been removed.",
    405: "This page cannot be used that way. Go back and use the page's own links and "
         "buttons.",
    413: "That was more data than we accept at once. Please send less.",
    429: "That was a lot of requests in a short time. Please wait a minute and try again.",
}


def _message(exc: HTTPException) -> str:
    """The refusal's own words, or a friendly sentence in place of a bare status phrase."""
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = ""
    if exc.detail and exc.detail != phrase:
        return str(exc.detail)
    return _MESSAGES.get(exc.status_code, "Sorry, that did not work. Please go back and try "
                                          "again.")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if _wants_json(request):
        return JSONResponse({"error": exc.detail, "status": exc.status_code},
                            status_code=exc.status_code, headers=headers)
    template = "errors/404.html" if exc.status_code == 404 else "errors/error.html"
    return render(
        request,
        template,
        {"status": exc.status_code, "title": _TITLES.get(exc.status_code, "Error"),
         "message": _message(exc)},
        status_code=exc.status_code,
        headers=headers,
    )


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _wants_json(request):
        return JSONResponse({"error": "Internal server error", "status": 500}, status_code=500)
    return render(request, "errors/500.html", {"status": 500}, status_code=500)


exception_handlers = {HTTPException: http_error, 500: server_error}
