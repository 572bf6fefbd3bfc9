"""The public read-only JSON API: the same events and filters as the public pages.

v1 (/api/v1/...) answers through the pydantic models in web/api_models.py, whose JSON Schema
is the OpenAPI document served at /api/v1/openapi.json and rendered at /api; its filters are
the list page's (parse_event_query -> EventQuery -> list_events: one filter, one query, then
the format). It answers in the request's language (web/language.py: `?lang=`, else
Accept-Language), the event's own texts too (services/event_text.py: each in that language
where the organizers gave it, else the site default's, and `languages` says which). Answers
are cached per language and validated like the feeds (ETag/304). Never exposes
attendee data; errors are JSON bodies with a 4xx status (see web/errors.py). The original
unversioned /api/events stays for existing clients, marked deprecated in its headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from events_app import i18n, settings, urls
from events_app.db import read_session
from events_app.i18n import gettext
from events_app.models import CATEGORIES, Event, category_label
from events_app.services import event_text, series_public, shown_seats
from events_app.services import events as event_service
from events_app.services import rsvp as rsvp_service
from events_app.services.event_text import LocalText
from events_app.web import api_models as m
from events_app.web import cached, compression, openapi
from events_app.web.conditional import validated_response
from events_app.web.fast_path import CachedResource
from events_app.web.public import filter_params, parse_event_query, public_event_or_404
from events_app.web.query_keys import QueryKeys
from events_app.web.templating import query_string, render

JSON = "application/json"
CACHE_CONTROL = "public, max-age=60"
V1 = urls.API_V1
CATEGORIES_KEY, CITIES_KEY = "api:categories", "api:cities"  # their cache entries


def _url(path: str, params: dict[str, Any] | None = None) -> str:
    return urls.absolute(path, query_string(params or {}))


def _event_fields(event: Event, text: LocalText, seats: rsvp_service.SeatCounts,
                  series: series_public.SeriesLabel | None) -> dict[str, Any]:
    page = urls.event_url(event.slug)
    return dict(
        slug=event.slug,
        uid=event.uid,
        title=text.title,
        summary=text.summary,
        languages=m.SummaryLanguages(title=text.title_lang, summary=text.summary_lang),
        category=event.category,
        category_label=gettext(category_label(event.category)),  # the reader's language
        status=event.status,
        starts_at=event.local_start,
        ends_at=event.local_end,
        timezone=event.timezone,
        all_day=event.all_day,
        attendance_mode=event_service.attendance_mode(event),
        venue_name=event.venue_name,
        address=m.Address(street=event.street_address, city=event.city, region=event.region,
                          postal_code=event.postal_code, formatted=event.address_line),
        latitude=event.latitude,
        longitude=event.longitude,
        online_url=event.public_online_url or None,
        host_name=event.host_name,
        capacity=event.capacity,
        spots_left=seats.remaining,
        waitlist=event.waitlist_enabled,
        rsvp_open=seats.accepting,
        updated_at=event.updated_at,
        # The .ics in the reader's language (a calendar file's language is its URL's).
        urls=m.EventUrls(page=page, ics=urls.with_feed_language(_url(f"/events/{event.slug}.ics")),
                         rsvp=f"{page}#rsvp",
                         api=_url(urls.path(f"{V1}/events/{{slug}}", slug=event.slug))),
        series=m.SeriesInfo(uid=series.uid, repeats=series.words) if series else None,
    )


def event_summary(event: Event, text: LocalText, seats: rsvp_service.SeatCounts,
                  series: series_public.SeriesLabel | None = None) -> m.EventSummary:
    return m.EventSummary(**_event_fields(event, text, seats, series))


def event_detail(event: Event, text: LocalText, seats: rsvp_service.SeatCounts,
                 series: series_public.SeriesLabel | None = None) -> m.EventDetail:
    fields = _event_fields(event, text, seats, series)
    fields["languages"] = m.DetailLanguages(title=text.title_lang, summary=text.summary_lang,
                                            description=text.description_lang)
    return m.EventDetail(**fields, description=text.description,
                         cancel_message=event_text.cancel_message(event.cancel_message) or None)


async def _json_response(request: Request, key: str,
                         build: Callable[[Session], BaseModel]) -> Response:
    """Answered from the cache without a session while the data is unchanged (web/cached.py);
    the JSON names absolute URLs from settings, so one entry serves every Host."""
    feed = await cached.listing(key, lambda session: build(session).model_dump_json().encode())
    return validated_response(request, feed, JSON, CACHE_CONTROL)


async def list_events(request: Request) -> Response:
    query = parse_event_query(request)

    def build(session: Session) -> m.EventList:
        page = event_service.list_events(session, query)
        if query.page > page.pages:
            raise HTTPException(404, gettext("There is no page %(page)d; the last is %(last)d.")
                                % {"page": query.page, "last": page.pages})
        seats = shown_seats.seat_counts_for(session, page.items)
        series = series_public.labels(session, page.items)
        texts = event_text.texts_for(session, page.items, i18n.current())
        params = filter_params(query)
        return m.EventList(
            events=[event_summary(e, texts[e.id], seats[e.id], series.get(e.series_id or 0))
                    for e in page.items if e.id is not None],
            page=page.page, pages=page.pages, total=page.total,
            next=_url(f"{V1}/events", {**params, "page": page.page + 1}) if page.has_next
            else None,
            prev=_url(f"{V1}/events", {**params, "page": page.page - 1}) if page.has_prev
            else None,
        )

    return await _json_response(request, _list_key(query), build)


def _list_key(query: event_service.EventQuery) -> str:
    return f"api:events:{query!r}"


async def get_event(request: Request) -> Response:
    slug = request.path_params["slug"]

    def build(session: Session) -> m.EventDetail:
        event = public_event_or_404(session, slug)
        series = series_public.labels(session, [event]).get(event.series_id or 0)
        return event_detail(event, event_text.text_for(session, event, i18n.current()),
                            shown_seats.seat_counts(session, event), series)

    return await _json_response(request, f"api:event:{slug}", build)


async def list_categories(request: Request) -> Response:
    def build(session: Session) -> m.CategoryList:
        shown_seats.none_shown()  # counts of events, not of seats
        counts = dict(event_service.upcoming_counts(session, "category"))
        slugs = list(CATEGORIES) + sorted(set(counts) - set(CATEGORIES))
        return m.CategoryList(categories=[
            m.Category(slug=s, label=gettext(category_label(s)), upcoming=counts.get(s, 0),
                       events=_url(f"{V1}/events", {"category": s}))
            for s in slugs
        ])

    return await _json_response(request, CATEGORIES_KEY, build)


async def list_cities(request: Request) -> Response:
    def build(session: Session) -> m.CityList:
        shown_seats.none_shown()  # counts of events, not of seats
        return m.CityList(cities=[
            m.City(name=name, upcoming=n, events=_url(f"{V1}/events", {"city": name}))
            for name, n in event_service.upcoming_counts(session, "city")
        ])

    return await _json_response(request, CITIES_KEY, build)


@dataclass(frozen=True)
class Endpoint:
    """One v1 operation: its route and what the OpenAPI document says about it."""

    path: str
    handler: Callable[[Request], Awaitable[Response]]
    name: str
    summary: str
    description: str
    response: type[BaseModel]
    query: type[BaseModel] | None = None
    path_params: tuple[tuple[str, str], ...] = ()
    errors: tuple[int, ...] = ()


ENDPOINTS = (
    Endpoint(f"{V1}/events", list_events, "api_v1_events", "List events",
             "Published and cancelled events, soonest first (latest first with when=past), "
             f"{settings.PAGE_SIZE} a page, with the list page's filters. Follow `next` for "
             "more.", m.EventList, query=m.EventFilters, errors=(400, 404)),
    Endpoint(f"{V1}/events/{{slug}}", get_event, "api_v1_event", "One event",
             "One published or cancelled event, with its description.", m.EventDetail,
             path_params=(("slug", "The event's slug, as in its page URL."),),
             errors=(404,)),
    Endpoint(f"{V1}/categories", list_categories, "api_v1_categories", "Categories",
             "Every category with its number of upcoming events.", m.CategoryList),
    Endpoint(f"{V1}/cities", list_cities, "api_v1_cities", "Cities",
             "Every city with visible events and its number of upcoming events.", m.CityList),
)


def openapi_json(request: Request) -> Response:
    return validated_response(request, openapi.rendered(ENDPOINTS), JSON, CACHE_CONTROL)


def reference(request: Request) -> Response:
    with read_session() as session:
        page = event_service.list_events(session, event_service.EventQuery(), page_size=1)
    example = page.items[0].slug if page.items else None
    return render(request, "api/reference.html", {
        "doc": openapi.document(ENDPOINTS), "type_label": openapi.type_label,
        "example_slug": example,
    })


# --- The original unversioned API, kept for existing clients ---------------------------------

DEPRECATION = {
    "Deprecation": "true",
    "Link": f'<{urls.absolute(f"{V1}/events")}>; rel="successor-version"',
}
# The deprecated list's texts are the event rows' own, which are in the site's default
# language whoever asks (its contract: v1 is the API that translates), so its Content-Language
# names that language, not the reader's, which LanguageMiddleware and the fast path would
# otherwise write (they leave a Content-Language the answer has). Its errors (a page past the
# last) are in the reader's language and say so.
LEGACY_LIST_HEADERS = {**DEPRECATION, "Content-Language": settings.DEFAULT_LANGUAGE}


def event_json(event: Event, seats: rsvp_service.SeatCounts | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": event.slug,
        "uid": event.uid,
        "title": event.title,
        "summary": event.summary,
        "category": event.category,
        "status": event.status,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "timezone": event.timezone,
        "all_day": event.all_day,
        "venue_name": event.venue_name,
        "address": event.address_line,
        "city": event.city,
        "latitude": event.latitude,
        "longitude": event.longitude,
        "online_url": event.public_online_url or None,
        "host_name": event.host_name,
        "capacity": event.capacity,
        "url": urls.event_url(event.slug),
    }
    if seats is not None:
        data["description"] = event.description
        data["spots_left"] = seats.remaining
        data["cancel_message"] = event_text.cancel_message(event.cancel_message) or None
    return data


async def legacy_events(request: Request) -> Response:
    """Cached like v1 (no session on a hit; a repeat is answered by the fast path), without
    validators, as it always was."""
    query = parse_event_query(request)

    def build(session: Session) -> bytes:
        shown_seats.none_shown()  # event_json without seats: RSVPs never change it
        page = event_service.list_events(session, query)
        if query.page > page.pages:
            raise HTTPException(404, gettext("There is no page %(page)d; the last is %(last)d.")
                                % {"page": query.page, "last": page.pages})
        return bytes(JSONResponse({
            "events": [event_json(e) for e in page.items],
            "page": page.page,
            "pages": page.pages,
            "total": page.total,
        }).body)

    found = await cached.listing(_legacy_list_key(query), build)
    # Sent without an ETag, but its gzip copy is kept by the entry's like any other (one
    # compression per body, which the fast path then answers from).
    compression.same_bytes_as(request.scope, found.etag)
    return Response(found.body, headers=LEGACY_LIST_HEADERS, media_type=JSON)


def _legacy_list_key(query: event_service.EventQuery) -> str:
    return f"api:legacy:events:{query!r}"


async def legacy_event(request: Request) -> Response:
    slug = request.path_params["slug"]

    def build(session: Session) -> bytes:
        event = event_service.get_public_event(session, slug)
        if event is None:
            raise HTTPException(404, gettext("No such event."))
        return bytes(JSONResponse(event_json(event, shown_seats.seat_counts(session, event))).body)

    found = await cached.listing(f"api:legacy:event:{slug}", build)
    return Response(found.body, headers=DEPRECATION, media_type=JSON)


routes = [
    Route("/api", reference, name="api_reference"),
    Route(f"{V1}/openapi.json", openapi_json, name="api_v1_openapi"),
    *(Route(e.path.replace("{slug}", "{slug:str}"), e.handler, name=e.name)
      for e in ENDPOINTS),
    Route("/api/events", legacy_events, name="api_events"),
    Route("/api/events/{slug:str}", legacy_event, name="api_event"),
]
# The list's cache key by raw query string and language (web/query_keys.py): an API client's
# repeated poll, a hit or a 304, parses nothing.
_list_key_of = QueryKeys(lambda request: _list_key(parse_event_query(request)))
_legacy_list_key_of = QueryKeys(lambda request: _legacy_list_key(parse_event_query(request)))
fast_resources = [
    CachedResource(f"{V1}/events", lambda r: cached.hit(_list_key_of(r)), JSON, CACHE_CONTROL),
    CachedResource("/api/events", lambda r: cached.hit(_legacy_list_key_of(r)), JSON, "",
                   LEGACY_LIST_HEADERS, validated=False),
    CachedResource(f"{V1}/categories", lambda _r: cached.hit(CATEGORIES_KEY), JSON,
                   CACHE_CONTROL),
    CachedResource(f"{V1}/cities", lambda _r: cached.hit(CITIES_KEY), JSON, CACHE_CONTROL),
]
