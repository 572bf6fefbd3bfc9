"""One source of public URLs: the paths the route tables register and the absolute links that
leave the site (feeds, e-mails, the API, Atom, JSON-LD, share links, personal feed links).

Links that leave the site are built from settings.BASE_URL, never from the request's Host
header (which a client controls), and every path parameter is quoted by one rule, so a slug
reads the same in a feed, an e-mail and the API. Pages inside the site keep using Starlette's
`url_for` on the route names; the route tables take their paths from here, so a path changes
in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from events_app import i18n, settings

# Route paths (Starlette syntax). The converters (`:str`) are added where the routes register.
HOME = "/"
EVENTS = "/events"
EVENT = "/events/{slug}"
EVENTS_MONTH = "/events/month/{month}"  # 2027-03: the month view
EVENTS_DAY = "/events/day/{day}"  # 2027-03-14: the events on one calendar day
EVENT_ICS = "/events/{slug}.ics"
RSVP_SUBMIT = "/events/{slug}/rsvp"
RSVP_MANAGE = "/rsvp/{token}"
RSVP_SERIES = "/rsvp/{token}/series"  # all of the person's RSVPs in a recurring series
CALENDAR = "/calendar.ics"
ATOM = "/events.atom"
MY_EVENTS = "/my/{feed_token}"
MY_FEED = "/my/{feed_token}/calendar.ics"
API_V1 = "/api/v1"
EMBED_UPCOMING = "/embed/upcoming"
EMBED_JS = "/embed.js"
STATIC = "/static"
# One-time links e-mailed to organizers (services/account_links.py); the organizer routes
# are mounted under ORGANIZER, so their table holds the part after it.
ORGANIZER = "/organizer"
ACCOUNT_WELCOME = "/welcome/{invite_token}"
ACCOUNT_RESET = "/reset/{reset_token}"


def quote_segment(value: str) -> str:
    """The one quoting rule for a value in a path: everything but unreserved characters is
    percent-encoded, '/' included, so a value is always exactly one path segment."""
    return quote(value, safe="")


def path(template: str, **params: str) -> str:
    """A route path with its parameters filled in and quoted."""
    return template.format(**{k: quote_segment(v) for k, v in params.items()})


def query_string(params: Mapping[str, Any]) -> str:
    """A query string from a dict, dropping empty values (lists repeat the key): the one rule
    that keeps `?city=&category=` out of every URL the site builds."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((key, str(v)) for v in values if v not in (None, ""))
    return urlencode(pairs)


def with_query(path_: str, params: Mapping[str, Any] | None = None) -> str:
    """`path_` with the non-empty `params` (no dangling '?' when there are none)."""
    query = query_string(params or {})
    return f"{path_}?{query}" if query else str(path_)


def month_path(month: date, params: Mapping[str, Any] | None = None) -> str:
    """The month view of the month `month` falls in, with the list's filters."""
    return with_query(path(EVENTS_MONTH, month=f"{month.year:04d}-{month.month:02d}"), params)


def day_path(day: date, params: Mapping[str, Any] | None = None) -> str:
    return with_query(path(EVENTS_DAY, day=day.isoformat()), params)


def absolute(path_: str, query: str = "") -> str:
    """The public absolute URL of a site path; `query` is an already-encoded query string."""
    return f"{settings.BASE_URL}{path_}" + (f"?{query}" if query else "")


def event_url(slug: str) -> str:
    return absolute(path(EVENT, slug=slug))


def rsvp_manage_url(token: str) -> str:
    return absolute(path(RSVP_MANAGE, token=token))


def rsvp_series_url(token: str) -> str:
    return absolute(path(RSVP_SERIES, token=token))


def my_events_url(feed_token: str) -> str:
    return absolute(path(MY_EVENTS, feed_token=feed_token))


FEED_LANGUAGE_PARAM = "lang"  # the same parameter as the pages' ?lang= (web/language.py)


def feed_language(language: str | None = None) -> str | None:
    """The `lang` a calendar-file or Atom link carries: `language` (the current one by
    default), or None for the site default, so the links English subscribers already hold
    stay the same.

    Calendar apps and feed readers poll with no cookie and no useful Accept-Language, so a
    feed's language is the one its URL names (web/language.py reads nothing else for .ics and
    .atom paths): a link on a Spanish page, or in a Spanish e-mail, subscribes to the
    Spanish feed."""
    language = language or i18n.current()
    return None if language == settings.DEFAULT_LANGUAGE else language


def with_feed_language(url: str, language: str | None = None) -> str:
    """A calendar-file or Atom URL (no query of its own yet) with its `lang` (see
    feed_language)."""
    return with_query(url, {FEED_LANGUAGE_PARAM: feed_language(language)})


def my_feed_url(feed_token: str, language: str | None = None) -> str:
    return with_feed_language(absolute(path(MY_FEED, feed_token=feed_token)), language)


def home_url() -> str:
    return absolute(HOME)


def account_link_url(purpose: str, link_token: str) -> str:
    """The e-mailed link of an invitation ("invite") or a password reset ("reset")."""
    if purpose == "invite":
        return absolute(ORGANIZER + path(ACCOUNT_WELCOME, invite_token=link_token))
    return absolute(ORGANIZER + path(ACCOUNT_RESET, reset_token=link_token))
