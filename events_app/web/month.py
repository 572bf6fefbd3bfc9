"""The month view (/events/month/2027-03) and the day lists (/events/day/2027-03-14).

Both take the list's filters (categories, cities, online, search) from the query string and
keep them in every link they build; which events fall on which day is
services/calendar_month's business. Like the list, the pages carry nothing per visitor, so
their bytes are cached per data version (services/listing_cache).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events_app import i18n, settings, urls
from events_app.i18n import gettext
from events_app.models import utcnow
from events_app.services import calendar_month as cal
from events_app.services import event_text, series_public, shown_seats
from events_app.web import cached
from events_app.web.fast_path import CachedPage
from events_app.web.public import (
    cached_page_response,
    filter_choices,
    filter_params,
    list_hit,
    page_key,
    parse_event_query,
    place_params,
    without_empty_params,
)
from events_app.web.templating import render

# How many events a day's cell lists before "N more" (the day list has them all).
EVENTS_PER_CELL = 3


def _parse(parse, raw: str) -> date:
    try:
        return parse(raw)
    except cal.OutOfRange as exc:
        raise HTTPException(404, gettext("There is no such page in the calendar. %(why)s") % {
            "why": exc}) from None


async def _cached(request: Request, kind: str, render_page) -> Response:
    """Served from the cache on the event loop; a miss renders in the thread pool."""
    query = parse_event_query(request)
    page = await cached.listing(f"{page_key(request, kind)}:{query!r}",
                                lambda session: render_page(session, replace(query, page=1)))
    return cached_page_response(request, page)


async def month_view(request: Request) -> Response:
    if (redirect := without_empty_params(request)) is not None:
        return redirect
    month = _parse(cal.parse_month, request.path_params["month"])

    def render_page(session, query) -> bytes:
        shown_seats.none_shown()  # titles only: RSVPs never change the grid
        last = cal.month_last_day(month)
        days = cal.events_by_day(session, query, month, last, grid=True)
        params = place_params(query)
        prev_month, next_month = cal.previous_month(month), cal.next_month(month)
        today = cal.today()
        response = render(request, "events/month.html", {
            "month": month,
            "weeks": cal.weeks(month),
            "weekday_names": cal.weekday_names(),
            "days": days,
            # The grid shows the titles (it loads no other column: GRID_FIELDS) of the first
            # few events of each day.
            "texts": event_text.texts_for(
                session, [e.event for entries in days.values() for e in entries[:EVENTS_PER_CELL]],
                i18n.current(), fields=("title",)),
            "event_count": len({e.event.id for entries in days.values() for e in entries}),
            "per_cell": EVENTS_PER_CELL,
            "today": today,
            "params": params,
            "prev_month": prev_month,
            "next_month": next_month,
            "zone_name": settings.DEFAULT_TIMEZONE,
            "prev_url": urls.month_path(prev_month, params) if cal.in_range(prev_month) else "",
            "next_url": urls.month_path(next_month, params) if cal.in_range(next_month) else "",
            "this_month_url": urls.month_path(today, params) if (today.year, today.month)
            != (month.year, month.month) else "",
            "list_url": urls.with_query(urls.EVENTS, params),
            "query": query,
            "filters": filter_params(query),
            **filter_choices(session, query),
        })
        return bytes(response.body)

    return await _cached(request, "month", render_page)


async def day_list(request: Request) -> Response:
    if (redirect := without_empty_params(request)) is not None:
        return redirect
    day = _parse(cal.parse_day, request.path_params["day"])

    def render_page(session, query) -> bytes:
        entries = cal.events_by_day(session, query, day, day).get(day, [])
        events = [e.event for e in entries]
        params = place_params(query)
        prev_day, next_day = day - timedelta(days=1), day + timedelta(days=1)
        response = render(request, "events/day.html", {
            "day": day,
            "entries": entries,
            "seats": shown_seats.seat_counts_for(session, events),
            "texts": event_text.texts_for(session, events, i18n.current()),
            "repeats": series_public.labels(session, events),  # "Repeats ..." as on the list
            "now": utcnow(),
            "today": cal.today(),
            "prev_url": urls.day_path(prev_day, params) if cal.in_range(prev_day) else "",
            "next_url": urls.day_path(next_day, params) if cal.in_range(next_day) else "",
            "month_url": urls.month_path(day, params),
            "params": params,
            "zone_name": settings.DEFAULT_TIMEZONE,
            "query": query,
            "filters": filter_params(query),
            **filter_choices(session, query),
        })
        return bytes(response.body)

    return await _cached(request, "day", render_page)


routes = [
    Route(urls.EVENTS_MONTH, month_view, name="event_month"),
    Route(urls.EVENTS_DAY, day_list, name="event_day"),
]
# Hits answered before the middleware stack (web/fast_path.py); the keys are _cached's.
fast_pages = [
    CachedPage(urls.EVENTS_MONTH.removesuffix("{month}"),
               lambda request: list_hit(request, "month"), form=False),
    CachedPage(urls.EVENTS_DAY.removesuffix("{day}"),
               lambda request: list_hit(request, "day"), form=False),
]
