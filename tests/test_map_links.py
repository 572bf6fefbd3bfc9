"""Issue 13 item 7 (map links): templates/events/_map_links.html on the event page and the
manage page. Links go to OpenStreetMap, Apple Maps and Google Maps, built from the pin when
there is one and from the venue and address otherwise, every value URL-encoded; an online-only
event has none."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from tests.factories import make_event
from tests.rsvp_helpers import manage_link, post_rsvp

LINKS_RE = re.compile(r'<ul class="map-links"[^>]*>(.*?)</ul>', re.S)
HREF_RE = re.compile(r'href="([^"]+)"[^>]*>([^<]+)<')


def _map_links(page: str) -> dict[str, str]:
    block = LINKS_RE.search(page)
    if block is None:
        return {}
    return {label: html.unescape(href) for href, label in HREF_RE.findall(block.group(1))}


def test_links_from_the_address_are_encoded(client) -> None:
    ev = make_event(venue_name="Café & Bar #2", street_address="12 Main St", city="St. Louis",
                    region="MO", postal_code="63101")
    links = _map_links(client.get(f"/events/{ev.slug}").text)
    assert set(links) == {"OpenStreetMap", "Apple Maps", "Google Maps"}
    osm, apple, google = (urlsplit(links[k]) for k in ("OpenStreetMap", "Apple Maps",
                                                       "Google Maps"))
    assert (osm.netloc, osm.path) == ("www.openstreetmap.org", "/search")
    assert parse_qs(osm.query) == {"query": ["12 Main St, St. Louis, MO 63101"]}
    place = "Café & Bar #2, 12 Main St, St. Louis, MO 63101"
    assert apple.netloc == "maps.apple.com" and parse_qs(apple.query) == {"q": [place]}
    assert (google.netloc, google.path) == ("www.google.com", "/maps/search/")
    assert parse_qs(google.query) == {"api": ["1"], "query": [place]}
    # '&' and '#' in the venue are encoded, not query separators or fragments.
    assert "#" not in links["Apple Maps"] and "Bar+%232" in links["Apple Maps"]


def test_links_use_the_pin_when_there_is_one(client) -> None:
    ev = make_event(venue_name="Union Hall", street_address="12 Main St", latitude=38.627,
                    longitude=-90.1994)
    links = _map_links(client.get(f"/events/{ev.slug}").text)
    osm = urlsplit(links["OpenStreetMap"])
    assert parse_qs(osm.query) == {"mlat": ["38.627"], "mlon": ["-90.1994"]}
    assert osm.fragment == "map=17/38.627/-90.1994"
    assert parse_qs(urlsplit(links["Apple Maps"]).query)["ll"] == ["38.627,-90.1994"]
    assert parse_qs(urlsplit(links["Google Maps"]).query)["query"] == ["38.627,-90.1994"]


def test_online_only_events_have_no_map_links(client) -> None:
    ev = make_event(venue_name="", city="", online_url="https://example.org/live")
    assert _map_links(client.get(f"/events/{ev.slug}").text) == {}


def test_the_manage_page_has_the_same_links(client) -> None:
    ev = make_event(street_address="5 Elm St", city="Chicago")
    post_rsvp(client, ev.slug)
    event_links = _map_links(client.get(f"/events/{ev.slug}").text)
    manage = client.get(manage_link("ann@example.org")).text
    assert _map_links(manage) == event_links and event_links
