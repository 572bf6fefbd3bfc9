"""Public list and detail pages: filters, pagination edges, visibility, error pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from events_app.models import utcnow
from tests.factories import make_event


def titles(html: str) -> list[str]:
    return re.findall(r'class="event-title">\s*<a href="[^"]+">([^<]+)</a>', html)


def test_list_shows_upcoming_published_events_in_order(client) -> None:
    now = utcnow()
    make_event(title="Later", starts_at=now + timedelta(days=9))
    make_event(title="Sooner", starts_at=now + timedelta(days=2))
    make_event(title="Draft one", status="draft")
    make_event(title="Over already", starts_at=now - timedelta(days=3))
    r = client.get("/events")
    assert r.status_code == 200
    assert titles(r.text) == ["Sooner", "Later"]
    assert client.get("/").text.count('class="event-card') == 2


def test_in_progress_event_is_still_upcoming(client) -> None:
    now = utcnow()
    make_event(title="Happening now", starts_at=now - timedelta(hours=1),
               ends_at=now + timedelta(hours=1))
    assert titles(client.get("/events").text) == ["Happening now"]


def test_past_view_lists_newest_first(client) -> None:
    now = utcnow()
    make_event(title="Last month", starts_at=now - timedelta(days=30))
    make_event(title="Last week", starts_at=now - timedelta(days=7))
    make_event(title="Next week", starts_at=now + timedelta(days=7))
    assert titles(client.get("/events?when=past").text) == ["Last week", "Last month"]


def test_filters_category_city_text_and_dates(client) -> None:
    now = utcnow()
    make_event(title="Airport protest", category="protest", city="Chicago",
               starts_at=now + timedelta(days=3))
    make_event(title="Janus briefing", category="briefing", city="Philadelphia",
               description="How members can take action after Janus v. AFSCME",
               starts_at=now + timedelta(days=10))
    make_event(title="School board meeting", category="meeting", city="St. Paul",
               starts_at=now + timedelta(days=20))
    assert titles(client.get("/events?category=protest").text) == ["Airport protest"]
    assert titles(client.get("/events?city=philadelphia").text) == ["Janus briefing"]
    assert titles(client.get("/events?city=Chicago&city=St.+Paul").text) == [
        "Airport protest", "School board meeting"]
    assert titles(client.get("/events?q=AFSCME").text) == ["Janus briefing"]
    assert titles(client.get("/events?q=100%25").text) == []  # '%' is literal, not a wildcard
    day = (now + timedelta(days=10)).date()
    r = client.get(f"/events?from={day - timedelta(days=1)}&to={day + timedelta(days=1)}")
    assert titles(r.text) == ["Janus briefing"]
    empty = client.get("/events?category=training")
    assert "No events found" in empty.text and "Try fewer filters" in empty.text


def test_pagination_has_stable_urls_and_edges(client) -> None:
    now = utcnow()
    for i in range(25):
        make_event(title=f"Event {i:02d}", category="training",
                   starts_at=now + timedelta(days=1, hours=i))
    first = client.get("/events?category=training")
    assert len(titles(first.text)) == 20
    assert re.search(r'rel="next" href="[^"]*/events\?category=training&amp;page=2"', first.text)
    second = client.get("/events?category=training&page=2")
    assert titles(second.text) == [f"Event {i:02d}" for i in range(20, 25)]
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert client.get("/events?page=3").status_code == 404
    assert client.get("/events?page=0").status_code == 400
    assert client.get("/events?page=-1").status_code == 400
    assert client.get("/events?page=abc").status_code == 400
    assert client.get("/events?page=99999999999999999999").status_code == 400


def test_empty_calendar_says_what_to_do(client) -> None:
    r = client.get("/events")
    assert r.status_code == 200
    assert "Nothing is scheduled right now" in r.text


@pytest.mark.parametrize("query", [
    "from=2026-13-01", "to=yesterday", "from=2026-05-02&to=2026-05-01", "when=soon",
    "q=" + "x" * 300,
])
def test_bad_query_parameters_give_400_page(client, query: str) -> None:
    r = client.get(f"/events?{query}")
    assert r.status_code == 400
    assert "text/html" in r.headers["content-type"]
    assert "Back to upcoming events" in r.text


def test_detail_page_shows_event_in_its_timezone(client) -> None:
    from datetime import UTC, datetime
    make_event(slug="st-louis-airport", title="Airport protest", timezone="America/Chicago",
               starts_at=datetime(2030, 3, 16, 19, 0, tzinfo=UTC),
               ends_at=datetime(2030, 3, 16, 21, 0, tzinfo=UTC),
               venue_name="Lambert Airport Terminal 1", street_address="10701 Lambert Intl Blvd",
               city="St. Louis", region="MO", latitude=38.7487, longitude=-90.37,
               capacity=10, host_name="Missouri Officials Network")
    r = client.get("/events/st-louis-airport")
    assert r.status_code == 200
    assert "Sat 16 Mar 2030, 2:00 PM – 4:00 PM CDT" in r.text
    assert "openstreetmap.org/?mlat=38.7487" in r.text
    assert "10 of 10 spots left" in r.text
    assert "Missouri Officials Network" in r.text


def test_cancelled_event_has_banner_and_drafts_are_hidden(client) -> None:
    make_event(slug="gone", title="Cancelled rally", status="cancelled",
               cancel_message="The permit was withdrawn.")
    make_event(slug="secret", status="draft")
    r = client.get("/events/gone")
    assert "This event has been cancelled." in r.text
    assert "The permit was withdrawn." in r.text
    assert client.get("/events/secret").status_code == 404


def test_online_event_shows_livestream_link(client) -> None:
    make_event(slug="daca-call", venue_name="", city="", online_url="https://meet.example.org/x")
    r = client.get("/events/daca-call")
    assert '<a href="https://meet.example.org/x"' in r.text
    assert "<dt>Online</dt>" in r.text


def test_unknown_slug_is_a_friendly_404(client) -> None:
    r = client.get("/events/no-such-event")
    assert r.status_code == 404
    assert "Page not found" in r.text and "See upcoming events" in r.text


def test_titles_are_escaped(client) -> None:
    make_event(slug="xss", title="<script>alert(1)</script> & friends")
    for path in ("/events", "/events/xss"):
        body = client.get(path).text
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends" in body


def test_list_page_is_reused_until_an_event_changes(client) -> None:
    from events_app.db import write_session
    from events_app.models import Event
    from events_app.services import listing_cache

    event = make_event(title="Original title")
    assert titles(client.get("/events").text) == ["Original title"]
    renders = listing_cache.cache.renders
    assert titles(client.get("/events").text) == ["Original title"]
    assert listing_cache.cache.renders == renders  # nothing changed: served from the cache
    with write_session() as s:  # any write of an event row, even without the updated_at stamp
        row = s.get(Event, event.id)
        row.title = "Silently changed"
    assert titles(client.get("/events").text) == ["Silently changed"]
    make_event(title="Brand new", starts_at=utcnow() + timedelta(days=30))
    assert titles(client.get("/events").text) == ["Silently changed", "Brand new"]


def test_several_categories_stay_selected(client) -> None:
    """A feed-style URL with two categories keeps both ticked when the visitor filters again;
    the cities are ticked ignoring case, as the filter matches them."""
    make_event(title="Protest", category="protest", city="Chicago")
    make_event(title="Rally", category="rally", city="Denver")
    body = client.get("/events?category=protest&category=rally&city=chicago").text
    assert checked(body, "category") == ["protest", "rally"]
    assert checked(body, "city") == ["Chicago"]
    single = client.get("/events?category=protest").text
    assert checked(single, "category") == ["protest"]
    assert checked(single, "city") == []


def checked(body: str, name: str) -> list[str]:
    """The values of the ticked checkboxes called `name` in the filter form."""
    return re.findall(rf'type="checkbox" name="{name}" value="([^"]*)" checked', body)


@pytest.mark.parametrize("page", ["²", "①", "٣", "３", "1²", "0", "-1", "1.0", "99999"])
def test_page_numbers_must_be_ascii_digits_in_range(client, page: str) -> None:
    make_event()
    r = client.get("/events", params={"page": page})
    assert r.status_code == 400
    assert "Page number" in r.text and "whole number" in r.text


@pytest.mark.parametrize("query", ["from=٢٠٢٦-٠٣-١٤", "to=２０２６-03-14", "from=2026-03-14%0A"])
def test_dates_in_other_digits_are_a_400(client, query: str) -> None:
    r = client.get(f"/events?{query}")
    assert r.status_code == 400
    assert "must look like 2026-03-14" in r.text


def test_dates_at_the_ends_of_the_calendar_filter_without_overflowing(client) -> None:
    """9999-12-31 and 0001-01-01 are real dates (a bookmarked "no end"): they filter as asked
    instead of overflowing the timezone arithmetic into a 500."""
    make_event(title="Soon")
    everything = ["Soon"]
    for query, expected in [("to=9999-12-31", everything), ("from=0001-01-01", everything),
                            ("from=0001-01-01&to=9999-12-31", everything),
                            ("from=9999-12-31", []), ("to=0001-01-01", []),
                            ("when=past&to=9999-12-31", [])]:
        r = client.get(f"/events?{query}")
        assert r.status_code == 200, query
        assert titles(r.text) == expected, query


def test_place_filters_have_one_limit_on_every_public_view(client) -> None:
    """The list page, Atom, the embed and the iCalendar feed answer 21 cities with the same
    400 (events.PlaceFilter), where the list page once silently kept the first 20."""
    too_many = "&".join(f"city=c{i}" for i in range(21))
    for path in ("/events", "/events.atom", "/embed/upcoming", "/calendar.ics"):
        r = client.get(f"{path}?{too_many}")
        assert r.status_code == 400, path
        assert "At most 20" in r.text and "city" in r.text, path
    assert client.get("/events?" + too_many.replace("&city=c20", "")).status_code == 200


def test_category_filter_ignores_letter_case_as_the_feed_does(client) -> None:
    make_event(slug="march", title="March for dignity", category="protest")
    assert "March for dignity" in client.get("/events?category=PROTEST").text


# --- Issue 13 item 5: cards, the Online filter, several cities, clean URLs, past matches ----

def test_cards_say_spots_left_full_waitlist_online_and_hybrid(client) -> None:
    from tests.factories import make_rsvp

    soon = utcnow() + timedelta(days=3)
    make_event(title="Open hall", capacity=10, starts_at=soon)
    full = make_event(title="Full, no waitlist", capacity=1, waitlist_enabled=False,
                      starts_at=soon)
    waiting = make_event(title="Full, waitlist", capacity=1, starts_at=soon)
    make_event(title="Online call", venue_name="", street_address="", starts_at=soon,
               online_url="https://example.org/call")
    make_event(title="Hall and stream", starts_at=soon, online_url="https://example.org/live")
    make_rsvp(full, email="a@example.org")
    make_rsvp(waiting, email="b@example.org")
    body = client.get("/events").text
    cards = dict(re.findall(r'class="event-title">\s*<a [^>]*>([^<]+)</a>.*?'
                            r'<p class="event-meta">(.*?)</p>', body, re.S))
    badges = {title: re.findall(r'<span class="badge[^"]*">([^<]+)</span>', meta)
              for title, meta in cards.items()}
    assert badges["Open hall"] == ["Meeting", "10 spots left"]
    assert badges["Full, no waitlist"] == ["Meeting", "Full"]
    assert badges["Full, waitlist"] == ["Meeting", "Full · Waitlist open"]
    assert badges["Online call"] == ["Meeting", "Online"]
    assert badges["Hall and stream"] == ["Meeting", "Hybrid"]


def test_online_filter_keeps_online_and_hybrid_events(client) -> None:
    make_event(title="Online call", venue_name="", online_url="https://example.org/call")
    make_event(title="Hall and stream", online_url="https://example.org/live")
    make_event(title="Hall only")
    assert sorted(titles(client.get("/events?online=1").text)) == ["Hall and stream",
                                                                    "Online call"]
    assert client.get("/events?online=yes").status_code == 400
    body = client.get("/events?online=1&city=St.+Louis").text
    assert 'name="online" value="1" checked' in body
    assert checked(body, "city") == ["St. Louis"]


def test_several_cities_are_one_filter(client) -> None:
    make_event(title="In Chicago", city="Chicago")
    make_event(title="In Denver", city="Denver")
    make_event(title="In Miami", city="Miami")
    body = client.get("/events?city=Chicago&city=denver").text
    assert sorted(titles(body)) == ["In Chicago", "In Denver"]
    assert checked(body, "city") == ["Chicago", "Denver"]
    # A value the form would not offer stays ticked, so it can be unticked.
    body = client.get("/events?city=Nowhere&category=vigil").text
    assert checked(body, "city") == ["Nowhere"] and checked(body, "category") == ["vigil"]


@pytest.mark.parametrize(("query", "canonical"), [
    ("city=&category=&q=&from=&to=&online=", "/events"),
    ("city=&category=rally&q=", "/events?category=rally"),
    ("city=Chicago&city=&city=Denver&when=past&page=",
     "/events?city=Chicago&city=Denver&when=past"),
])
def test_empty_parameters_redirect_to_the_canonical_url(client, query: str,
                                                        canonical: str) -> None:
    r = client.get(f"/events?{query}", follow_redirects=False)
    assert r.status_code == 301
    assert r.headers["location"] == canonical
    assert client.get(f"/events?{query}").status_code == 200


def test_links_the_list_builds_have_no_empty_parameters(client) -> None:
    for i in range(25):
        make_event(title=f"Rally {i}", category="rally", starts_at=utcnow() + timedelta(days=i + 1))
    body = client.get("/events?category=rally&page=2").text
    hrefs = re.findall(r'href="([^"]*)"', body)
    assert any("/events?category=rally" in h for h in hrefs)  # page 1 and the month view
    assert [h for h in hrefs if re.search(r"[?&][a-z_]+=(&|$)", h) or h.endswith("?")] == []


def test_empty_state_points_to_matching_past_events(client) -> None:
    make_event(title="Last year's rally", category="rally",
               starts_at=utcnow() - timedelta(days=300))
    body = client.get("/events?category=rally").text
    assert "but 1 past event does" in body
    assert 'href="/events?when=past&amp;category=rally">see the past event</a>' in body
    none = client.get("/events?category=training").text
    assert "past event" not in none and "Nothing matches these filters" in none
