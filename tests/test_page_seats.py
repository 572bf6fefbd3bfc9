"""Cached public pages under RSVPs (services/listing_cache.py, services/shown_seats.py): an RSVP
to an event makes every cached page showing its spots left fresh (at once in this process,
within CHECK_INTERVAL in another), and an RSVP to an event a page does not show keeps that
page's entry: no render, and the fast path serves it again."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlmodel import Session

from events_app.db import make_engine, write_session
from events_app.models import Event, Rsvp
from events_app.services import data_version, listing_cache
from events_app.services.feeds import make_etag
from tests.factories import make_event, make_rsvp, queries_run

# The validator's minute, held still: a test that crossed a minute would re-render for the
# clock, not for an RSVP.
MINUTE = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _one_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing_cache, "_minute", lambda _now: MINUTE)


def _get(client, path: str):
    """A new visitor's request (no cookie: an organizer's would bypass the cache)."""
    client.cookies.clear()
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response


def _pages(event: Event) -> dict[str, str]:
    """The cached pages that show `event`'s spots left, by name: its page, a list showing it
    (and no other event), its API JSON and an API list showing it."""
    return {"detail": f"/events/{event.slug}", "list": f"/events?q={event.title.split()[0]}",
            "api": f"/api/v1/events/{event.slug}",
            "api-list": f"/api/v1/events?q={event.title.split()[0]}"}


def _spots(client, name: str, path: str) -> int | None:
    """The spots left a page shows for its one event."""
    response = _get(client, path)
    if name.startswith("api"):
        data = response.json()
        return (data["events"][0] if name == "api-list" else data)["spots_left"]
    found = re.search(r"(\d+) (?:of \d+ )?spots? left", response.text)
    return int(found.group(1)) if found else None


def _shared(client, path: str) -> bytes:
    """The page's bytes but the visitor's own form token (web/token_pages.py)."""
    return re.sub(rb'name="csrf_token" value="[^"]*"', b"", _get(client, path).content)


def _rsvp_elsewhere(db_url: str, event_id: int | None, email: str) -> None:
    """An RSVP written by another process: a second engine, with its own pool and its own view
    of the data version, which tells this process nothing."""
    elsewhere = make_engine(db_url)
    try:
        with Session(elsewhere) as session:
            session.add(Rsvp(event_id=event_id or 0, name="Far Away", email=email))
            session.commit()
    finally:
        elsewhere.dispose()


def _events() -> tuple[Event, Event]:
    mine = make_event(title="Vigil outside the town hall", capacity=10)
    other = make_event(title="Rally at the harbour", capacity=10)
    return mine, other


def test_an_rsvp_to_the_event_makes_its_pages_fresh_at_once(client) -> None:
    mine, _other = _events()
    pages = _pages(mine)
    assert {name: _spots(client, name, path) for name, path in pages.items()} == dict.fromkeys(
        pages, 10)
    make_rsvp(mine, email="ann@example.org", guests=2)
    assert {name: _spots(client, name, path) for name, path in pages.items()} == dict.fromkeys(
        pages, 7)


def test_an_rsvp_to_another_event_keeps_the_entries(client) -> None:
    mine, other = _events()
    pages = _pages(mine)
    first = {name: _shared(client, path) for name, path in pages.items()}
    renders = listing_cache.cache.renders
    make_rsvp(other, email="bo@example.org")
    again = {name: _shared(client, path) for name, path in pages.items()}
    assert again == first
    assert listing_cache.cache.renders == renders  # kept: nothing rendered again
    with queries_run() as seen:  # re-stamped under the new version: hits without a query
        assert {name: _shared(client, path) for name, path in pages.items()} == first
    assert seen == []
    # And the event's own RSVP still makes them fresh.
    make_rsvp(mine, email="cy@example.org")
    assert {name: _spots(client, name, path) for name, path in pages.items()} == dict.fromkeys(
        pages, 9)


def test_a_page_showing_both_events_is_rendered_again(client) -> None:
    mine, other = _events()
    _get(client, "/events")
    renders = listing_cache.cache.renders
    make_rsvp(other, email="bo@example.org", guests=4)
    html = _get(client, "/events").text
    assert listing_cache.cache.renders == renders + 1
    assert re.search(r"\b5 (of 10 )?spots left", html)
    assert re.search(r"\b10 (of 10 )?spots left", html)


def test_an_rsvp_elsewhere_makes_the_pages_fresh_within_the_check_interval(
        client, db_url, monkeypatch) -> None:
    monkeypatch.setattr(data_version, "CHECK_INTERVAL", 0.5)
    mine, other = _events()
    pages = _pages(mine)
    for name, path in pages.items():
        assert _spots(client, name, path) == 10
    renders = listing_cache.cache.renders
    _rsvp_elsewhere(db_url, other.id, "far@example.org")  # not shown on these pages
    time.sleep(0.6)
    for name, path in pages.items():
        assert _spots(client, name, path) == 10
    assert listing_cache.cache.renders == renders
    _rsvp_elsewhere(db_url, mine.id, "near@example.org")
    time.sleep(0.6)
    assert {name: _spots(client, name, path) for name, path in pages.items()} == dict.fromkeys(
        pages, 9)


def test_an_rsvp_to_events_not_known_makes_every_page_fresh(client) -> None:
    """A write to RSVPs that cannot tell its events (an UPDATE with a WHERE clause) changes
    every event's state: no page is kept through it."""
    mine, _other = _events()
    row = make_rsvp(mine, email="ann@example.org")
    pages = _pages(mine)
    assert all(_spots(client, name, path) == 9 for name, path in pages.items())
    with write_session() as session:
        session.execute(update(Rsvp).where(Rsvp.id == row.id).values(guests=3))
    assert {name: _spots(client, name, path) for name, path in pages.items()} == dict.fromkeys(
        pages, 6)


def test_pages_without_spots_left_are_kept_through_any_rsvp(client) -> None:
    """The month grid, the embed, Atom, the category and city counts and the legacy list show
    no seats (shown_seats.none_shown): no RSVP renders them again, an event's edit does."""
    mine, _other = _events()
    month = mine.starts_at.strftime("%Y-%m")
    paths = [f"/events/month/{month}", "/embed/upcoming", "/events.atom",
             "/api/v1/categories", "/api/v1/cities", "/api/events"]
    first = {path: _get(client, path).content for path in paths}
    renders = listing_cache.cache.renders
    make_rsvp(mine, email="ann@example.org")
    with write_session() as session:  # RSVPs of events not known: every event's state
        session.execute(update(Rsvp).where(Rsvp.event_id == mine.id).values(guests=1))
    assert {path: _get(client, path).content for path in paths} == first
    assert listing_cache.cache.renders == renders
    make_event(title="Teach-in at the library")
    assert all(b"Teach-in" in _get(client, path).content for path in paths[:3])
    assert listing_cache.cache.renders > renders


def test_a_kept_entry_keeps_its_etag_a_hash_of_its_bytes(client) -> None:
    """A kept API answer still answers 304 to the tag it gave; a fresh one gets a new tag,
    the hash of its new bytes."""
    mine, other = _events()
    path = f"/api/v1/events/{mine.slug}"
    plain = {"Accept-Encoding": "identity"}  # the tag of the bytes, not of a gzip copy
    client.cookies.clear()
    first = client.get(path, headers=plain)
    tag = first.headers["etag"]
    assert tag == make_etag(first.content)
    make_rsvp(other, email="bo@example.org")
    client.cookies.clear()
    assert client.get(path, headers={**plain, "If-None-Match": tag}).status_code == 304
    make_rsvp(mine, email="cy@example.org")
    client.cookies.clear()
    fresh = client.get(path, headers={**plain, "If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.json()["spots_left"] == 9
    assert fresh.headers["etag"] == make_etag(fresh.content) != tag
