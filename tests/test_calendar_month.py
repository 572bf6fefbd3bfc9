"""The month view and day lists (services/calendar_month.py, web/month.py), on SQLite and
PostgreSQL: which events fall on which calendar days of the site's timezone (month edges,
DST changes, multi-day and all-day events), the list's filters, stable URLs and friendly 404s.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from events_app import settings
from events_app.db import read_session
from events_app.models import Event
from events_app.services import calendar_month as cal
from events_app.services.events import EventQuery
from tests.factories import make_event, queries_run

NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def site_in_new_york(monkeypatch: pytest.MonkeyPatch) -> None:
    """The days below are New York's, whatever the default is or becomes."""
    monkeypatch.setattr(settings, "DEFAULT_TIMEZONE", "America/New_York")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY).astimezone(UTC)


def titles_by_day(first: date, last: date, query: EventQuery | None = None
                  ) -> dict[str, list[str]]:
    with read_session() as session:
        days = cal.events_by_day(session, query or EventQuery(), first, last)
    return {d.isoformat(): [e.event.title for e in entries] for d, entries in days.items()}


def test_an_event_is_on_every_site_day_it_covers(db_url) -> None:
    make_event(title="Overnight vigil", starts_at=ny(2027, 2, 28, 22), ends_at=ny(2027, 3, 1, 2))
    make_event(title="Ends at midnight", starts_at=ny(2027, 2, 28, 20),
               ends_at=ny(2027, 3, 1, 0))
    make_event(title="Three-day summit", starts_at=ny(2027, 3, 30, 9),
               ends_at=ny(2027, 4, 1, 17))
    # 11 PM in Chicago is midnight in New York: the site's day, not the event's, counts.
    make_event(title="Chicago late show", timezone="America/Chicago",
               starts_at=datetime(2027, 3, 9, 23, tzinfo=ZoneInfo("America/Chicago")),
               ends_at=datetime(2027, 3, 9, 23, 30, tzinfo=ZoneInfo("America/Chicago")))

    assert titles_by_day(date(2027, 2, 1), date(2027, 2, 28)) == {
        "2027-02-28": ["Ends at midnight", "Overnight vigil"]}
    march = titles_by_day(date(2027, 3, 1), date(2027, 3, 31))
    assert march == {
        "2027-03-01": ["Overnight vigil"],
        "2027-03-10": ["Chicago late show"],
        "2027-03-30": ["Three-day summit"],
        "2027-03-31": ["Three-day summit"],
    }
    assert titles_by_day(date(2027, 4, 1), date(2027, 4, 30)) == {
        "2027-04-01": ["Three-day summit"]}


def test_days_follow_the_clock_changes(db_url) -> None:
    # 14 March 2027: New York skips 2 AM. 11:30 PM EST on the 13th is 04:30 UTC on the 14th.
    make_event(title="Spring eve", starts_at=datetime(2027, 3, 14, 4, 30, tzinfo=UTC),
               ends_at=datetime(2027, 3, 14, 4, 45, tzinfo=UTC))
    make_event(title="Across the jump", starts_at=ny(2027, 3, 14, 1, 30),
               ends_at=ny(2027, 3, 14, 3, 30))
    # 7 November 2027: still EDT at 00:30 (04:30 UTC), so the 7th, not the 6th.
    make_event(title="Autumn small hours", starts_at=datetime(2027, 11, 7, 4, 30, tzinfo=UTC),
               ends_at=datetime(2027, 11, 7, 5, 0, tzinfo=UTC))
    assert titles_by_day(date(2027, 3, 13), date(2027, 3, 14)) == {
        "2027-03-13": ["Spring eve"], "2027-03-14": ["Across the jump"]}
    assert titles_by_day(date(2027, 11, 6), date(2027, 11, 7)) == {
        "2027-11-07": ["Autumn small hours"]}


def test_all_day_events_keep_their_own_days(db_url) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # Saturday 13 March in Berlin starts at 6 PM on Friday in New York: still Saturday.
    make_event(title="Berlin day of action", all_day=True, timezone="Europe/Berlin",
               starts_at=datetime(2027, 3, 13, tzinfo=berlin),
               ends_at=datetime(2027, 3, 14, tzinfo=berlin))
    make_event(title="Chicago weekend", all_day=True, timezone="America/Chicago",
               starts_at=datetime(2027, 3, 20, tzinfo=ZoneInfo("America/Chicago")),
               ends_at=datetime(2027, 3, 22, tzinfo=ZoneInfo("America/Chicago")))
    assert titles_by_day(date(2027, 3, 1), date(2027, 3, 31)) == {
        "2027-03-13": ["Berlin day of action"],
        "2027-03-20": ["Chicago weekend"],
        "2027-03-21": ["Chicago weekend"],
    }


def test_a_day_lists_continuing_and_all_day_events_first(db_url) -> None:
    make_event(title="Evening", starts_at=ny(2027, 3, 2, 18), ends_at=ny(2027, 3, 2, 19))
    make_event(title="Morning", starts_at=ny(2027, 3, 2, 9), ends_at=ny(2027, 3, 2, 10))
    make_event(title="Started yesterday", starts_at=ny(2027, 3, 1, 20),
               ends_at=ny(2027, 3, 2, 12))
    with read_session() as session:
        entries = cal.events_by_day(session, EventQuery(), date(2027, 3, 2),
                                    date(2027, 3, 2))[date(2027, 3, 2)]
    assert [(e.event.title, e.starts_today) for e in entries] == [
        ("Started yesterday", False), ("Morning", True), ("Evening", True)]


def test_the_lists_filters_apply_and_drafts_never_show(db_url) -> None:
    day = ny(2027, 3, 5, 18)
    make_event(title="Chicago online rally", category="rally", city="Chicago",
               online_url="https://example.org/live", venue_name="", starts_at=day)
    make_event(title="Chicago hall rally", category="rally", city="Chicago", starts_at=day)
    make_event(title="Denver online rally", category="rally", city="Denver",
               online_url="https://example.org/live", starts_at=day)
    make_event(title="Chicago online call", category="call", city="Chicago",
               online_url="https://example.org/live", starts_at=day)
    make_event(title="Draft rally", category="rally", city="Chicago", status="draft",
               online_url="https://example.org/live", starts_at=day)
    march = (date(2027, 3, 1), date(2027, 3, 31))
    combined = EventQuery(categories=("rally",), cities=("chicago", "Denver"), online=True)
    assert titles_by_day(*march, combined) == {
        "2027-03-05": ["Chicago online rally", "Denver online rally"]}
    searched = EventQuery(categories=("rally",), q="chicago hall")
    assert titles_by_day(*march, searched) == {"2027-03-05": ["Chicago hall rally"]}


@pytest.mark.parametrize("raw", ["2027-3", "27-03", "2027-13", "2027-00", "march", "2027-03-01",
                                 "１９７０-01", "1969-12"])
def test_bad_months_are_refused(raw: str) -> None:
    with pytest.raises(cal.OutOfRange):
        cal.parse_month(raw, now=datetime(2026, 11, 25, tzinfo=UTC))


def test_months_and_days_are_bounded_like_the_event_form() -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert cal.parse_month("1970-01", now) == date(1970, 1, 1)
    assert cal.parse_month("2036-11", now) == date(2036, 11, 1)
    with pytest.raises(cal.OutOfRange):
        cal.parse_month("2036-12", now)
    assert cal.parse_day("2036-11-25", now) == date(2036, 11, 25)
    for raw in ("2036-11-26", "1969-12-31", "2027-02-29", "2027-3-01", "9999-12-31"):
        with pytest.raises(cal.OutOfRange):
            cal.parse_day(raw, now)


def test_the_grid_is_whole_weeks_from_sunday() -> None:
    weeks = cal.weeks(date(2027, 3, 1))
    assert weeks[0][0] == date(2027, 2, 28) and weeks[-1][-1] == date(2027, 4, 3)
    assert all(len(w) == 7 and w[0].weekday() == 6 for w in weeks)
    assert cal.weekday_names()[:2] == ["Sunday", "Monday"]
    assert cal.previous_month(date(2027, 1, 1)) == date(2026, 12, 1)
    assert cal.next_month(date(2027, 12, 1)) == date(2028, 1, 1)


# --- The pages ---------------------------------------------------------------------------------

def test_month_page_links_days_and_events_and_keeps_the_filters(client) -> None:
    make_event(slug="vigil", title="Overnight vigil", category="rally", city="Chicago",
               starts_at=ny(2027, 3, 13, 22), ends_at=ny(2027, 3, 14, 2))
    make_event(slug="other", title="Training elsewhere", category="training",
               starts_at=ny(2027, 3, 20, 10))
    r = client.get("/events/month/2027-03?category=rally")
    assert r.status_code == 200
    body = r.text
    assert "<caption" in body and body.count('<th scope="col">') == 7
    assert 'href="/events/day/2027-03-13?category=rally"' in body
    assert 'href="/events/day/2027-03-14?category=rally"' in body
    assert body.count('href="http://testserver/events/vigil"') == 2  # both days
    assert "Training elsewhere" not in body
    assert 'href="/events/month/2027-02?category=rally"' in body
    assert 'href="/events/month/2027-04?category=rally"' in body
    assert 'href="/events?category=rally"' in body  # the list, same filters
    # Every link the page builds is free of empty parameters.
    assert not re.search(r'href="[^"]*[?&][a-z]+=(&|")', body)


def test_month_page_marks_today(client) -> None:
    today = cal.today()
    body = client.get(f"/events/month/{today:%Y-%m}").text
    cell = re.search(r'<td class="cal-day[^"]*is-today"[^>]*aria-current="date">(.*?)</td>',
                     body, re.S)
    assert cell is not None and body.count('aria-current="date"') == 1
    text = re.sub(r"<[^>]+>", " ", cell[1])
    assert re.search(rf"\b{today.day}\b", text) and "Today" in text
    assert "This month" not in body  # already there
    other = today.replace(day=1) + timedelta(days=40)
    assert "This month" in client.get(f"/events/month/{other:%Y-%m}").text


def test_month_and_day_pages_drop_empty_parameters(client) -> None:
    r = client.get("/events/month/2027-03?city=&category=rally&q=&online=",
                   follow_redirects=False)
    assert r.status_code == 301
    assert r.headers["location"] == "/events/month/2027-03?category=rally"
    r = client.get("/events/day/2027-03-14?city=&q=", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/events/day/2027-03-14"


@pytest.mark.parametrize("path", ["/events/month/2027-13", "/events/month/1969-12",
                                  "/events/month/20270", "/events/month/%00",
                                  "/events/day/2027-02-30", "/events/day/1969-12-31",
                                  "/events/day/2027-3-1", "/events/day/tomorrow"])
def test_bad_months_and_days_are_a_friendly_404(client, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert "text/html" in r.headers["content-type"]
    assert "calendar" in r.text


def test_first_month_has_no_previous_link(client) -> None:
    body = client.get("/events/month/1970-01").text
    assert "/events/month/1969-12" not in body and "/events/month/1970-02" in body


def test_bad_filters_on_the_month_view_are_a_400(client) -> None:
    assert client.get("/events/month/2027-03?online=yes").status_code == 400
    many = "&".join(f"city=c{i}" for i in range(21))
    assert client.get(f"/events/month/2027-03?{many}").status_code == 400


def test_day_list_shows_cards_of_every_event_on_the_day(client) -> None:
    make_event(slug="vigil", title="Overnight vigil", starts_at=ny(2027, 3, 13, 22),
               ends_at=ny(2027, 3, 14, 2), capacity=10)
    make_event(slug="summit", title="Summit", all_day=True, timezone="America/New_York",
               starts_at=ny(2027, 3, 14), ends_at=ny(2027, 3, 15),
               online_url="https://example.org/live")
    make_event(slug="monday", title="Monday meeting", starts_at=ny(2027, 3, 15, 9))
    body = client.get("/events/day/2027-03-14").text
    assert "Sunday 14 March 2027" in body
    assert "Overnight vigil" in body and "Summit" in body and "Monday meeting" not in body
    assert "2 events" in body
    assert "Hybrid" in body  # the card's badges
    assert 'href="/events/day/2027-03-13"' in body and 'href="/events/day/2027-03-15"' in body
    assert 'href="/events/month/2027-03"' in body
    assert "No events" not in body
    empty = client.get("/events/day/2027-03-20?category=rally").text
    assert "Nothing matches these filters on this day" in empty


def test_a_busy_day_links_to_its_list_for_the_rest(client) -> None:
    for hour in (9, 11, 13, 15, 17):
        make_event(title=f"Session at {hour}", starts_at=ny(2027, 3, 9, hour))
    body = client.get("/events/month/2027-03").text
    assert "Session at 13" in body and "Session at 15" not in body  # three per cell
    assert re.search(r'<a class="cal-more" href="/events/day/2027-03-09">2 more'
                     r'<span class="visually-hidden"> on Tuesday 9 March 2027</span></a>', body)
    day = client.get("/events/day/2027-03-09").text
    assert all(f"Session at {hour}" in day for hour in (9, 11, 13, 15, 17))


def test_the_cached_month_shows_a_new_event_at_once(client) -> None:
    make_event(title="First", starts_at=ny(2027, 3, 9, 9))
    assert "Second" not in client.get("/events/month/2027-03").text
    make_event(title="Second", starts_at=ny(2027, 3, 10, 9))
    assert "Second" in client.get("/events/month/2027-03").text


def test_the_grid_loads_its_few_fields_in_one_query_and_keeps_long_events(db_url) -> None:
    """A residency that began two months earlier is on every day of the month, though the
    query walks the starts_at index from the month's start (services/spans.py)."""
    make_event(title="Residency", starts_at=ny(2027, 1, 10, 9), ends_at=ny(2027, 4, 2, 17))
    for day in range(1, 29, 3):
        make_event(title=f"Meeting {day}", starts_at=ny(2027, 3, day, 18))
    with read_session() as session, queries_run() as seen:
        days = cal.events_by_day(session, EventQuery(), date(2027, 3, 1), date(2027, 3, 31),
                                 grid=True)
        titles = {e.event.title for entries in days.values() for e in entries}
        for entries in days.values():
            for entry in entries:
                assert entry.event.slug and entry.event.local_start and not entry.event.is_cancelled
    assert len(days) == 31 and all(e[0].event.title == "Residency" for e in days.values())
    assert titles == {"Residency", *(f"Meeting {d}" for d in range(1, 29, 3))}
    assert len(seen) == 2  # the longest event (one index probe), then the rows: none per event
    with read_session() as session:
        event = cal.events_by_day(session, EventQuery(), date(2027, 3, 1), date(2027, 3, 1),
                                  grid=True)[date(2027, 3, 1)][0].event
        full = session.get(Event, event.id)
        # A plain row (no ORM object, nothing loaded one event at a time), read by Event's
        # rules.
        assert isinstance(event, cal.GridEvent)
        with pytest.raises(AttributeError):
            _ = event.description  # type: ignore[union-attr]
        assert (event.local_start, event.local_end, event.is_cancelled, event.title) == \
            (full.local_start, full.local_end, full.is_cancelled, full.title)
