"""Error pages: every failure a visitor can cause gets a friendly page (or JSON on /api/), in
the visitor's language (the titles and stand-in sentences; a refusal's own words are its
raiser's)."""

from __future__ import annotations

import logging
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from events_app.i18n import N_, gettext
from events_app.web.templating import render

log = logging.getLogger(__name__)

_TITLES = {
    400: N_("That request didn't make sense"),
    403: N_("Not allowed"),
    404: N_("Page not found"),
    405: N_("Method not allowed"),
    413: N_("Too much data"),
    422: N_("Please check your input"),
    429: N_("Too many requests"),
}


# What a visitor is told when the code that refused the request gave no words of its own:
# Starlette's router (an unknown path, a wrong method) and StaticFiles answer with the bare
# status phrase ("Not Found"), which helps nobody.
_MESSAGES = {
    400: N_("Something in the address or the form could not be read. Please check it and try "
            "again."),
    403: N_("You are not allowed to do that. If you think you should be, sign in and try again."),
    404: N_("We could not find that page. The link may be mistyped, or the page may have moved "
            "or been removed."),
    405: N_("This page cannot be used that way. Go back and use the page's own links and "
            "buttons."),
    413: N_("That was more data than we accept at once. Please send less."),
    429: N_("That was a lot of requests in a short time. Please wait a minute and try again."),
}


def _message(exc: HTTPException) -> str:
    """The refusal's own words, or a friendly sentence in place of a bare status phrase."""
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = ""
    if exc.detail and exc.detail != phrase:
        return str(exc.detail)
    if exc.status_code in _MESSAGES:
        return gettext(_MESSAGES[exc.status_code])
    return gettext("Sorry, that did not work. Please go back and try again.")


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
        {"status": exc.status_code,
         "title": gettext(_TITLES[exc.status_code]) if exc.status_code in _TITLES
         else gettext("Error"),
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
