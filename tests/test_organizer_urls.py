"""Organizer URLs come from the named route table: templates use `url_for`, redirects use
`path_for`/`redirect_to`. So every link and form on the organizer pages must land on a route
that takes it, and no template spells out an organizer path by hand."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from starlette.routing import Match
from starlette.testclient import TestClient

from events_app import settings
from events_app.db import write_session
from events_app.models import EventHost, utcnow
from events_app.services import series
from events_app.services.event_form import parse_event_form
from events_app.services.series_rules import Rule
from events_app.web.app import create_app
from tests.factories import make_event, make_rsvp
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    csrf_token,
    login,
    make_organizer,
    organizer_routes,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_passwords")

ROUTES = organizer_routes()
_LINK = re.compile(r'<a\b[^>]*\bhref="([^"]+)"')
_FORM = re.compile(r'<form\b([^>]*)>')


def _route_for(path: str, method: str) -> str | None:
    scope = {"type": "http", "path": path, "method": method}
    for route in ROUTES:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return route.name
    return None


def _targets(html: str) -> list[tuple[str, str]]:
    """(method, url) of every link and form on a page."""
    found = [("GET", unescape(h)) for h in _LINK.findall(html)]
    for attrs in _FORM.findall(html):
        action = re.search(r'\baction="([^"]*)"', attrs)
        method = re.search(r'\bmethod="([^"]*)"', attrs)
        found.append(((method.group(1) if method else "get").upper(),
                      unescape(action.group(1)) if action else ""))
    return found


def test_no_organizer_template_builds_organizer_paths_by_hand() -> None:
    for path in sorted((settings.TEMPLATES_DIR / "organizer").glob("*.html")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""["'{}]\s*/organizer""", text), \
            f"{path.name}: use url_for('<route name>', ...) for organizer URLs"


def test_every_link_and_form_lands_on_a_route_that_takes_it(db_url: str) -> None:
    admin = make_organizer("admin@example.org", "Ada Admin", admin=True)
    other = make_organizer("olga@example.org", "Olga Organizer")
    event = make_event(owner_id=admin.id, capacity=2, title="Town hall")
    with write_session() as s:
        s.add(EventHost(event_id=event.id, organizer_id=other.id))
    make_rsvp(event, "Ann", "ann@example.org", guests=1)
    waiting = make_rsvp(event, "Walt", "walt@example.org", status="waitlisted")
    make_event(owner_id=other.id, title="Draft briefing", status="draft")  # offers "Publish"
    make_event(owner_id=other.id, title="Called off", status="cancelled")  # offers "Undo"
    # A short series: its page, and the forms to skip, change, publish and duplicate it.
    start = (utcnow() + timedelta(days=7)).astimezone(ZoneInfo("America/Chicago"))
    series.new_series(admin, parse_event_form({
        "title": "Weekly call", "category": "call", "timezone": "America/Chicago",
        "start_date": start.date().isoformat(), "start_time": "18:00", "max_guests": "0"}),
        Rule("weekly", count=3), publish=True)

    reached: set[str] = set()
    with TestClient(create_app()) as c:
        assert login(c, "admin@example.org").status_code == 303
        token = csrf_token(c, "/organizer/")
        queue, seen = ["/organizer/"], set()
        pages = []
        while queue:  # crawl every organizer page reachable by links
            url = queue.pop()
            if url in seen:
                continue
            seen.add(url)
            r = c.get(url)
            assert r.status_code == 200, url
            if r.headers["content-type"].startswith("text/html"):
                pages.append((url, r.text))
                for method, target in _targets(r.text):
                    path = urlsplit(target).path
                    if method == "GET" and path.startswith("/organizer") and \
                            "logged_out" not in target:
                        queue.append(urlsplit(target)._replace(scheme="", netloc="",
                                                               fragment="").geturl())
        # Pages only reached by POSTing: the confirm-over-capacity and remove steps.
        for action in ("confirm", "remove"):
            r = post(c, f"/organizer/events/{event.slug}/attendees/{waiting.id}/{action}",
                     token=token)
            assert r.status_code == 200, action
            pages.append((action, r.text))

        for url, html in pages:
            for method, target in _targets(html):
                parts = urlsplit(target)
                if not parts.path.startswith("/organizer"):
                    continue
                assert parts.netloc in ("", "testserver"), (url, target)
                name = _route_for(parts.path, method)
                assert name is not None, f"{url}: {method} {target} matches no route"
                reached.add(name)

    # The crawl saw the whole table (signed-in pages never link to the sign-in pages, nor to
    # the signed-out ones: forgot password, and the e-mailed invitation and reset links).
    assert {r.name for r in ROUTES} - reached <= {
        "organizer:login", "organizer:login_code", "organizer:forgot_password",
        "organizer:accept_invitation", "organizer:reset_password"}, \
        {r.name for r in ROUTES} - reached


def test_redirects_are_relative_named_routes(db_url: str) -> None:
    """Location never echoes the Host header the client sent."""
    owner = make_organizer("olga@example.org", "Olga Organizer")
    event = make_event(owner_id=owner.id)
    ann = make_rsvp(event, "Ann", "ann@example.org")
    with TestClient(create_app(), base_url="http://evil.example") as c:
        # A Host outside ALLOWED_HOSTS is refused before any page or link is built.
        assert c.get("/organizer/audit", follow_redirects=False).status_code == 400
    # Another allowed name (tests run with a local BASE_URL) must not leak into Location.
    with TestClient(create_app(), base_url="http://localhost") as c:
        r = c.get("/organizer/audit", follow_redirects=False)
        assert r.headers["location"] == "/organizer/login?next=%2Forganizer%2Faudit"
        assert login(c, "olga@example.org").status_code == 303
        r = post(c, f"/organizer/events/{event.slug}/attendees/{ann.id}/check-in",
                 {"here": "1", "q": "ann", "sort": "status"}, token=csrf_token(c, "/organizer/"))
        assert r.headers["location"] == \
            f"/organizer/events/{event.slug}/attendees?q=ann&sort=status#rsvp-{ann.id}"
        r = post(c, f"/organizer/events/{event.slug}/duplicate",
                 token=csrf_token(c, "/organizer/"))
        assert re.fullmatch(r"/organizer/events/[a-z0-9-]+/edit", r.headers["location"])
        r = post(c, "/organizer/logout", token=csrf_token(c, "/organizer/"))
        assert r.headers["location"] == "/organizer/login?logged_out=1"
