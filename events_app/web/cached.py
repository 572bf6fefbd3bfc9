"""Serving cached public output from the event loop: the data version without a database read
while it is fresh (services/data_version.py), a cache lookup, and only on a miss a hop to the
thread pool for a session and a render.

A cache hit or a 304 so costs no session, no query and no thread switch. `hit` is the same
lookup for the fast path (web/fast_path.py), which answers before the middleware stack.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from events_app import i18n
from events_app.db import read_session
from events_app.services import data_version, listing_cache
from events_app.services.data_version import Version
from events_app.services.feeds import RenderedFeed


async def version() -> Version:
    """The data version; read from the database (in the thread pool) at most about once per
    data_version.CHECK_INTERVAL, by one request while the others keep the last one read."""
    found = data_version.known()
    if found is not None:
        return found
    if data_version.read_due():
        return await run_in_threadpool(data_version.refresh)
    return data_version.stale()


def version_now() -> Version | None:
    """The version `version()` would give without a read: None when this request should read
    it (through `version()`, in the full stack)."""
    return data_version.known_or_reading()


def hit(key: str) -> RenderedFeed | None:
    """The entry `key` if it is cached for the data version known right now (no database, no
    waiting)."""
    found = version_now()
    return listing_cache.lookup(in_language(key), found) if found is not None else None


def _render(key: str, found: Version, render: Callable[[Session], bytes]) -> RenderedFeed:
    with read_session() as session:  # opened after the version was read: never older data
        return listing_cache.rendered(key, found, lambda: render(session))


def in_language(key: str) -> str:
    """The cache key of `key` in the request's language (i18n.current(), set by
    web/language.py): the same page is different bytes in English and Spanish. Every entry
    stored or looked up here goes through this one rule."""
    return f"{key}|{i18n.current()}"


async def listing(key: str, render: Callable[[Session], bytes]) -> RenderedFeed:
    """The cached entry `key` for the current data version and minute, rendered in the thread
    pool with a read session when missing (errors such as a 404 raised by `render` pass)."""
    key = in_language(key)
    found = await version()
    hit = listing_cache.lookup(key, found)
    if hit is not None:
        return hit
    return await run_in_threadpool(_render, key, found, render)
