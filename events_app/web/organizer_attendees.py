"""Attendee pages for organizers: the list, door check-in and the CSV export."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from events_app.db import read_session, write_session
from events_app.models import Event
from events_app.services import attendees, audit
from events_app.web.auth import flash, organizer_of, requires
from events_app.web.csrf import read_form
from events_app.web.organizer_base import (
    event_or_404,
    form_strings,
    json_error,
    page,
    redirect,
    wants_json,
)


def attendees_url(slug: str, params: dict[str, str] | None = None) -> str:
    query = urlencode({k: v for k, v in (params or {}).items() if v})
    return f"/organizer/events/{slug}/attendees" + (f"?{query}" if query else "")


def _parse_query(params: dict[str, str]) -> attendees.AttendeeQuery:
    try:
        return attendees.AttendeeQuery(
            q=params.get("q", "").strip(),
            status=params.get("status", ""),
            sort=params.get("sort", "name") or "name",
            descending=params.get("dir") == "desc",
        )
    except ValueError:
        raise HTTPException(400, "That search or sort option is not available.") from None


_LIST_PARAMS = ("q", "status", "sort", "dir")


def _list_params(source: dict[str, str]) -> dict[str, str]:
    return {k: source[k] for k in _LIST_PARAMS if source.get(k)}


@requires("event")
async def attendee_list(request: Request) -> Response:
    params = _list_params(dict(request.query_params))
    query = _parse_query(params)
    with read_session() as session:
        event = event_or_404(session, request)
        rows = attendees.list_attendees(session, event, query)
        counts = attendees.counts(session, event)
    return page(request, "organizer/attendees.html", {
        "event": event, "rows": rows, "counts": counts, "query": query, "params": params,
        "sort_keys": attendees.SORT_KEYS, "status_filters": attendees.STATUS_FILTERS,
    })


def _local_time(event: Event, dt: Any) -> str:
    return "" if dt is None else dt.astimezone(event.tz).strftime("%H:%M")


def counts_json(counts: attendees.AttendeeCounts) -> dict[str, Any]:
    return {
        "confirmed_parties": counts.confirmed_parties,
        "confirmed_seats": counts.confirmed_seats,
        "waitlisted_parties": counts.waitlisted_parties,
        "waitlisted_seats": counts.waitlisted_seats,
        "checked_in_parties": counts.checked_in_parties,
        "checked_in_seats": counts.checked_in_seats,
    }


@requires("event")
async def check_in(request: Request) -> Response:
    """One tap at the door: mark a party arrived (here=1) or undo (here=0)."""
    form = form_strings(await read_form(request))
    here = form.get("here") == "1"
    rsvp_id = request.path_params["rsvp_id"]
    try:
        with write_session() as session:
            event = event_or_404(session, request)
            party = attendees.set_checked_in(session, organizer_of(request), event, rsvp_id,
                                             here)
            if party is None:
                raise HTTPException(404, "That RSVP is not on this event's list.")
            counts = attendees.counts(session, event)
    except attendees.CheckInError as exc:
        if wants_json(request):
            return json_error(str(exc), 409)
        flash(request, str(exc), "error")
    else:
        if wants_json(request):
            return JSONResponse({
                "ok": True, "id": party.id, "here": party.checked_in_at is not None,
                "checked_in_at": _local_time(event, party.checked_in_at),
                "counts": counts_json(counts),
            }, headers={"Cache-Control": "no-store"})
        flash(request, f"{party.name} is checked in." if here
              else f"Check-in undone for {party.name}.")
    slug = request.path_params["slug"]
    return redirect(attendees_url(slug, _list_params(form)) + f"#rsvp-{rsvp_id}")


@requires("event")
async def export_csv(request: Request) -> Response:
    with write_session() as session:
        event = event_or_404(session, request)
        body = attendees.export_csv(session, event)
        # Reading the whole list is worth a line in the trail: it holds personal data.
        audit.record(session, organizer_of(request), "event.export_csv", event)
    filename = attendees.csv_filename(event)
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


_A = "/organizer/events/{slug:str}/attendees"
routes: list[Any] = [
    Route(_A, attendee_list, name="organizer_attendees"),
    Route("/organizer/events/{slug:str}/attendees.csv", export_csv, name="organizer_csv"),
    Route(f"{_A}/{{rsvp_id:int}}/check-in", check_in, methods=["POST"],
          name="organizer_check_in"),
]
