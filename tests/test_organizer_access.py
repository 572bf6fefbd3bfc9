"""Access control for every organizer route, generated from the route table.

Each route declares who may use it (`requires("login" | "event" | "admin")`). For every route
and method this checks five visitors: anonymous (sent to the login page, nothing changes),
another organizer (404 for events, 403 for admin pages, nothing changes), the owner and a
co-host (allowed on their event, 403 on admin pages), and an admin (allowed everywhere). It
also checks that POSTs without a CSRF token are refused even for the owner.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select
from starlette.routing import Route
from starlette.testclient import TestClient

from events_app.db import read_session, write_session
from events_app.models import AuditLog, Event, EventHost, Organizer, Outbox, Rsvp
from events_app.services.event_form import form_values
from events_app.web.app import create_app
from tests.factories import make_event, make_rsvp
from tests.fuzz_support import app_routes
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    csrf_token,
    login,
    make_organizer,
    organizer_routes,
)

pytestmark = pytest.mark.usefixtures("cheap_passwords")

ORGANIZER_ROUTES = organizer_routes()
PUBLIC_ROUTES = {"organizer:login", "organizer:login_code", "organizer:logout",
                 # the e-mailed one-time links and "forgot password" (tests/test_account_links.py)
                 "organizer:forgot_password", "organizer:accept_invitation",
                 "organizer:reset_password"}


def _cases() -> list[tuple[Route, str]]:
    cases = []
    for route in ORGANIZER_ROUTES:
        if route.name in PUBLIC_ROUTES:
            continue
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            cases.append((route, method))
    return cases


CASES = _cases()


def test_every_organizer_route_declares_who_may_use_it() -> None:
    app = create_app()
    app_paths = {r.path for r in app_routes(app.routes) if r.path.startswith("/organizer")}
    assert app_paths == {r.path for r in ORGANIZER_ROUTES}, "organizer route not in the table"
    for route in ORGANIZER_ROUTES:
        kind = getattr(route.endpoint, "access_kind", None)
        assert kind in ("public", "login", "event", "admin"), route.path
        if kind == "public":
            assert route.name in PUBLIC_ROUTES, f"{route.path} is public by mistake"
        if "{slug" in route.path:
            assert kind == "event", f"{route.path} takes an event but is not 'event' access"
    # Guard against the table shrinking unnoticed (e.g. a module's routes dropped).
    assert len(CASES) >= 15


class World:
    """Accounts and signed-in clients for one database."""

    def __init__(self) -> None:
        self.owner = make_organizer("owner@example.org", "Olga Owner")
        self.cohost = make_organizer("cohost@example.org", "Carl Cohost")
        self.other = make_organizer("other@example.org", "Otto Other")
        self.admin = make_organizer("admin@example.org", "Ada Admin", admin=True)
        self.target = make_organizer("target@example.org", "Tina Target")
        self.clients: dict[str, TestClient] = {}
        for role in ("anonymous", "other", "owner", "cohost", "admin"):
            c = TestClient(create_app())
            c.__enter__()
            if role != "anonymous":
                assert login(c, f"{role}@example.org").status_code == 303
            self.clients[role] = c
        self.tokens = {role: csrf_token(c) for role, c in self.clients.items()}

    def close(self) -> None:
        for c in self.clients.values():
            c.__exit__(None, None, None)

    def fresh_event(self) -> tuple[Event, Rsvp, Rsvp]:
        event = make_event(owner_id=self.owner.id, capacity=10)
        with write_session() as s:
            s.add(EventHost(event_id=event.id, organizer_id=self.cohost.id))
        confirmed = make_rsvp(event, "Connie Confirmed", "connie@example.org", guests=1)
        waiting = make_rsvp(event, "Walt Waiting", "walt@example.org", status="waitlisted")
        return event, confirmed, waiting


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    w = World()
    yield w
    w.close()


def _url(route: Route, world: World, event: Event, rsvp: Rsvp) -> str:
    params: dict[str, Any] = {}
    for name in route.param_convertors:
        params[name] = {"slug": event.slug, "rsvp_id": rsvp.id,
                        "organizer_id": world.target.id}[name]
    return route.url_path_for(route.name, **params)


def _form(route: Route, world: World, event: Event) -> dict[str, str]:
    """A plausible form for the route, so allowed requests do real work."""
    with read_session() as s:
        current = s.get(Event, event.id)
        assert current is not None
        values = form_values(current)
    samples = {
        "organizer:edit_event": {**values, "summary": "Changed summary"},
        "organizer:new_event": {**values, "title": "Brand new"},
        "organizer:cancel_event": {"message": "Sorry, rained out."},
        "organizer:check_in": {"here": "1"},
        "organizer:accounts": {"name": "New Person", "email": "new.person@example.org",
                               "password": "a good long password"},
        "organizer:account_update": {"action": "make_admin"},
        "organizer:account": {"current_password": "wrong", "new_password": "x",
                              "confirm_password": "x"},
        "organizer:two_factor": {"action": "confirm", "code": "000000"},
    }
    return samples.get(route.name or "", {})


def _snapshot() -> tuple[Any, ...]:
    """Everything an organizer action could change."""
    with read_session() as s:
        return tuple(
            sorted(repr(sorted(row.model_dump().items())) for row in s.exec(select(model)).all())
            for model in (Event, Rsvp, Organizer, EventHost, Outbox, AuditLog)
        )


def _attempt(world: World, role: str, route: Route, method: str,
             with_csrf: bool = True) -> tuple[Any, str, bool]:
    """Make the request against a fresh event; returns (response, url, changed anything)."""
    event, confirmed, waiting = world.fresh_event()
    rsvp = waiting if route.name and "confirm" in route.name else confirmed
    url = _url(route, world, event, rsvp)
    client = world.clients[role]
    before = _snapshot()
    if method == "GET":
        r = client.get(url, follow_redirects=False)
    else:
        data = _form(route, world, event)
        if with_csrf:
            data["csrf_token"] = world.tokens[role]
        r = client.request(method, url, data=data, follow_redirects=False)
    return r, url, _snapshot() != before


def _is_login_redirect(r: Any) -> bool:
    return r.status_code == 303 and urlsplit(r.headers["location"]).path == "/organizer/login"


ALLOWED = (200, 303, 422)


@pytest.mark.parametrize("route,method", CASES, ids=[f"{m} {r.path}" for r, m in CASES])
def test_route_access(world: World, route: Route, method: str) -> None:
    kind = route.endpoint.access_kind  # type: ignore[attr-defined]

    # Anonymous: sent to the login page (a GET with `next` back here); nothing changes.
    r, url, changed = _attempt(world, "anonymous", route, method)
    assert _is_login_redirect(r), (r.status_code, r.headers.get("location"))
    assert not changed
    if method == "GET":
        assert parse_qs(urlsplit(r.headers["location"]).query)["next"] == [url]

    # Another organizer: the event does not exist for them; admin pages are forbidden.
    r, _, changed = _attempt(world, "other", route, method)
    if kind == "event":
        assert r.status_code == 404, r.text[:300]
        assert "connie@example.org" not in r.text
        assert not changed
    elif kind == "admin":
        assert r.status_code == 403
        assert not changed
    else:
        assert r.status_code in ALLOWED, r.status_code

    # Owner and co-host: allowed on their event; admin pages still forbidden.
    for role in ("owner", "cohost"):
        r, _, changed = _attempt(world, role, route, method)
        if kind == "admin":
            assert r.status_code == 403, role
            assert not changed
        else:
            assert r.status_code in ALLOWED, (role, r.status_code, r.text[:500])
            assert not _is_login_redirect(r)

    # Admin: allowed everywhere.
    r, _, _ = _attempt(world, "admin", route, method)
    assert r.status_code in ALLOWED, (r.status_code, r.text[:500])
    assert not _is_login_redirect(r)

    # A POST without its CSRF token is refused, even for someone allowed, and changes nothing.
    if method == "POST":
        r, _, changed = _attempt(world, "admin" if kind == "admin" else "owner", route, method,
                                 with_csrf=False)
        assert r.status_code == 403
        assert not changed


def test_csv_and_actions_of_another_organizers_event_are_404(world: World) -> None:
    """Spelled out for the most sensitive routes, besides the generated cases above."""
    event, confirmed, _ = world.fresh_event()
    other = world.clients["other"]
    csv = other.get(f"/organizer/events/{event.slug}/attendees.csv")
    assert csv.status_code == 404 and "connie@example.org" not in csv.text
    r = other.post(f"/organizer/events/{event.slug}/attendees/{confirmed.id}/check-in",
                   data={"csrf_token": world.tokens["other"], "here": "1"},
                   headers={"accept": "application/json"})
    assert r.status_code == 404
    with read_session() as s:
        assert s.get(Rsvp, confirmed.id).checked_in_at is None  # type: ignore[union-attr]


def test_rsvp_ids_from_another_event_are_404(world: World) -> None:
    mine, _, _ = world.fresh_event()
    theirs = make_event(owner_id=world.other.id)
    stranger = make_rsvp(theirs, "Stranger", "stranger@example.org")
    r = world.clients["owner"].post(
        f"/organizer/events/{mine.slug}/attendees/{stranger.id}/check-in",
        data={"csrf_token": world.tokens["owner"], "here": "1"}, follow_redirects=False)
    assert r.status_code == 404
    with read_session() as s:
        assert s.get(Rsvp, stranger.id).checked_in_at is None  # type: ignore[union-attr]


def test_dashboard_lists_only_manageable_events(world: World) -> None:
    mine, _, _ = world.fresh_event()
    theirs = make_event(owner_id=world.other.id, title="Their secret draft", status="draft")
    titles = {}
    for role in ("owner", "cohost", "other", "admin"):
        html = world.clients[role].get("/organizer/").text
        titles[role] = set(re.findall(r'href="[^"]*/organizer/events/([^/"]+)/edit"', html))
    assert titles["owner"] == titles["cohost"] == {mine.slug}
    assert titles["other"] == {theirs.slug}
    assert titles["admin"] == {mine.slug, theirs.slug}


@pytest.mark.parametrize("path", [
    "/organizer/events/{slug}/attendees/99999999999999999999/check-in",
    "/organizer/events/{slug}/attendees/2147483648/remove",
    "/organizer/events/{slug}/attendees/0/confirm",
    "/organizer/organizers/99999999999999999999",
])
def test_out_of_range_ids_are_404_not_500(world: World, path: str) -> None:
    event, _, _ = world.fresh_event()
    r = world.clients["admin"].post(path.format(slug=event.slug),
                                    data={"csrf_token": world.tokens["admin"], "here": "1",
                                          "action": "activate"},
                                    follow_redirects=False)
    assert r.status_code == 404


def test_nul_bytes_in_urls_and_forms_are_refused_not_500(world: World) -> None:
    """PostgreSQL refuses NUL in text; it must never get that far."""
    event, _, _ = world.fresh_event()
    admin, token = world.clients["admin"], world.tokens["admin"]
    assert admin.get("/organizer/events/a%00b/edit").status_code == 404
    assert admin.get(f"/organizer/events/{event.slug}/attendees?q=a%00b").status_code == 400
    assert admin.get("/organizer/audit?event=a%00b").status_code == 404
    for path, data in [
        (f"/organizer/events/{event.slug}/cancel", {"message": "x\x00y"}),
        (f"/organizer/events/{event.slug}/email", {"subject": "s\x00", "body": "b"}),
        ("/organizer/organizers", {"name": "N\x00", "email": "n\x00@example.org",
                                   "password": "long enough password"}),
    ]:
        r = admin.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
        assert r.status_code == 422, path
    with TestClient(create_app()) as anonymous:
        r = login(anonymous, "owner\x00@example.org")
        assert r.status_code == 422
    with read_session() as s:
        assert s.get(Event, event.id).status == "published"  # type: ignore[union-attr]
