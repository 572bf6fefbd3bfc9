"""Organizer workspace: dashboard and event editing (attendees and admin pages in siblings).

Every route here is wrapped in `requires(...)`; `organizer.routes` joins this module's table
with its siblings' under one Mount.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events_app import timefmt
from events_app.db import read_session
from events_app.i18n import N_, gettext, ngettext
from events_app.models import CATEGORIES, Event, Organizer, utcnow
from events_app.services import (
    access,
    attendee_mail,
    dashboard,
    event_admin,
    event_text,
    rsvp,
    series,
    series_rules,
)
from events_app.services.event_form import (
    EventData,
    blank_form_values,
    form_values,
    local_start,
    occurrence_choices,
    parse_event_form,
)
from events_app.services.event_form import warnings as form_warnings
from events_app.util.forms import FormError
from events_app.util.timezones import COMMON_TIMEZONES
from events_app.web.auth import flash, organizer_of, requires
from events_app.web.organizer import kept_html, repeats
from events_app.web.organizer.base import (
    event_not_found,
    event_or_404,
    form_strings,
    int_param,
    page,
)
from events_app.web.organizer.urls import redirect_to
from events_app.web.templating import render_fragment

TIMEZONE_CHOICES = COMMON_TIMEZONES
NOTIFY_FIELD = "notify_attendees"  # the edit form's "e-mail the people who RSVP'd" box
# What "Preview dates" needs of the event form: where the series starts.
START_FIELDS = frozenset({"timezone", "all_day", "start_date", "start_time", "start_occurrence"})
# Which dates of a series an edit or a cancellation is for (the form's radio buttons).
SCOPE_CHOICES = [("one", N_("Only this date")), ("following", N_("This date and the later ones")),
                 ("all", N_("Every date of the series"))]
CANCEL_SCOPES = SCOPE_CHOICES[:2]
SCOPE_SAVED = {
    "one": N_("Saved for this date only; the other dates of the series are unchanged."),
    "following": N_("Saved for this date and the later ones."),
    "all": N_("Saved for every date of the series."),
}


def _scope_choices(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The scope radio buttons in the reader's language."""
    return [(value, gettext(label)) for value, label in choices]


def _to_edit(request: Request, slug: str) -> Response:
    return redirect_to(request, "organizer:edit_event", slug=slug)


@requires("login")
def dashboard_page(request: Request, form: FormData | None) -> Response:
    me = organizer_of(request)
    try:
        q = dashboard.clean_search(request.query_params.get("q", ""))
    except ValueError:
        raise HTTPException(400, gettext("That search is too long or not text.")) from None
    page_no, past_page = int_param(request, "page"), int_param(request, "past_page")

    def render_lists() -> kept_html.Part:
        """Today, Upcoming and Past, read and rendered (the session closed first); right
        while the seats of the events shown stay as they were, until the clock moves one."""
        now = utcnow()
        with read_session() as session:
            today = dashboard.Today([], None) if q else dashboard.today(session, me, now)
            upcoming = dashboard.section(session, me, "upcoming", page_no, now, q=q)
            past = dashboard.section(session, me, "past", past_page, now, q=q)
            until = dashboard.next_change(session, now)
        seats = tuple(s.seats for s in (today, upcoming, past) if s.seats is not None)
        return kept_html.Part(render_fragment(request, "organizer/_dashboard_lists.html", {
            "q": q, "today": today.rows, "upcoming": upcoming, "past": past,
            "is_admin": access.is_admin(me)}), until, seats)

    lists = kept_html.kept(kept_html.key(me, "dashboard", q, page_no, past_page), render_lists)
    return page(request, "organizer/dashboard.html", {"lists": lists, "q": q})


def _form_page(request: Request, *, event: Event | None, values: dict[str, Any],
               errors: dict[str, str] | None = None, seats: Any = None,
               recipients: int = 0, status_code: int = 200,
               rule: series_rules.Rule | None = None, previewing: bool = False) -> Response:
    context: dict[str, Any] = {
        "event": event, "values": values, "errors": errors or {}, "seats": seats,
        "recipients": recipients, "categories": CATEGORIES, "timezones": TIMEZONE_CHOICES,
        "text_languages": event_text.translated_languages(),
        "occurrences": occurrence_choices(values),
        "slug_follows_title": event is not None and event_admin.slug_follows_title(event),
        "past_start": event is not None and not errors and event.starts_at < utcnow(),
    }
    if event is None:  # a new event may repeat; an existing one is turned into a series apart
        context.update(repeats.context(values, rule, local_start(values), previewing))
    elif event.series_id is not None:
        with read_session() as session:
            found = series.get_series(session, event.series_id)
        context.update(series=found, scopes=_scope_choices(SCOPE_CHOICES),
                       rule_text=series.describe_series(found, with_end=True) if found else "")
    return page(request, "organizer/event_form.html", context,
                status_code=422 if errors else status_code)


def _flash_warnings(request: Request, data: EventData) -> None:
    """Saved, but worth a second look (a start in the past): said after the save."""
    for message in form_warnings(data).values():
        flash(request, message, "warn")


@requires("login")
def new_event(request: Request, form: FormData | None) -> Response:
    if form is None:
        return _form_page(request, event=None,
                          values={**blank_form_values(), **repeats.blank_values()})
    values = repeats.posted_values(form)
    rule, errors = series_rules.parse_form(values, local_start(values))
    previewing = repeats.is_preview(values)
    try:
        data = parse_event_form(values)
    except FormError as exc:
        # A preview needs only the start; the rest may still be unfinished.
        errors = {**{k: v for k, v in exc.errors.items()
                     if not previewing or k in START_FIELDS}, **errors}
    if errors or previewing:
        return _form_page(request, event=None, values=values, errors=errors, rule=rule,
                          previewing=previewing)
    publish = values.get("then") == "publish"
    me = organizer_of(request)
    try:
        if rule is not None:
            return _new_series(request, me, data, rule, publish, bool(values.get("rsvp_all")))
        event = event_admin.new_event(me, data, publish=publish)
    except FormError as exc:
        return _form_page(request, event=None, values=values, errors=exc.errors, rule=rule)
    flash(request, (gettext("“%(title)s” was created and published.") if event.status == "published"
                    else gettext("“%(title)s” was created as a draft.")) % {"title": event.title})
    _flash_warnings(request, data)
    return _to_edit(request, event.slug)


def _new_series(request: Request, me: Organizer, data: EventData, rule: series_rules.Rule,
                publish: bool, rsvp_all: bool) -> Response:
    created = series.new_series(me, data, rule, publish=publish, rsvp_all=rsvp_all)
    with read_session() as session:
        dates = series.occurrences(session, created)
    created_text = (
        ngettext("“%(title)s” was created and published: %(rule)s, %(num)s date so far.",
                 "“%(title)s” was created and published: %(rule)s, %(num)s dates so far.",
                 len(dates)) if publish else
        ngettext("“%(title)s” was created as drafts: %(rule)s, %(num)s date so far.",
                 "“%(title)s” was created as drafts: %(rule)s, %(num)s dates so far.",
                 len(dates)))
    flash(request, created_text % {"title": data.title, "num": len(dates),
                                   "rule": series.describe_series(created, with_end=True)})
    _flash_warnings(request, data)
    if not dates:
        return redirect_to(request, "organizer:dashboard")
    return redirect_to(request, "organizer:series", slug=dates[0].slug)


@requires("event")
def edit_event(request: Request, form: FormData | None) -> Response:
    if form is None:
        with read_session() as session:
            event = event_or_404(session, request)
            values = form_values(event, event_admin.cohost_emails(session, event),
                                 event_text.translations_of(session, event))
            values[NOTIFY_FIELD] = "on"  # telling attendees is the default
            seats = rsvp.seat_counts(session, event)
            recipients = attendee_mail.change_recipients(session, event)
        return _form_page(request, event=event, values=values, seats=seats,
                          recipients=recipients)

    values = form_strings(form)
    with read_session() as session:
        occurrence = event_or_404(session, request).series_id is not None
    if occurrence:
        return _edit_occurrence(request, values)
    try:
        data = parse_event_form(values)
        event, changes = event_admin.edit(organizer_of(request), request.path_params["slug"],
                                          data, notify_attendees=bool(values.get(NOTIFY_FIELD)))
    except event_admin.EventNotFound:
        raise event_not_found() from None
    except FormError as exc:
        return _refused_edit(request, values, exc.errors)
    if not changes:
        flash(request, gettext("Nothing was changed."), "warn")
    elif changes.moves_calendar_entry and event.status != "draft":
        told = (" " + ngettext("%(num)s person was e-mailed about it.",
                               "%(num)s people were e-mailed about it.", changes.notified)
                % {"num": changes.notified} if changes.notified else "")
        flash(request, gettext("Saved. The new time or place will reach subscribed calendars "
                               "when they next refresh.") + told)
    elif event.status == "draft":
        flash(request, gettext("Saved. This is a draft: nobody sees it until you publish it."))
    else:
        flash(request, gettext("Saved."))
    if "slug" in changes:
        flash(request, gettext("The draft's address follows its new title: %(path)s.")
              % {"path": f"/events/{event.slug}"})
    if changes:
        _flash_warnings(request, data)
    return _to_edit(request, event.slug)


def _refused_edit(request: Request, values: dict[str, str],
                  errors: dict[str, str]) -> Response:
    with read_session() as session:
        event = event_or_404(session, request)
        seats = rsvp.seat_counts(session, event)
        recipients = attendee_mail.change_recipients(session, event)
    return _form_page(request, event=event, values=values, errors=errors, seats=seats,
                      recipients=recipients)


def _scope(values: dict[str, str]) -> series.Scope:
    """The dates of a series an edit or cancellation is for; this date alone unless said."""
    try:
        return series.Scope(values.get("scope") or series.Scope.ONE.value)
    except ValueError:
        raise HTTPException(
            400, gettext("Choose which dates of the series the change is for.")) from None


def _edit_occurrence(request: Request, values: dict[str, str]) -> Response:
    """One date of a series, that date and the later ones, or all of them: the scope the
    organizer chose (services/series.edit applies it and tells the attendees)."""
    scope = _scope(values)
    try:
        data = parse_event_form(values)
        event = series.edit(organizer_of(request), request.path_params["slug"], data, scope,
                            notify_attendees=bool(values.get(NOTIFY_FIELD)))
    except event_admin.EventNotFound:
        raise event_not_found() from None
    except FormError as exc:
        return _refused_edit(request, values, exc.errors)
    except event_admin.EventStateError as exc:
        return _refused_edit(request, values, {"scope": str(exc)})
    flash(request, gettext(SCOPE_SAVED[scope]))
    _flash_warnings(request, data)
    return _to_edit(request, event.slug)


@requires("event")
def duplicate_event(request: Request, form: FormData | None) -> Response:
    try:
        copy = event_admin.copy(organizer_of(request), request.path_params["slug"])
    except event_admin.EventNotFound:
        raise event_not_found() from None
    when = timefmt.format_range(copy.starts_at, copy.ends_at, copy.timezone, copy.all_day)
    flash(request, gettext("This is a draft copy, proposed for %(when)s: the same weekday and time "
                           "a week on (or the first such day still ahead). Check it, then "
                           "publish.") % {"when": when})
    return _to_edit(request, copy.slug)


def _change_status(request: Request, publish: bool) -> Response:
    try:
        event = event_admin.set_published(organizer_of(request), request.path_params["slug"],
                                          publish)
    except event_admin.EventNotFound:
        raise event_not_found() from None
    except event_admin.EventStateError as exc:
        flash(request, str(exc), "error")
        return _to_edit(request, request.path_params["slug"])
    flash(request, gettext("Published: the event is on the public calendar and in the feeds.")
          if publish else
          gettext("Unpublished: the event is a draft again and hidden from the public."))
    return _to_edit(request, event.slug)


@requires("event")
def publish_event(request: Request, form: FormData | None) -> Response:
    return _change_status(request, publish=True)


@requires("event")
def unpublish_event(request: Request, form: FormData | None) -> Response:
    return _change_status(request, publish=False)


@requires("event")
def cancel_event(request: Request, form: FormData | None) -> Response:
    if form is None:
        with read_session() as session:
            event = event_or_404(session, request)
            seats = rsvp.seat_counts(session, event)
        return page(request, "organizer/cancel.html",
                    {"event": event, "seats": seats, "message": "", "errors": {},
                     "scopes": _scope_choices(CANCEL_SCOPES), "scope": series.Scope.ONE.value})
    values = form_strings(form)
    message = values.get("message", "").strip()
    with read_session() as session:
        occurrence = event_or_404(session, request).series_id is not None
    scope = _scope(values) if occurrence else None
    try:
        if scope is not None:
            event, notified = series.cancel(organizer_of(request),
                                            request.path_params["slug"], message, scope)
        else:
            event, notified = event_admin.cancel_event(organizer_of(request),
                                                       request.path_params["slug"], message)
    except event_admin.EventNotFound:
        raise event_not_found() from None
    except (FormError, event_admin.EventStateError) as exc:
        with read_session() as session:
            event = event_or_404(session, request)
            seats = rsvp.seat_counts(session, event)
        errors = exc.errors if isinstance(exc, FormError) else {"message": str(exc)}
        return page(request, "organizer/cancel.html",
                    {"event": event, "seats": seats, "message": message, "errors": errors,
                     "scopes": _scope_choices(CANCEL_SCOPES), "scope": values.get("scope", "")},
                    status_code=422)
    day = timefmt.format_start(event.starts_at, event.timezone)
    what = gettext("“%(title)s” is cancelled.") if scope is None else \
        gettext("“%(title)s” is cancelled on %(day)s.") if scope == series.Scope.ONE else \
        gettext("“%(title)s” is cancelled from %(day)s on.") \
        if scope == series.Scope.FOLLOWING else \
        gettext("“%(title)s” is cancelled on every date still to come.")
    told = ngettext("%(num)s person was e-mailed.", "%(num)s people were e-mailed.", notified)
    flash(request, (what % {"title": event.title, "day": day}) + " "
          + told % {"num": notified})
    return _to_edit(request, event.slug)


@requires("event")
def uncancel_event(request: Request, form: FormData | None) -> Response:
    try:
        event, notified = event_admin.uncancel_event(organizer_of(request),
                                                     request.path_params["slug"])
    except event_admin.EventNotFound:
        raise event_not_found() from None
    except event_admin.EventStateError as exc:
        flash(request, str(exc), "error")
        return _to_edit(request, request.path_params["slug"])
    told = (" " + ngettext("%(num)s person who was told it was cancelled got an e-mail that "
                           "it is back on.",
                           "%(num)s people who were told it was cancelled got an e-mail that "
                           "it is back on.", notified) % {"num": notified} if notified else "")
    flash(request, gettext("“%(title)s” is back on: published again, and subscribed calendars "
                           "show it as confirmed when they next refresh.")
          % {"title": event.title} + told)
    return _to_edit(request, event.slug)


_S = "/events/{slug:str}"
routes: list[Any] = [
    Route("/", dashboard_page, name="dashboard"),
    Route("/events/new", new_event, methods=["GET", "POST"],
          name="new_event"),
    Route(f"{_S}/edit", edit_event, methods=["GET", "POST"], name="edit_event"),
    Route(f"{_S}/duplicate", duplicate_event, methods=["POST"],
          name="duplicate_event"),
    Route(f"{_S}/publish", publish_event, methods=["POST"], name="publish_event"),
    Route(f"{_S}/unpublish", unpublish_event, methods=["POST"],
          name="unpublish_event"),
    Route(f"{_S}/cancel", cancel_event, methods=["GET", "POST"], name="cancel_event"),
    Route(f"{_S}/uncancel", uncancel_event, methods=["POST"], name="uncancel_event"),
]
