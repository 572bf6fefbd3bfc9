"""The embed: the framed box (parameters, frameable by any site, no cookie), the loader
script, the snippet builder and its footer link; every other page still refuses frames."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from events_app import settings
from events_app.models import EventStatus, utcnow
from tests.factories import make_event, make_rsvp


def _titles(html: str) -> list[str]:
    return re.findall(r'class="embed-title"[^>]*>([^<]+)</a>', html)


def test_box_lists_the_next_events_with_local_times(client) -> None:
    now = utcnow()
    for i in range(7):
        make_event(slug=f"e{i}", title=f"Event {i}", category="protest" if i % 2 else "rally",
                   city="Chicago" if i < 3 else "Denver", starts_at=now + timedelta(days=i + 1))
    make_event(slug="draft", title="Draft", status=EventStatus.DRAFT.value)
    r = client.get("/embed/upcoming")
    assert r.status_code == 200
    assert _titles(r.text) == [f"Event {i}" for i in range(5)]  # default limit 5
    assert _titles(client.get("/embed/upcoming?limit=2").text) == ["Event 0", "Event 1"]
    assert _titles(client.get("/embed/upcoming?category=protest").text) == [
        "Event 1", "Event 3", "Event 5"]
    assert _titles(client.get("/embed/upcoming?city=denver&limit=20").text) == [
        "Event 3", "Event 4", "Event 5", "Event 6"]
    # Always what's next, whatever else the query string says.
    assert _titles(client.get("/embed/upcoming?when=past&page=3&limit=1").text) == ["Event 0"]
    # Links open in the parent window, with absolute URLs (the box lives on other sites).
    assert f'href="{settings.BASE_URL}/events/e0" target="_top"' in r.text
    assert re.search(rf'href="{settings.BASE_URL}/events" target="_top">View all events \(7\)',
                     r.text)
    filtered = client.get("/embed/upcoming?category=protest&limit=1").text
    assert f'href="{settings.BASE_URL}/events?category=protest" target="_top"' in filtered
    # Time in the event's zone (America/Chicago from the factory).
    assert re.search(r"\d{1,2}:\d{2} (AM|PM) C[SD]T", r.text)


def test_theme_cancelled_and_empty(client) -> None:
    make_event(slug="c", title="Called off", status=EventStatus.CANCELLED.value)
    dark = client.get("/embed/upcoming?theme=dark")
    assert 'class="embed theme-dark"' in dark.text
    assert "is-cancelled" in dark.text and "Cancelled</span>" in dark.text
    empty = client.get("/embed/upcoming?category=training")
    assert "Nothing is scheduled right now." in empty.text


@pytest.mark.parametrize("qs", ["limit=0", "limit=21", "limit=abc", "limit=", "theme=blue",
                                "when=soon", "from=nope", "city=%00"])
def test_bad_parameters_are_400_not_500(client, qs) -> None:
    assert client.get(f"/embed/upcoming?{qs}").status_code == 400
    assert client.get(f"/embed?{qs}").status_code == 400


def test_box_is_frameable_and_cookie_free_other_pages_are_not(client) -> None:
    e = make_event(slug="a")
    make_rsvp(e, name="Hidden Person", email="hidden@example.org")
    r = client.get("/embed/upcoming")
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors *" in csp and "frame-ancestors 'none'" not in csp
    assert "script-src 'self'" in csp  # otherwise as strict as every page
    assert "x-frame-options" not in r.headers
    assert "set-cookie" not in r.headers
    assert "Hidden Person" not in r.text and "hidden@example.org" not in r.text
    assert r.headers["etag"]
    assert client.get("/embed/upcoming", headers={"If-None-Match": r.headers["etag"]}
                      ).status_code == 304
    for path in ("/embed", "/embed/other", "/events", "/events/a", "/api",
                 "/organizer/login"):
        page = client.get(path)
        assert page.headers.get("x-frame-options") == "DENY", path
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"], path


def test_loader_script(client) -> None:
    r = client.get("/embed.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert "/embed/upcoming" in r.text and "postMessage" not in r.text  # it only listens
    assert 'addEventListener("message"' in r.text and "event.origin !== origin" in r.text
    frame = client.get("/static/embed-frame.js")
    assert "window.parent.postMessage" in frame.text


def test_builder_page_and_footer_link(client) -> None:
    make_event(city="Chicago", category="protest")
    home = client.get("/events")
    assert f'<a href="{settings.BASE_URL}/embed">Put our events on your site</a>' in home.text
    r = client.get("/embed?category=protest&city=Chicago&limit=3&theme=dark")
    assert r.status_code == 200
    qs = "category=protest&amp;city=Chicago&amp;limit=3&amp;theme=dark"
    # Both snippets, shown as text to copy (so escaped once more inside the textarea).
    assert (f"&lt;iframe src=&#34;{settings.BASE_URL}/embed/upcoming?"
            f"{qs.replace('&amp;', '&amp;amp;')}&#34;") in r.text
    assert f"&lt;script src=&#34;{settings.BASE_URL}/embed.js&#34; async&gt;" in r.text
    assert f'src="/embed/upcoming?{qs}"' in r.text or \
        f'src="{settings.BASE_URL}/embed/upcoming?{qs}"' in r.text
    assert '<option value="protest" selected>' in r.text
    assert '<option value="Chicago" selected>' in r.text
