"""The "Upcoming events" box for other sites: the framed list, its script and its builder.

/embed/upcoming is the only page any site may frame (web/security_headers.FRAMEABLE_PATHS);
it needs no JavaScript and sets no cookie. /embed.js is the optional loader that inserts the
iframe and sizes it to its content through postMessage; /embed builds both snippets. The
events come from the list page's filter and query (parse_event_query -> list_events).
"""

from __future__ import annotations

import html
from dataclasses import replace

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from events_app import i18n, settings, urls
from events_app.db import read_session
from events_app.i18n import gettext
from events_app.models import CATEGORIES
from events_app.services import event_text, series_public, shown_seats
from events_app.services import events as event_service
from events_app.util.numbers import NumberError, parse_whole
from events_app.web import cached
from events_app.web.conditional import validated_response
from events_app.web.fast_path import CachedResource
from events_app.web.public import filter_params, parse_event_query
from events_app.web.query_keys import QueryKeys
from events_app.web.templating import query_string, render, templates

MIN_LIMIT, MAX_LIMIT, DEFAULT_LIMIT = 1, 20, 5
THEMES = ("light", "dark")
CACHE_CONTROL = "public, max-age=300"
CONTENT_TYPE = "text/html; charset=utf-8"


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", str(DEFAULT_LIMIT))
    try:
        return parse_whole(raw, MIN_LIMIT, MAX_LIMIT)
    except NumberError as exc:
        raise HTTPException(400, gettext("'limit': %(problem)s") % {"problem": exc}) from None


def _theme(request: Request) -> str:
    theme = request.query_params.get("theme", "light")
    if theme not in THEMES:
        raise HTTPException(400, gettext("'theme' must be 'light' or 'dark'."))
    return theme


def _box_key(request: Request) -> tuple[str, event_service.EventQuery, int, str]:
    """(cache key, query, limit, theme). The box is "what's next": the list's filters, but
    always upcoming and from the start."""
    query = replace(parse_event_query(request), when="upcoming", page=1)
    limit, theme = _limit(request), _theme(request)
    return f"embed:{limit}:{theme}:{query!r}", query, limit, theme


async def upcoming(request: Request) -> Response:
    key, query, limit, theme = _box_key(request)

    def render_box(session: Session) -> bytes:
        shown_seats.none_shown()  # no spots left in the box: RSVPs never change it
        page = event_service.list_events(session, query, page_size=limit)
        params = filter_params(query)
        return templates.get_template("embed/upcoming.html").render(
            events=page.items, theme=theme, total=page.total,
            texts=event_text.texts_for(session, page.items, i18n.current()),
            repeats=series_public.labels(session, page.items),
            all_url=urls.absolute(urls.EVENTS, query_string(params)),
            css_url=urls.absolute(f"{urls.STATIC}/embed.css"),
            script_url=urls.absolute(f"{urls.STATIC}/embed-frame.js"),
        ).encode()

    box = await cached.listing(key, render_box)
    return validated_response(request, box, CONTENT_TYPE, CACHE_CONTROL)


def loader_script(request: Request) -> Response:
    return FileResponse(settings.STATIC_DIR / "embed.js", media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=3600"})


def snippet_templates() -> dict[str, str]:
    """The two snippets, written once, with __QS__ standing for the query string (HTML-escaped
    when filled in); the builder page's script only swaps in a new query string."""
    title = html.escape(gettext("Upcoming events from %(site)s") % {"site": settings.SITE_NAME})
    return {
        "iframe": f'<iframe src="{urls.absolute(urls.EMBED_UPCOMING, "__QS__")}" '
                  f'title="{title}" width="100%" '
                  'height="420" style="border:0;min-width:280px" loading="lazy"></iframe>',
        "script": f'<div data-events-embed="__QS__" data-title="{title}"></div>\n'
                  f'<script src="{urls.absolute(urls.EMBED_JS)}" async></script>',
    }


def builder(request: Request) -> Response:
    """The snippet builder; a plain GET form, so it works without JavaScript too."""
    query = parse_event_query(request)
    limit, theme = _limit(request), _theme(request)
    with read_session() as session:
        cities = event_service.known_cities(session)
    chosen = {"category": list(query.categories)[:1], "city": list(query.cities)[:1],
              "limit": limit, "theme": theme if theme != "light" else ""}
    embed_query = query_string(chosen)
    snippets = {name: (tpl, tpl.replace("__QS__", html.escape(embed_query)))
                for name, tpl in snippet_templates().items()}
    return render(request, "embed/builder.html", {
        "categories": CATEGORIES, "cities": cities, "chosen": chosen, "snippets": snippets,
        "embed_query": embed_query, "limits": range(MIN_LIMIT, MAX_LIMIT + 1),
    })


routes = [
    Route(urls.EMBED_UPCOMING, upcoming, name="embed_upcoming"),
    Route(urls.EMBED_JS, loader_script, name="embed_js"),
    Route("/embed", builder, name="embed_builder"),
]
# A frameable page sets no cookie (web/csrf.py), so its hits can skip the stack too.
# The box's cache key by raw query string and language (web/query_keys.py): each page view
# of the embedding site asks again, and a repeat parses nothing.
_box_key_of = QueryKeys(lambda request: _box_key(request)[0])
fast_resources = [CachedResource(urls.EMBED_UPCOMING, lambda r: cached.hit(_box_key_of(r)),
                                 CONTENT_TYPE, CACHE_CONTROL)]
