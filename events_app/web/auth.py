"""Organizer sign-in: the login and two-factor pages, sign-out and the access decorator.

Sessions are rows in the database (services.login_sessions, cookie handling in
web.sessions); the account is re-read with the session on every request, so deactivating it,
changing its password or "sign out everywhere" take effect immediately.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from events_app.i18n import gettext, ngettext
from events_app.models import Organizer, SessionStage
from events_app.services import access, login_sessions, two_factor
from events_app.services import auth as auth_service
from events_app.web import sessions
from events_app.web.client import client_address
from events_app.web.csrf import read_form
from events_app.web.organizer.urls import path_for, redirect_to
from events_app.web.templating import render

Access = Literal["public", "login", "event", "admin"]
Handler = Callable[[Request, FormData | None], Response]
Endpoint = Callable[[Request], Awaitable[Response]]
_UNSET = object()


# --- session ---------------------------------------------------------------------------------

def current_organizer(request: Request) -> Organizer | None:
    """The signed-in (both steps done), still active organizer, or None."""
    cached = getattr(request.state, "organizer", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[no-any-return]
    login = sessions.current(request)
    organizer = login.organizer if login is not None and login.signed_in else None
    request.state.organizer = organizer
    return organizer


def _must_enrol(organizer: Organizer) -> bool:
    """Signed in, but the site now requires two-factor and this account has none yet."""
    return not organizer.has_two_factor and two_factor.required_now()


def sign_in(request: Request, organizer: Organizer) -> None:
    """A fresh, fully signed-in session (new id, new CSRF secret); the old one ends."""
    sessions.begin(request, organizer, SessionStage.SIGNED_IN)
    assert organizer.id is not None
    sessions.remember_device(request, auth_service.new_device_token(organizer.id))


def sign_out(request: Request) -> None:
    sessions.finish(request)


def flash(request: Request, message: str, kind: Literal["ok", "error", "warn"] = "ok") -> None:
    """A message shown once, on the next organizer page (after a POST-redirect-GET)."""
    login = sessions.current(request)
    if login is None:
        return
    login_sessions.push_flash(login.row.id, kind, message)


def pop_flashes(request: Request) -> list[list[str]]:
    login = sessions.current(request)
    if login is None or not login.row.flashes:
        return []
    return login_sessions.pop_flashes(login.row.id)


# --- redirects -------------------------------------------------------------------------------

_SAFE_PATH = re.compile(r"^/(?![/\\])[^\s\\]*$")


def safe_next(raw: str | None, fallback: str) -> str:
    """`raw` if it is a path on this site, else `fallback` (the dashboard).

    Refuses absolute URLs, scheme-relative `//host` and `/\\host` (which browsers treat as
    another host), and anything with whitespace or control characters.
    """
    if not raw or len(raw) > 2000 or not _SAFE_PATH.match(raw):
        return fallback
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return fallback
    return raw


def _next_or_dashboard(request: Request, raw: str | None) -> str:
    return safe_next(raw, path_for(request, "organizer:dashboard"))


def login_redirect(request: Request) -> RedirectResponse:
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        # After signing in we cannot replay a POST; go back to the page that held the form.
        referer = urlsplit(request.headers.get("referer", ""))
        same_host = referer.netloc == request.url.netloc
        target = referer.path if same_host and referer.path else ""
    return redirect_to(request, "organizer:login",
                       query={"next": _next_or_dashboard(request, target)})


# --- access decorator ------------------------------------------------------------------------

def requires(kind: Access, *, enrolling: bool = False) -> Callable[[Handler], Endpoint]:
    """Turn `handler(request, form)` into a route endpoint guarded for `kind` of visitor.

    - Login is checked before anything else (anonymous visitors go to the login page), then
      two-factor enrolment when the site requires it (only `enrolling` pages, the setup
      page itself, are open until then, also to a sign-in waiting for enrolment), then
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
                organizer = await run_in_threadpool(_gate, request, enrolling)
                if isinstance(organizer, Response):
                    return organizer
                if kind == "admin" and not access.is_admin(organizer):
                    raise HTTPException(403, gettext("Only admins can open this page."))
            form = await read_form(request) if request.method == "POST" else None
            return await run_in_threadpool(handler, request, form)

        endpoint.__name__ = handler.__name__
        endpoint.__qualname__ = handler.__qualname__
        endpoint.__doc__ = handler.__doc__
        endpoint.access_kind = kind  # type: ignore[attr-defined]
        return endpoint

    return decorate


def _gate(request: Request, enrolling: bool) -> Organizer | Response:
    """The organizer this page may serve, or where to send the visitor instead."""
    organizer = current_organizer(request)
    if organizer is None:
        login = sessions.current(request)
        stage = login.row.stage if login is not None else None
        if stage == SessionStage.ENROL and login is not None:
            if enrolling:
                request.state.organizer = login.organizer  # may finish setting up, only
                return login.organizer
            return _resume(request, "organizer:two_factor")
        if stage == SessionStage.TWO_FACTOR:
            return _resume(request, "organizer:login_code")
        return login_redirect(request)
    if not enrolling and _must_enrol(organizer):
        return redirect_to(request, "organizer:two_factor",
                           query={"next": _next_or_dashboard(request, request.url.path)})
    return organizer


def _resume(request: Request, step: str) -> Response:
    """Back to the unfinished step of a sign-in, keeping where the visitor was going."""
    target = request.url.path if request.method in ("GET", "HEAD") else ""
    return redirect_to(request, step, query={"next": _next_or_dashboard(request, target)})


def organizer_of(request: Request) -> Organizer:
    """The signed-in organizer inside a handler guarded by `requires`."""
    organizer = current_organizer(request)
    assert organizer is not None
    return organizer


# --- pages -----------------------------------------------------------------------------------

def _login_page(request: Request, *, email: str = "", next_url: str, error: str = "",
                status_code: int = 200) -> Response:
    return render(request, "organizer/login.html",
                  {"email": email, "next": next_url, "error": error},
                  status_code=status_code)


@requires("public")
def login(request: Request, form: FormData | None) -> Response:
    next_url = _next_or_dashboard(request, request.query_params.get("next"))
    if form is None:
        if current_organizer(request) is not None:
            return RedirectResponse(next_url, status_code=303)
        return _login_page(request, next_url=next_url)

    email = str(form.get("email", ""))[:254]
    password = str(form.get("password", ""))[:auth_service.MAX_PASSWORD_LENGTH]
    next_url = _next_or_dashboard(request, str(form.get("next", "")) or next_url)
    if not email.strip() or not password:
        return _login_page(request, email=email, next_url=next_url, status_code=422,
                           error=gettext("Enter your e-mail and password."))
    result = auth_service.authenticate(email, password, client_address(request),
                                       sessions.device_token(request))
    if result.outcome == auth_service.LoginOutcome.THROTTLED:
        return _login_page(request, email=email, next_url=next_url, error=result.message,
                           status_code=429)
    if result.organizer is None:
        return _login_page(request, email=email, next_url=next_url, error=result.message,
                           status_code=422)
    return after_password(request, result.organizer, next_url)


def after_password(request: Request, organizer: Organizer, next_url: str) -> Response:
    """The password was right: sign in, or start the two-factor step (the session is not
    signed in until that passes too), or, if the site requires two-factor and the account
    has none, the enrolment page."""
    if organizer.has_two_factor:
        sessions.begin(request, organizer, SessionStage.TWO_FACTOR)
        return redirect_to(request, "organizer:login_code", query={"next": next_url})
    if _must_enrol(organizer):
        sessions.begin(request, organizer, SessionStage.ENROL)
        return redirect_to(request, "organizer:two_factor", query={"next": next_url})
    return _welcome(request, organizer, next_url)


def _welcome(request: Request, organizer: Organizer, next_url: str) -> Response:
    sign_in(request, organizer)
    flash(request, gettext("Welcome back, %(name)s.") % {"name": organizer.name})
    return RedirectResponse(next_url, status_code=303)


def _code_page(request: Request, next_url: str, error: str = "",
               status_code: int = 200) -> Response:
    return render(request, "organizer/login_code.html", {"next": next_url, "error": error},
                  status_code=status_code)


@requires("public")
def login_code(request: Request, form: FormData | None) -> Response:
    """The second step: a code from the authenticator app, or a recovery code."""
    raw_next = str(form.get("next", "")) if form else request.query_params.get("next")
    next_url = _next_or_dashboard(request, raw_next)
    login_row = sessions.current(request)
    if login_row is None or login_row.row.stage != SessionStage.TWO_FACTOR:
        return redirect_to(request, "organizer:login", query={"next": next_url})
    if form is None:
        return _code_page(request, next_url)
    code = str(form.get("code", ""))[:100]
    assert login_row.organizer.id is not None
    check, organizer, left = two_factor.check_login_code(login_row.organizer.id, code)
    if check.outcome == two_factor.CodeOutcome.THROTTLED:
        return _code_page(request, next_url, check.message, status_code=429)
    if check.outcome != two_factor.CodeOutcome.OK:
        return _code_page(request, next_url, check.message, status_code=422)
    response = _welcome(request, organizer, next_url)
    if left is not None:
        flash(request, ngettext("You signed in with a recovery code; %(num)d left. Make new "
                                "ones under “Account” if you are running low.",
                                "You signed in with a recovery code; %(num)d left. Make new "
                                "ones under “Account” if you are running low.", left)
              % {"num": left}, "warn")
    return response


@requires("public")
def logout(request: Request, form: FormData | None) -> Response:
    sign_out(request)
    return redirect_to(request, "organizer:login", query={"logged_out": "1"})


routes: list[Any] = [
    Route("/login", login, methods=["GET", "POST"], name="login"),
    Route("/login/code", login_code, methods=["GET", "POST"],
          name="login_code"),
    Route("/logout", logout, methods=["POST"], name="logout"),
]
