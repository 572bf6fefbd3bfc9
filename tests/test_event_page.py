"""The event page's details (issue 13 item 7): a way back to the list, all-day events without
a "(zone time)" note, and finished events that say so and offer no RSVP or calendar entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from events_app.models import utcnow
from tests.factories import make_event


def test_upcoming_event_links_back_to_the_list_and_offers_rsvp(client) -> None:
    make_event(slug="soon", capacity=10)
    page = client.get("/events/soon").text
    assert 'class="back-link"><a href="http://testserver/events">' in page
    assert "All upcoming events" in page
    assert 'id="rsvp"' in page and 'id="add-to-calendar-heading"' in page
    assert "This event is over" not in page
    assert "(America/Chicago time)" in page
    assert "10 of 10 spots left" in page


def test_all_day_event_shows_no_time_zone(client) -> None:
    make_event(slug="fair", all_day=True, starts_at=datetime(2030, 6, 1, 5, 0, tzinfo=UTC),
               ends_at=datetime(2030, 6, 2, 5, 0, tzinfo=UTC))
    page = client.get("/events/fair").text
    assert "Sat 1 Jun 2030" in page
    assert "time)" not in page


def test_past_event_says_so_and_offers_no_rsvp_or_calendar(client) -> None:
    start = utcnow().replace(microsecond=0) - timedelta(days=3)
    make_event(slug="done", starts_at=start, ends_at=start + timedelta(hours=2), capacity=10)
    page = client.get("/events/done").text
    assert "This event is over." in page
    assert 'id="rsvp"' not in page and "add-to-calendar" not in page
    assert "spots left" not in page
    assert 'href="http://testserver/events?when=past"' in page and "Past events" in page


def test_event_still_running_is_not_over(client) -> None:
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    make_event(slug="now", starts_at=start, ends_at=start + timedelta(hours=3))
    page = client.get("/events/now").text
    assert "This event is over" not in page
    assert "add-to-calendar" in page


def test_cancelled_past_event_keeps_its_cancelled_banner(client) -> None:
    start = utcnow().replace(microsecond=0) - timedelta(days=3)
    make_event(slug="off", status="cancelled", starts_at=start,
               ends_at=start + timedelta(hours=1))
    page = client.get("/events/off").text
    assert "This event has been cancelled." in page
    assert "This event is over" not in page
