"""The organizer dashboard's lists (Today, Upcoming, Past), rendered once and kept per
organizer, so a dashboard opened again with nothing changed costs no query but the sign-in's.

Rendering those lists was most of the dashboard's time (three queries over the organizer's
events, the seat counts, 50 table rows). They are organizer-private: the entries live here,
in this process, apart from every public cache, and each key starts with the organizer's id
and role, so one organizer's lists can never answer another's request.

An entry is valid for:
- the data version (services/data_version.py) read *before* the lists' data: any write to
  events, series, site settings (kind "events"), RSVPs (the seat counts, kind "seats"),
  organizers or co-hosts (owner names and who may see what, kind "workspace") changes it;
- the clock: until `dashboard.next_change`, the next moment an event ends or the day turns,
  when lists move by time alone;
- the language, the search and the two page numbers of the request.
What is the request's own (the CSRF token of the sign-out form, flash messages) is in the page
around the lists, rendered every time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup
from starlette.requests import Request

from events_app import i18n
from events_app.db import get_engine, read_session
from events_app.models import Organizer, utcnow
from events_app.services import access, dashboard, data_version
from events_app.util.lru import LruCache
from events_app.web.templating import render_fragment

MAX_BYTES = 4 * 1024 * 1024  # a dashboard's lists are 30-70 KB: some 60-130 kept per process

Key = tuple[Any, ...]
_entries: LruCache[Key, tuple[datetime, str]] = LruCache(
    max_entries=512, max_weight=MAX_BYTES, weigh=lambda entry: len(entry[1]))


def lists(request: Request, me: Organizer, q: str, page: int, past_page: int) -> Markup:
    """The lists' HTML for `me`: kept, or read and rendered (in the thread pool; the session
    is closed before rendering starts)."""
    version = data_version.current(get_engine())  # before the data it will stand for
    is_admin = access.is_admin(me)
    key = (me.id, is_admin, i18n.current(), q, page, past_page,
           version.events, version.seats, version.workspace)
    now = utcnow()
    found = _entries.get(key)
    if found is not None and now < found[0]:
        return Markup(found[1])  # noqa: S704 - our own template's output, escaped there
    with read_session() as session:
        today = [] if q else dashboard.today(session, me, now)
        upcoming = dashboard.section(session, me, "upcoming", page, now, q=q)
        past = dashboard.section(session, me, "past", past_page, now, q=q)
        until = dashboard.next_change(session, now)
    html = render_fragment(request, "organizer/_dashboard_lists.html", {
        "q": q, "today": today, "upcoming": upcoming, "past": past, "is_admin": is_admin})
    _entries.put(key, (until, html))
    return Markup(html)  # noqa: S704 - as above

