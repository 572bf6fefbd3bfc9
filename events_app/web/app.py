"""Builds the ASGI app from each web module's route table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from events_app import settings, urls
from events_app.util.memory import keep_large_blocks_mapped, limit_malloc_arenas
from events_app.web import api, atom, embed, feeds, month, public, rsvp, warm_up
from events_app.web.compression import CompressionMiddleware
from events_app.web.csrf import CSRFMiddleware
from events_app.web.errors import exception_handlers
from events_app.web.fast_path import FastPath, send_answer
from events_app.web.hosts import TrustedHosts
from events_app.web.language import LanguageMiddleware
from events_app.web.organizer import routes as organizer
from events_app.web.public_cors import PublicCorsMiddleware
from events_app.web.security_headers import SecurityHeadersMiddleware
from events_app.web.sessions import SessionCookieMiddleware


class EventsApp(Starlette):
    """Starlette, with cache hits and 304s of polled resources answered before the middleware
    stack (web/fast_path.py: same bytes and headers, a fraction of the CPU)."""

    fast_path: FastPath

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.fast_path.answer(scope)
        if found is not None:
            await send_answer(send, *found)
            return
        await super().__call__(scope, receive, send)


@asynccontextmanager
async def _warmed(app: Starlette) -> AsyncIterator[None]:
    await warm_up.warm_up(app)
    yield


def create_app(warm: bool = False) -> EventsApp:
    """`warm`: send the first requests at start-up (web/warm_up.py), as the served app does;
    tests build theirs cold, so each test's own requests are the first."""
    routes = [
        *feeds.routes,  # before public: /events/{slug}.ics must not match /events/{slug}
        *atom.routes,
        *embed.routes,
        *month.routes,
        *public.routes,
        *api.routes,
        *rsvp.routes,
        organizer.mount,  # /organizer/..., named organizer:<name>
        Mount(urls.STATIC, app=StaticFiles(directory=str(settings.STATIC_DIR)), name="static"),
    ]
    app = EventsApp(
        debug=settings.DEBUG,
        routes=routes,
        middleware=[
            # Outermost: compresses the final bytes (pages, feeds, JSON) for clients that
            # accept gzip, with an ETag of its own per encoding.
            Middleware(CompressionMiddleware),
            Middleware(SecurityHeadersMiddleware, hsts=settings.HTTPS),
            # A request for a Host we do not serve gets 400 before anything can build a link,
            # a redirect or a cached page from that Host.
            Middleware(TrustedHosts, allowed_hosts=settings.ALLOWED_HOSTS),
            # The request's language (?lang=, cookie, Accept-Language, default) for every
            # text below, the error pages included (web/language.py).
            Middleware(LanguageMiddleware),
            Middleware(PublicCorsMiddleware),
            Middleware(CSRFMiddleware),
            # Organizer sessions live in the database; this only writes their cookie.
            Middleware(SessionCookieMiddleware),
        ],
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        lifespan=_warmed if warm else None,
    )
    app.fast_path = FastPath(
        [*feeds.fast_resources, *api.fast_resources, *atom.fast_resources,
         *embed.fast_resources],
        allowed_hosts=settings.ALLOWED_HOSTS, hsts=settings.HTTPS,
        pages=[*public.fast_pages, *month.fast_pages])
    return app


# The served process's threads share two malloc arenas, and large blocks go back to the
# system when freed (util/memory.py: RSS per worker).
limit_malloc_arenas()
keep_large_blocks_mapped()
app = create_app(warm=True)
