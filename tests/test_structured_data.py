"""Event pages: schema.org Event JSON-LD checked against the properties search engines
require and recommend for events, OpenGraph/Twitter card tags, and the share panel."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from events_app import settings
from events_app.models import EventStatus, utcnow
from tests.factories import make_event, make_rsvp

SCHEMA = "https://schema.org/"
# Google's Event structured data: required, then recommended properties.
REQUIRED = ("name", "startDate", "location")
RECOMMENDED = ("description", "endDate", "eventStatus", "eventAttendanceMode", "organizer",
               "offers")
EVENT_STATUSES = {SCHEMA + s for s in ("EventScheduled", "EventCancelled", "EventMovedOnline",
                                        "EventPostponed", "EventRescheduled")}
ATTENDANCE_MODES = {SCHEMA + s for s in ("OfflineEventAttendanceMode",
                                          "OnlineEventAttendanceMode",
                                          "MixedEventAttendanceMode")}
AVAILABILITY = {SCHEMA + s for s in ("InStock", "SoldOut", "PreOrder", "LimitedAvailability")}


def jsonld(html: str) -> dict:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])


def check_event(data: dict) -> None:
    """Validate an Event object as a structured-data checker would."""
    assert data["@context"] in ("https://schema.org", "https://schema.org/")
    assert data["@type"] == "Event"
    for prop in REQUIRED + RECOMMENDED:
        assert data.get(prop) not in (None, "", []), f"missing {prop}"
    start = datetime.fromisoformat(data["startDate"])
    end = datetime.fromisoformat(data["endDate"])
    if "T" in data["startDate"]:
        assert start.tzinfo is not None and end.tzinfo is not None  # offsets, not naive times
    assert end >= start
    assert data["eventStatus"] in EVENT_STATUSES
    assert data["eventAttendanceMode"] in ATTENDANCE_MODES
    places = data["location"] if isinstance(data["location"], list) else [data["location"]]
    for place in places:
        assert place["@type"] in ("Place", "VirtualLocation")
        if place["@type"] == "Place":
            assert place["name"] and place["address"]["@type"] == "PostalAddress"
        else:
            assert urlsplit(place["url"]).scheme == "https"
    assert data["organizer"]["@type"] in ("Organization", "Person")
    assert data["organizer"]["name"] and data["organizer"]["url"]
    offer = data["offers"]
    assert offer["@type"] == "Offer" and offer["url"].startswith(settings.BASE_URL)
    assert "price" in offer and re.fullmatch(r"[A-Z]{3}", offer["priceCurrency"])
    datetime.fromisoformat(offer["validFrom"])
    if "availability" in offer:
        assert offer["availability"] in AVAILABILITY


def test_in_person_event_with_capacity(client) -> None:
    e = make_event(slug="ohare", title="O'Hare </script> protest", capacity=2,
                   street_address="10000 W O'Hare Ave", city="Chicago", region="IL",
                   postal_code="60666", latitude=41.97, longitude=-87.9,
                   host_name="Chicago Officials", summary="Meet at Terminal 5")
    data = jsonld(client.get("/events/ohare").text)
    check_event(data)
    assert data["name"] == "O'Hare </script> protest"  # escaped in the page, intact as data
    assert data["eventStatus"] == SCHEMA + "EventScheduled"
    assert data["eventAttendanceMode"] == SCHEMA + "OfflineEventAttendanceMode"
    assert data["location"]["address"]["addressLocality"] == "Chicago"
    assert data["location"]["geo"]["latitude"] == 41.97
    assert data["organizer"]["name"] == "Chicago Officials"
    assert data["offers"]["availability"] == SCHEMA + "InStock"
    assert data["url"] == f"{settings.BASE_URL}/events/ohare"
    make_rsvp(e, email="a@example.org", guests=1, name="Private Person")
    full = client.get("/events/ohare").text
    assert jsonld(full)["offers"]["availability"] == SCHEMA + "SoldOut"
    assert "Private Person" not in json.dumps(jsonld(full))


def test_online_mixed_cancelled_and_unlimited(client) -> None:
    make_event(slug="call", venue_name="", city="", online_url="https://meet.example.org/c")
    make_event(slug="mixed", online_url="https://live.example.org/m")
    make_event(slug="off", status=EventStatus.CANCELLED.value, cancel_message="Rain")
    call = jsonld(client.get("/events/call").text)
    check_event(call)
    assert call["eventAttendanceMode"] == SCHEMA + "OnlineEventAttendanceMode"
    assert call["location"] == {"@type": "VirtualLocation", "url": "https://meet.example.org/c"}
    assert "availability" not in call["offers"]  # no capacity: nothing to say
    mixed = jsonld(client.get("/events/mixed").text)
    check_event(mixed)
    assert mixed["eventAttendanceMode"] == SCHEMA + "MixedEventAttendanceMode"
    assert [p["@type"] for p in mixed["location"]] == ["Place", "VirtualLocation"]
    off = jsonld(client.get("/events/off").text)
    check_event(off)
    assert off["eventStatus"] == SCHEMA + "EventCancelled"


def test_all_day_event_uses_dates(client) -> None:
    start = utcnow().replace(hour=6, minute=0, second=0, microsecond=0) + timedelta(days=10)
    make_event(slug="day", all_day=True, starts_at=start, ends_at=start + timedelta(days=2))
    data = jsonld(client.get("/events/day").text)
    check_event(data)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["startDate"])
    assert (datetime.fromisoformat(data["endDate"]) - datetime.fromisoformat(data["startDate"])
            ).days == 1


def test_link_preview_tags(client) -> None:
    make_event(slug="a", title="Town hall", summary="Ask your council", city="Denver")
    html = client.get("/events/a").text

    def meta(attr: str, name: str) -> str:
        m = re.search(rf'<meta {attr}="{re.escape(name)}" content="([^"]*)">', html)
        assert m, name
        return m.group(1)

    url = f"{settings.BASE_URL}/events/a"
    assert meta("property", "og:title") == "Town hall"
    assert meta("property", "og:url") == url
    assert meta("property", "og:type") == "website"
    assert "Ask your council" in meta("property", "og:description")
    assert "Denver" in meta("property", "og:description")
    assert meta("name", "twitter:card") == "summary"
    assert meta("name", "twitter:title") == "Town hall"
    assert f'<link rel="canonical" href="{url}">' in html


@pytest.mark.parametrize("label, host, key", [
    ("E-mail", "", "body"), ("WhatsApp", "wa.me", "text"),
    ("Facebook", "www.facebook.com", "u"), ("X (Twitter)", "twitter.com", "url"),
    ("Bluesky", "bsky.app", "text"), ("LinkedIn", "www.linkedin.com", "url"),
])
def test_share_links_carry_the_page_url(client, label, host, key) -> None:
    make_event(slug="a", title="Rally & vigil")
    html = client.get("/events/a").text
    m = re.search(r'<a class="button secondary" href="([^"]+)"[^>]*>' + re.escape(label), html)
    assert m, label
    href = m.group(1).replace("&amp;", "&")
    parts = urlsplit(href)
    assert parts.netloc == host
    value = parse_qs(parts.query)[key][0]
    assert f"{settings.BASE_URL}/events/a" in value
    if label == "E-mail":
        assert parts.scheme == "mailto" and "+" not in parts.query
        assert parse_qs(parts.query)["subject"] == ["Rally & vigil"]


def test_share_panel_needs_no_third_party_script(client) -> None:
    make_event(slug="a")
    r = client.get("/events/a")
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', r.text)
    assert scripts and all(s.startswith(settings.BASE_URL + "/static/") for s in scripts)
    assert re.search(r'<button type="button" class="secondary" data-copy-target="share-url" '
                     r"hidden>Copy link</button>", r.text)
    assert "script-src 'self'" in r.headers["content-security-policy"]
