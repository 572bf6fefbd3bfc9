"""Warm-up at start-up (web/warm_up.py): the served app sends itself the first requests
before it accepts connections, so a fresh worker's first visitors find pages rendered; a
failure never stops it starting."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from events_app import db
from events_app.db import read_session
from events_app.models import DataVersion, OrganizerSession
from events_app.services import feeds, listing_cache, site_settings, two_factor
from events_app.web.app import create_app
from events_app.web.organizer import kept_html
from events_app.web.templating import templates
from tests.factories import make_event, make_rsvp, queries_run
from tests.organizer_support import cheap_passwords, login, make_organizer  # noqa: F401


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    """A warm start freezes what is alive (warm_up.settle); the test process lives on, so
    its objects go back under the collector after each test."""
    yield
    gc.unfreeze()


@pytest.fixture(autouse=True)
def _one_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages are kept per minute (listing_cache): a test that crossed a minute boundary after
    start-up would see them rendered again, and its 'no query' check fail for the clock's
    sake. The cache's clock is held still for each test; what start-up rendered is the subject."""
    now = listing_cache.utcnow()
    monkeypatch.setattr(listing_cache, "utcnow", lambda: now)


def test_first_requests_after_start_up_are_answered_from_what_it_rendered(db_url) -> None:
    for cache in (listing_cache.cache, feeds.public_cache):
        cache.clear()
    event = make_event(title="Town hall")
    with TestClient(create_app(warm=True)) as client:
        assert feeds.public_cache.renders == 2  # the feed in each language
        with queries_run() as seen:
            for path in ("/events", "/calendar.ics", "/api/v1/events", "/events.atom",
                         f"/events/{event.slug}"):
                assert client.get(path).status_code == 200, path
        assert seen == []
    assert feeds.public_cache.renders == 2


def test_the_first_spanish_reader_after_start_up_finds_pages_rendered(db_url) -> None:
    """Warm-up asks in every language: a Spanish browser's pages and the Spanish feed (its
    URL names the language) cost no query either."""
    for cache in (listing_cache.cache, feeds.public_cache):
        cache.clear()
    event = make_event(title="Town hall")
    spanish = {"Accept-Language": "es-MX,es;q=0.9"}
    with TestClient(create_app(warm=True)) as client:
        assert feeds.public_cache.renders == 2  # once per language
        with queries_run() as seen:
            for path in ("/events", "/calendar.ics?lang=es", "/api/v1/events",
                         f"/events/{event.slug}"):
                page = client.get(path, headers=spanish)
                assert page.status_code == 200, path
                # Spanish indeed: the pages say so, and the feed's description is Spanish.
                assert page.headers.get("content-language") == "es" \
                    or "sesiones informativas sobre" in page.text, path
        assert seen == []
    assert feeds.public_cache.renders == 2


def test_the_list_filtered_by_the_first_events_category_and_city_is_rendered(db_url) -> None:
    for cache in (listing_cache.cache, feeds.public_cache):
        cache.clear()
    make_event(title="Town hall", category="rally", city="Chicago")
    with TestClient(create_app(warm=True)) as client, queries_run() as seen:
        page = client.get("/events?category=rally&city=Chicago")
        assert page.status_code == 200 and "Town hall" in page.text
    assert seen == []


def test_what_start_up_built_is_left_out_of_later_collections(db_url) -> None:
    gc.unfreeze()
    with TestClient(create_app(warm=True)) as client:
        assert gc.get_freeze_count() > 0  # modules, templates, the rendered pages' objects
        gc.collect()
        assert client.get("/events?q=town").status_code == 200
    gc.unfreeze()
    with TestClient(create_app()):
        assert gc.get_freeze_count() == 0  # a cold app (tests, tools) freezes nothing


def test_tests_and_tools_get_a_cold_app(db_url) -> None:
    feeds.public_cache.clear()
    with TestClient(create_app()):
        assert feeds.public_cache.renders == 0


def test_a_failed_warm_up_is_logged_and_the_app_starts(tmp_path, caplog) -> None:
    """An empty, unmigrated database: every warm-up request fails."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    db.set_engine(engine)
    try:
        with caplog.at_level(logging.WARNING, logger="events_app.web.warm_up"), \
                TestClient(create_app(warm=True), raise_server_exceptions=False) as client:
            assert client.get("/static/app.css").status_code == 200
        assert "warm-up failed" in caplog.text
    finally:
        db.set_engine(None)
        engine.dispose()


# --- the organizer workspace's share (web/organizer/warm.py) ---------------------------------

def _organizer_with_an_event() -> str:
    """An organizer owning an event with an RSVP; returns the event's slug."""
    owner = make_organizer("ada@example.org")
    event = make_event(title="Town hall", owner_id=owner.id)
    make_rsvp(event, name="Pat Member", email="pat@example.org")
    return event.slug


def test_an_organizers_first_pages_after_start_up_compile_no_template(
        db_url, cheap_passwords) -> None:  # noqa: F811 - the fixture
    slug = _organizer_with_an_event()
    with TestClient(create_app(warm=True)) as client:
        compiled = set(templates.env.cache.keys())  # type: ignore[union-attr]
        login(client, "ada@example.org")
        assert "Town hall" in client.get("/organizer/").text
        assert "Pat Member" in client.get(f"/organizer/events/{slug}/attendees").text
        assert set(templates.env.cache.keys()) - compiled == set()  # type: ignore[union-attr]


def test_the_organizer_warm_up_keeps_and_writes_nothing(db_url) -> None:
    """It asks as an organizer who is no row and manages nothing: no page of it is kept,
    no session or other row is written, and the workspace still wants a sign-in."""
    _organizer_with_an_event()
    with read_session() as session:
        versions = session.exec(select(DataVersion)).all()
    with TestClient(create_app(warm=True)) as client:
        assert len(kept_html._store) == 0
        with read_session() as session:
            assert session.exec(select(OrganizerSession)).all() == []
            assert session.exec(select(DataVersion)).all() == versions  # nothing written
        r = client.get("/organizer/", follow_redirects=False)
        assert r.status_code == 303 and "/organizer/login" in r.headers["location"]


def test_the_organizer_pages_are_warmed_where_the_site_requires_two_factor(db_url) -> None:
    """nobody passes the gate (not sent to enrolment): the pages' own queries run, such as
    the lookup of who co-hosts what."""
    with db.write_session() as session:
        site_settings.set_flag(session, two_factor.REQUIRED_SETTING, True)
    with queries_run() as seen, TestClient(create_app(warm=True)):
        pass
    assert [q for q in seen if "event_host" in q]
