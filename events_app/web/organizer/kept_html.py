"""Parts of organizer pages rendered once and kept in this process, so a page opened again
with nothing changed costs no query but the sign-in's and the access check's.

What is kept is organizer-private (events they manage, attendees' names and addresses): it
lives here, in its own store, apart from every public cache, and each key starts with the
organizer's id and role (`key`), so one organizer's page can never answer another's request.
A part that carries a form's CSRF token has the token in its key too (one session's).

An entry is valid for:
- the data version (services/data_version.py), read by `key` *before* the data is: any write
  to events, series or site settings (kind "events"), organizers or co-hosts (owner names and
  who may see what, "workspace") changes it;
- the RSVPs of the events it shows, and only those: the state `render` read of them
  (data_version.seats_of, after reading which events, before reading their RSVPs), checked
  again on every use. An RSVP to another event leaves the entry kept; the site-wide "seats"
  version, which every RSVP anywhere changes, is not part of the key;
- the clock: until the moment its `render` named (`datetime.max` when time changes nothing);
- the language, and whatever the caller adds (search, filters, page numbers).
Writes are frequent where pages change often (check-ins at the door): then this is just a
miss, and the render is what it would have been.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup

from events_app import i18n
from events_app.db import get_engine
from events_app.models import Organizer, utcnow
from events_app.services import access, data_version
from events_app.util.lru import LruCache

# A dashboard's lists are 30-70 KB, a 50-row attendee page 80 KB: some 100 parts per process.
MAX_BYTES = 8 * 1024 * 1024

Key = tuple[Hashable, ...]


@dataclass(frozen=True)
class Part:
    """A rendered part: its HTML, until when the clock alone leaves it right, and the state
    of the RSVPs it shows (one per group of events read together; empty: it shows none)."""

    html: str
    until: datetime
    seats: tuple[data_version.EventSeats, ...] = ()

    def fresh(self) -> bool:
        return utcnow() < self.until and data_version.still(self.seats)


_store: LruCache[Key, Part] = LruCache(
    max_entries=1024, max_weight=MAX_BYTES, weigh=lambda part: len(part.html))


def key(me: Organizer, what: str, *parts: Hashable) -> Key:
    """The key of part `what` of a page for `me`: organizer, role, language and data version
    (read now, before the caller reads the data it renders), then the caller's `parts`."""
    version = data_version.current(get_engine())
    return (me.id, access.is_admin(me), i18n.current(), version.events, version.workspace,
            what, *parts)


def kept(key: Key, render: Callable[[], Part]) -> Markup:
    """The part kept under `key` while it is fresh (the clock, its events' RSVPs), else
    `render()`ed and kept."""
    found = _store.get(key)
    if found is None or not found.fresh():
        found = render()
        _store.put(key, found)
    return Markup(found.html)  # noqa: S704 - our own template's output, escaped there


def forget() -> None:
    """Drop every kept part (the in-process bench's figures for a page rendered afresh)."""
    _store.clear()
