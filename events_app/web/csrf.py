"""CSRF protection: tokens bound to the organizer session, or signed double-submit for the
public.

- Signed-in organizers (and half-way sign-ins): forms carry HMAC(SECRET_KEY, the session's
  own random CSRF secret), kept server-side in the session row. A token fetched by anyone
  else, even with a `csrftoken` cookie they planted in the victim's browser, belongs to
  another session (or none) and is refused. Each sign-in makes a new session, so tokens
  from before it stop working (rotation).
- Everyone else (the public RSVP forms, the login form) gets a random `csrftoken` cookie;
  forms carry HMAC(SECRET_KEY, cookie). A cross-site POST cannot read the cookie, and a
  planted one is useless without the server's secret. No JavaScript needed either way.
The cookie is set only by a response that asked for a visitor's token (`csrf_token`, from a
form's template, or web/fast_path.py for a cached page with a form): a page without a POST
form (the list, month and day pages, whose filters are GET forms), a feed or JSON sets none,
so it stays cacheable and a new visitor's hit can be answered by the fast path. Handlers read
POST bodies only through `read_form`, which is where the check happens.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events_app import settings
from events_app.util.numbers import NumberError, parse_whole
from events_app.web import form_body, sessions

COOKIE_NAME = "csrftoken"
FIELD_NAME = "csrf_token"
HEADER_NAME = "x-csrf-token"
MAX_FORM_FIELDS = 200
# Far above any form here (the RSVP form is a few KiB at most), far below a memory problem.
MAX_BODY_BYTES = 1024 * 1024
TOO_LARGE = "That form sent far more data than it can hold. Please shorten what you typed."


def _sign(nonce: str) -> str:
    key = str(settings.SECRET_KEY).encode()
    return hmac.new(key, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def cookie_nonce(scope: Scope) -> str | None:
    """The nonce of the request's `csrftoken` cookie, if it has a usable one."""
    value = sessions.read_cookie(scope, COOKIE_NAME)
    return value if value and 20 <= len(value) <= 100 else None


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def cookie_header(nonce: str) -> str:
    """The Set-Cookie value that gives a new visitor `nonce` (here and web/fast_path.py)."""
    secure = "; Secure" if settings.HTTPS else ""
    return f"{COOKIE_NAME}={nonce}; Path=/; HttpOnly; SameSite=Lax{secure}"


def visitor_token(nonce: str) -> str:
    """The form token of a visitor without an organizer session, whose cookie holds `nonce`."""
    return _sign(nonce)


class CSRFMiddleware:
    """Gives a new visitor the cookie that the tokens in this response were signed for."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = cookie_nonce(scope)
        state = scope.setdefault("state", {})
        if nonce is not None:  # a known visitor: no cookie to add, so no wrapper on send
            state[_NONCE] = nonce
            await self.app(scope, receive, send)
            return
        # A new visitor's nonce is drawn only when the response signs a token with it (see
        # _nonce); the cookie goes with exactly those responses. Pages without a form, feeds,
        # JSON, static files and the embed (framed by other sites) stay cookie-free, so a
        # shared cache never hands one visitor's cookie to another.

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state.get(_NONCE) is not None:
                MutableHeaders(scope=message).append("set-cookie", cookie_header(state[_NONCE]))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


_NONCE = "csrf_nonce"  # scope["state"] key


def _nonce(state: dict) -> str:
    """The visitor's cookie nonce, or the one drawn for a new visitor on first use (the same
    for the whole request: the page's forms and its Set-Cookie agree)."""
    nonce = state.get(_NONCE)
    if nonce is None:
        nonce = state[_NONCE] = new_nonce()
    return nonce


def _session_secret(request: Request) -> str | None:
    """The CSRF secret of the request's organizer session, if it has a live one (reads the
    database once per request: call from the thread pool, or after `read_form` did)."""
    login = sessions.current(request)  # remembered per request: a page's every form asks
    return login.row.csrf_secret if login is not None else None


def csrf_token(request: Request) -> str:
    """The value forms put in their hidden `csrf_token` field."""
    secret = _session_secret(request)
    if secret:
        return _sign(f"session:{secret}")
    return visitor_token(_nonce(request.scope["state"]))


def check(request: Request, submitted: str | None) -> None:
    secret = _session_secret(request)
    nonce = f"session:{secret}" if secret else cookie_nonce(request.scope)
    if not nonce or not submitted or not hmac.compare_digest(_sign(nonce), submitted):
        raise HTTPException(
            status_code=403,
            detail="This form has expired or was sent from another site. "
            "Reload the page and try again.",
        )


async def _body(request: Request) -> bytes:
    """The request's body, read into memory, refusing one over MAX_BODY_BYTES.

    Starlette caps each multipart part but not a url-encoded body, so without this a single
    POST could make the server buffer (and echo back into the re-rendered form) any amount.
    """
    with contextlib.suppress(NumberError):  # no usable length: the loop below still bounds it
        if parse_whole(request.headers.get("content-length", ""), 0, 10**18) > MAX_BODY_BYTES:
            raise HTTPException(status_code=413, detail=TOO_LARGE)
    body = bytearray()
    async for chunk in request.stream():  # also bounds bodies sent without a length
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(status_code=413, detail=TOO_LARGE)
    return bytes(body)


def _replaying(request: Request, body: bytes) -> Request:
    """The same request, its body served from `body` (already read) to Starlette's parsers."""

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, replay)


async def read_form(request: Request) -> FormData:
    """Parse a POST body and verify its CSRF token; the only way handlers read forms.
    A url-encoded body (every form here) is split by web/form_body.py, the same fields as
    Starlette's parser gives for a fraction of its calls; anything else goes to Starlette."""
    body = await _body(request)
    try:
        if form_body.is_urlencoded(request.scope["headers"]):
            form = form_body.parse(body, MAX_FORM_FIELDS)
        else:
            form = await _replaying(request, body).form(max_fields=MAX_FORM_FIELDS,
                                                        max_files=0)
    except Exception as exc:  # malformed multipart, too many fields, bad encoding
        raise HTTPException(status_code=400, detail="The form data could not be read.") from exc
    submitted = form.get(FIELD_NAME) or request.headers.get(HEADER_NAME)
    if sessions.has_cookie(request):
        await run_in_threadpool(sessions.current, request)  # the DB read, off the event loop
    check(request, submitted if isinstance(submitted, str) else None)
    return form
