"""Recurring series in the workspace: the series page (every date with its counts), skipping
dates, changing how a series repeats, duplicating it, and turning a single event into one.

A series is reached through any of its occurrences (/events/<slug>/series...): whoever may
manage its events (owner, co-hosts, admins) may manage it, behind the same "event" gate as
every event page, and a series one may not manage is simply not found. Writes are
services/series.py's; editing and cancelling single dates live with the event pages
(organizer/events.py), which ask for the scope.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events_app import timefmt
from events_app.db import read_session
from events_app.i18n import N_, gettext, ngettext
from events_app.models import Event, Series
from events_app.services import event_admin, series, series_overview, series_rules
from events_app.services.event_admin import EventStateError
from events_app.util.forms import FormError
from events_app.web.auth import flash, organizer_of, requires
from events_app.web.organizer import repeats
from events_app.web.organizer.base import event_not_found, event_or_404, page
from events_app.web.organizer.urls import redirect_to

NOT_A_SERIES = N_("This event does not repeat: it is not part of a series.")


def _series_of(request: Request) -> tuple[Event, Series] | Response:
    """The event in the URL and its series; a single event sends the organizer back to its
    own page with a word why (nothing else to show)."""
    with read_session() as session:
        event = event_or_404(session, request)
        found = series.get_series(session, event.series_id) if event.series_id else None
    if found is None:
        flash(request, gettext(NOT_A_SERIES), "warn")
        return redirect_to(request, "organizer:edit_event", slug=event.slug)
    return event, found


@requires("event")
def series_page(request: Request, form: FormData | None) -> Response:
    found = _series_of(request)
    if isinstance(found, Response):
        return found
    event, the_series = found
    with read_session() as session:
        overview = series_overview.overview(session, the_series)
    return page(request, "organizer/series.html", {
        "event": event, "overview": overview, "series": the_series,
        "rule_text": series.describe_series(the_series, with_end=True),
    })


def _to_series(request: Request, slug: str) -> Response:
    return redirect_to(request, "organizer:series", slug=slug)


def _refusal(exc: FormError | EventStateError) -> str:
    return " ".join(exc.errors.values()) if isinstance(exc, FormError) else str(exc)


T = TypeVar("T")


def _attempt(request: Request, event: Event, action: Callable[[], T]) -> T | Response:
    """A series action's result; a series gone meanwhile is a 404, and a refusal is flashed
    on the series page, which the organizer is sent back to."""
    try:
        return action()
    except series.SeriesNotFound:
        raise event_not_found() from None
    except (FormError, EventStateError) as exc:
        flash(request, _refusal(exc), "error")
        return _to_series(request, event.slug)


@requires("event")
def skip_dates(request: Request, form: FormData | None) -> Response:
    """Skip the ticked dates (holidays): each leaves the series, its attendees are told."""
    found = _series_of(request)
    if isinstance(found, Response):
        return found
    event, the_series = found
    raw = [v for v in (form.getlist("skip") if form else []) if isinstance(v, str)]
    try:
        days = sorted({date.fromisoformat(v) for v in raw})
    except ValueError:
        raise HTTPException(400, gettext("A date to skip could not be read.")) from None
    if not days:
        flash(request, gettext("Tick the dates to skip first."), "warn")
        return _to_series(request, event.slug)
    result = _attempt(request, event,
                      lambda: series.skip(organizer_of(request), the_series.id or 0, days))
    if isinstance(result, Response):
        return result
    if result.skipped:
        listed = ", ".join(timefmt.format_day_heading(d) for d in result.skipped)
        told = (" " + ngettext("%(num)s person was e-mailed that their date is cancelled.",
                               "%(num)s people were e-mailed that their date is cancelled.",
                               result.notified) % {"num": result.notified}
                if result.notified else "")
        flash(request, gettext("Skipped: %(dates)s.") % {"dates": listed} + told)
    else:
        flash(request, gettext("Those dates were skipped already."), "warn")
    return _first_live(request, the_series, event.slug)


def _first_live(request: Request, the_series: Series, fallback: str) -> Response:
    """Back to the series page, through an occurrence that still belongs to it."""
    with read_session() as session:
        slugs = [e.slug for e in series.occurrences(session, the_series)]
    slug = fallback if fallback in slugs else (slugs[0] if slugs else "")
    if not slug:
        return redirect_to(request, "organizer:dashboard")
    return _to_series(request, slug)


@requires("event")
def duplicate_series(request: Request, form: FormData | None) -> Response:
    """A draft copy that continues the pattern after the last date (services/series)."""
    found = _series_of(request)
    if isinstance(found, Response):
        return found
    event, the_series = found
    copy = _attempt(request, event,
                    lambda: series.duplicate(organizer_of(request), the_series.id or 0))
    if isinstance(copy, Response):
        return copy
    with read_session() as session:
        dates = series.occurrences(session, copy)
    flash(request, ngettext("This is a draft copy: %(rule)s, %(num)s date after the "
                            "original's. Check them, then publish every date.",
                            "This is a draft copy: %(rule)s, %(num)s dates after the "
                            "original's. Check them, then publish every date.", len(dates))
          % {"rule": series.describe_series(copy, with_end=True), "num": len(dates)})
    return _first_live(request, copy, "")


@requires("event")
def publish_series(request: Request, form: FormData | None) -> Response:
    """Publish every date not cancelled (a duplicated series is all drafts), or take them
    all back to draft."""
    found = _series_of(request)
    if isinstance(found, Response):
        return found
    event, the_series = found
    publish = bool(form and form.get("publish") == "1")
    changed = _attempt(request, event, lambda: series.set_published(
        organizer_of(request), the_series.id or 0, publish))
    if isinstance(changed, Response):
        return changed
    published = ngettext("Published %(num)s date: it is on the public calendar and in the "
                         "feeds.", "Published %(num)s dates: they are on the public calendar "
                         "and in the feeds.", changed)
    drafted = ngettext("%(num)s date went back to draft, hidden from the public.",
                       "%(num)s dates went back to draft, hidden from the public.", changed)
    flash(request, ((published if publish else drafted) % {"num": changed}) if changed
          else gettext("Nothing to change."), "ok" if changed else "warn")
    return _to_series(request, event.slug)


@requires("event")
def rsvp_all_setting(request: Request, form: FormData | None) -> Response:
    """Let the public RSVP to every upcoming date at once, or stop it (RSVPs made stay)."""
    found = _series_of(request)
    if isinstance(found, Response):
        return found
    event, the_series = found
    allowed = bool(form and form.get("rsvp_all") == "1")
    done = _attempt(request, event,
                    lambda: series.set_rsvp_all(organizer_of(request), the_series.id or 0,
                                                allowed))
    if isinstance(done, Response):
        return done
    flash(request, gettext("People may now RSVP to every upcoming date at once; each date "
                           "keeps its own RSVP, capacity and waitlist.") if allowed else
          gettext("People now RSVP to one date at a time; the RSVPs already made stay."))
    return _to_series(request, event.slug)


def _rule_start(event: Event, the_series: Series | None) -> datetime:
    """What a rule counts from (local): the event becoming a series; for a new rule of a
    series, the date it takes over from (services/series.next_rule_start)."""
    if the_series is None:
        return event.local_start
    takes_over = series.next_rule_start(the_series)
    return (takes_over.astimezone(the_series.tz) if takes_over is not None
            else series.start_local(the_series))


def _rule_page(request: Request, *, event: Event, the_series: Series | None,
               values: dict[str, Any], errors: dict[str, str], rule: series_rules.Rule | None,
               previewing: bool) -> Response:
    return page(request, "organizer/series_rule.html", {
        "event": event, "series": the_series, "values": values, "errors": errors,
        "rule_text": series.describe_series(the_series, with_end=True) if the_series else "",
        **repeats.context(values, rule, _rule_start(event, the_series), previewing,
                          show_rsvp_all=False),  # switched on the series page
    }, status_code=422 if errors else 200)


def _posted_rule(form: FormData, start: datetime
                 ) -> tuple[dict[str, Any], series_rules.Rule | None, dict[str, str]]:
    values = {**repeats.posted_values(form), "start_date": start.date().isoformat()}
    rule, errors = series_rules.parse_form(values, start)
    if rule is None and not errors:
        errors = {"repeat": gettext("Choose how often it repeats.")}
    return values, rule, errors


@requires("event")
def change_rule(request: Request, form: FormData | None) -> Response:
    """How the series repeats from its next date on. RSVPs to dates the new rule keeps stay;
    people who RSVP'd to dates that move or go are told (services/series.change_rule)."""
    found = _series_of(request)
    if isinstance(found, Response):
        return found
    event, the_series = found
    if form is None:
        values = {**repeats.rule_values(the_series),
                  "start_date": _rule_start(event, the_series).date().isoformat()}
        return _rule_page(request, event=event, the_series=the_series, values=values,
                          errors={}, rule=None, previewing=False)
    values, rule, errors = _posted_rule(form, _rule_start(event, the_series))
    if errors or repeats.is_preview(values):
        return _rule_page(request, event=event, the_series=the_series, values=values,
                          errors=errors, rule=rule, previewing=repeats.is_preview(values))
    assert rule is not None
    try:
        result = series.change_rule(organizer_of(request), the_series.id or 0, rule)
    except series.SeriesNotFound:
        raise event_not_found() from None
    except FormError as exc:
        return _rule_page(request, event=event, the_series=the_series, values=values,
                          errors=exc.errors, rule=rule, previewing=False)
    except EventStateError as exc:
        flash(request, str(exc), "error")
        return _to_series(request, event.slug)
    told = (" " + ngettext("%(num)s person was e-mailed about a date that moved or went.",
                           "%(num)s people were e-mailed about a date that moved or went.",
                           result.notified) % {"num": result.notified}
            if result.notified else "")
    kept = ngettext("%(num)s date kept with its RSVPs", "%(num)s dates kept with their RSVPs",
                    result.kept) % {"num": result.kept}
    flash(request, gettext("Saved: %(rule)s. %(kept)s, %(moved)s moved, %(added)s added, "
                           "%(removed)s taken out.") % {
        "rule": series.describe_series(result.series, with_end=True), "kept": kept,
        "moved": result.moved, "added": result.created, "removed": result.removed} + told)
    return _first_live(request, result.series, event.slug)


@requires("event")
def convert_event(request: Request, form: FormData | None) -> Response:
    """Make a single event repeat: it becomes the series' first date, its RSVPs kept."""
    with read_session() as session:
        event = event_or_404(session, request)
    if event.series_id is not None:
        return _to_series(request, event.slug)
    if form is None:
        values = {**repeats.blank_values(), "repeat": "weekly",
                  "start_date": event.local_start.date().isoformat()}
        return _rule_page(request, event=event, the_series=None, values=values, errors={},
                          rule=None, previewing=False)
    values, rule, errors = _posted_rule(form, _rule_start(event, None))
    if errors or repeats.is_preview(values):
        return _rule_page(request, event=event, the_series=None, values=values, errors=errors,
                          rule=rule, previewing=repeats.is_preview(values))
    assert rule is not None
    try:
        created = series.convert(organizer_of(request), event.slug, rule)
    except event_admin.EventNotFound:
        raise event_not_found() from None
    except FormError as exc:
        return _rule_page(request, event=event, the_series=None, values=values,
                          errors=exc.errors, rule=rule, previewing=False)
    except EventStateError as exc:
        flash(request, str(exc), "error")
        return redirect_to(request, "organizer:edit_event", slug=event.slug)
    flash(request, gettext("“%(title)s” now repeats: %(rule)s. Its RSVPs stay with its first "
                           "date; every date has its own.")
          % {"title": event.title, "rule": series.describe_series(created, with_end=True)})
    return _to_series(request, event.slug)


_S = "/events/{slug:str}"
routes: list[Any] = [
    Route(f"{_S}/series", series_page, name="series"),
    Route(f"{_S}/series/skip", skip_dates, methods=["POST"], name="series_skip"),
    Route(f"{_S}/series/duplicate", duplicate_series, methods=["POST"],
          name="series_duplicate"),
    Route(f"{_S}/series/publish", publish_series, methods=["POST"], name="series_publish"),
    Route(f"{_S}/series/rsvp-all", rsvp_all_setting, methods=["POST"],
          name="series_rsvp_all"),
    Route(f"{_S}/series/repeat", change_rule, methods=["GET", "POST"], name="series_rule"),
    Route(f"{_S}/repeat", convert_event, methods=["GET", "POST"], name="convert_event"),
]
