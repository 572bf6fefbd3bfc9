"""CORS for the public read-only surfaces only: the API and the embed.

Any site may read them from a browser (they hold public data only and no credentials are
honoured: `Access-Control-Allow-Origin: *` never comes with cookies). Every other path gets
no CORS headers at all, so organizer pages and forms stay same-origin.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

PUBLIC_PREFIXES = ("/api/", "/embed")


def is_public(path: str) -> bool:
    """Whether `path` gets CORS headers: with no Origin sent, only `Vary: Origin` (Starlette's
    CORSMiddleware; the fast path, web/fast_path.py, adds the same)."""
    return path.startswith(PUBLIC_PREFIXES)


class PublicCorsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD"],
            allow_headers=["If-None-Match", "If-Modified-Since"],
            expose_headers=["ETag", "Last-Modified", "Link", "Deprecation"],
            max_age=86400,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_public(scope["path"]):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
