"""Helpers shared by the organizer route modules: rendering, event lookup, form input."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from events_app import settings
from events_app.i18n import gettext
from events_app.models import Event
from events_app.services import access, mail
from events_app.util.numbers import NumberError, parse_whole
from events_app.web.auth import organizer_of, pop_flashes
from events_app.web.templating import render


def event_not_found() -> HTTPException:
    """The one 404 for an event the organizer may not manage or that is gone, in their
    language (the same words whether it never existed or belongs to someone else)."""
    return HTTPException(404, gettext("We could not find that event among the events you "
                                      "manage."))


def page(request: Request, template: str, context: dict[str, Any] | None = None,
         status_code: int = 200) -> Response:
    """Render an organizer page with the signed-in account and pending flash messages."""
    me = organizer_of(request)
    is_admin = access.is_admin(me)
    # The dashboard's one name, in the nav, its heading and every breadcrumb.
    ctx = {"me": me, "is_admin": is_admin, "dashboard_name": gettext("All events") if is_admin
           else gettext("My events"), "flashes": pop_flashes(request), **(context or {})}
    response = render(request, template, ctx, status_code=status_code)
    # Attendee data must not linger in shared or browser caches.
    response.headers["Cache-Control"] = "no-store"
    return response


def event_or_404(session: Session, request: Request) -> Event:
    """The event named in the URL, if the signed-in organizer may manage it; else 404.
    (Changes go through services that lock it: services/locking.py.)"""
    event = access.get_event(session, organizer_of(request), request.path_params["slug"])
    if event is None:
        raise event_not_found()
    return event


def form_strings(form: FormData) -> dict[str, str]:
    """Text fields of a posted form (the last value wins for repeated names)."""
    return {k: v for k, v in form.items() if isinstance(v, str)}


def wants_json(request: Request) -> bool:
    """The small check-in script asks for JSON; plain form posts get a redirect."""
    return "application/json" in request.headers.get("accept", "")


def json_error(message: str, status_code: int) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status_code)


MAX_PAGE_PARAM = 999_999


def page_number(raw: str, name: str = "page") -> int:
    """A page number from a query string or a hidden field; anything else is a 400."""
    try:
        return parse_whole(raw, 1, MAX_PAGE_PARAM)
    except NumberError as exc:
        raise HTTPException(400, f"'{name}': {exc}") from None


def int_param(request: Request, name: str, default: int = 1) -> int:
    return page_number(request.query_params.get(name, str(default)), name)


MAX_DB_ID = 2**31 - 1  # PostgreSQL INTEGER; a larger id in a URL must be a 404, not a 500


def path_id(request: Request, name: str) -> int:
    """A numeric id from the URL that can exist in the database, else 404."""
    value = request.path_params[name]
    if not 0 < value <= MAX_DB_ID:
        raise HTTPException(404, gettext("There is nothing at this address."))
    return int(value)


def deliver_soon(mail_ids: list[int]) -> BackgroundTask | None:
    """Best effort: send the new messages right after the response (so the answer never
    waits for, or reveals anything through, the mail server); cron retries failures."""
    if not settings.SMTP_HOST or not mail_ids:
        return None
    return BackgroundTask(mail.deliver, list(mail_ids))
