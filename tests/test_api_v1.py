"""API v1: the list page's filters and pagination, counts, detail, JSON errors, validators,
CORS, the deprecated unversioned alias, and never any attendee data."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from events_app import settings
from events_app.db import write_session
from events_app.models import Event, EventStatus, utcnow
from tests.factories import make_event, make_rsvp


def _edit(event: Event, **fields) -> None:
    """Change a stored event as the organizer form would (fields plus updated_at)."""
    with write_session() as s:
        row = s.get(Event, event.id)
        for k, v in fields.items():
            setattr(row, k, v)
        row.updated_at = utcnow()


def test_list_filters_match_the_list_page(client) -> None:
    now = utcnow()
    make_event(slug="ohare", title="O'Hare protest", category="protest", city="Chicago",
               starts_at=now + timedelta(days=1))
    make_event(slug="brief", title="Janus briefing", category="briefing", city="Philadelphia",
               starts_at=now + timedelta(days=2), online_url="https://example.org/live")
    make_event(slug="old", title="Old town hall", category="town-hall", city="Chicago",
               starts_at=now - timedelta(days=5))
    make_event(slug="draft", title="Draft", status=EventStatus.DRAFT.value)

    def slugs(qs: str) -> list[str]:
        r = client.get(f"/api/v1/events{qs}")
        assert r.status_code == 200, r.text
        return [e["slug"] for e in r.json()["events"]]

    assert slugs("") == ["ohare", "brief"]
    assert slugs("?category=briefing") == ["brief"]
    assert slugs("?city=chicago") == ["ohare"]
    assert slugs("?city=Chicago&when=past") == ["old"]
    assert slugs("?q=janus") == ["brief"]
    assert slugs("?online=1") == ["brief"]  # online-only and hybrid events
    assert client.get("/api/v1/events?online=yes").status_code == 400
    # Date filters are calendar days in the site's timezone, whatever the machine's is.
    day2 = (now + timedelta(days=2)).astimezone(ZoneInfo(settings.DEFAULT_TIMEZONE)).date()
    day2 = day2.isoformat()
    assert "brief" in slugs(f"?from={day2}") and "ohare" not in slugs(f"?from={day2}&to={day2}")
    assert slugs("?category=protest&category=briefing") == ["ohare", "brief"]
    # The extremes of the calendar mean "no bound", not an error (or an overflow).
    assert slugs("?from=0001-01-01&to=9999-12-31") == ["ohare", "brief"]
    assert slugs("?from=0001-01-01&to=0001-01-02") == []
    assert slugs("?when=past&from=0001-01-01") == ["old"]


def test_event_fields_times_and_urls(client) -> None:
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    make_event(slug="ohare", title="O'Hare protest", timezone="America/Chicago",
               starts_at=start, capacity=10, street_address="10000 W O'Hare Ave",
               city="Chicago", region="IL", online_url="https://live.example.org/x")
    body = client.get("/api/v1/events").json()
    ev = body["events"][0]
    # Local wall time with the offset in force there, plus the IANA name.
    assert ev["timezone"] == "America/Chicago"
    assert ev["starts_at"].endswith(("-06:00", "-05:00"))
    from datetime import datetime
    assert datetime.fromisoformat(ev["starts_at"]) == start
    assert ev["spots_left"] == 10 and ev["capacity"] == 10 and ev["rsvp_open"] is True
    assert ev["status"] == "published" and ev["attendance_mode"] == "mixed"
    assert ev["address"]["formatted"] == "10000 W O'Hare Ave, Chicago, IL"
    base = settings.BASE_URL
    assert ev["urls"] == {"page": f"{base}/events/ohare", "ics": f"{base}/events/ohare.ics",
                          "rsvp": f"{base}/events/ohare#rsvp",
                          "api": f"{base}/api/v1/events/ohare"}
    assert "description" not in ev  # the list stays light; the detail has it
    for url in ev["urls"].values():
        assert client.get(url.replace(base, "").split("#")[0]).status_code == 200


def test_detail_spots_left_and_no_attendee_data(client) -> None:
    e = make_event(slug="b", capacity=10, description="Bring signs.")
    make_rsvp(e, name="Ana Attendee", email="ana@example.org", guests=2, phone="+1 555 0100",
              comment="I need interpretation")
    r = client.get("/api/v1/events/b")
    assert r.status_code == 200
    assert r.json()["spots_left"] == 7 and r.json()["description"] == "Bring signs."
    listing = client.get("/api/v1/events")
    for text in (r.text, listing.text, client.get("/api/v1/cities").text):
        for secret in ("ana@example.org", "Ana Attendee", "555 0100", "interpretation"):
            assert secret not in text


def test_pagination_follows_next_links(client, monkeypatch) -> None:
    monkeypatch.setattr(settings, "PAGE_SIZE", 2)
    now = utcnow()
    for i in range(5):
        make_event(slug=f"e{i}", category="protest", starts_at=now + timedelta(days=i + 1))
    make_event(slug="other", category="rally", starts_at=now + timedelta(days=1))
    seen, url, pages = [], "/api/v1/events?category=protest", 0
    while url:
        body = client.get(url.replace(settings.BASE_URL, "")).json()
        seen += [e["slug"] for e in body["events"]]
        assert body["total"] == 5 and body["pages"] == 3
        url, pages = body["next"], pages + 1
        if url:
            assert "category=protest" in url
    assert pages == 3 and seen == [f"e{i}" for i in range(5)]
    last = client.get("/api/v1/events?category=protest&page=3").json()
    assert last["next"] is None and last["prev"].endswith("category=protest&page=2")


def test_categories_and_cities_count_what_the_list_holds(client) -> None:
    now = utcnow()
    make_event(category="protest", city="Chicago", starts_at=now + timedelta(days=1))
    make_event(category="protest", city="chicago", starts_at=now + timedelta(days=2))
    make_event(category="briefing", city="Philadelphia", starts_at=now + timedelta(days=2))
    make_event(category="protest", city="Boston", starts_at=now - timedelta(days=3))  # past
    make_event(category="rally", city="Denver", status=EventStatus.DRAFT.value)  # invisible
    cats = {c["slug"]: c for c in client.get("/api/v1/categories").json()["categories"]}
    assert cats["protest"]["upcoming"] == 2 and cats["briefing"]["upcoming"] == 1
    assert cats["rally"]["upcoming"] == 0 and cats["protest"]["label"] == "Protest"
    cities = {c["name"].lower(): c for c in client.get("/api/v1/cities").json()["cities"]}
    assert set(cities) == {"chicago", "philadelphia", "boston"}
    assert cities["chicago"]["upcoming"] == 2 and cities["boston"]["upcoming"] == 0
    for item in [*cats.values(), *cities.values()]:
        listed = client.get(item["events"].replace(settings.BASE_URL, "")).json()
        assert listed["total"] == item["upcoming"]


@pytest.mark.parametrize("qs, fragment", [
    ("?from=tomorrow", "date"),
    ("?from=2026-13-01", "date"),
    ("?from=2026-03-02&to=2026-03-01", "after"),
    ("?when=later", "when"),
    ("?page=0", "page"),
    ("?page=abc", "page"),
    ("?q=" + "x" * 201, "too long"),
    ("?q=%00", "character"),
    ("?city=a%01b", "character"),
    ("?" + "&".join(f"city=c{i}" for i in range(21)), "At most 20 'city'"),
    ("?category=" + "x" * 101, "too long"),
])
def test_bad_parameters_are_json_400(client, qs, fragment) -> None:
    r = client.get("/api/v1/events" + qs)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    assert fragment in r.json()["error"] and r.json()["status"] == 400


def test_not_found_is_json_404(client) -> None:
    make_event(slug="draft", status=EventStatus.DRAFT.value)
    for path in ("/api/v1/events/nope", "/api/v1/events/draft", "/api/v1/events?page=2",
                 "/api/v1/nothing-here"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert set(r.json()) == {"error", "status"}
    r = client.post("/api/v1/events")
    assert r.status_code == 405 and "error" in r.json()


def test_etag_304_and_change(client) -> None:
    e = make_event(slug="a", capacity=5)
    for path in ("/api/v1/events", "/api/v1/events/a", "/api/v1/categories",
                 "/api/v1/cities", "/api/v1/openapi.json"):
        first = client.get(path)
        etag = first.headers["etag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"", path
    # HEAD answers with the plain representation's headers (it has no body to compress).
    plain = {"Accept-Encoding": "identity"}
    head = client.head("/api/v1/events/a", headers=plain)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == client.get("/api/v1/events/a", headers=plain).headers["etag"]
    etag = client.get("/api/v1/events/a").headers["etag"]
    make_rsvp(e, email="x@example.org")  # spots left change: a new representation
    changed = client.get("/api/v1/events/a", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["spots_left"] == 4
    etag = changed.headers["etag"]
    _edit(e, title="Renamed")
    renamed = client.get("/api/v1/events/a", headers={"If-None-Match": etag})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Renamed"


def test_cors_is_open_on_the_api_and_embed_only(client) -> None:
    make_event(slug="a")
    origin = {"Origin": "https://member-site.example"}
    for path in ("/api/v1/events", "/api/v1/events/a", "/api/events", "/embed/upcoming"):
        r = client.get(path, headers=origin)
        assert r.headers["access-control-allow-origin"] == "*", path
        assert "access-control-allow-credentials" not in r.headers
    pre = client.options("/api/v1/events", headers={
        **origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "If-None-Match"})
    assert pre.status_code == 200 and "GET" in pre.headers["access-control-allow-methods"]
    refused = client.options("/api/v1/events", headers={
        **origin, "Access-Control-Request-Method": "POST"})
    assert refused.status_code == 400
    for path in ("/events", "/events/a", "/organizer/login", "/calendar.ics"):
        assert "access-control-allow-origin" not in client.get(path, headers=origin).headers


def test_unversioned_api_still_works_and_says_it_is_deprecated(client) -> None:
    make_event(slug="a", category="briefing")
    r = client.get("/api/events?category=briefing")
    assert r.status_code == 200 and [e["slug"] for e in r.json()["events"]] == ["a"]
    assert r.headers["deprecation"] == "true"
    assert 'rel="successor-version"' in r.headers["link"] and "/api/v1/events" in r.headers["link"]
    assert client.get("/api/events/a").headers["deprecation"] == "true"
