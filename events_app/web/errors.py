"""Error pages: every failure a visitor can cause gets a friendly page (or JSON on /api/)."""

from __future__ import annotations

import logging

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
         "message": exc.detail},
        status_code=exc.status_code,
        headers=headers,
    )


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _wants_json(request):
        return JSONResponse({"error": "Internal server error", "status": 500}, status_code=500)
    return render(request, "errors/500.html", {"status": 500}, status_code=500)


exception_handlers = {HTTPException: http_error, 500: server_error}
