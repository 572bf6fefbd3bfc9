"""The organizer workspace's share of the start-up warm-up (web/warm_up.py).

A worker's first dashboard took 100-130 ms and its first 5,000-RSVP attendee page 70-140 ms
(bench/organizer_cold.py, PostgreSQL, 100,000 events), against ~40 and ~18 ms for the same
pages rendered afresh later: about half of it compiling the eight templates those pages use,
the rest the first build and compile of their statements, the first pass through the sign-in
gate, and the dashboard's costliest query (`dashboard._earliest_unfinished`, kept per data
version). In a served app with several workers the first of these lands on whichever worker
the organizer's connection reaches, not the one that served the sign-in.

So at start-up, after the public pages: the templates of the pages an organizer opens first
are compiled, and those pages are requested through the whole stack for `nobody`, an
organizer who exists only in this request (never stored; id 0, which no row has) and
manages no event. The dashboard renders their empty lists (its statements, the gate, the
page's frame); the attendee page answers 404, as for any event not theirs (the event lookup),
and its list's queries are then run for an event that is no row. What they render is dropped
afterwards: nothing of it is kept, and no attendee's data is read.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from events_app import urls
from events_app.db import read_session
from events_app.models import Event, Organizer, Role, utcnow
from events_app.services import attendees
from events_app.web import templating
from events_app.web.organizer import kept_html

# The pages an organizer opens first (sign-in, dashboard, attendees), and the fragments
# their handlers render apart.
TEMPLATES = ["organizer/login.html", "organizer/dashboard.html",
             "organizer/_dashboard_lists.html", "organizer/attendees.html",
             "organizer/_attendee_list.html"]
PATHS = [f"{urls.ORGANIZER}/", f"{urls.ORGANIZER}/events/warm-up/attendees"]

Get = Callable[[str, dict[str, Any]], Awaitable[tuple[int, bytes]]]


def nobody() -> Organizer:
    """A signed-in organizer for the warm-up's requests only: no row, no event, no session
    (web/auth.current_organizer takes a request's organizer from its state, which only code in
    this process can set). With two-factor on, so the pages are reached where the site
    requires it too, rather than the enrolment redirect."""
    return Organizer(id=0, email="warm-up@invalid", name="Warm-up", password_hash="",
                     role=Role.ORGANIZER.value, is_active=True, totp_secret=secrets.token_hex(16),
                     totp_enabled_at=utcnow())


def attendee_queries() -> None:
    """The attendee list's statements (a page, the counts), built and compiled once for an
    event that is no row (id 0: no RSVP is on it), as nobody's 404 never reaches them.
    Blocks on the database: thread pool."""
    nowhere = Event(id=0, slug="", title="", capacity=None)
    with read_session() as session:
        attendees.attendee_page(session, nowhere, attendees.AttendeeQuery())
        attendees.counts(session, nowhere)


async def warm_up(get: Get) -> None:
    """Compile the templates, `get` each page as `nobody` (`get(path, scope_state)`), then
    run the attendee list's queries."""
    templating.compile_templates(TEMPLATES)
    try:
        for path in PATHS:
            await get(path, {"organizer": nobody()})
    finally:
        kept_html.forget()  # nobody's empty lists: nothing anyone can ask for again
    await run_in_threadpool(attendee_queries)
