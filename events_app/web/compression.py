"""Gzip for clients that accept it (Starlette's GZipMiddleware), with an ETag per encoding, and
the gzipped copy of anything with an ETag kept for the next client.

A feed's ETag is a hash of its bytes; the gzipped bytes are a different representation, and
caches must not confuse the two (RFC 9110 8.8.3), so a compressed response's ETag gets a
"-gzip" suffix. A client revalidating with that tag is answered as if it had sent the plain
one (the content is the same), and its 304 carries the tag it holds.

Compressing a 2.5 MB feed at level 9 costs about 25 ms of CPU, on every poll. The ETag names
the bytes exactly, so the compressed copy is kept by ETag (bounded by bytes, GZIP_CACHE_BYTES)
and reused until the body changes. The fast path (web/fast_path.py) answers from the same
copies through `encode`, which applies this module's rules to a response it builds itself.
"""

from __future__ import annotations

import re
import zlib

import anyio.to_thread
from starlette.middleware.gzip import (
    DEFAULT_EXCLUDED_CONTENT_TYPES,
    GZipResponder,
    IdentityResponder,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events_app.util.lru import LruCache
from events_app.web import raw_headers

SUFFIX = "-gzip"
MINIMUM_SIZE = 500
COMPRESS_LEVEL = 9  # Starlette's default: the copy is made once per version, so take the best
_TAGGED = re.compile(r'-gzip"')
# Gzipped feeds and pages by the ETag of their plain bytes (a hash of them): 4 MB holds the
# full public feed's copy (~250 KB at 2,000 events) many times over.
GZIP_CACHE_BYTES = 4 * 1024 * 1024
_ENTRY_OVERHEAD = 200
_copies: LruCache[str, bytes] = LruCache(max_entries=1024, max_weight=GZIP_CACHE_BYTES,
                                         weigh=lambda body: len(body) + _ENTRY_OVERHEAD)


def gzipped(etag: str, body: bytes) -> bytes:
    """The gzip member of `body` (whose strong ETag is `etag`), compressed once per ETag."""
    found = _copies.get(etag)
    if found is None:
        compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        found = compressor.compress(body) + compressor.flush()
        _copies.put(etag, found)
    return found


_SAME_BYTES = "gzip_same_bytes_as"  # scope["state"] key


def same_bytes_as(scope: Scope, etag: str) -> None:
    """Say that this request's response body is exactly the bytes `etag` names (a cached page
    sent as it is, without an ETag header of its own), so its gzipped copy is kept and reused
    like that of a response carrying the ETag. Without it, the list, month and day pages were
    compressed afresh on every gzip request (~450 us for a list page)."""
    scope.setdefault("state", {})[_SAME_BYTES] = etag


def cached_copy(etag: str) -> bytes | None:
    return _copies.get(etag)


def clear_copies() -> None:
    _copies.clear()


def plain_if_none_match(header: str) -> str:
    """If-None-Match with our encoding suffix taken off each tag (the content is the same)."""
    return _TAGGED.sub('"', header) if SUFFIX in header else header


def holds_gzip_tag(if_none_match: str, accepts_gzip: bool) -> bool:
    """Which representation the client holds: the one its tag names ("*": the one it would be
    sent)."""
    return SUFFIX in if_none_match or (if_none_match.strip() == "*" and accepts_gzip)


def accepts_gzip(accept_encoding: str) -> bool:
    return "gzip" in accept_encoding  # Starlette's own test, kept identical


# Starlette's excluded media types, normalised once: its responders normalise the list they
# are given in their __init__, per request (~45 calls), so they are given none and this.
_EXCLUDED = tuple(t.partition(";")[0].strip().lower() for t in DEFAULT_EXCLUDED_CONTENT_TYPES)


class _IdentityResponder(IdentityResponder):
    """Starlette's responder for clients without gzip (Vary: Accept-Encoding on large bodies),
    as GZipMiddleware would build it, without normalising the exclusions again."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, MINIMUM_SIZE, exclude_content_types=())
        self.exclude_content_types = _EXCLUDED


class _CachingGZipResponder(GZipResponder):
    """Starlette's responder, with a whole (non-streamed) body that carries an ETag compressed
    through the copy cache instead of afresh."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, MINIMUM_SIZE, compresslevel=COMPRESS_LEVEL,
                         exclude_content_types=())
        self.exclude_content_types = _EXCLUDED
        self._state: dict = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._state = scope.setdefault("state", {})
        await super().__call__(scope, receive, send)

    async def send_with_compression(self, message: Message) -> None:
        if message["type"] == "http.response.body" and not self.started:
            raw = raw_headers.first(self.initial_message.get("headers", []), b"etag")
            etag = raw.decode("latin-1") if raw is not None else self._state.get(_SAME_BYTES)
            self._etag = etag if etag and not etag.startswith("W/") else None
        await super().send_with_compression(message)

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        etag = getattr(self, "_etag", None)
        if etag is None or more_body or self._compressor is not None:
            return await super().apply_compression(body, more_body=more_body)
        found = cached_copy(etag)
        if found is not None:
            return found
        if len(body) >= self.thread_minimum_size:  # as Starlette: never block the event loop
            return await anyio.to_thread.run_sync(gzipped, etag, body)
        return gzipped(etag, body)


_SUFFIX = SUFFIX.encode("latin-1")


class CompressionMiddleware:
    """Starlette's GZipMiddleware with the ETag rules above. Reads and changes raw header
    lists: this runs on every response that misses the fast path, and Starlette's Headers
    lower()s and scans the list per lookup."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # HEAD has no body to compress; its Content-Length stays the plain GET's.
        if scope["type"] != "http" or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        request_headers = scope["headers"]
        if_none_match = (raw_headers.first(request_headers, b"if-none-match") or b"").decode(
            "latin-1")
        gzip_ok = accepts_gzip(
            (raw_headers.first(request_headers, b"accept-encoding") or b"").decode("latin-1"))
        held_gzip_tag = holds_gzip_tag(if_none_match, gzip_ok)
        if SUFFIX in if_none_match:
            scope = dict(scope)
            scope["headers"] = [
                (k, plain_if_none_match(v.decode("latin-1")).encode("latin-1"))
                if k == b"if-none-match" else (k, v)
                for k, v in scope["headers"]
            ]

        async def send_tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message["headers"]
                etag = raw_headers.first(headers, b"etag")
                if etag and etag.endswith(b'"') and (
                        raw_headers.first(headers, b"content-encoding") == b"gzip"
                        or (message["status"] == 304 and held_gzip_tag)):
                    # As MutableHeaders' __setitem__: the first ETag replaced, others dropped.
                    at = [i for i, (k, _) in enumerate(headers) if k == b"etag"]
                    headers = list(headers)
                    for i in reversed(at[1:]):
                        del headers[i]
                    headers[at[0]] = (b"etag", etag[:-1] + _SUFFIX + b'"')
                    message["headers"] = headers
            await send(message)

        responder = _CachingGZipResponder if gzip_ok else _IdentityResponder
        await responder(self.app)(scope, receive, send_tagged)


def encode(request_gzip: bool, held_gzip_tag: bool, status: int,
           headers: list[tuple[bytes, bytes]], body: bytes, etag: str
           ) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """What CompressionMiddleware does to a whole GET response with a strong `etag`, for the
    fast path (web/fast_path.py), which answers without it: only for text and JSON media
    types, which Starlette never excludes. Gzip from the copy cache when accepted and large
    enough, Vary either way once large enough, the ETag suffix, headers in the same order.
    tests/test_fast_path.py checks that both give the same bytes and headers."""
    tagged = (etag[:-1] + SUFFIX + '"').encode("latin-1")
    if status == 304:
        if held_gzip_tag:
            headers = [(k, tagged) if k == b"etag" else (k, v) for k, v in headers]
        return headers, body
    if len(body) < MINIMUM_SIZE:
        return headers, body
    headers = add_vary(headers)
    if not request_gzip:
        return headers, body
    body = gzipped(etag, body)
    length = str(len(body)).encode("latin-1")
    out = [(k, length) if k == b"content-length" else (k, tagged) if k == b"etag" else (k, v)
           for k, v in headers]
    return [*out, (b"content-encoding", b"gzip")], body


def add_vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Starlette's MutableHeaders.add_vary_header("Accept-Encoding") on raw headers: every
    Vary value joined, in order, into the first Vary's place, "Accept-Encoding" last, the
    other Vary headers dropped (none: one appended at the end)."""
    at = [i for i, (k, _) in enumerate(headers) if k == b"vary"]
    if not at:
        return [*headers, (b"vary", b"Accept-Encoding")]
    joined = b", ".join([*(headers[i][1] for i in at), b"Accept-Encoding"])
    first = at[0]
    return [(b"vary", joined) if i == first else (k, v)
            for i, (k, v) in enumerate(headers) if k != b"vary" or i == first]
