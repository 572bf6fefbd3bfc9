"""The OpenAPI document: generated from the code, OpenAPI 3.1, true to real responses, and
rendered as a local reference page at /api."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx2
import schemathesis

from events_app.models import EventStatus, utcnow
from events_app.web import api
from tests.factories import make_event, make_rsvp


def test_document_lists_every_route_and_model(client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {e.path for e in api.ENDPOINTS}
    routed = {r.path for r in api.routes}
    assert all(p.replace("{slug}", "{slug:str}") in routed or p in routed for p in doc["paths"])
    params = {p["name"] for p in doc["paths"]["/api/v1/events"]["get"]["parameters"]}
    assert params == {"category", "city", "q", "online", "from", "to", "when", "page"}
    schemas = doc["components"]["schemas"]
    assert {"EventList", "EventSummary", "EventDetail", "CategoryList", "CityList",
            "Error"} <= set(schemas)
    # Nothing about attendees can be described, so nothing about them can be sent.
    fields = " ".join(" ".join(s.get("properties", {})) for s in schemas.values())
    for word in ("email", "phone", "attendee", "guests", "token", "comment"):
        assert word not in fields


def test_real_responses_match_the_document(client) -> None:
    """Every kind of event, each endpoint, validated against the document's schemas."""
    now = utcnow()
    full = make_event(slug="full", capacity=1, starts_at=now + timedelta(days=1))
    make_rsvp(full)
    make_event(slug="cancelled", status=EventStatus.CANCELLED.value, cancel_message="Rain",
               starts_at=now + timedelta(days=2))
    make_event(slug="online", venue_name="", city="", online_url="https://meet.example.org/a",
               starts_at=now + timedelta(days=3), all_day=True)
    make_event(slug="geo", latitude=41.97, longitude=-87.9, starts_at=now + timedelta(days=4))
    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").json())
    checked = 0
    for path, url in [("/api/v1/events", "/api/v1/events"),
                      ("/api/v1/events", "/api/v1/events?when=past"),
                      ("/api/v1/events", "/api/v1/events?from=bad"),
                      ("/api/v1/events/{slug}", "/api/v1/events/full"),
                      ("/api/v1/events/{slug}", "/api/v1/events/cancelled"),
                      ("/api/v1/events/{slug}", "/api/v1/events/online"),
                      ("/api/v1/events/{slug}", "/api/v1/events/missing"),
                      ("/api/v1/categories", "/api/v1/categories"),
                      ("/api/v1/cities", "/api/v1/cities")]:
        response = client.get(url)
        assert schema[path]["GET"].validate_response(response) is not False, url
        checked += 1
    assert checked == 9


def test_a_response_the_document_does_not_describe_is_caught(client) -> None:
    """The validation above can fail: a body with a field missing is refused."""
    make_event(slug="a")
    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").json())
    response = client.get("/api/v1/events/a")
    body = response.json()
    del body["starts_at"]
    broken = httpx2.Response(200, json=body, request=response.request)
    broken.read()
    broken.elapsed = response.elapsed  # as if it had come through the client
    try:
        schema["/api/v1/events/{slug}"]["GET"].validate_response(broken)
    except Exception as exc:  # noqa: BLE001 - schemathesis raises its failure group
        assert "starts_at" in str(exc)
    else:
        raise AssertionError("a body without starts_at was accepted")


def test_reference_page_is_rendered_locally(client) -> None:
    make_event(slug="first")
    r = client.get("/api")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for e in api.ENDPOINTS:
        assert f"GET {e.path}" in r.text
    for name in ("EventSummary", "EventList", "Error"):
        assert f'id="schema-{name}"' in r.text
    assert 'href="/api/v1/events/first"' in r.text  # "try it" uses a real event
    # No CDN: every script and stylesheet comes from this site.
    for ref in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', r.text):
        assert ref.startswith(("/", "http://testserver/")), ref
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
