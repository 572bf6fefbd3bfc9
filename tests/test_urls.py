"""events_app/urls.py: one source of public absolute URLs, one quoting rule for path values."""

from __future__ import annotations

from datetime import timedelta

from events_app import settings, urls
from events_app.models import Event, utcnow
from events_app.services import ical, messages, personal_feeds
from events_app.web import share


def test_path_values_are_quoted_as_one_segment() -> None:
    assert urls.path(urls.EVENT, slug="town-hall") == "/events/town-hall"
    assert urls.path(urls.EVENT, slug="a b/c?d#e") == "/events/a%20b%2Fc%3Fd%23e"
    assert urls.event_url("café") == f"{settings.BASE_URL}/events/caf%C3%A9"


def test_absolute_urls_start_at_base_url_and_carry_the_query() -> None:
    assert urls.absolute(urls.ATOM) == f"{settings.BASE_URL}/events.atom"
    assert urls.absolute(urls.CALENDAR, "city=Chicago") == (
        f"{settings.BASE_URL}/calendar.ics?city=Chicago")
    assert urls.home_url() == f"{settings.BASE_URL}/"


def test_feeds_mail_and_share_links_agree_on_an_event_url() -> None:
    now = utcnow()
    event = Event(slug="vigil at/the airport", title="Vigil", starts_at=now,
                  ends_at=now + timedelta(hours=1))
    expected = f"{settings.BASE_URL}/events/vigil%20at%2Fthe%20airport"
    assert ical.event_url(event) == messages.event_url(event) == share.page_url(event) == expected


def test_personal_links_use_the_route_paths() -> None:
    assert personal_feeds.page_url("tok") == f"{settings.BASE_URL}/my/tok"
    assert personal_feeds.feed_url("tok") == f"{settings.BASE_URL}/my/tok/calendar.ics"
