"""The public read-only JSON API: the same events and filters as the public pages.

Never exposes attendee data; errors are JSON bodies with a 4xx status (see web/errors.py).
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from events_app import settings
from events_app.db import read_session
from events_app.models import Event
from events_app.services import events as event_service
from events_app.services import rsvp as rsvp_service
from events_app.web.public import parse_event_query


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
        "online_url": event.online_url or None,
        "host_name": event.host_name,
        "capacity": event.capacity,
        "url": f"{settings.BASE_URL}/events/{event.slug}",
    }
    if seats is not None:
        data["description"] = event.description
        data["spots_left"] = seats.remaining
        data["cancel_message"] = event.cancel_message or None
    return data


def api_events(request: Request) -> JSONResponse:
    query = parse_event_query(request)
    with read_session() as session:
        page = event_service.list_events(session, query)
    if query.page > page.pages:
        raise HTTPException(404, f"There is no page {query.page}; the last is {page.pages}.")
    return JSONResponse({
        "events": [event_json(e) for e in page.items],
        "page": page.page,
        "pages": page.pages,
        "total": page.total,
    })


def api_event(request: Request) -> JSONResponse:
    with read_session() as session:
        event = event_service.get_public_event(session, request.path_params["slug"])
        if event is None:
            raise HTTPException(404, "No such event.")
        seats = rsvp_service.seat_counts(session, event)
    return JSONResponse(event_json(event, seats))


routes = [
    Route("/api/events", api_events, name="api_events"),
    Route("/api/events/{slug:str}", api_event, name="api_event"),
]
