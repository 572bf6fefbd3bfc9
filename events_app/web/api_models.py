"""The shapes of the public API v1, as pydantic models.

They serialise every answer and their JSON Schema *is* the OpenAPI document's components
(web/openapi.py), so the document cannot drift from what the API sends. Only public event
facts have a field here: nothing about who RSVP'd can be serialised by accident.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from events_app.services.events import (
    MAX_FILTER_LENGTH,
    MAX_FILTER_VALUES,
    MAX_PAGE,
    MAX_SEARCH_LENGTH,
)
from events_app.util.forms import _CONTROL_RE

# Text filters may hold anything a person types, but no control characters (refused with 400):
# the same character class as forms.has_control_chars, negated.
_READABLE = "^[^" + _CONTROL_RE.pattern.removeprefix("[").removesuffix("]") + "]*$"
_FilterText = Annotated[str, Field(pattern=_READABLE)]
_PlaceText = Annotated[str, Field(pattern=_READABLE, max_length=MAX_FILTER_LENGTH)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# One description for the `languages` object, wherever it appears.
_TEXT_LANGUAGES = (
    "The language each of the event's own texts (title, summary, description) is in. The API "
    "answers in the language of `?lang=` or else `Accept-Language` (the Content-Language "
    "header says which); each text is in that language when the organizers gave it in it, and "
    "otherwise in the site's default language, unchanged. A text whose language differs from "
    "the answer's is a fallback: mark it with its language (e.g. lang=\"en\" in HTML) so "
    "screen readers and translators treat it right.")


class EventFilters(_Model):
    """The list page's filters (documentation of the query string; parsing is
    web.public.parse_event_query, shared with the list page and the Atom feed)."""

    # The same limits as the list page and the iCalendar feeds (events.PlaceFilter): more
    # values, or a longer one, is answered with 400, never silently dropped.
    category: list[_PlaceText] = Field(
        default=[], max_length=MAX_FILTER_VALUES,
        description=f"Category slug (see /api/v1/categories), any case; repeat for several "
                    f"(at most {MAX_FILTER_VALUES}, each at most {MAX_FILTER_LENGTH} characters; "
                    "more is answered with 400).")
    city: list[_PlaceText] = Field(
        default=[], max_length=MAX_FILTER_VALUES,
        description=f"City name, any case; repeat for several (at most {MAX_FILTER_VALUES}, "
                    f"each at most {MAX_FILTER_LENGTH} characters; more is answered with 400).")
    q: _FilterText = Field(
        default="", max_length=MAX_SEARCH_LENGTH,
        description="Words in the title, summary, description, venue, city or host.")
    # Empty means "no filter", as the list page's form sends it.
    from_: date | Literal[""] | None = Field(
        default=None, alias="from",
        description="Events starting on or after this day (site timezone), e.g. 2026-03-14.")
    to: date | Literal[""] | None = Field(
        default=None, description="Events starting on or before this day.")
    online: Literal["", "1"] = Field(
        default="", description="1: only events people can join online (online-only or "
                                "hybrid).")
    when: Literal["upcoming", "past"] = Field(
        default="upcoming", description="Upcoming (not yet over) or past events.")
    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="Page number, from 1.")


class Address(_Model):
    street: str
    city: str
    region: str
    postal_code: str
    formatted: str = Field(description="One line, e.g. '12 Main St, St. Louis, MO 63101'.")


class EventUrls(_Model):
    page: str = Field(description="The event's public page.")
    ics: str = Field(description="The event as an iCalendar (.ics) download.")
    rsvp: str = Field(description="The RSVP form (a section of the event page).")
    api: str = Field(description="This event in the API.")


class SeriesInfo(_Model):
    uid: str = Field(description=(
        "The iCalendar UID of the series: the repeating VEVENT (RRULE) in the feeds, whose "
        "RECURRENCE-ID overrides are its dates; the same for every date of the series."))
    repeats: str = Field(description="The rule in words, e.g. 'Repeats every second Tuesday'.")


_LanguageTag = Annotated[str, Field(pattern="^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
                                     description="A language tag (BCP 47), e.g. 'es'.")]


class SummaryLanguages(_Model):
    """Which language each of the event's own texts is in (list entries)."""

    title: _LanguageTag
    summary: _LanguageTag


class DetailLanguages(SummaryLanguages):
    """Which language each of the event's own texts is in (one event)."""

    description: _LanguageTag


class EventSummary(_Model):
    slug: str = Field(description="Stable identifier used in URLs.")
    uid: str = Field(description="The iCalendar UID; never changes, even when the slug does.")
    title: str = Field(description="In the answer's language where the organizers gave it, "
                                   "else the site's default language (see `languages`).")
    summary: str = Field(description="One line; in the answer's language or the site's "
                                     "default, as `title`.")
    languages: SummaryLanguages = Field(description=_TEXT_LANGUAGES)
    category: str
    category_label: str
    status: Literal["published", "cancelled"] = Field(
        description="Cancelled events stay listed, marked as such.")
    starts_at: datetime = Field(
        description="ISO 8601 with the UTC offset in force at the event's place.")
    ends_at: datetime = Field(
        description="ISO 8601 with offset; for all-day events the midnight after the last day.")
    timezone: str = Field(description="IANA timezone name of the event, e.g. America/Chicago.")
    all_day: bool
    attendance_mode: Literal["offline", "online", "mixed"]
    venue_name: str
    address: Address
    latitude: float | None
    longitude: float | None
    online_url: str | None = Field(description=(
        "The link to join online; null for in-person events and when the organizers give it "
        "to confirmed attendees only (attendance_mode still says online or mixed)."))
    host_name: str
    capacity: int | None = Field(description="null: no limit.")
    spots_left: int | None = Field(description="null when there is no capacity limit.")
    waitlist: bool = Field(description="Whether people can join a waitlist once it is full.")
    rsvp_open: bool = Field(description="Whether the RSVP form takes new RSVPs now.")
    updated_at: datetime
    urls: EventUrls
    series: SeriesInfo | None = Field(description=(
        "Set when the event is one date of a recurring series (each date is its own event "
        "with its own RSVPs and spots); null for a single event."))


class EventDetail(EventSummary):
    languages: DetailLanguages = Field(description=_TEXT_LANGUAGES)  # type: ignore[assignment]
    description: str = Field(
        description="The organizer's text as typed: Markdown source (paragraphs, lists, bold, "
                    "links), readable as plain text. The event page shows it rendered, with raw "
                    "HTML shown as text; render it the same way (with an HTML sanitizer) or show "
                    "it as is. In the answer's language or the site's default, as `title`.")
    cancel_message: str | None


class EventList(_Model):
    events: list[EventSummary]
    page: int = Field(ge=1)
    pages: int = Field(ge=1)
    total: int = Field(ge=0)
    next: str | None = Field(description="URL of the next page with the same filters.")
    prev: str | None = Field(description="URL of the previous page with the same filters.")


class Category(_Model):
    slug: str
    label: str
    upcoming: int = Field(ge=0, description="Upcoming events in this category.")
    events: str = Field(description="API URL of those events.")


class CategoryList(_Model):
    categories: list[Category]


class City(_Model):
    name: str
    upcoming: int = Field(ge=0, description="Upcoming events in this city.")
    events: str = Field(description="API URL of those events.")


class CityList(_Model):
    cities: list[City]


class Error(_Model):
    error: str = Field(description="What was wrong, in words a person can act on.")
    status: int = Field(ge=400, le=599)
