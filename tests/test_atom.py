"""/events.atom: valid Atom 1.0 (parsed by feedparser and checked against RFC 4287's required
elements), the list page's filters, entries that change when events change, 304s, and the
autodiscovery link on the list page."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import feedparser

from events_app import settings
from events_app.db import write_session
from events_app.models import Event, EventStatus, utcnow
from tests.factories import make_event, make_rsvp

ATOM = "{http://www.w3.org/2005/Atom}"


def _parse(client, qs: str = ""):
    r = client.get(f"/events.atom{qs}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return r, feed


def test_valid_atom_with_required_elements(client) -> None:
    now = utcnow()
    make_event(slug="ohare", title="O'Hare <travel ban> protest & vigil", category="protest",
               host_name="Chicago Officials", summary="Meet at Terminal 5",
               description="Bring signs.\n\nWear orange.", starts_at=now + timedelta(days=1))
    make_event(slug="online", title="DACA call", venue_name="", city="",
               online_url="https://meet.example.org/daca", starts_at=now + timedelta(days=2))
    r, feed = _parse(client)
    root = ET.fromstring(r.content)
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{tag}") is not None, tag
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == f"{settings.BASE_URL}/events.atom"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        for tag in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{tag}").text, tag
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
    assert len({e.find(f"{ATOM}id").text for e in entries}) == 2
    first = feed.entries[0]
    assert first.title == "O'Hare <travel ban> protest & vigil"
    assert first.link == f"{settings.BASE_URL}/events/ohare"
    assert first.id.startswith("urn:uuid:")
    assert first.author == "Chicago Officials"
    assert first.tags[0].term == "protest"
    assert "Wear orange." in first.content[0].value and "Terminal 5" in first.summary
    assert "https://meet.example.org/daca" in feed.entries[1].content[0].value


def test_same_filters_as_the_list_page(client) -> None:
    now = utcnow()
    make_event(slug="p", title="Protest", category="protest", city="Chicago",
               starts_at=now + timedelta(days=1))
    make_event(slug="b", title="Briefing", category="briefing", city="Boston",
               starts_at=now + timedelta(days=1))
    make_event(slug="old", title="Old", category="protest", starts_at=now - timedelta(days=3))
    make_event(slug="d", title="Draft", status=EventStatus.DRAFT.value)

    def titles(qs: str) -> list[str]:
        return [e.title for e in _parse(client, qs)[1].entries]

    assert titles("") == ["Protest", "Briefing"]
    assert titles("?category=protest") == ["Protest"]
    assert titles("?city=boston") == ["Briefing"]
    assert titles("?q=brief") == ["Briefing"]
    assert titles("?when=past") == ["Old"]
    bad = client.get("/events.atom?from=soon")
    assert bad.status_code == 400


def test_entry_updated_and_cancellation_follow_the_event(client) -> None:
    e = make_event(slug="a", title="Town hall", starts_at=utcnow() + timedelta(days=3))
    r, feed = _parse(client)
    before = feed.entries[0].updated_parsed
    etag = r.headers["etag"]
    assert client.get("/events.atom", headers={"If-None-Match": etag}).status_code == 304
    with write_session() as s:
        row = s.get(Event, e.id)
        row.status, row.cancel_message = EventStatus.CANCELLED.value, "Venue closed"
        row.updated_at = utcnow() + timedelta(seconds=2)
    changed = client.get("/events.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    entry = feedparser.parse(changed.content).entries[0]
    assert entry.title == "Cancelled: Town hall"
    assert entry.updated_parsed > before
    assert "Venue closed" in entry.content[0].value


def test_no_attendee_data(client) -> None:
    e = make_event(slug="a", capacity=3)
    make_rsvp(e, name="Rosa Secret", email="rosa@example.org", phone="+1 555 0199")
    r, _ = _parse(client)
    for secret in ("Rosa Secret", "rosa@example.org", "555 0199"):
        assert secret not in r.text


def test_list_page_advertises_the_feed_for_its_filters(client) -> None:
    make_event(category="protest", city="Chicago")
    page = client.get("/events?category=protest&city=Chicago")
    assert page.status_code == 200
    link = (f'<link rel="alternate" type="application/atom+xml" title="Upcoming events (Atom)" '
            f'href="{settings.BASE_URL}/events.atom?category=protest&amp;city=Chicago">')
    assert link in page.text
    plain = client.get("/events")
    assert f'href="{settings.BASE_URL}/events.atom">' in plain.text
