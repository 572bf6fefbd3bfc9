"""Browser-side hardening headers on every response.

Pages carry no inline script or style, so a strict Content-Security-Policy costs nothing and
turns any HTML-injection bug that slipped past autoescaping into inert text. Framing is
refused (clickjacking of the organizer's buttons), except on FRAMEABLE_PATHS: the read-only
embed that other sites put in an iframe, which has no form or button to hijack. When the site
is served over HTTPS (BASE_URL starts with https://), Strict-Transport-Security tells browsers
never to use plain HTTP for it again, so a network attacker cannot strip TLS on the next
visit. Handlers that set their own value for a header (e.g. the private RSVP page's
`no-referrer`) keep it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

# Pages any site may frame. Keep this to pages without forms or state-changing links.
FRAMEABLE_PATHS = frozenset({"/embed/upcoming"})
_FRAMEABLE = {
    "content-security-policy": CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", "frame-ancestors *"),
}

_ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}
_PAGES = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
}


# One year, the value browsers' preload lists expect; no includeSubDomains, since other
# sites of the organisation may share the domain and not all may be on HTTPS.
HSTS = "max-age=31536000"


def added(path: str, content_type: str, always: dict[str, str]) -> dict[str, str]:
    """The headers a response to `path` gets (before the handler's own values win): `always`
    (nosniff, referrer policy, HSTS when on), and on HTML the page policies."""
    if not content_type.startswith("text/html"):
        return always
    return {**always, **(_FRAMEABLE if path in FRAMEABLE_PATHS else _PAGES)}


def always_headers(hsts: bool) -> dict[str, str]:
    return {**_ALWAYS, **({"strict-transport-security": HSTS} if hsts else {})}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.always = always_headers(hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                extra = added(scope["path"], headers.get("content-type", ""), self.always)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
