"""Which events' seats a cached public render showed, so the render can outlive RSVPs to
other events (services/listing_cache.py).

A render of a cached page (list, detail, API JSON, ...) counts seats through `seat_counts_for`
/ `seat_counts` here, not services/rsvp.py's directly: while listing_cache collects (around a
render), each call first reads the per-event seats state of the events it counts
(data_version.seats_of, on the render's session so SQLite reads both from one snapshot) and
then counts. The state read *before* the counts means the counts are at least as new as it:
while `data_version.still(states)` holds, the counts shown are still right.

A render that never calls these collected nothing and is kept by the site-wide seats version
as before; so the safe default for a page that counts seats some other way is "not eligible".
Pages that show no seats at all say so with `none_shown()`.
Outside a collecting render (an RSVP form coming back with messages, the organizer pages),
these only count.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from sqlmodel import Session

from events_app.models import Event
from events_app.services import data_version
from events_app.services.data_version import EventSeats
from events_app.services.rsvp import SeatCounts
from events_app.services.rsvp import seat_counts_for as _count_for


class Shown:
    """What one render reported: `states` (one per counting call), or `eligible` False when
    it reported nothing (then its entry depends on the site-wide seats version)."""

    def __init__(self) -> None:
        self.states: list[EventSeats] = []
        self.eligible = False


# What the render running in this context reported; None when nobody collects.
_shown: ContextVar[Shown | None] = ContextVar("shown_seats", default=None)


@contextmanager
def collecting() -> Iterator[Shown]:
    """Collect what the render run inside the block reports (same thread: renders are
    synchronous)."""
    shown = Shown()
    token = _shown.set(shown)
    try:
        yield shown
    finally:
        _shown.reset(token)


def seat_counts_for(session: Session, events: Sequence[Event],
                    now: datetime | None = None) -> dict[int, SeatCounts]:
    """rsvp.seat_counts_for, reporting the events' seats state (read first) to a collecting
    render."""
    shown = _shown.get()
    if shown is not None:
        shown.states.append(data_version.seats_of(
            (e.id for e in events if e.id is not None), session))
        shown.eligible = True
    return _count_for(session, events, now)


def seat_counts(session: Session, event: Event, now: datetime | None = None) -> SeatCounts:
    """rsvp.seat_counts, reporting like `seat_counts_for`."""
    if event.id is None:
        raise ValueError("seats are counted for stored events only")
    return seat_counts_for(session, [event], now)[event.id]


def none_shown() -> None:
    """For a render that shows no seats at all (a feed of titles and times): RSVPs never
    make it stale."""
    shown = _shown.get()
    if shown is not None:
        shown.eligible = True
