"""Rendered public listings (the list page, API JSON, Atom, the embed), reused until their
data changes: one feeds.FeedCache, "an LRU entry valid for one data version", as the iCalendar
feeds use.

These show spots left and drop events as they end, so besides the events' data_version the
validator covers the RSVPs (seats_version) and the current minute: at most one render per
listing and minute, one cheap fingerprint query pair per read, the same bound on staleness as
the list page's cache. The ETag is a hash of the bytes, so a re-render that changes nothing
keeps answering 304s; Last-Modified is conservative (never earlier than a real change).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import Session

from events_app.models import utcnow
from events_app.services import events as event_service
from events_app.services import rsvp as rsvp_service
from events_app.services.feeds import FeedCache, RenderedFeed

cache = FeedCache(max_entries=256)


def _as_datetime(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC) if iso else datetime.min.replace(tzinfo=UTC)


def rendered(session: Session, key: str, render: Callable[[], bytes],
             now: datetime | None = None) -> RenderedFeed:
    now = (now or utcnow()).astimezone(UTC)
    minute = now.replace(second=0, microsecond=0)
    events_version = event_service.data_version(session)
    seats_version = rsvp_service.seats_version(session)
    last_modified = max(_as_datetime(events_version[0]), _as_datetime(seats_version[0]), minute)
    return cache.get(key, (events_version, seats_version, minute), last_modified, render)
