"""Which language each request is answered in (i18n.negotiate), and remembering a choice.

A visitor picks a language with the switcher on every page, a link carrying `?lang=es`: the
same URL serves every language, so links shared between people keep working, and the choice
is kept in a cookie for the pages that follow. Without a choice the browser's
Accept-Language decides, then settings.DEFAULT_LANGUAGE.

Responses that depend on the language say so (`Vary: Accept-Language, Cookie` on HTML), so a
browser or proxy never serves a page cached in one language to a reader of another. Cached
page bytes are kept per language by web/cached.py.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events_app import i18n, settings
from events_app.web import raw_headers
from events_app.web.sessions import read_cookie

PARAM = "lang"  # ?lang=es
COOKIE = "lang"
COOKIE_MAX_AGE = 400 * 24 * 3600  # browsers cap cookie lifetimes at 400 days
FEED_SUFFIXES = (".ics", ".atom")  # polled feeds: their URL alone names the language


def _choice(scope: Scope) -> str | None:
    """The language named by `?lang=` when it is one we have."""
    raw = scope.get("query_string", b"")
    if b"lang=" not in raw:  # most requests: no parsing
        return None
    for key, value in parse_qsl(raw.decode("latin-1")):
        if key == PARAM:
            return i18n.match(value)
    return None


def _accept_language(scope: Scope) -> str | None:
    """What Starlette's Headers(scope=scope).get("accept-language") answers (the first one),
    read from the raw list (~0.5 us of every page, API answer and fast-path hit)."""
    value = raw_headers.first(scope["headers"], b"accept-language")
    return None if value is None else value.decode("latin-1")


def language_of(scope: Scope) -> tuple[str, str | None]:
    """The request's language, and the explicit choice to remember (None: nothing new).

    A polled feed (`.ics`: the calendar feeds, an event's download; `.atom`) is in the
    language its URL names, else the site default, and remembers nothing: calendar apps and
    feed readers poll without cookies or a useful Accept-Language, so the links to them carry
    `?lang=` (urls.feed_language), and the URL alone decides the bytes (a shared cache needs
    no Vary; no Set-Cookie on a public response; web/fast_path.py can answer a Spanish poll)."""
    choice = _choice(scope)
    if scope.get("path", "").endswith(FEED_SUFFIXES):
        return choice or settings.DEFAULT_LANGUAGE, None
    remembered = read_cookie(scope, COOKIE)
    language = i18n.negotiate(choice, remembered, _accept_language(scope))
    return language, choice if choice is not None and choice != remembered else None


def mark_language(headers: MutableHeaders, language: str) -> None:
    """What a response in `language` says of itself: HTML varies with the language choice.
    One rule for the middleware below and web/fast_path.py."""
    _mark(headers.raw, language)  # MutableHeaders.raw is its own list: changed in place


_MARKED = (b"text/html", b"application/json")  # HTML, and the API's JSON (its error
# messages, a series' rule in words)
_VARY = b"Accept-Language, Cookie"


def _mark(raw: list[tuple[bytes, bytes]], language: str) -> None:
    """`mark_language` on a raw header list: what Starlette's add_vary_header("Accept-Language"),
    add_vary_header("Cookie") and setdefault("content-language") do, in one pass each, for
    every response that misses the fast path (MutableHeaders lower()s and scans per call)."""
    content_type = next((v for k, v in raw if k == b"content-type"), b"")
    if not content_type.startswith(_MARKED):
        return
    at = [i for i, (k, _) in enumerate(raw) if k == b"vary"]
    if at:  # every Vary joined into the first, the others dropped, as add_vary_header does
        joined = b", ".join([*(raw[i][1] for i in at), _VARY])
        for i in reversed(at[1:]):
            del raw[i]
        raw[at[0]] = (b"vary", joined)
    else:
        raw.append((b"vary", _VARY))
    if not any(k == b"content-language" for k, _ in raw):
        raw.append((b"content-language", language.encode("latin-1")))


class LanguageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        language, remember = language_of(scope)
        # Not reset afterwards: Starlette renders the 500 page outside this middleware, in
        # the same task, and must speak the same language; each request is its own task.
        i18n.activate(language)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message["headers"])  # a new list, as MutableHeaders made
                _mark(headers, language)
                if remember is not None:
                    headers.append((b"set-cookie", (
                        f"{COOKIE}={remember}; Path=/; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax"
                        + ("; Secure" if settings.HTTPS else "")).encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_language)
