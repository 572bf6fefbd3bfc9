"""Attendee pages for organizers: the list, door check-in, moving and removing RSVPs,
e-mailing attendees, and the CSV export.

Seat decisions (confirming a waitlisted party, promoting the waitlist after a removal) are
made by services/rsvp.py; these handlers only ask, confirm with the organizer, and report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from events_app.db import read_session
from events_app.i18n import N_, gettext, ngettext
from events_app.models import Event, Rsvp, RsvpStatus, utcnow
from events_app.services import (
    attendee_csv,
    attendee_mail,
    attendees,
    data_version,
    retention,
    rsvp,
)
from events_app.timefmt import format_clock
from events_app.util.forms import Form, FormError, choice, parse_form, text
from events_app.util.numbers import NumberError, parse_whole
from events_app.web.auth import flash, organizer_of, requires
from events_app.web.csrf import csrf_token
from events_app.web.organizer import kept_html
from events_app.web.organizer.base import (
    deliver_soon,
    event_not_found,
    event_or_404,
    form_strings,
    int_param,
    json_error,
    page,
    page_number,
    path_id,
    wants_json,
)
from events_app.web.organizer.urls import redirect_to
from events_app.web.streaming import closing
from events_app.web.templating import render_fragment

_FILTER_PARAMS = ("q", "status", "sort", "dir")
FOREVER = datetime.max.replace(tzinfo=UTC)


def _to_list(request: Request, slug: str, params: dict[str, str] | None = None,
             rsvp_id: int | None = None) -> Response:
    """Back to the attendee list as the organizer left it, scrolled to the row acted on."""
    return redirect_to(request, "organizer:attendees", query=params,
                       fragment=f"rsvp-{rsvp_id}" if rsvp_id else "", slug=slug)


def _filters(source: dict[str, str]) -> dict[str, str]:
    """The search/filter/sort part of the list's state."""
    return {k: source[k] for k in _FILTER_PARAMS if source.get(k)}


def _list_params(source: dict[str, str]) -> dict[str, str]:
    """The list's state (search, sort, page), carried through actions so the organizer lands
    where they were. Page 1 is left out, so each page has one URL. A page that is not a
    number is refused (400); handlers call this before they change anything."""
    params = _filters(source)
    page_no = page_number(source["page"]) if source.get("page") else 1
    if page_no > 1:
        params["page"] = str(page_no)
    return params


def _parse_query(params: dict[str, str]) -> attendees.AttendeeQuery:
    try:
        return attendees.AttendeeQuery(
            q=params.get("q", "").strip(),
            status=params.get("status", ""),
            sort=params.get("sort", "name") or "name",
            descending=params.get("dir") == "desc",
        )
    except ValueError:
        raise HTTPException(400, gettext("That search or sort option is not available.")) from None


def _event_and_rsvp(request: Request) -> tuple[Event, Rsvp]:
    """The event (if the organizer may manage it) and one of *its* RSVPs, else 404."""
    with read_session() as session:
        event = event_or_404(session, request)
        party = attendees.get_rsvp(session, event, path_id(request, "rsvp_id"))
    if party is None:
        raise HTTPException(404, gettext("That RSVP is not on this event's list."))
    return event, party


@requires("event")
def attendee_list(request: Request, form: FormData | None) -> Response:
    filters = _filters(dict(request.query_params))
    query = _parse_query(filters)
    page_no = int_param(request, "page")
    # The version is read before the event (kept_html.key), the event's seats state before
    # its RSVPs (in render_list); who may see the event is asked every time, kept or not.
    key = kept_html.key(organizer_of(request), "attendees", request.path_params["slug"],
                        csrf_token(request), tuple(sorted(filters.items())), page_no)
    with read_session() as session:
        event = event_or_404(session, request)

    def render_list() -> kept_html.Part:
        """Counts, search and one page of rows, read and rendered (the session closed first);
        right while the event's RSVPs stay as they were, until their personal data is erased."""
        seats = data_version.seats_of([event.id or 0])  # before the RSVPs are read
        with read_session() as session:
            result = attendees.attendee_page(session, event, query, page_no)
            counts = attendees.counts(session, event)  # the whole event, not just this page
        params = _list_params({**filters, "page": str(result.window.page)})
        erase_after = retention.erase_after(event)
        erased = erase_after <= utcnow()
        return kept_html.Part(render_fragment(request, "organizer/_attendee_list.html", {
            "event": event, "rows": result.rows, "window": result.window, "counts": counts,
            "query": query, "filters": filters, "params": params,
            "sort_keys": attendees.SORT_KEYS, "status_filters": attendees.STATUS_FILTERS,
            "erase_after": erase_after, "data_erased": erased,
        }), FOREVER if erased else erase_after, (seats,))

    return page(request, "organizer/attendees.html", {
        "event": event, "list_html": kept_html.kept(key, render_list)})


def _counts_json(counts: attendees.AttendeeCounts) -> dict[str, int]:
    return {
        "confirmed_parties": counts.confirmed_parties,
        "confirmed_seats": counts.confirmed_seats,
        "waitlisted_parties": counts.waitlisted_parties,
        "waitlisted_seats": counts.waitlisted_seats,
        "checked_in_parties": counts.checked_in_parties,
        "checked_in_seats": counts.checked_in_seats,
    }


@requires("event")
def check_in(request: Request, form: FormData | None) -> Response:
    """One tap at the door: mark a party arrived (here=1) or undo (here=0)."""
    values = form_strings(form) if form else {}
    params = _list_params(values)  # refuses a bad page number before anything is saved
    here = values.get("here") == "1"
    rsvp_id = path_id(request, "rsvp_id")
    slug = request.path_params["slug"]
    try:
        people = _people(values) if here else None
        done = attendees.check_in(organizer_of(request), slug, rsvp_id, here, people)
    except attendees.CheckInError as exc:
        if wants_json(request):
            return json_error(str(exc), 409)
        flash(request, str(exc), "error")
        return _to_list(request, slug, params, rsvp_id)
    if done is None:
        raise HTTPException(404, gettext("That RSVP is not on this event's list."))
    event, party, counts = done.event, done.party, done.counts
    if wants_json(request):
        at = party.checked_in_at
        return JSONResponse({
            "ok": True, "id": party.id, "here": at is not None,
            "checked_in_at": format_clock(at, event.timezone) if at else "",
            "people": party.checked_in_seats, "seats": party.seats,
            # The row as the page would show it now, so the script never re-implements it.
            "row_html": render_fragment(request, "organizer/_attendee_row_alone.html", {
                "event": event, "row": attendees.AttendeeRow(party, None), "params": params}),
            "message": _checked_in_message(party, here),
            "counts": _counts_json(counts),
        }, headers={"Cache-Control": "no-store"})
    flash(request, _checked_in_message(party, here))
    return _to_list(request, slug, params, rsvp_id)


def _people(values: dict[str, str]) -> int | None:
    """How many of the party arrived, from the door's number field (absent: all of them)."""
    raw = values.get("people", "").strip()
    if not raw:
        return None
    try:
        return parse_whole(raw, 0, 10_000)  # 0 and too many: the service says the range
    except NumberError:
        raise attendees.CheckInError(gettext("Enter how many people of the party arrived, "
                                             "as a whole number.")) from None


def _checked_in_message(party: Rsvp, here: bool) -> str:
    if not here:
        return gettext("Check-in undone for %(name)s.") % {"name": party.name}
    if party.checked_in_seats < party.seats:
        return gettext("%(name)s: %(here)s of %(party)s checked in.") % {
            "name": party.name, "here": party.checked_in_seats, "party": party.seats}
    return gettext("%(name)s is checked in.") % {"name": party.name}


@requires("event")
def force_confirm(request: Request, form: FormData | None) -> Response:
    """Move a waitlisted party to confirmed; over capacity only after an explicit override."""
    values = form_strings(form) if form else {}
    params = _list_params(values)
    event, party = _event_and_rsvp(request)
    back = _to_list(request, event.slug, params, party.id)
    if party.status != RsvpStatus.WAITLISTED:
        flash(request, gettext("%(name)s is not on the waitlist.") % {"name": party.name}, "warn")
        return back
    with read_session() as session:
        seats = rsvp.seat_counts(session, event)
    if not seats.fits(party.seats) and values.get("override") != "1":
        return page(request, "organizer/force_confirm.html", {
            "event": event, "party": party, "seats": seats, "params": params,
        })
    try:
        over = rsvp.force_confirm(party.id or 0, actor=organizer_of(request))
    except rsvp.RsvpError as exc:
        flash(request, exc.message, "error")
        return back
    message = gettext("%(name)s is confirmed and was e-mailed.") % {"name": party.name}
    if over:
        message += " " + gettext("The event is now over its capacity.")
    flash(request, message, "warn" if over else "ok")
    return back


@requires("event")
def remove(request: Request, form: FormData | None) -> Response:
    """Cancel someone's RSVP (after a confirmation step); the waitlist moves up."""
    values = form_strings(form) if form else {}
    params = _list_params(values)
    event, party = _event_and_rsvp(request)
    back = _to_list(request, event.slug, params, party.id)
    if party.status == RsvpStatus.CANCELLED:
        flash(request, gettext("%(name)s's RSVP is already cancelled.") % {"name": party.name},
              "warn")
        return back
    if values.get("confirm") != "1":
        return page(request, "organizer/remove.html", {
            "event": event, "party": party, "params": params,
        })
    notify = values.get("notify") == "1"
    try:
        promoted = rsvp.remove_rsvp(party.id or 0, notify=notify, actor=organizer_of(request))
    except rsvp.RsvpError as exc:
        flash(request, exc.message, "error")
        return back
    message = gettext("%(name)s's RSVP was cancelled.") % {"name": party.name}
    if promoted:
        message += " " + gettext("Confirmed from the waitlist (and e-mailed): %(names)s.") % {
            "names": ", ".join(p.name for p in promoted)}
    flash(request, message)
    return _to_list(request, event.slug, params)


Subject = text(150, required=True)
Body = text(10_000, required=True, multiline=True)
AudienceField = choice(lambda: {a.value for a in attendee_mail.Audience},
                       N_("Choose who gets the message."))


class AttendeeMessage(Form):
    audience: AudienceField = None
    subject: Subject = None
    body: Body = None


_STEPS = ("preview", "edit", "test", "send")


def _email_form(request: Request, values: dict[str, str], errors: dict[str, str]) -> Response:
    with read_session() as session:
        event = event_or_404(session, request)
        counts = attendee_mail.audience_counts(session, event)
    audiences = [(a.value, f"{gettext(attendee_mail.AUDIENCE_LABELS[a])} ({counts[a]})")
                 for a in attendee_mail.Audience]
    return page(request, "organizer/email.html",
                {"event": event, "audiences": audiences, "values": values, "errors": errors},
                status_code=422 if errors else 200)


def _preview_page(request: Request, event: Event, draft: attendee_mail.Draft,
                  shown: attendee_mail.Preview, tested: str = "") -> Response:
    return page(request, "organizer/email_preview.html", {
        "event": event, "draft": draft, "preview": shown, "tested": tested,
        "audience_label": gettext(attendee_mail.AUDIENCE_LABELS[draft.audience]),
    })


@requires("event")
def email_attendees(request: Request, form: FormData | None) -> Response:
    """Write to a group of attendees: the form, then a preview of exactly what one of them
    gets, from which the organizer sends a test to themself, goes back to edit, or sends
    (queued in the outbox, one e-mail each, replies to the organizer). Works without JS:
    each step is a button of the same form, carrying the draft along."""
    values = form_strings(form) if form else {}
    if form is None:
        return _email_form(request, {"audience": request.query_params.get("audience", "")},
                           {})
    step = values.get("step", "preview")
    if step not in _STEPS:
        raise HTTPException(400, gettext("Unknown step."))
    if step == "edit":
        return _email_form(request, values, {})
    me = organizer_of(request)
    slug = request.path_params["slug"]
    try:
        message = parse_form(AttendeeMessage,
                             {**values, "audience": values.get("audience") or "confirmed"})
        draft = attendee_mail.Draft(attendee_mail.Audience(message.audience),
                                    message.subject, message.body)
        draft.check()
    except FormError as exc:
        return _email_form(request, values, exc.errors)
    except rsvp.RsvpError as exc:
        return _email_form(request, values, {exc.field or "body": exc.message})
    if step == "send":
        done = attendee_mail.message_attendees(me, slug, draft.subject, draft.body,
                                               draft.audience)
        if done is None:
            raise event_not_found()
        event, sent = done
        group = gettext(attendee_mail.AUDIENCE_LABELS[draft.audience]).lower()
        flash(request, ngettext("Your message is on its way to %(num)s attendee (%(group)s).",
                                "Your message is on its way to %(num)s attendees (%(group)s).",
                                sent) % {"num": sent, "group": group} if sent else
              gettext("Nobody is in that group, so nothing was sent."), "ok" if sent else "warn")
        return _to_list(request, event.slug)
    if step == "test":
        tested = attendee_mail.send_test(me, slug, draft)
        if tested is None:
            raise event_not_found()
        event, shown, mail_id = tested
        response = _preview_page(request, event, draft, shown, tested=me.email)
        response.background = deliver_soon([mail_id])
        return response
    with read_session() as session:
        event = event_or_404(session, request)
        shown = attendee_mail.preview(session, event, me, draft)
    return _preview_page(request, event, draft, shown)


@requires("event")
def export_csv(request: Request, form: FormData | None) -> Response:
    """The attendee list as CSV, streamed; `?for=excel` adds the byte order mark Excel on
    Windows needs to read UTF-8 (LibreOffice's default import reads either)."""
    variant = request.query_params.get("for", "")
    if variant not in ("", "excel"):
        raise HTTPException(400, gettext("That download option is not available."))
    done = attendee_csv.export_for(organizer_of(request), request.path_params["slug"],
                                   bom=variant == "excel")
    if done is None:
        raise event_not_found()
    event, chunks = done
    return StreamingResponse(
        closing(chunks),  # an abandoned download gives its connection back at once
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition":
                f'attachment; filename="{attendee_csv.csv_filename(event)}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


_A = "/events/{slug:str}/attendees"
routes: list[Any] = [
    Route(_A, attendee_list, name="attendees"),
    Route("/events/{slug:str}/attendees.csv", export_csv, name="csv"),
    Route(f"{_A}/{{rsvp_id:int}}/check-in", check_in, methods=["POST"],
          name="check_in"),
    Route(f"{_A}/{{rsvp_id:int}}/confirm", force_confirm, methods=["POST"],
          name="force_confirm"),
    Route(f"{_A}/{{rsvp_id:int}}/remove", remove, methods=["POST"], name="remove_rsvp"),
    Route("/events/{slug:str}/email", email_attendees, methods=["GET", "POST"],
          name="email_attendees"),
]
