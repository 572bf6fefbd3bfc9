"""An audit entry's detail as data, put in words when the log is read, in the reader's
language (services/audit.py makes the sentence above it).

A new entry's detail is stored as JSON lines in the same text column, each an English text
marked with N_() and its values (`line`): words (`word`), codes such as statuses, roles and
scopes (`code`), dates (`day`), instants (`instant`) and a series' rule (`rule`) are worded
when read. So an organizer reading in Spanish gets "Título: A -> B" and the rule "cada dos
martes" for an entry written from an English page, with no migration and no second column.
Entries written before are plain text and show as stored. Names and subjects stay as typed,
unescaped (ensure_ascii=False), so retention's erasure still finds them (services/
retention.py also looks for the JSON spelling of a name with quotes).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from babel.dates import format_date

from events_app import i18n, settings, timefmt
from events_app.i18n import N_, gettext, pgettext
from events_app.services import series_rules

MAX_DETAIL = 4000

_MARK = '{"audit":1,'  # how a structured detail starts (plain text never does)


@dataclass(frozen=True)
class Line:
    text: str  # English, marked with N_(), with %(name)s placeholders
    values: dict[str, Any]


def line(text: str, **values: Any) -> Line:
    return Line(text, values)


def within(inner: Line) -> dict[str, Any]:
    """A line as a value of another ("series <uid>: <what was done>")."""
    return {"line": [inner.text, inner.values]}


def word(text: str) -> dict[str, str]:
    """A text marked with N_() where it is written, translated when read."""
    return {"w": text}


def code(kind: str, value: str) -> dict[str, str]:
    """A code (a status, a role, a scope) said in words when read (`_CODES`); audit.py's
    sentences read the code itself."""
    return {"code": value, "of": kind}


def day(value: date) -> dict[str, str]:
    return {"d": value.isoformat()}


def days(values: Sequence[date]) -> dict[str, list[str]]:
    """Dates said as a list ("March 9, 2027 and March 23, 2027")."""
    return {"days": [d.isoformat() for d in values]}


def instant(value: datetime) -> dict[str, str]:
    return {"at": value.isoformat()}


def rule(rrule: str, start_local: datetime) -> dict[str, str]:
    """A series' rule, said in words ("Repeats every second Tuesday, ...") when read."""
    return {"rule": rrule, "start": start_local.isoformat(),
            "tz": getattr(start_local.tzinfo, "key", "UTC")}


def _value(value: Any, raw: bool) -> str:
    """A stored value in words; `raw` keeps codes and ISO dates (what audit.py parses)."""
    if not isinstance(value, dict):
        return str(value)
    if "w" in value:
        marked = value["w"]  # a name, not a literal: extraction found it where it was marked
        return gettext(marked)
    if "code" in value:
        said = _CODES.get(value.get("of", ""), {}).get(value["code"])
        return value["code"] if raw or said is None else said()
    if "d" in value:
        return value["d"] if raw else long_day(value["d"])
    if "at" in value:
        return timefmt.format_instant(datetime.fromisoformat(value["at"]),
                                      settings.DEFAULT_TIMEZONE)
    if "rule" in value:
        return _rule_in_words(value)
    if "days" in value:
        return ", ".join(value["days"]) if raw else long_days(value["days"])
    if "line" in value:  # a line inside another (a series entry's "series <uid>: ...")
        text, values = value["line"]
        return gettext(text) % {k: _value(v, raw) for k, v in values.items()}
    return str(value)


def _rule_in_words(value: dict[str, str]) -> str:
    start = datetime.fromisoformat(value["start"])
    try:
        found = series_rules.Rule.from_rrule(value["rule"], value["tz"])
        return series_rules.describe(found, start, with_end=True)
    except (ValueError, KeyError):  # a rule this version cannot read: as stored
        return value["rule"]


def _lines(detail: str) -> list[tuple[str, dict[str, Any]]] | None:
    if not detail.startswith(_MARK):
        return None
    try:
        return [(text, values) for text, values in json.loads(detail)["lines"]]
    except (ValueError, KeyError, TypeError):
        return None


def _rendered(lines: list[tuple[str, dict[str, Any]]], raw: bool = False) -> str:
    return "\n".join(gettext(text) % {k: _value(v, raw) for k, v in values.items()}
                     for text, values in lines)


def in_words(detail: str) -> str:
    """A stored detail in the reader's language (a plain-text one as stored)."""
    if detail == ERASED_DETAIL:
        return gettext(ERASED_DETAIL)
    lines = _lines(detail)
    return detail if lines is None else _rendered(lines)


def english(detail: str) -> str:
    """A detail as entries from before structured details read (English, codes, ISO dates):
    what audit.py's sentences find their numbers and dates in, old entries and new alike."""
    lines = _lines(detail)
    if lines is None:
        return detail
    with i18n.using(i18n.SOURCE_LANGUAGE):
        return _rendered(lines, raw=True)


def stored(detail: str | Sequence[Line]) -> str:
    if isinstance(detail, str):
        return detail[:MAX_DETAIL]
    text = json.dumps({"audit": 1, "lines": [[ln.text, ln.values] for ln in detail]},
                      ensure_ascii=False, separators=(",", ":"), default=str)
    if len(text) <= MAX_DETAIL:
        return text
    with i18n.using(i18n.SOURCE_LANGUAGE):  # too long for the column: as plain text
        return _rendered([(ln.text, ln.values) for ln in detail])[:MAX_DETAIL]


# The codes details keep (`code`), in words of the reader's language.
_CODES: dict[str, dict[str, Callable[[], str]]] = {
    "event status": {"draft": lambda: pgettext("event status", "draft"),
                     "published": lambda: pgettext("event status", "published"),
                     "cancelled": lambda: pgettext("event status", "cancelled")},
    "RSVP status": {"confirmed": lambda: pgettext("RSVP status", "confirmed"),
                    "waitlisted": lambda: pgettext("RSVP status", "waitlisted"),
                    "cancelled": lambda: pgettext("RSVP status", "cancelled")},
    "role": {"admin": lambda: pgettext("role", "Admin"),
             "organizer": lambda: pgettext("role", "Organizer")},
    "scope": {"one": lambda: pgettext("series scope", "this date only"),
              "following": lambda: pgettext("series scope", "this date and every later one"),
              "all": lambda: pgettext("series scope", "every date")},
    "switch": {"on": lambda: pgettext("switch", "on"), "off": lambda: pgettext("switch", "off")},
    "audience": {"confirmed": lambda: pgettext("audience", "confirmed"),
                 "waitlisted": lambda: pgettext("audience", "waitlisted"),
                 "checked_in": lambda: pgettext("audience", "checked in"),
                 "not_checked_in": lambda: pgettext("audience", "not checked in")},
}


# What retention (services/retention.py) leaves of a detail that named an erased attendee.
ERASED_DETAIL = N_("(attendee details erased)")

# Field names as the organizer reads them, for the "what changed" lines.
_FIELDS = {
    "title": N_("Title"), "summary": N_("Summary"), "description": N_("Description"),
    "category": N_("Category"), "starts_at": N_("Starts"), "ends_at": N_("Ends"),
    "timezone": N_("Timezone"), "all_day": N_("All day"), "venue_name": N_("Venue"),
    "street_address": N_("Street address"), "city": N_("City"), "region": N_("Region"),
    "postal_code": N_("Postal code"), "latitude": N_("Latitude"), "longitude": N_("Longitude"),
    "online_url": N_("Online link"), "host_name": N_("Host"), "capacity": N_("Capacity"),
    "max_guests": N_("Guests per RSVP"), "waitlist_enabled": N_("Waitlist"),
    "rsvp_deadline": N_("RSVP deadline"), "join_link_private": N_("Join link private"),
    "co-hosts": N_("Co-hosts"), "slug": N_("Web address"), "role": N_("Role"),
    "active": N_("Active"),
    "confirmed from the waitlist": N_("Confirmed from the waitlist"),
}


def _show(value: Any) -> Any:
    if value is None or value == "":
        return word(N_("(empty)"))
    if isinstance(value, bool):
        return word(N_("yes") if value else N_("no"))
    if isinstance(value, datetime):  # in the site's zone, in the reader's words
        return instant(value) if value.tzinfo else value.isoformat(timespec="minutes")
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _field(key: str) -> Any:
    """A changed field's name as stored: a word of _FIELDS, or for the event's text in
    another language ("title (es)", services/event_admin.translation_changes) that word with
    the language code beside it; anything else as given."""
    if key in _FIELDS:
        return word(_FIELDS[key])
    name, _, language = key.partition(" (")
    if name in _FIELDS and language.endswith(")"):
        return within(line(N_("%(field)s (%(language)s)"), field=word(_FIELDS[name]),
                           language=language[:-1]))
    return key


def describe_changes(changes: dict[str, tuple[Any, Any]]) -> list[Line]:
    """`{"title": (old, new)}` as "Title: old -> new" lines, for people reading the log."""
    return [line(N_("%(field)s: %(old)s -> %(new)s"), field=_field(k), old=_show(old),
                 new=_show(new))
            for k, (old, new) in changes.items()]


def long_day(iso: str) -> str:
    """'March 9, 2027' / '9 de marzo de 2027'."""
    try:
        day = date.fromisoformat(iso.strip())
    except ValueError:
        return iso.strip()
    return format_date(day, format="long", locale=i18n.locale())


def long_days(isos: list[str]) -> str:
    days = [long_day(d) for d in isos if d.strip()]
    if len(days) == 1:
        return days[0]
    return gettext("%(list)s and %(last)s") % {"list": gettext(", ").join(days[:-1]),
                                               "last": days[-1]}


def _values(values: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The structured values of a line, those of lines inside it included."""
    for value in values.values():
        if isinstance(value, dict):
            yield value
            if "line" in value:
                yield from _values(value["line"][1])


def code_in(detail: str, kind: str) -> str | None:
    """The code of that kind a structured detail holds ("all" for a "scope"), else None."""
    return next((str(v["code"]) for _text, values in _lines(detail) or []
                 for v in _values(values) if v.get("of") == kind), None)


def is_structured(detail: str) -> bool:
    return _lines(detail) is not None


def rule_words(detail: str) -> str | None:
    """The rule a structured detail holds, in the reader's words without its "Repeats"
    ('every second Tuesday, 3 times' / 'cada dos martes, 3 veces'), else None."""
    for _text, values in _lines(detail) or []:
        for value in _values(values):
            if "rule" in value:
                words = _rule_in_words(value)
                # Translators: how every "Repeats ..." text starts (with its space); taken off
                # where a sentence says "repeating ..." itself.
                prefix = pgettext("rule in a sentence", "Repeats ")
                return words[len(prefix):] if words.startswith(prefix) else words
    return None
