"""Warm-up at start-up: a fresh worker's first requests should cost what later ones do.

Measured at 100,000 events, a worker's first /events took 235-450 ms, not for one reason but
for many firsts: connections opened, the thread pool's backend imported, templates compiled,
SQLAlchemy statements compiled, the database's pages read. So before the server accepts
connections (ASGI lifespan start-up, which uvicorn runs in every worker), this opens the pool's
connections and sends the app the requests people send first - the list, a filtered list, a
search, an event page, the month view, the feed, the API - through the whole stack, like any
client, once in every language (a browser's Accept-Language; a calendar app's `?lang=`, as
the subscribe links give it): what they render is cached as it would be for a visitor, so
the first Spanish reader after a start finds it warm too. Nothing here knows how a page
is built, so nothing here can go stale when pages change. The organizer workspace, behind a
sign-in, warms its own first pages (web/organizer/warm.py), called last.

A failure never stops the server (a database not yet migrated, say): it is logged, and the
first visitors then pay for the firsts as they used to.

Last, what start-up built (modules, templates, compiled statements, caches: ~130,000 objects
the cyclic garbage collector tracks) is collected once and frozen (gc.freeze), so that no
later collection walks it again. Unfrozen, each full collection - due once enough new
long-lived objects have piled up, on whichever request is running then - walked them all:
~100 ms of CPU measured on a busy machine at 100,000 events, against ~3 ms frozen. What is
frozen is what the worker keeps for its life anyway.
"""

from __future__ import annotations

import gc
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from events_app import db, i18n, settings, urls
from events_app.models import CATEGORIES
from events_app.services.calendar_month import today
from events_app.web.language import PARAM as LANGUAGE_PARAM
from events_app.web.organizer import warm as organizer_warm

log = logging.getLogger(__name__)
CONNECTIONS = 4  # a burst's worth; the pool opens more when it needs them


def paths() -> list[str]:
    """What visitors and pollers ask for first (the event page, and the list filtered by its
    category and city, come from the API's first event: see from_first_event)."""
    category = next(iter(CATEGORIES))
    return [
        urls.EVENTS,
        urls.with_query(urls.EVENTS, {"category": category}),
        urls.with_query(urls.EVENTS, {"q": "meeting"}),
        urls.month_path(today()),
        f"{urls.API_V1}/events",
        urls.ATOM,
        urls.CALENDAR,
    ]


def from_first_event(events: list[dict[str, Any]]) -> list[str]:
    """The first listed event's page, and the list filtered by its category and city.

    Filtering by both (the filter form's two sets of checkboxes) is a statement of its own
    for the database layer (the count, the page, each filter's stored spellings): unwarmed,
    the first such list built and compiled them all, ~6,000 Python calls more than the same
    list later. One real category and city (the first event's) also renders a page of
    cards rather than "nothing matches"."""
    if not events:
        return []
    first = events[0]
    place = {"category": first.get("category") or "",
             "city": (first.get("address") or {}).get("city") or ""}
    found = [urls.path(urls.EVENT, slug=first["slug"])]
    if all(place.values()):
        found.append(urls.with_query(urls.EVENTS, place))
    return found


def in_language(path: str, language: str) -> str:
    """The path as a reader of `language` asks for it: calendar files name their language in
    the URL (calendar apps send no useful Accept-Language), only when not the default."""
    if language == settings.DEFAULT_LANGUAGE or not urlsplit(path).path.endswith(".ics"):
        return path
    return urls.with_query(path, {LANGUAGE_PARAM: language})


async def warm_up(app: ASGIApp) -> None:
    started = time.monotonic()
    try:
        await run_in_threadpool(db.warm_up, CONNECTIONS)
        languages = sorted(i18n.LANGUAGES, key=lambda code: code != settings.DEFAULT_LANGUAGE)
        for language in languages:  # the default first: most visitors read it
            for path in paths():
                status, body = await _get(app, in_language(path, language), language)
                if path == f"{urls.API_V1}/events" and status == 200:
                    for more in from_first_event(json.loads(body).get("events") or []):
                        await _get(app, more, language)
        await organizer_warm.warm_up(
            lambda path, state: _get(app, path, settings.DEFAULT_LANGUAGE, state))
    except Exception:  # noqa: BLE001 - warming is an optimisation, never a reason not to start
        log.warning("warm-up failed; the first requests will be slower", exc_info=True)
        return
    finally:
        settle()
    log.info("warmed up in %.0f ms", (time.monotonic() - started) * 1000)


def settle() -> None:
    """Collect start-up's garbage, then freeze what is left out of the collector's sight
    (see the module docstring)."""
    gc.collect()
    gc.freeze()


async def _get(app: ASGIApp, path: str, language: str,
               state: dict[str, Any] | None = None) -> tuple[int, bytes]:
    """One GET through the whole app, as from a client of BASE_URL's host whose browser
    asks for `language`; `state` starts the request's state (web/organizer/warm.py)."""
    raw_path, _, query = path.partition("?")
    base = urlsplit(settings.BASE_URL)
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": base.scheme, "path": raw_path,
        "raw_path": raw_path.encode("latin-1"), "query_string": query.encode("latin-1"),
        "root_path": "", "headers": [(b"host", base.netloc.encode("latin-1")),
                                     (b"accept-language", language.encode("latin-1"))],
        "client": ("127.0.0.1", 0),
        "server": None,
    }
    if state:
        scope["state"] = dict(state)
    response: dict[str, Any] = {"status": 0, "body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            response["status"] = message["status"]
        elif message["type"] == "http.response.body":
            response["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return response["status"], response["body"]
