"""/events.atom: the list page as an Atom 1.0 feed, for feed readers and news sites.

Like a calendar feed, it is in the language its URL names (`?lang=es`, web/language.py),
else the site default: feed readers poll without a cookie or a useful Accept-Language. Its
own links (next page, the list, each event's page and .ics) keep that language.

The same filters as the list page and the API (parse_event_query -> EventQuery ->
list_events), one entry per event whose <updated> moves whenever the event is edited, and
the same validators and per-minute render cache as the API (services/listing_cache.py,
served through web/cached.py).

Each entry's title, summary and description are the event's in the feed's language where the
organizers gave them (services/event_text.py), else the site default's, marked with xml:lang
as pages mark fallback text with lang: on <title> itself (the event's words, even after a
translated "Cancelled:"), and on a span in an XHTML <summary> (a text one could only mark
the date and place along with it); default-language feeds keep their text summaries as
they were.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events_app import i18n, settings, urls
from events_app.i18n import gettext
from events_app.models import Event
from events_app.services import event_text, shown_seats
from events_app.services import events as event_service
from events_app.web import cached
from events_app.web.conditional import validated_response
from events_app.web.fast_path import CachedResource
from events_app.web.public import filter_params, parse_event_query
from events_app.web.query_keys import QueryKeys
from events_app.web.templating import query_string, templates

CONTENT_TYPE = "application/atom+xml; charset=utf-8"
CACHE_CONTROL = "public, max-age=300"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def entry_id(event: Event) -> str:
    """A permanent IRI from the event's iCal UID, which survives edits of title and slug."""
    local = event.uid.split("@", 1)[0]
    try:
        return uuid.UUID(local).urn
    except ValueError:
        host = urlsplit(settings.BASE_URL).hostname or "localhost"
        return f"tag:{host},2024:event:{quote(event.uid, safe='@.-_~')}"


def _feed_url(params: dict, page: int | None = None) -> str:
    qs = query_string({**params, "page": page if page and page > 1 else ""})
    return urls.absolute(urls.ATOM, qs)


def _in_feed_language(params: dict) -> dict:
    """The filters plus the feed's `lang` (none for the site default: English URLs stay)."""
    return {**params, urls.FEED_LANGUAGE_PARAM: urls.feed_language()}


async def atom_feed(request: Request) -> Response:
    query = parse_event_query(request)

    def render(session: Session) -> bytes:
        shown_seats.none_shown()  # no spots left in the feed: RSVPs never change it
        page = event_service.list_events(session, query)
        if query.page > page.pages:
            raise HTTPException(404, gettext("There is no page %(page)d; the last is %(last)d.")
                                % {"page": query.page, "last": page.pages})
        params = _in_feed_language(filter_params(query))
        latest = max((e.updated_at for e in page.items), default=None)
        return templates.get_template("events/feed.atom.xml").render(
            page=page,
            texts=event_text.texts_for(session, page.items, i18n.current()),
            query=query,
            feed_id=_feed_url(params),
            self_url=_feed_url(params, query.page),
            next_url=_feed_url(params, page.page + 1) if page.has_next else None,
            prev_url=_feed_url(params, page.page - 1) if page.has_prev else None,
            html_url=urls.absolute(urls.EVENTS, query_string(params)),
            updated=(latest or EPOCH).astimezone(UTC),
            entry_id=entry_id,
            utc=lambda dt: dt.astimezone(UTC).isoformat(),
            in_feed_language=urls.with_feed_language,
        ).encode()

    feed = await cached.listing(_key(query), render)
    return validated_response(request, feed, CONTENT_TYPE, CACHE_CONTROL)


def _key(query: event_service.EventQuery) -> str:
    return f"atom:{query!r}"


routes = [Route(urls.ATOM, atom_feed, name="atom_feed")]
# The feed's cache key by raw query string and language (web/query_keys.py): a feed reader's
# poll parses nothing.
_key_of = QueryKeys(lambda request: _key(parse_event_query(request)))
fast_resources = [CachedResource(urls.ATOM, lambda r: cached.hit(_key_of(r)), CONTENT_TYPE,
                                 CACHE_CONTROL)]
