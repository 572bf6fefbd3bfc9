"""Gzip for clients that accept it (Starlette's GZipMiddleware), with an ETag per encoding.

A feed's ETag is a hash of its bytes; the gzipped bytes are a different representation, and
caches must not confuse the two (RFC 9110 8.8.3), so a compressed response's ETag gets a
"-gzip" suffix. A client revalidating with that tag is answered as if it had sent the plain
one (the content is the same), and its 304 carries the tag it holds.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SUFFIX = "-gzip"
_TAGGED = re.compile(r'-gzip"')


class CompressionMiddleware:
    def __init__(self, app: ASGIApp, minimum_size: int = 500) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # HEAD has no body to compress; its Content-Length stays the plain GET's.
        if scope["type"] != "http" or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        if_none_match = request_headers.get("if-none-match", "")
        accepts_gzip = "gzip" in request_headers.get("accept-encoding", "")
        # Which representation the client holds: the one its tag names ("*": the one it
        # would be sent).
        held_gzip_tag = SUFFIX in if_none_match or (if_none_match.strip() == "*"
                                                    and accepts_gzip)
        if SUFFIX in if_none_match:
            scope = dict(scope)
            scope["headers"] = [
                (k, _TAGGED.sub('"', v.decode("latin-1")).encode("latin-1"))
                if k == b"if-none-match" else (k, v)
                for k, v in scope["headers"]
            ]

        async def send_tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                etag = headers.get("etag")
                compressed = headers.get("content-encoding") == "gzip"
                not_modified = message["status"] == 304 and held_gzip_tag
                if etag and etag.endswith('"') and (compressed or not_modified):
                    headers["etag"] = etag[:-1] + SUFFIX + '"'
            await send(message)

        await self.gzip(scope, receive, send_tagged)
