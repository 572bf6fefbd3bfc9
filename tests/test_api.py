"""The public JSON API: same filters as the pages, JSON errors, no attendee data."""

from __future__ import annotations

from datetime import timedelta

from events_app import settings
from events_app.db import write_session
from events_app.models import Rsvp, utcnow
from tests.factories import make_event, queries_run


def test_list_and_detail(client) -> None:
    now = utcnow()
    make_event(slug="a", title="Protest", category="protest", starts_at=now + timedelta(days=1))
    e = make_event(slug="b", title="Briefing", category="briefing", capacity=10,
                   starts_at=now + timedelta(days=2))
    with write_session() as s:
        s.add(Rsvp(event_id=e.id, name="Ana Attendee", email="ana@example.org",
                   phone="+1 555 0100", guests=2))
    r = client.get("/api/events?category=briefing")
    assert r.status_code == 200
    body = r.json()
    assert [ev["slug"] for ev in body["events"]] == ["b"]
    assert body["total"] == 1 and body["pages"] == 1
    detail = client.get("/api/events/b")
    assert detail.json()["spots_left"] == 7
    assert detail.json()["starts_at"] == e.starts_at.isoformat()
    for text in (r.text, detail.text):
        assert "ana@example.org" not in text and "555 0100" not in text
        assert "Ana Attendee" not in text


def test_errors_are_json(client) -> None:
    r = client.get("/api/events/nope")
    assert r.status_code == 404
    assert r.json() == {"error": "No such event.", "status": 404}
    bad = client.get("/api/events?from=tomorrow")
    assert bad.status_code == 400
    assert "date" in bad.json()["error"]
    assert client.get("/api/events?page=5").status_code == 404


def test_unicode_page_numbers_are_a_json_400(client) -> None:
    for page in ("²", "①", "٣"):
        r = client.get("/api/events", params={"page": page})
        assert r.status_code == 400
        assert "whole number" in r.json()["error"]


def test_dates_at_the_ends_of_the_calendar_filter_without_overflowing(client) -> None:
    make_event(slug="soon")
    for query, expected in [("to=9999-12-31", ["soon"]), ("from=0001-01-01", ["soon"]),
                            ("from=9999-12-31", []), ("to=0001-01-01", [])]:
        r = client.get(f"/api/events?{query}")
        assert r.status_code == 200, query
        assert [e["slug"] for e in r.json()["events"]] == expected, query


def test_legacy_api_hits_run_no_query_and_follow_writes(client) -> None:
    make_event(slug="first", title="First")
    first = client.get("/api/events")
    one = client.get("/api/events/first")
    with queries_run() as seen:
        assert client.get("/api/events").content == first.content
        assert client.get("/api/events/first").content == one.content
    assert seen == []
    assert first.headers["deprecation"] == "true"
    make_event(slug="second", title="Second")
    assert [e["slug"] for e in client.get("/api/events").json()["events"]] == ["first", "second"]


def test_legacy_list_names_the_language_its_texts_are_in(client) -> None:
    """The deprecated list gives the event rows' own texts, in the site's default language,
    to every reader (v1 is the API that translates): a Spanish reader gets the English
    reader's bytes, and a Content-Language that says they are in the default language, from
    the full stack and from the fast path alike. Its errors are in the reader's language."""
    make_event(slug="vigil", title="Candlelight vigil")
    english = client.get("/api/events", headers={"Accept-Language": "en"})
    for _ in range(2):  # rendered, then a kept answer (the fast path)
        spanish = client.get("/api/events", headers={"Accept-Language": "es"})
        assert spanish.status_code == 200
        assert spanish.content == english.content
        assert spanish.json()["events"][0]["title"] == "Candlelight vigil"
        assert spanish.headers["content-language"] == settings.DEFAULT_LANGUAGE == "en"
        assert spanish.headers["deprecation"] == "true"
    missing = client.get("/api/events?page=9", headers={"Accept-Language": "es"})
    assert missing.status_code == 404
    assert missing.headers["content-language"] == "es"
    assert missing.json()["error"] != client.get("/api/events?page=9").json()["error"]
