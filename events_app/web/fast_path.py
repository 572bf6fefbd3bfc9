"""Cache hits and 304s of machine-polled resources, answered before the middleware stack.

Calendar apps and API clients poll the same few URLs, and nearly every poll is a hit or a
304. Through the full stack each one passes six middlewares and the router (~75 us of CPU
for a 304, where bare Starlette needs ~20), none of which changes anything for such a
response. So `FastPath.answer` takes a GET or HEAD of a registered path (`CachedResource`)
and, when the rendered entry is in the cache for the current data version (no database, no
thread), writes the response itself: the same bytes and headers the full stack would send,
built by the same rules (conditional.answer for validators, compression.encode for gzip,
security_headers.added for the hardening headers). tests/test_fast_path.py proves them equal.

A poller sends the same URL with the same validators every few minutes, so what follows from
an entry and those request headers is worked out once: the entry is still looked up afresh
(the current data version, then the cache), but the answer's status and header block are kept
by every input that decides them (path, method, the entry's ETag and Last-Modified and whether
that has settled, language, If-None-Match, If-Modified-Since, Accept-Encoding), and a repeat,
a 304 or a warm 200, is one dictionary lookup. Bodies are not kept there (the entry's own
bytes, or its gzip copy, are taken at the time), so a kept answer weighs a few hundred bytes.

Anything unusual falls through to the full stack, which then decides as it always has: a
miss or a stale data version, a Host not listed verbatim in ALLOWED_HOSTS (TrustedHosts
refuses or checks wildcards), an Origin header (CORS adds its headers; without one it only
adds `Vary: Origin`, as here), a gzip copy not made yet
(compressed in the thread pool there), or any error while reading the request (the full
stack answers 400 with its error page). These resources ask for no CSRF token, so the stack
would set no cookie on them either (web/csrf.py).

Cached HTML pages (`CachedPage`) are answered here too. Pages without a POST form (the list,
month and day pages) are the cached bytes as they are, gzipped once per body. A page with a
form (the event page and its RSVP form) is the cached copy with the visitor's CSRF token put
in (web/token_pages.py), and for a visitor without a `csrftoken` cookie a new one, minted
and signed by the same functions as in web/csrf.py, so the form posts exactly as if the full
stack had sent it; an organizer session cookie (whose token is a database read) goes to the
full stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from starlette._utils import parse_host_header  # TrustedHostMiddleware's own parser
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import Scope, Send

from events_app import i18n
from events_app.models import utcnow
from events_app.services.feeds import RenderedFeed, settled_last_modified
from events_app.util.memo import ClientMemo
from events_app.web import (
    compression,
    csrf,
    language,
    public_cors,
    security_headers,
    sessions,
    token_pages,
)
from events_app.web.conditional import RawHeaders, answer, unconditional

Lookup = Callable[[Request], RenderedFeed | None]


@dataclass(frozen=True)
class CachedResource:
    """A path whose answers are cached whole: `lookup` finds the current entry without the
    database (None when it is not there, or the data version is not known right now).
    `validated`: sent with ETag, Last-Modified and `cache_control`, and 304s
    (conditional.answer); else the body as it is, never a 304 (conditional.unconditional:
    the deprecated /api/events, whose answers never carried validators)."""

    path: str
    lookup: Lookup
    media_type: str
    cache_control: str
    extra_headers: dict[str, str] = field(default_factory=dict)
    validated: bool = True


@dataclass(frozen=True)
class CachedPage:
    """HTML pages cached whole: `path` itself, or with a trailing "/" the pages one path
    segment below it (`/events/` for `/events/{slug}`); `lookup` as for CachedResource (only
    a path the page's own route rendered can be in its cache). `form`: the cached copy holds
    token_pages.STAND_IN for the visitor's CSRF token (and a new visitor gets a cookie)."""

    path: str
    lookup: Lookup
    form: bool


_HTML = b"text/html; charset=utf-8"
# Kept answers of CachedResources (FastPath._respond): how many, and the most bytes of
# client-sent validators and Accept-Encoding one may be kept under.
_ANSWERS_MAX = 512
_ANSWER_KEY_BYTES = 512
_EMPTY, _PLAIN, _GZIP = 0, 1, 2  # which body a kept answer sends: none, the entry's, its gzip


class FastPath:
    def __init__(self, resources: Iterable[CachedResource], allowed_hosts: Sequence[str],
                 hsts: bool, pages: Iterable[CachedPage] = ()) -> None:
        self.resources = {r.path: r for r in resources}
        pages = tuple(pages)
        self.pages = {p.path: p for p in pages if not p.path.endswith("/")}
        self.page_groups = tuple(p for p in pages if p.path.endswith("/"))
        self.hosts = frozenset(h.lower() for h in allowed_hosts if "*" not in h)
        self.always = security_headers.always_headers(hsts)
        self._host_verdicts: dict[bytes, bool] = {}
        self._answers: ClientMemo[tuple, tuple[int, tuple[tuple[bytes, bytes], ...], int]] = (
            ClientMemo(_ANSWERS_MAX))

    def answer(self, scope: Scope) -> tuple[int, RawHeaders, bytes] | None:
        """The full response to this request if it can be given here, else None."""
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return None
        resource: CachedResource | CachedPage | None = self.resources.get(scope["path"])
        if resource is None:
            resource = self._page(scope["path"])
            if resource is None:
                return None
        found: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name == b"origin":
                return None
            found.setdefault(name, value)
        if not self._host_allowed(found.get(b"host")):
            return None
        reader_language, remember = language.language_of(scope)
        if remember is not None:
            return None  # a new choice: the stack sets the cookie that remembers it
        # In the request's language, as LanguageMiddleware would set it: the lookup's cache
        # key and the headers follow it. The answer is complete bytes, so it is reset after.
        token = i18n.enter(reader_language)
        try:
            try:
                feed = resource.lookup(Request(scope))
            except Exception:  # noqa: BLE001 - a bad query string: the full stack answers it
                return None
            if feed is None:
                return None
            if isinstance(resource, CachedPage):
                return self._respond_page(scope, resource, feed, found)
            return self._respond(scope, resource, feed, found)
        finally:
            i18n.leave(token)

    def _page(self, path: str) -> CachedPage | None:
        page = self.pages.get(path)
        if page is not None:
            return page
        for group in self.page_groups:
            if path.startswith(group.path) and "/" not in path[len(group.path):]:
                return group
        return None

    def _host_allowed(self, raw: bytes | None) -> bool:
        """Host named verbatim in ALLOWED_HOSTS (parsed as Starlette does); verdicts kept for
        the few Host values a site sees, so each is parsed once."""
        if raw is None:
            return False
        verdict = self._host_verdicts.get(raw)
        if verdict is None:
            parsed = parse_host_header(raw.decode("latin-1"))
            verdict = parsed is not None and parsed.host.lower() in self.hosts
            if len(self._host_verdicts) < 64:
                self._host_verdicts[raw] = verdict
        return verdict

    def _respond(self, scope: Scope, resource: CachedResource, feed: RenderedFeed,
                 found: dict[bytes, bytes]) -> tuple[int, RawHeaders, bytes] | None:
        """`_build`'s answer, kept for the next request that gives it the same inputs."""
        now = utcnow()
        # Validators decide nothing on a resource that sends none: not kept apart by them.
        if_none_match = found.get(b"if-none-match") if resource.validated else None
        if_modified_since = found.get(b"if-modified-since") if resource.validated else None
        accept_encoding = found.get(b"accept-encoding")
        key = (scope["path"], scope["method"], feed.etag, feed.last_modified,
               settled_last_modified(feed, now) is not None, i18n.current(),
               if_none_match, if_modified_since, accept_encoding)
        kept = self._answers.get(key)
        if kept is None:
            built = self._build(scope, resource, feed, found, now)
            if built is None:
                return None
            status, headers, body = built
            kind = _GZIP if body and body is not feed.body else _PLAIN if body else _EMPTY
            kept = (status, tuple(headers), kind)
            if sum(len(v) for v in key[-3:] if v is not None) <= _ANSWER_KEY_BYTES:
                self._answers.keep(key, kept)
        status, headers, kind = kept
        if kind == _EMPTY:
            return status, list(headers), b""
        if kind == _PLAIN:
            return status, list(headers), feed.body
        copy = compression.cached_copy(feed.etag)
        if copy is None:
            return None  # evicted since: compressed again in the full stack's thread pool
        return status, list(headers), copy

    def _build(self, scope: Scope, resource: CachedResource, feed: RenderedFeed,
               found: dict[bytes, bytes], now: datetime) -> tuple[int, RawHeaders, bytes] | None:
        method = scope["method"]
        if_none_match = _text(found.get(b"if-none-match"))
        gzip_ok = compression.accepts_gzip(_text(found.get(b"accept-encoding")) or "")
        held_gzip_tag = compression.holds_gzip_tag(if_none_match or "", gzip_ok)
        if resource.validated:
            status, headers, body = answer(
                method, compression.plain_if_none_match(if_none_match)
                if if_none_match is not None else None,
                _text(found.get(b"if-modified-since")), feed, resource.media_type,
                resource.cache_control, resource.extra_headers, now)
        else:
            status, headers, body = unconditional(feed, resource.media_type,
                                                  resource.extra_headers)
        # In the stack's order: CORS innermost, then the security headers, compression last.
        if public_cors.is_public(scope["path"]):
            headers.append((b"vary", b"Origin"))
        language.mark_language(MutableHeaders(raw=headers), i18n.current())
        present = {k for k, _ in headers}
        content_type = dict(headers).get(b"content-type", b"").decode("latin-1")  # none on 304
        for name, value in security_headers.added(
                scope["path"], content_type, self.always).items():
            if name.encode("latin-1") not in present:
                headers.append((name.encode("latin-1"), value.encode("latin-1")))
        if method == "GET":
            if (gzip_ok and status == 200 and len(body) >= compression.MINIMUM_SIZE
                    and compression.cached_copy(feed.etag) is None):
                return None  # compressed once in the full stack's thread pool, then kept
            headers, body = compression.encode(gzip_ok, held_gzip_tag, status, headers, body,
                                               feed.etag)
        return status, headers, body

    def _respond_page(self, scope: Scope, resource: CachedPage, page: RenderedFeed,
                      found: dict[bytes, bytes]) -> tuple[int, RawHeaders, bytes] | None:
        """The cached page (with the visitor's token if it has a form), headers as the full
        stack sends them: the handler's, CSRF's cookie for a new visitor, the language's,
        the security headers, then compression's."""
        gzip_ok = (scope["method"] == "GET" and len(page.body) >= compression.MINIMUM_SIZE
                   and compression.accepts_gzip(_text(found.get(b"accept-encoding")) or ""))
        set_cookie = None
        if not resource.form:
            body = sent = page.body
            if gzip_ok:
                copy = compression.cached_copy(page.etag)
                if copy is None:
                    return None  # compressed once in the full stack's thread pool, then kept
                sent = copy
        else:
            if sessions.read_cookie(scope, sessions.COOKIE_NAME) is not None:
                return None  # an organizer: the token is the session's (a database read)
            nonce = csrf.cookie_nonce(scope)
            if nonce is None:
                nonce = csrf.new_nonce()
                set_cookie = csrf.cookie_header(nonce).encode("latin-1")
            token = csrf.visitor_token(nonce)
            if gzip_ok:
                body, sent = token_pages.gzipped_with_token(page, token)
            else:
                body = sent = token_pages.with_token(page.body, token)
        headers: RawHeaders = [(b"content-length", str(len(body)).encode("latin-1")),
                               (b"content-type", _HTML)]
        if set_cookie is not None:
            headers.append((b"set-cookie", set_cookie))
        language.mark_language(MutableHeaders(raw=headers), i18n.current())
        for name, value in security_headers.added(
                scope["path"], _HTML.decode("latin-1"), self.always).items():
            headers.append((name.encode("latin-1"), value.encode("latin-1")))
        if scope["method"] == "HEAD":  # the stack's compression leaves HEAD alone
            return 200, headers, sent
        if len(body) >= compression.MINIMUM_SIZE:
            headers = compression.add_vary(headers)
        if gzip_ok:
            length = str(len(sent)).encode("latin-1")
            headers = [(k, length) if k == b"content-length" else (k, v) for k, v in headers]
            headers.append((b"content-encoding", b"gzip"))
        return 200, headers, sent


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None


async def send_answer(send: Send, status: int, headers: RawHeaders, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
