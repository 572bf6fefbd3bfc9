"""The "Repeats" fieldset on organizer pages (new event, turning an event into a series,
changing a series' rule): reading it from a post and what its template needs.

It works without JavaScript: "Preview dates" is a submit button of the same form, and the
page comes back with every value kept and the next dates listed. The rule itself (fields,
limits, messages) is services/series_rules.py's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.datastructures import FormData

from events_app.i18n import gettext
from events_app.models import Series
from events_app.services import series as series_service
from events_app.services import series_rules
from events_app.services.event_form import REPEAT_DEFAULTS, repeat_choices, repeat_values
from events_app.web.organizer.base import form_strings

PREVIEW_STEP = "preview"  # the value of the "Preview dates" button (name="step")
PREVIEW_COUNT = 8


def posted_values(form: FormData) -> dict[str, Any]:
    """The posted form's text fields, with the weekday boxes (several may be ticked) as a
    list: the one field of the organizer's forms that repeats."""
    values: dict[str, Any] = form_strings(form)
    values["weekday"] = [v for v in form.getlist("weekday") if isinstance(v, str)]
    return values


def is_preview(values: dict[str, Any]) -> bool:
    return values.get("step") == PREVIEW_STEP


def blank_values() -> dict[str, Any]:
    return {**REPEAT_DEFAULTS, "weekday": []}


def context(values: dict[str, Any], rule: series_rules.Rule | None,
            start: datetime | None, previewing: bool,
            show_rsvp_all: bool = True) -> dict[str, Any]:
    """What templates/organizer/_repeats.html needs. `start`: the local (aware) start the
    rule counts from; the preview lists the next dates from there when asked for."""
    preview: list[datetime] | None = None
    text = hint = ""
    if previewing:
        preview = []
        if start is None:
            hint = gettext("Enter the start date, time and timezone to see the dates.")
        elif rule is None:
            hint = gettext("Choose how often it repeats (and fix what is marked) to see the dates.")
        else:
            preview = series_rules.preview(start, rule, n=PREVIEW_COUNT)
            text = series_rules.describe(rule, start, with_end=True)
    return {
        "repeat": repeat_choices(values),
        "preview": preview,
        "preview_text": text,
        "preview_hint": hint,
        "tz": str(start.tzinfo) if start is not None else "UTC",
        "show_rsvp_all": show_rsvp_all,
    }


def rule_values(series: Series) -> dict[str, Any]:
    """The fieldset filled in with the series' rule as it is now."""
    start = series_service.start_local(series)
    return {**repeat_values(series_service.rule_of(series)),
            "start_date": start.date().isoformat()}
