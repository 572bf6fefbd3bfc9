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

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events_app.web import raw_headers

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


RawHeaders = tuple[tuple[bytes, bytes], ...]


class SecurityHeadersMiddleware:
    """Adds `added`'s headers on the raw header list: on every response that misses the fast
    path, so Starlette's MutableHeaders (a lower() and a scan of the list per lookup) is not
    used here. `added` depends only on whether the response is HTML and the path frameable;
    its encoded answer is kept per such pair."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.always = always_headers(hsts)
        self._encoded: dict[tuple[bool, bool], RawHeaders] = {}

    def _extra(self, path: str, content_type: bytes) -> RawHeaders:
        html = content_type.startswith(b"text/html")
        key = (html, html and path in FRAMEABLE_PATHS)
        found = self._encoded.get(key)
        if found is None:
            found = self._encoded[key] = tuple(
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in added(path, content_type.decode("latin-1"),
                                         self.always).items())
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A new list, as MutableHeaders(scope=message) made: the response object's
                # own list stays as it was, and the layers outside may change this one.
                headers = list(message["headers"])
                present = {name for name, _ in headers}
                content_type = raw_headers.first(headers, b"content-type") or b""
                headers += [(name, value) for name, value in self._extra(
                    scope["path"], content_type) if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
