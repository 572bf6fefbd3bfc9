"""iCalendar output (services/feeds.py): content, times, escaping, visibility, no attendee data."""

from __future__ import annotations

from datetime import UTC, datetime

from events_app import settings
from events_app.services.feeds import event_ics
from tests.factories import make_event
from tests.ics_helpers import parse, utc, vtimezone_utc


def test_event_ics_is_a_complete_calendar_with_one_event(db_url) -> None:
    start = datetime(2031, 6, 14, 19, 0, tzinfo=UTC)  # 2:00 PM CDT
    event = make_event(title="Town hall", starts_at=start, host_name="Local 12",
                       timezone="America/Chicago", latitude=38.627, longitude=-90.199)
    p = parse(event_ics(event))
    assert str(p.lib["METHOD"]) == "PUBLISH"
    assert str(p.lib["VERSION"]) == "2.0"
    assert p.uids == [event.uid]
    assert [str(tz["TZID"]) for tz in p.lib.walk("VTIMEZONE")] == ["America/Chicago"]
    ev = p.strict_event(event.uid)
    assert ev.summary == "Town hall"
    assert utc(ev.dtstart) == start
    assert vtimezone_utc(p, ev.dtstart, "America/Chicago") == start
    assert ev.sequence == 0
    assert ev.organizer.common_name == "Local 12"
    assert ev.organizer.uri == f"mailto:{settings.MAIL_FROM}"
    assert (ev.geo.lat, ev.geo.lng) == (38.627, -90.199)
    assert f"{settings.BASE_URL}/events/{event.slug}" in ev.description
    assert utc(p.lib_event(event.uid).DTSTART) == start
