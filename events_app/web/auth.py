"""Organizer sign-in: the session cookie, the login/logout pages and the access decorator.

The session cookie (Starlette's SessionMiddleware, signed with SECRET_KEY) holds only the
organizer id and a tag derived from their password hash; the account is re-read on every
request, so deactivating an account or changing its password takes effect immediately.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from events_app.db import read_session, write_session
from events_app.models import Organizer
from events_app.services import access
from events_app.services import auth as auth_service
from events_app.web.csrf import read_form
from events_app.web.resources import render

SESSION_KEY = "organizer"
FLASH_KEY = "flash"
LOGIN_PATH = "/organizer/login"
DASHBOARD_PATH = "/organizer/"

Access = Literal["public", "login", "event", "admin"]
Handler = Callable[[Request, FormData | None], Response]
Endpoint = Callable[[Request], Awaitable[Response]]
_UNSET = object()


# --- session ---------------------------------------------------------------------------------

def current_organizer(request: Request) -> Organizer | None:
    """The signed-in, still active organizer, or None (cached for the request)."""
    cached = getattr(request.state, "organizer", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[no-any-return]
    data = request.session.get(SESSION_KEY) if "session" in request.scope else None
    organizer = None
    if isinstance(data, dict):
        with read_session() as session:
            organizer = auth_service.load_session_organizer(session, data.get("id"),
                                                            data.get("tag"))
    request.state.organizer = organizer
    return organizer


def sign_in(request: Request, organizer: Organizer) -> None:
    # A fresh session on login: nothing from before (flashes, a previous user) carries over.
    request.session.clear()
    request.session[SESSION_KEY] = {"id": organizer.id,
                                    "tag": auth_service.session_tag(organizer)}
    request.state.organizer = organizer


def sign_out(request: Request) -> None:
    request.session.clear()
    request.state.organizer = None


def flash(request: Request, message: str, kind: Literal["ok", "error", "warn"] = "ok") -> None:
    """A message shown once, on the next organizer page (after a POST-redirect-GET)."""
    messages = list(request.session.get(FLASH_KEY, []))[-4:]
    messages.append([kind, message])
    request.session[FLASH_KEY] = messages


def pop_flashes(request: Request) -> list[list[str]]:
    return list(request.session.pop(FLASH_KEY, []))


# --- redirects -------------------------------------------------------------------------------

_SAFE_PATH = re.compile(r"^/(?![/\\])[^\s\\]*$")


def safe_next(raw: str | None) -> str:
    """`raw` if it is a path on this site, else the dashboard.

    Refuses absolute URLs, scheme-relative `//host` and `/\\host` (which browsers treat as
    another host), and anything with whitespace or control characters.
    """
    if not raw or len(raw) > 2000 or not _SAFE_PATH.match(raw):
        return DASHBOARD_PATH
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return DASHBOARD_PATH
    return raw


def login_redirect(request: Request) -> RedirectResponse:
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        # After signing in we cannot replay a POST; go back to the page that held the form.
        referer = urlsplit(request.headers.get("referer", ""))
        same_host = referer.netloc == request.url.netloc
        target = referer.path if same_host and referer.path else DASHBOARD_PATH
    return RedirectResponse(f"{LOGIN_PATH}?{urlencode({'next': safe_next(target)})}",
                            status_code=303)


# --- access decorator ------------------------------------------------------------------------

def requires(kind: Access) -> Callable[[Handler], Endpoint]:
    """Turn `handler(request, form)` into a route endpoint guarded for `kind` of visitor.

    - Login is checked before anything else (anonymous visitors go to the login page), then
      admin rights; "event" handlers look their event up through `services.access`, which
      answers 404 for events the organizer may not manage.
    - POST bodies are read (and their CSRF token verified) here, so no handler can forget.
    - The handler runs in the thread pool: database locks and argon2 block, and must not
      stall the event loop that serves everyone else.
    Each endpoint carries `access_kind`, which the access tests read to cover every route.
    """

    def decorate(handler: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            if kind != "public":
                organizer = await run_in_threadpool(current_organizer, request)
                if organizer is None:
                    return login_redirect(request)
                if kind == "admin" and not access.is_admin(organizer):
                    raise HTTPException(403, "Only admins can open this page.")
            form = await read_form(request) if request.method == "POST" else None
            return await run_in_threadpool(handler, request, form)

        endpoint.__name__ = handler.__name__
        endpoint.__qualname__ = handler.__qualname__
        endpoint.__doc__ = handler.__doc__
        endpoint.access_kind = kind  # type: ignore[attr-defined]
        return endpoint

    return decorate


def organizer_of(request: Request) -> Organizer:
    """The signed-in organizer inside a handler guarded by `requires`."""
    organizer = current_organizer(request)
    assert organizer is not None
    return organizer


# --- pages -----------------------------------------------------------------------------------

def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_page(request: Request, *, email: str = "", next_url: str, error: str = "",
                status_code: int = 200) -> Response:
    return render(request, "organizer/login.html",
                  {"email": email, "next": next_url, "error": error},
                  status_code=status_code)


@requires("public")
def login(request: Request, form: FormData | None) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if form is None:
        if current_organizer(request) is not None:
            return RedirectResponse(next_url, status_code=303)
        return _login_page(request, next_url=next_url)

    email = str(form.get("email", ""))[:254]
    password = str(form.get("password", ""))[:auth_service.MAX_PASSWORD_LENGTH]
    next_url = safe_next(str(form.get("next", "")) or next_url)
    if not email.strip() or not password:
        return _login_page(request, email=email, next_url=next_url, status_code=422,
                           error="Enter your e-mail and password.")
    with write_session() as session:
        result = auth_service.authenticate(session, email, password, _client_ip(request))
    if result.outcome == auth_service.LoginOutcome.THROTTLED:
        return _login_page(request, email=email, next_url=next_url, error=result.message,
                           status_code=429)
    if result.organizer is None:
        return _login_page(request, email=email, next_url=next_url, error=result.message,
                           status_code=422)
    sign_in(request, result.organizer)
    flash(request, f"Welcome back, {result.organizer.name}.")
    return RedirectResponse(next_url, status_code=303)


@requires("public")
def logout(request: Request, form: FormData | None) -> Response:
    sign_out(request)
    return RedirectResponse(f"{LOGIN_PATH}?logged_out=1", status_code=303)


routes: list[Any] = [
    Route(LOGIN_PATH, login, methods=["GET", "POST"], name="organizer_login"),
    Route("/organizer/logout", logout, methods=["POST"], name="organizer_logout"),
]
