"""Only answer for the host names in ALLOWED_HOSTS (Starlette's TrustedHostMiddleware).

Pages build absolute links (`url_for`) from the request's Host header; a forged Host would
otherwise put an attacker's domain into links, redirects or a shared cache's copy of a page.
Starlette makes the decision; this wrapper only swaps its plain-text refusal for the site's
own error page (JSON on /api/), rendered as if the request had come for BASE_URL's host, so
its links never carry the forged one.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events_app import settings
from events_app.web.errors import http_error

MESSAGE = "This site does not answer to that host name."
_PASSED = "events_app.trusted_host"  # set in the request's scope once Starlette let it in
# The request's own `send`, kept in its scope until Starlette lets the request in: the app
# then writes to it directly, not through `guarded` (one wrapper less on every message).
_SEND = "events_app.trusted_host_send"


class TrustedHosts:
    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        self.check = TrustedHostMiddleware(self._passed, allowed_hosts=allowed_hosts,
                                           www_redirect=False)

    async def _passed(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_PASSED] = True
        await self.app(scope, receive, scope.pop(_SEND, send))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.check(scope, receive, send)
            return

        async def guarded(message: Message) -> None:
            if scope.get(_PASSED):
                await send(message)
            elif message["type"] == "http.response.start":  # Starlette's refusal: replace it
                response = await http_error(_as_canonical(scope), HTTPException(400, MESSAGE))
                await response(scope, receive, send)

        scope[_SEND] = send
        await self.check(scope, receive, guarded)


def _as_canonical(scope: Scope) -> Request:
    """The request as if sent to BASE_URL, for rendering the refusal page."""
    base = urlsplit(settings.BASE_URL)
    headers = [(k, v) for k, v in scope.get("headers", []) if k != b"host"]
    headers.append((b"host", base.netloc.encode("latin-1")))
    app = scope.get("app")
    return Request({**scope, "headers": headers, "scheme": base.scheme,
                    "router": getattr(app, "router", None)})
