"""Public calendar pages: the event list and the event detail page.

The list's filters (parse_event_query, filter_params, the filter form's choices) are shared
with the month view and day lists (web/month.py), Atom, the API and the embed."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from itertools import groupby
from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from events_app import i18n, urls
from events_app.db import read_session
from events_app.i18n import gettext
from events_app.models import CATEGORIES, Event, category_label, utcnow
from events_app.services import calendar_month, event_text, series_public, shown_seats
from events_app.services import events as event_service
from events_app.services.feeds import FeedFilter, RenderedFeed, UnknownFilter, canonical_filter
from events_app.util.numbers import NumberError, parse_whole
from events_app.web import cached, compression, sessions, token_pages
from events_app.web.csrf import csrf_token
from events_app.web.fast_path import CachedPage
from events_app.web.templating import render

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _parse_date(raw: str | None, label: str) -> date | None:
    if not raw:
        return None
    try:
        if not _DATE_RE.fullmatch(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise HTTPException(400, gettext("The %(name)s date must look like 2026-03-14.")
                            % {"name": label}) from None


def parse_event_query(request: Request) -> event_service.EventQuery:
    """Turn the list page's query string into an EventQuery, or answer 400."""
    params = request.query_params
    when = params.get("when", "upcoming")
    if when not in ("upcoming", "past"):
        raise HTTPException(400, gettext("'when' must be 'upcoming' or 'past'."))
    online = params.get("online", "")
    if online not in ("", "1"):
        raise HTTPException(400, gettext(
            "'online' must be 1 (online and hybrid events only) or empty."))
    try:
        page = parse_whole(params.get("page", "1"), 1, event_service.MAX_PAGE)
    except NumberError as exc:
        raise HTTPException(400, gettext("Page number ('page'): %(problem)s")
                            % {"problem": exc}) from None
    try:
        return event_service.EventQuery(
            when=when,  # type: ignore[arg-type]
            categories=tuple(c for c in params.getlist("category") if c),
            cities=tuple(c for c in params.getlist("city") if c),
            q=params.get("q", "").strip(),
            online=online == "1",
            date_from=_parse_date(params.get("from"), "'from'"),
            date_to=_parse_date(params.get("to"), "'to'"),
            page=page,
        )
    except event_service.QueryError as exc:
        raise HTTPException(400, str(exc)) from None


def _feed_filter(session: Session, query: event_service.EventQuery) -> FeedFilter | None:
    """The feed of what is being viewed, in the stored spellings (one URL and name per feed);
    None when the calendar has no such category or city, so no broken feed is offered."""
    try:
        return canonical_filter(session, FeedFilter.of(query.categories, query.cities))
    except UnknownFilter:
        return None


def filter_params(query: event_service.EventQuery) -> dict[str, Any]:
    return {
        "when": query.when if query.when != "upcoming" else "",
        "category": list(query.categories),
        "city": list(query.cities),
        "q": query.q,
        "online": "1" if query.online else "",
        "from": query.date_from.isoformat() if query.date_from else "",
        "to": query.date_to.isoformat() if query.date_to else "",
    }


def place_params(query: event_service.EventQuery) -> dict[str, Any]:
    """The filters that carry over between the list, the month view and the day lists (not
    the list's time window: when, from, to, page)."""
    params = filter_params(query)
    return {k: params[k] for k in ("category", "city", "online", "q")}


def without_empty_params(request: Request) -> Response | None:
    """A redirect to the same page without its empty parameters (`?city=&q=`, as a GET form
    submits its blank fields), so each filtered page has one URL; None when there are none."""
    pairs = request.query_params.multi_items()
    if all(value for _, value in pairs):
        return None
    kept = [(key, value) for key, value in pairs if value]
    return RedirectResponse(urls.with_query(request.url.path, _grouped(kept)), 301)


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def filter_choices(session: Session, query: event_service.EventQuery) -> dict[str, Any]:
    """What the filter form offers (templates/events/_filters.html): every category and known
    city as a checkbox, checked as the query says (ignoring case, as the filter matches); a
    category or city in the query that the form would not offer stays listed, so it can be
    unticked."""
    wanted = {c.lower() for c in query.cities}
    cities = event_service.known_cities(session)
    known = {c.lower() for c in cities}
    cities += [c for c in query.cities if c.lower() not in known]
    chosen_categories = {c.lower() for c in query.categories}
    categories = [(value, label, value in chosen_categories)
                  for value, label in CATEGORIES.items()]
    categories += [(c, category_label(c), True) for c in query.categories
                   if c.lower() not in CATEGORIES]
    return {
        "category_choices": categories,
        "city_choices": [(c, c.lower() in wanted) for c in cities],
        "active_filters": (len(query.categories) + len(query.cities) + bool(query.online)
                           + bool(query.q)),
    }


def page_key(request: Request, what: str) -> str:
    """Pages carry no per-visitor data but links built from the request's scheme and Host."""
    return f"{what}:{request.base_url}:{request.url.path}"


# Handlers are coroutines that answer from the cache (services/listing_cache.py, through
# web/cached.py) on the event loop; a miss renders in the thread pool, so a slow query or a
# lock wait never stalls the event loop that serves everyone else.
async def event_list(request: Request) -> Response:
    if (redirect := without_empty_params(request)) is not None:
        return redirect
    query = parse_event_query(request)
    # The list page carries no per-visitor data (its filter form is a GET), so its bytes are
    # shared between visitors, like the API's and Atom's, until the events or seats change.

    def render_page(session: Session) -> bytes:
        page = event_service.list_events(session, query)
        if query.page > page.pages:
            raise HTTPException(404, gettext("There is no page %(page)d; the last is %(last)d.")
                                % {"page": query.page, "last": page.pages})
        days = [
            (day, list(items))
            for day, items in groupby(page.items, key=lambda e: e.local_start.date())
        ]
        filters = filter_params(query)
        past_matches = 0
        if not page.items and query.when == "upcoming":
            past = replace(query, when="past", page=1)
            past_matches = event_service.list_events(session, past, page_size=1).total
        response = render(
            request,
            "events/list.html",
            {
                "page": page,
                "days": days,
                "query": query,
                "filters": filters,
                "is_filtered": any(v for k, v in filters.items() if k != "when"),
                **filter_choices(session, query),
                "seats": shown_seats.seat_counts_for(session, page.items),
                "texts": event_text.texts_for(session, page.items, i18n.current()),
                "repeats": series_public.labels(session, page.items),
                "past_matches": past_matches,
                "now": utcnow(),
                "month_url": urls.month_path(calendar_month.today(), place_params(query)),
                "feed_filter": _feed_filter(session, query),
            },
        )
        return bytes(response.body)

    page = await cached.listing(_list_key(request, query), render_page)
    return cached_page_response(request, page)


def cached_page_response(request: Request, page: RenderedFeed) -> Response:
    """A cached page without a form, sent as it is: its gzipped copy is kept by the entry's
    ETag (web/compression.py), as the fast path's is."""
    compression.same_bytes_as(request.scope, page.etag)
    return HTMLResponse(page.body)


def _list_key(request: Request, query: event_service.EventQuery) -> str:
    return f"{page_key(request, 'page')}:{query!r}"


def list_hit(request: Request, kind: str) -> RenderedFeed | None:
    """For the fast path: the cached list, month or day page (`kind`, its cache key's
    prefix) of this request, or None (also when the route would redirect; a bad query string
    raises, and the fast path leaves it to the route)."""
    if without_empty_params(request) is not None:
        return None
    return cached.hit(f"{page_key(request, kind)}:{parse_event_query(request)!r}")


def public_event_or_404(session: Session, slug: str) -> Event:
    """The one lookup (and not-found answer) for every public page, download and form that
    names an event by slug; drafts are as absent as unknown slugs."""
    event = event_service.get_public_event(session, slug)
    if event is None:
        raise HTTPException(404, gettext("We could not find that event. It may have been removed."))
    return event


def detail_context(session: Session, event: Event) -> dict[str, Any]:
    """What the event page shows besides the event (also when the RSVP form comes back with
    messages, web/rsvp.py): its seats and, for an occurrence, its series."""
    return {"event": event, "seats": shown_seats.seat_counts(session, event),
            "series": series_public.for_event(session, event),
            "texts": {event.id: event_text.text_for(session, event, i18n.current())}}


def _render_detail(request: Request, session: Session, slug: str, csrf: object) -> Response:
    event = public_event_or_404(session, slug)
    return render(request, "events/detail.html",
                  {**detail_context(session, event), "csrf_token": csrf})


def _detail_for_organizer(request: Request, slug: str) -> Response:
    """Not cached: an organizer session's cookie makes the CSRF token a database read."""
    with read_session() as session:
        return _render_detail(request, session, slug, csrf_token)


async def event_detail(request: Request) -> Response:
    slug = request.path_params["slug"]
    if sessions.has_cookie(request):
        return await run_in_threadpool(_detail_for_organizer, request, slug)

    def render_page(session: Session) -> bytes:
        return bytes(_render_detail(request, session, slug, token_pages.stand_in).body)

    # The RSVP form's token is the visitor's own: the cached copy holds a stand-in for it
    # (web/token_pages.py). Hits are answered before the stack (web/fast_path.py, fast_pages).
    page = await cached.listing(_detail_key(request), render_page)
    return HTMLResponse(token_pages.with_token(page.body, csrf_token(request)))


def _detail_key(request: Request) -> str:
    return page_key(request, "detail")


routes = [
    Route(urls.HOME, event_list, name="home"),
    Route(urls.EVENTS, event_list, name="event_list"),
    Route(urls.EVENT, event_detail, name="event_detail"),
]
fast_pages = [
    CachedPage(urls.EVENT.removesuffix("{slug}"), lambda request: cached.hit(_detail_key(request)),
               form=True),
    *(CachedPage(path, lambda request: list_hit(request, "page"), form=False)
      for path in (urls.HOME, urls.EVENTS)),
]
