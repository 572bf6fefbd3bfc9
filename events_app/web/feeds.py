"""iCal routes: the public feed (optionally filtered), one event's .ics, the personal feed.

The public and personal feeds answer a poller from the cache on the event loop (no session, no
thread hop: web/cached.py; the public one even before the middleware stack, web/fast_path.py);
a render, and the per-event feed, run in the thread pool, so they never stall the event loop.
Every response carries ETag and Last-Modified, and a poller that already has the current
version gets a body-less 304.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events_app import i18n, settings, urls
from events_app.db import read_session
from events_app.i18n import gettext
from events_app.services import event_text, feeds, ical, personal_feeds
from events_app.services.data_version import Version
from events_app.services.events import QueryError
from events_app.services.feeds import RenderedFeed
from events_app.util.numbers import NumberError, parse_whole
from events_app.web import cached
from events_app.web.conditional import validated_response
from events_app.web.fast_path import CachedResource
from events_app.web.public import public_event_or_404
from events_app.web.query_keys import QueryKeys

CONTENT_TYPE = "text/calendar; charset=utf-8"
PUBLIC_CACHE = "public, max-age=300"
# Personal feeds name the events someone signed up for: never in a shared cache.
PRIVATE_CACHE = "private, max-age=300"


def ics_response(request: Request, feed: RenderedFeed, cache_control: str,
                 extra_headers: dict[str, str] | None = None) -> Response:
    return validated_response(request, feed, CONTENT_TYPE, cache_control, extra_headers)


def _parse_months(raw: str | None) -> int | None:
    """?months=N narrows the horizon to N months ahead (never widens it)."""
    if raw is None:
        return None
    try:
        return parse_whole(raw, 1, settings.FEED_MONTHS_AHEAD)
    except NumberError as exc:
        raise HTTPException(400, f"'months': {exc}") from None


def parse_feed_filter(request: Request) -> feeds.FeedFilter:
    params = request.query_params
    months = _parse_months(params.get("months"))
    try:
        return feeds.FeedFilter.of(params.getlist("category"), params.getlist("city"), months)
    except QueryError as exc:
        raise HTTPException(400, str(exc)) from None


def _render_public_feed(flt: feeds.FeedFilter, version: Version) -> RenderedFeed:
    with read_session() as session:  # opened after the version was read: never older data
        try:
            return feeds.public_feed(session, flt, version=version)
        except feeds.UnknownFilter as exc:
            raise HTTPException(404, str(exc)) from None


# The feed's cache key by raw query string and language (web/query_keys.py): a poll parses
# nothing.
_public_key_of = QueryKeys(lambda request: feeds.public_key(parse_feed_filter(request)))


def _cached_public_feed(request: Request) -> RenderedFeed | None:
    """The fast path's lookup (web/fast_path.py): no database, no waiting."""
    version = cached.version_now()
    if version is None:
        return None
    return feeds.cached_public_entry(_public_key_of(request), version)


async def calendar_feed(request: Request) -> Response:
    flt = parse_feed_filter(request)
    version = await cached.version()
    feed = feeds.cached_public_feed(flt, version)
    if feed is None:
        feed = await run_in_threadpool(_render_public_feed, flt, version)
    return ics_response(request, feed, PUBLIC_CACHE)


def event_feed(request: Request) -> Response:
    with read_session() as session:
        event = public_event_or_404(session, request.path_params["slug"])
        text = event_text.text_for(session, event, i18n.current())
        feed = feeds.single_event(ical.event_ics(event, text=text), event.updated_at)
    disposition = f'attachment; filename="{ical.ics_filename(event)}"'
    return ics_response(request, feed, PUBLIC_CACHE, {"Content-Disposition": disposition})


def _render_personal_feed(token: str, version: Version) -> RenderedFeed:
    with read_session() as session:  # opened after the version was read: never older data
        email = personal_feeds.email_for_token(session, token)
        if email is None:
            raise HTTPException(404, gettext(personal_feeds.NOT_FOUND))
        return feeds.personal_feed(session, token, email, version=version)


async def personal_feed(request: Request) -> Response:
    """A hit (the token's feed rendered for this version) needs no session and no thread."""
    token = request.path_params["feed_token"]
    version = await cached.version()
    feed = feeds.cached_personal_feed(token, version)
    if feed is None:
        feed = await run_in_threadpool(_render_personal_feed, token, version)
    # The token is the only key: keep it out of search engines and Referer headers.
    private = {"X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}
    return ics_response(request, feed, PRIVATE_CACHE, private)


# Registered before the public pages, so /events/x.ics never reaches /events/{slug}.
routes = [
    Route(urls.CALENDAR, calendar_feed, name="calendar_feed"),
    Route(urls.EVENT_ICS, event_feed, name="event_ics"),
    # The feed token, never a manage token: see services/personal_feeds.py.
    Route(urls.MY_FEED, personal_feed, name="personal_feed"),
]
fast_resources = [CachedResource(urls.CALENDAR, _cached_public_feed, CONTENT_TYPE, PUBLIC_CACHE)]
