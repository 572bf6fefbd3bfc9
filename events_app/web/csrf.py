"""CSRF protection by signed double-submit token.

Every visitor gets a random `csrftoken` cookie; forms carry HMAC(secret, cookie). A forged
cross-site POST cannot read the cookie to copy it, and a cookie planted from a sibling
subdomain is useless without the server's secret. Handlers read POST bodies only through
`read_form`, which is where the check happens.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie

from starlette.datastructures import FormData, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events_app import settings
from events_app.util.numbers import NumberError, parse_whole

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


def _cookie_nonce(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is just "no token"
                return None
            morsel = jar.get(COOKIE_NAME)
            if morsel and 20 <= len(morsel.value) <= 100:
                return morsel.value
    return None


class CSRFMiddleware:
    """Makes sure every page leaves the visitor with a CSRF cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = _cookie_nonce(scope)
        is_new = nonce is None
        if nonce is None:
            nonce = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_nonce"] = nonce

        async def send_with_cookie(message: Message) -> None:
            if is_new and message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # Only pages can hold forms. Feeds, JSON and static files stay cookie-free, so
                # a shared cache never hands one visitor's token to another.
                if not headers.get("content-type", "").startswith("text/html"):
                    await send(message)
                    return
                secure = "; Secure" if settings.HTTPS else ""
                headers.append(
                    "set-cookie",
                    f"{COOKIE_NAME}={nonce}; Path=/; HttpOnly; SameSite=Lax{secure}",
                )
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def csrf_token(request: Request) -> str:
    """The value forms put in their hidden `csrf_token` field."""
    return _sign(request.state.csrf_nonce)


def check(request: Request, submitted: str | None) -> None:
    nonce = _cookie_nonce(request.scope)
    if not nonce or not submitted or not hmac.compare_digest(_sign(nonce), submitted):
        raise HTTPException(
            status_code=403,
            detail="This form has expired or was sent from another site. "
            "Reload the page and try again.",
        )


async def _bounded(request: Request) -> Request:
    """The same request with its body read into memory, refusing one over MAX_BODY_BYTES.

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

    async def replay() -> Message:
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    return Request(request.scope, replay)


async def read_form(request: Request) -> FormData:
    """Parse a POST body and verify its CSRF token; the only way handlers read forms."""
    bounded = await _bounded(request)
    try:
        form = await bounded.form(max_fields=MAX_FORM_FIELDS, max_files=0)
    except Exception as exc:  # malformed multipart, too many fields, bad encoding
        raise HTTPException(status_code=400, detail="The form data could not be read.") from exc
    submitted = form.get(FIELD_NAME) or request.headers.get(HEADER_NAME)
    check(request, submitted if isinstance(submitted, str) else None)
    return form
