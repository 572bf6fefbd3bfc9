"""Recurring events in feeds (services/ical_series.py, services/feeds.py): a series is one
VEVENT with an RRULE, EXDATEs and RECURRENCE-ID overrides, and every reader (icalendar with
recurring-ical-events, `ical`, vobject, ical.js: tests/ical_readers.py) expands the public feed
to exactly the occurrences the site has, with the same UTC start and end, status and title.

The dates each rule gives are written out in the tests (not computed by the code under test),
across DST changes in both hemispheres. Feeds are rendered with a fixed `now` in 2031.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from events_app import settings
from events_app.db import read_session, write_session
from events_app.models import Event, EventStatus, Series, utcnow
from events_app.services import feeds, series
from events_app.services import seed as seed_service
from events_app.services.event_form import form_values, parse_event_form
from events_app.services.feeds import FeedFilter
from events_app.services.ical import attendee_ics, build_vevent, event_ics, vevent_ical
from events_app.services.ical_series import feed_entries
from events_app.services.series import Scope
from events_app.services.series_rules import Rule, instance_starts
from tests.factories import make_rsvp
from tests.feed_helpers import make_series, organizer_edit, parse
from tests.ical_readers import Occurrence, expansions
from tests.organizer_support import cheap_passwords, make_organizer  # noqa: F401 - fixture

NOW = datetime(2031, 1, 2, 12, 0, tzinfo=UTC)
CHICAGO = "America/Chicago"


def _feed(now: datetime = NOW) -> bytes:
    with read_session() as session:
        return feeds.render_public_feed(session, FeedFilter(), now)


def _expected(rows: list[Event], uid: str | None = None) -> list[Occurrence]:
    """What the site lists for these rows: under the series' UID (`uid`) or their own."""
    found = []
    for row in rows:
        with read_session() as session:
            row = session.get(Event, row.id)
        cancelled = row.status != EventStatus.PUBLISHED.value
        if row.all_day:
            tz = ZoneInfo(row.timezone)
            start = row.starts_at.astimezone(tz).date().isoformat()
            end = row.ends_at.astimezone(tz).date().isoformat()
        else:
            start = f"{row.starts_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
            end = f"{row.ends_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
        found.append((uid if uid is not None else row.uid,
                       start, end, "CANCELLED" if cancelled else "CONFIRMED",
                       f"Cancelled: {row.title}" if cancelled else row.title))
    return sorted(found)


def _assert_expanded(raw: bytes, expected: list[Occurrence], icaljs: dict | None = None
                     ) -> None:
    parse(raw, check_readers=False)  # wire format
    for reader, got in expansions(raw, icaljs).items():
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        assert got == expected, f"{reader}: missing {missing}, extra {extra}"


def _vevents(raw: bytes) -> list[dict[str, list[str]]]:
    """Each VEVENT's lines by property name (unfolded), to say what the file holds."""
    text = raw.decode().replace("\r\n ", "")
    out = []
    for block in text.split("BEGIN:VEVENT\r\n")[1:]:
        props: dict[str, list[str]] = {}
        for line in block.split("END:VEVENT")[0].split("\r\n"):
            if line:
                name = line.split(":")[0].split(";")[0]
                props.setdefault(name, []).append(line)
        out.append(props)
    return out


def _tuesdays(first: date, until: date, every: int = 2) -> list[datetime]:
    found, day = [], first
    while day <= until:
        found.append(datetime(day.year, day.month, day.day, 19, 0))
        day += timedelta(weeks=every)
    return found


# --- The example --------------------------------------------------------------------

def test_every_second_tuesday_is_one_repeating_event_across_dst(db_url) -> None:
    # 7 PM Chicago: CST (UTC-6) until March 9, then CDT (UTC-5): 01:00Z, then 00:00Z.
    starts = _tuesdays(date(2031, 1, 7), date(2031, 6, 30))
    series, rows = make_series("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20310630T235959Z",
                               CHICAGO, starts)
    raw = _feed()
    vevents = _vevents(raw)
    assert len(vevents) == 1
    master = vevents[0]
    assert master["UID"] == [f"UID:{series.uid}"]
    assert master["DTSTART"] == ["DTSTART;TZID=America/Chicago:20310107T190000"]
    assert master["DTEND"] == ["DTEND;TZID=America/Chicago:20310107T210000"]
    assert master["RRULE"] == ["RRULE:FREQ=WEEKLY;UNTIL=20310625T120000Z;INTERVAL=2;BYDAY=TU"]
    assert "EXDATE" not in master and "RECURRENCE-ID" not in master
    assert [r.starts_at for r in rows][:6:5] == [datetime(2031, 1, 8, 1, 0, tzinfo=UTC),
                                                datetime(2031, 3, 19, 0, 0, tzinfo=UTC)]
    _assert_expanded(raw, _expected(rows, series.uid))


def test_cancel_one_date_move_another_skip_a_third(db_url) -> None:
    """The issue's "done when": one date cancelled, one moved, one skipped (no row), one
    retitled: the master stays, three overrides, one EXDATE; every reader agrees."""
    starts = _tuesdays(date(2031, 1, 7), date(2031, 6, 30))
    series, rows = make_series("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20310630T235959Z",
                               CHICAGO, starts)
    cancelled, moved, skipped, retitled = rows[2], rows[4], rows[6], rows[8]
    organizer_edit(cancelled.id, status=EventStatus.CANCELLED.value,
                   cancelled_at=NOW - timedelta(days=1), detached=True)
    organizer_edit(moved.id, starts_at=moved.starts_at + timedelta(days=1, hours=1),
                   ends_at=moved.ends_at + timedelta(days=1, hours=1), detached=True)
    organizer_edit(retitled.id, bump=False, title="Network meeting: budget", detached=True)
    with write_session() as session:
        session.delete(session.get(Event, skipped.id))
        stored = session.get(Series, series.id)
        stored.skipped = starts[6].date().isoformat()
        session.add(stored)
    raw = _feed()
    vevents = _vevents(raw)
    assert [v["UID"] for v in vevents] == [[f"UID:{series.uid}"]] * 4
    master, *overrides = vevents
    assert master["EXDATE"] == ["EXDATE;TZID=America/Chicago:20310401T190000"]
    assert [o["RECURRENCE-ID"] for o in overrides] == [
        ["RECURRENCE-ID;TZID=America/Chicago:20310204T190000"],
        ["RECURRENCE-ID;TZID=America/Chicago:20310304T190000"],
        ["RECURRENCE-ID;TZID=America/Chicago:20310429T190000"]]
    assert overrides[0]["STATUS"] == ["STATUS:CANCELLED"]
    assert overrides[1]["DTSTART"] == ["DTSTART;TZID=America/Chicago:20310305T200000"]
    assert overrides[1]["SEQUENCE"] == ["SEQUENCE:1"]
    remaining = [r for r in rows if r.id != skipped.id]
    _assert_expanded(raw, _expected(remaining, series.uid))


def test_the_master_takes_what_most_dates_have(db_url) -> None:
    """The first date alone edited: it is the override, not every other date."""
    series, rows = make_series("FREQ=WEEKLY;BYDAY=TU;COUNT=5", CHICAGO,
                               _tuesdays(date(2031, 1, 7), date(2031, 2, 4), every=1))
    organizer_edit(rows[0].id, venue_name="Library", detached=True)
    vevents = _vevents(_feed())
    assert len(vevents) == 2
    assert vevents[0]["LOCATION"] == ["LOCATION:Union hall\\, Chicago"]
    assert vevents[0]["RRULE"] == ["RRULE:FREQ=WEEKLY;UNTIL=20310205T130000Z;BYDAY=TU"]
    assert vevents[1]["RECURRENCE-ID"] == ["RECURRENCE-ID;TZID=America/Chicago:20310107T190000"]
    assert vevents[1]["LOCATION"] == ["LOCATION:Library\\, Chicago"]
    _assert_expanded(_feed(), _expected(rows, series.uid))


def test_a_whole_series_cancelled_is_one_cancelled_vevent(db_url) -> None:
    series, rows = make_series("FREQ=WEEKLY;BYDAY=TU;COUNT=4", CHICAGO,
                               _tuesdays(date(2031, 1, 7), date(2031, 1, 28), every=1))
    for row in rows:
        organizer_edit(row.id, status=EventStatus.CANCELLED.value, cancelled_at=NOW)
    vevents = _vevents(_feed())
    assert len(vevents) == 1 and vevents[0]["STATUS"] == ["STATUS:CANCELLED"]
    _assert_expanded(_feed(), _expected(rows, series.uid))


# --- Every kind of rule, across DST changes ---------------------------------------------------

def _dates(first: date, last: date, keep) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)
            if keep(first + timedelta(days=n))]


def _at(days: list[date], hour: int, minute: int = 0) -> list[datetime]:
    return [datetime(d.year, d.month, d.day, hour, minute) for d in days]


def _nth_weekdays(first: date, last: date, weekday: int, nth: int) -> list[date]:
    """The nth (or with -1 the last) given weekday of each month, by counting days."""
    def keep(d: date) -> bool:
        if d.weekday() != weekday:
            return False
        if nth > 0:
            return (d.day - 1) // 7 + 1 == nth
        return (d + timedelta(days=7)).month != d.month
    return _dates(first, last, keep)


def _every_kind() -> list[tuple[str, str, list[datetime], int]]:
    """(RRULE, zone, wall-clock starts, all-day days) for each kind of rule the form offers,
    the dates worked out here day by day."""
    return [
        # Phone banks every evening across Europe's spring change (March 30).
        ("FREQ=DAILY;UNTIL=20310403T235959Z", "Europe/London",
         _at(_dates(date(2031, 3, 25), date(2031, 4, 3), lambda d: True), 18), 0),
        # Weekdays across the US change (March 9).
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=10", CHICAGO,
         _at(_dates(date(2031, 3, 3), date(2031, 3, 14), lambda d: d.weekday() < 5), 18), 0),
        # Every second week on Monday and Wednesday, across Sydney's autumn change (April 6).
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;UNTIL=20310430T000000Z", "Australia/Sydney",
         _at([date(2031, 3, 24), date(2031, 3, 26), date(2031, 4, 7), date(2031, 4, 9),
              date(2031, 4, 21), date(2031, 4, 23)], 19), 0),
        # Monthly on the 31st: months without one are passed over.
        ("FREQ=MONTHLY;BYMONTHDAY=31;UNTIL=20311231T235959Z", "America/New_York",
         _at(_dates(date(2031, 1, 31), date(2031, 12, 31), lambda d: d.day == 31), 10), 0),
        # Monthly on the 29th: February only in the leap year.
        ("FREQ=MONTHLY;BYMONTHDAY=29;COUNT=14", "Asia/Kolkata",
         _at(_dates(date(2031, 1, 29), date(2032, 3, 29), lambda d: d.day == 29), 17, 30), 0),
        # The first Saturday (a Know-Your-Rights training).
        ("FREQ=MONTHLY;BYDAY=1SA;COUNT=6", "America/Los_Angeles",
         _at(_nth_weekdays(date(2031, 1, 1), date(2031, 6, 30), 5, 1), 10), 0),
        # The last Friday.
        ("FREQ=MONTHLY;BYDAY=-1FR;COUNT=5", "Europe/London",
         _at(_nth_weekdays(date(2031, 1, 1), date(2031, 5, 31), 4, -1), 18, 30), 0),
        # The fifth Monday, in the months that have one.
        ("FREQ=MONTHLY;BYDAY=5MO;UNTIL=20311231T235959Z", "America/Denver",
         _at(_nth_weekdays(date(2031, 1, 1), date(2031, 12, 31), 0, 5), 19), 0),
        # All-day Saturdays across the US change.
        ("FREQ=WEEKLY;BYDAY=SA;COUNT=4", CHICAGO,
         _at(_dates(date(2031, 3, 1), date(2031, 3, 22), lambda d: d.weekday() == 5), 0), 1),
        # Two-day weekends, every other week.
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;COUNT=3", "Europe/London",
         _at([date(2031, 3, 22), date(2031, 4, 5), date(2031, 4, 19)], 0), 2),
        # A series kept in UTC.
        ("FREQ=WEEKLY;BYDAY=TH;COUNT=6", "UTC",
         _at(_dates(date(2031, 3, 6), date(2031, 4, 10), lambda d: d.weekday() == 3), 17), 0),
    ]


def _later(instant: datetime, tzid: str, all_day: int) -> datetime:
    """An hour later; all-day, the next local midnight."""
    if not all_day:
        return instant + timedelta(hours=1)
    local = instant.astimezone(ZoneInfo(tzid))
    return (local.replace(tzinfo=None) + timedelta(days=1)).replace(
        tzinfo=ZoneInfo(tzid)).astimezone(UTC)


def test_every_kind_of_rule_expands_to_the_sites_dates_in_every_reader(db_url, monkeypatch
                                                                        ) -> None:
    monkeypatch.setattr(settings, "FEED_MONTHS_AHEAD", 24)
    made = []
    for rrule, tzid, starts, days in _every_kind():
        series, rows = make_series(rrule, tzid, starts, all_day_days=days)
        made.append((series, rows))
        # One date of each moved (by an hour, all-day by a day), one cancelled: overrides in
        # every kind.
        organizer_edit(rows[1].id, starts_at=_later(rows[1].starts_at, tzid, days),
                       ends_at=_later(rows[1].ends_at, tzid, days))
        organizer_edit(rows[-1].id, status=EventStatus.CANCELLED.value, cancelled_at=NOW)
        if len(rows) > 4:  # and one skipped: an EXDATE
            with write_session() as session:
                session.delete(session.get(Event, rows[2].id))
            rows.pop(2)
    raw = _feed()
    vevents = _vevents(raw)
    # London's VTIMEZONE also shows 2019's change, or vobject takes it for UTC and expands
    # with pytz (vtimezone._VOBJECT_PROBE_YEAR).
    assert b"RDATE:20190331T010000\r\n" in raw
    # The UTC series is written date by date (see ical_series), each with its own UID.
    assert sum("RRULE" in v for v in vevents) == len(made) - 1
    assert sum("RECURRENCE-ID" in v for v in vevents) == 2 * (len(made) - 1)
    assert sum("EXDATE" in v for v in vevents) == 7
    expected = sorted(o for series, rows in made
                      for o in _expected(rows, None if series.timezone == "UTC" else series.uid))
    _assert_expanded(raw, expected)
    with read_session() as session:  # the component path writes the same bytes
        events = feeds.feed_events(session, FeedFilter(), NOW)
        for entry in feed_entries(events, feeds.series_of(session, events)):
            assert vevent_ical(entry) == build_vevent(entry).to_ical()


# --- The window, rule changes, times a DST change skips -----------------------------------------

def test_the_horizon_applies_to_occurrences(db_url) -> None:
    """A weekly series begun months before the window and running two years: the feed's
    master starts at its first date in the window and ends at its last within the horizon."""
    starts = _tuesdays(date(2030, 6, 4), date(2032, 6, 1), every=1)
    series, rows = make_series("FREQ=WEEKLY;BYDAY=TU;UNTIL=20320602T045959Z", CHICAGO, starts)
    window = [r for r in rows if feeds.window_start(NOW) <= r.ends_at
              and r.starts_at < feeds.horizon_end(NOW, settings.FEED_MONTHS_AHEAD)]
    assert window[0].starts_at == datetime(2030, 12, 4, 1, 0, tzinfo=UTC)  # Dec 3, 7 PM
    raw = _feed()
    master = _vevents(raw)[0]
    assert master["DTSTART"] == ["DTSTART;TZID=America/Chicago:20301203T190000"]
    # Its links go to the first date from the feed's day on (Tuesday, January 7).
    upcoming = next(r for r in rows if r.starts_at > NOW)
    assert master["URL"] == [f"URL:{settings.BASE_URL}/events/{upcoming.slug}"]
    assert master["RRULE"] == ["RRULE:FREQ=WEEKLY;UNTIL=20311231T130000Z;BYDAY=TU"]
    _assert_expanded(raw, _expected(window, series.uid))
    with read_session() as session:  # a nearer horizon (?months=1) ends the rule sooner
        near = feeds.render_public_feed(session, FeedFilter.of([], [], months=1), NOW)
    assert _vevents(near)[0]["RRULE"] == ["RRULE:FREQ=WEEKLY;UNTIL=20310129T130000Z;BYDAY=TU"]
    _assert_expanded(near, _expected([r for r in window if r.starts_at.year < 2031
                                      or r.starts_at < datetime(2031, 2, 2, tzinfo=UTC)],
                                     series.uid))


def test_dates_the_rule_no_longer_gives_stand_alone(db_url) -> None:
    """The rule changed from Tuesdays to Wednesdays with two Tuesdays kept (they had RSVPs):
    those are no instance of the rule, so they are written on their own, with their own UID."""
    tuesdays = _tuesdays(date(2031, 1, 7), date(2031, 1, 14), every=1)
    series, kept = make_series("FREQ=WEEKLY;BYDAY=TU;COUNT=2", CHICAGO, tuesdays)
    wednesdays = [datetime(2031, 1, d, 19, 0) for d in (22, 29)] + [datetime(2031, 2, 5, 19)]
    with write_session() as session:
        stored = session.get(Series, series.id)
        stored.rrule = "FREQ=WEEKLY;BYDAY=WE;COUNT=3"
        stored.first_start = wednesdays[0].replace(tzinfo=ZoneInfo(CHICAGO)).astimezone(UTC)
        session.add(stored)
        for n, wall in enumerate(wednesdays):
            instant = wall.replace(tzinfo=ZoneInfo(CHICAGO)).astimezone(UTC)
            session.add(Event(slug=f"wed-{n}", title="Network meeting", starts_at=instant,
                              ends_at=instant + timedelta(hours=2), timezone=CHICAGO,
                              venue_name="Union hall", city="Chicago",
                              summary="Rapid-response network",
                              status=EventStatus.PUBLISHED.value, series_id=series.id,
                              recurrence_id=instant))
    with read_session() as session:
        new = list(session.exec(select(Event).where(Event.slug.startswith("wed-"))))
    raw = _feed()
    assert [("RRULE" in v, "RECURRENCE-ID" in v) for v in _vevents(raw)] == [
        (False, False), (False, False), (True, False)]
    _assert_expanded(raw, sorted(_expected(kept) + _expected(new, series.uid)))


def test_a_time_the_spring_change_skips_is_written_on_its_own(db_url) -> None:
    """Daily at 2:30 AM in New York: on March 9 that time does not exist. The site places it
    at 3:30 EDT (the offset before the gap, RFC 5545); readers resolve a written 02:30 each
    their own way, so that date is excluded from the rule and written alone in UTC-exact
    terms, and the repeated 1:30 AM in November likewise."""
    walls = [datetime(2031, 3, d, 2, 30) for d in range(7, 12)]
    series, rows = make_series("FREQ=DAILY;COUNT=5", "America/New_York", walls, minutes=60)
    assert rows[2].starts_at == datetime(2031, 3, 9, 7, 30, tzinfo=UTC)
    # Two hours, so the end is past the repeated hour: recurring-ical-events misreads an event
    # that ends inside it, series or not (it redoes DTEND - DTSTART in wall-clock time).
    fall = [datetime(2031, 11, d, 1, 30) for d in range(1, 4)]
    autumn, later = make_series("FREQ=DAILY;COUNT=3", "America/New_York", fall)
    raw = _feed()
    vevents = _vevents(raw)
    masters = [v for v in vevents if "RRULE" in v]
    assert [m["EXDATE"] for m in masters] == [
        ["EXDATE;TZID=America/New_York:20310309T023000"],
        ["EXDATE;TZID=America/New_York:20311102T013000"]]
    _assert_expanded(raw, sorted(_expected(rows[:2] + rows[3:], series.uid) + _expected([rows[2]])
                                 + _expected(later[::2], autumn.uid) + _expected([later[1]])))


# --- A person's own calendar and the e-mails: the occurrence alone ------------------------------

def test_personal_feed_and_emails_hold_the_occurrence_alone(db_url) -> None:
    series, rows = make_series("FREQ=WEEKLY;BYDAY=TU;COUNT=4", CHICAGO,
                               _tuesdays(date(2031, 1, 7), date(2031, 1, 28), every=1))
    make_rsvp(rows[1], email="ann@example.org")
    make_rsvp(rows[3], email="ann@example.org", status="waitlisted")
    with read_session() as session:
        mine = feeds.render_personal_feed(session, "ann@example.org", NOW)
    vevents = _vevents(mine)
    assert [v["UID"] for v in vevents] == [[f"UID:{rows[1].uid}"], [f"UID:{rows[3].uid}"]]
    assert not any("RRULE" in v or "RECURRENCE-ID" in v for v in vevents)
    _assert_expanded(mine, sorted([*_expected([rows[1]]), (
        rows[3].uid, *_expected([rows[3]])[0][1:3], "TENTATIVE", "Network meeting (waitlist)")]))
    for raw in (event_ics(rows[1]), attendee_ics(rows[1], "REQUEST", "ann@example.org")):
        (only,) = _vevents(raw)
        assert only["UID"] == [f"UID:{rows[1].uid}"]
        assert "RRULE" not in only and "RECURRENCE-ID" not in only
        _assert_expanded(raw, _expected([rows[1]]))


# --- Through the series service: the "done when" ------------------------------------------

def _form_of(event: Event, **changes: str):
    with read_session() as session:
        values = form_values(session.get(Event, event.id))
    return parse_event_form(values | changes)


def _site(now: datetime) -> list[Occurrence]:
    """What the site holds for the feed's window, each under its series' UID when it is one
    of a series' dates (else its own)."""
    with read_session() as session:
        rows = feeds.feed_events(session, FeedFilter(), now)
        uids = {s.id: s.uid for s in feeds.series_of(session, rows).values()}
    return sorted(o for row in rows for o in _expected([row], uids.get(row.series_id)))


@pytest.mark.usefixtures("cheap_passwords")
def test_an_organizers_series_edits_reach_every_reader(db_url) -> None:
    """"Every second Tuesday at 7 PM America/Chicago" for four months, made and changed
    through services/series.py: one date cancelled, one moved, one retitled, one skipped (and
    one booked date skipped, which stays as a cancelled single event), then the time of every
    date changed, then the following dates split off into a new series: after each step
    every reader expands the feed to exactly the site's dates."""
    ada = make_organizer("ada@example.org", "Ada Organizer")
    now = utcnow()  # the service stamps cancellations with the clock: the dates follow it
    first = now.astimezone(ZoneInfo(CHICAGO)).date() + timedelta(days=14)
    first += timedelta(days=(1 - first.weekday()) % 7)  # a Tuesday
    form = {"title": "Network meeting", "summary": "Rapid response", "description": "",
            "category": "meeting", "timezone": CHICAGO, "start_date": first.isoformat(),
            "start_time": "19:00", "end_date": first.isoformat(), "end_time": "20:30",
            "venue_name": "Central Library", "city": "St. Louis"}
    made = series.new_series(ada, parse_event_form(form),
                             Rule("weekly", interval=2, weekdays=(1,),
                                  until=first + timedelta(weeks=16)), publish=True)

    def rows() -> list[Event]:
        with read_session() as session:
            return list(session.exec(select(Event).where(Event.series_id == made.id)
                                     .order_by(Event.starts_at)))

    def check(masters: int, overrides: int) -> None:
        raw = _feed(now)
        vevents = _vevents(raw)
        assert sum("RRULE" in v for v in vevents) == masters
        assert sum("RECURRENCE-ID" in v for v in vevents) == overrides
        _assert_expanded(raw, _site(now))

    dates = rows()
    assert len(dates) == 9
    check(1, 0)
    series.cancel(ada, dates[1].slug, "Room closed", Scope.ONE)
    moved = (first + timedelta(weeks=4, days=1)).isoformat()
    series.edit(ada, dates[2].slug, _form_of(dates[2], start_date=moved, end_date=moved),
                Scope.ONE)
    series.edit(ada, dates[3].slug, _form_of(dates[3], title="Network meeting: budget"),
                Scope.ONE)
    make_rsvp(dates[5], email="pat@example.org")
    series.skip(ada, made.id or 0, [first + timedelta(weeks=8), first + timedelta(weeks=10)])
    check(1, 3)
    series.edit(ada, dates[6].slug, _form_of(dates[6], start_time="18:00", end_time="19:30"),
                Scope.ALL)
    assert all(e.starts_at.astimezone(ZoneInfo(CHICAGO)).hour == 18 for e in rows()
               if not e.detached)
    check(1, 3)
    series.edit(ada, dates[7].slug, _form_of(dates[7], venue_name="Union Hall"),
                Scope.FOLLOWING)
    check(2, 3)


def test_a_night_the_clocks_change_is_an_override(db_url) -> None:
    """Saturdays 11 PM to 5 AM: the night of March 8 lasts the series' six hours in real time
    (till 6 AM CDT), which a reader adding DTEND - DTSTART in wall-clock time would end at 5:
    so that date is written out with its own DTEND, and every reader agrees."""
    walls = [datetime(2031, 3, d, 23, 0) for d in (1, 8, 15, 22)]
    series, rows = make_series("FREQ=WEEKLY;BYDAY=SA;COUNT=4", CHICAGO, walls, minutes=360)
    raw = _feed()
    overrides = [v for v in _vevents(raw) if "RECURRENCE-ID" in v]
    assert [o["DTEND"] for o in overrides] == [["DTEND;TZID=America/Chicago:20310309T060000"]]
    _assert_expanded(raw, _expected(rows, series.uid))


# --- Many random series, randomly edited: one feed, every reader ----------------------------------

ZONES = ["America/New_York", CHICAGO, "America/Los_Angeles", "Europe/London", "Europe/Berlin",
         "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Auckland", "Asia/Kolkata",
         "America/Santiago", "America/Phoenix"]


def _random_rule(rng: random.Random, start: date) -> Rule:
    end = {"count": rng.randint(2, 25)} if rng.random() < 0.5 else {
        "until": start + timedelta(days=rng.randint(20, 300))}
    kind = rng.choice(["daily", "weekly", "day", "nth"])
    if kind == "daily":
        return Rule("daily", interval=rng.randint(1, 3), **end)
    if kind == "weekly":
        days = tuple(rng.sample(range(7), rng.randint(1, 3)))
        return Rule("weekly", interval=rng.randint(1, 2), weekdays=days, **end)
    if kind == "day":
        return Rule("monthly", monthly_day=rng.choice([1, 15, 28, 29, 30, 31]), **end)
    return Rule("monthly", monthly_nth=rng.choice([1, 2, 3, 4, 5, -1]),
                monthly_weekday=rng.randint(0, 6), **end)


def test_random_series_randomly_edited_agree_in_every_reader(db_url, monkeypatch) -> None:
    """Thirty series of every rule kind, zone (half-hour DST, southern DST, DST at midnight,
    none) and time of day (some in the hours DST changes skip or repeat), rows made by
    services/series_rules as services/series.py makes them, then dates moved, retitled,
    cancelled and removed at random: every reader expands the one feed to the site's dates.
    (A fixed seed: the same feed every run.)"""
    monkeypatch.setattr(settings, "FEED_MONTHS_AHEAD", 24)
    rng = random.Random(14)
    uids, remaining = set(), []
    for _ in range(30):
        tzid = rng.choice(ZONES)
        day = date(2031, 1, 5) + timedelta(days=rng.randint(0, 300))
        all_day = rng.random() < 0.2
        at = time(0, 0) if all_day else rng.choice(
            [time(0, 30), time(1, 30), time(2, 30), time(7, 0), time(19, 0), time(23, 30)])
        rule = _random_rule(rng, day)
        local = datetime.combine(day, at, tzinfo=ZoneInfo(tzid))
        instants = instance_starts(rule, local, limit=60)
        first_local = instants[0].astimezone(ZoneInfo(tzid))
        walls = [i.astimezone(ZoneInfo(tzid)).replace(tzinfo=None) for i in instants]
        made, rows = make_series(rule.to_rrule(first_local), tzid, walls,
                                 minutes=rng.choice([30, 90, 120, 360]),
                                 all_day_days=rng.choice([1, 1, 2]) if all_day else 0)
        uids.add(made.uid)
        for row in rows:
            roll = rng.random()
            if roll < 0.08:
                with write_session() as session:
                    session.delete(session.get(Event, row.id))
                continue
            if roll < 0.16:
                organizer_edit(row.id, status=EventStatus.CANCELLED.value, cancelled_at=NOW)
            elif roll < 0.24:
                shift = timedelta(days=1) if all_day else timedelta(hours=rng.choice([-2, 1, 26]))
                organizer_edit(row.id, starts_at=row.starts_at + shift,
                               ends_at=row.ends_at + shift)
            elif roll < 0.3:
                organizer_edit(row.id, bump=False, title="Network meeting (changed)")
            remaining.append(row)
            uids.add(row.uid)
    raw = _feed()
    assert sum("RRULE" in v for v in _vevents(raw)) >= 25
    with read_session() as session:
        shown = {r.id for r in feeds.feed_events(session, FeedFilter(), NOW)}
    expected = sorted(o[1:] for o in _expected([r for r in remaining if r.id in shown], ""))
    for reader, got in expansions(raw).items():
        assert {o[0] for o in got} <= uids, reader
        spans = sorted(o[1:] for o in got)
        missing = sorted(set(expected) - set(spans))
        extra = sorted(set(spans) - set(expected))
        assert spans == expected, f"{reader}: missing {missing}, extra {extra}"


def test_the_demo_calendar_reads_the_same_in_every_reader(db_url) -> None:
    """The seed's events and its two series (a biweekly meeting across the November change,
    a monthly training), in one public feed: every reader lists exactly the site's dates."""
    today = date(2026, 10, 1)
    with write_session() as session:
        seed_service.seed(session, today=today)
    now = datetime.combine(today, time(12, 0), tzinfo=UTC)
    raw = _feed(now)
    assert sum("RRULE" in v for v in _vevents(raw)) == 2
    _assert_expanded(raw, _site(now))


def test_a_filtered_feed_holds_the_dates_that_match(db_url) -> None:
    """One date moved to another city: the Chicago feed leaves it out of the rule (EXDATE),
    the Evanston feed holds just that date, the series' UID with a rule that gives it alone."""
    series, rows = make_series("FREQ=WEEKLY;BYDAY=TU;COUNT=4", CHICAGO,
                               _tuesdays(date(2031, 1, 7), date(2031, 1, 28), every=1))
    organizer_edit(rows[2].id, city="Evanston", detached=True)
    with read_session() as session:
        chicago = feeds.render_public_feed(session, FeedFilter.of([], ["chicago"]), NOW)
        evanston = feeds.render_public_feed(session, FeedFilter.of([], ["Evanston"]), NOW)
    assert _vevents(chicago)[0]["EXDATE"] == ["EXDATE;TZID=America/Chicago:20310121T190000"]
    _assert_expanded(chicago, _expected(rows[:2] + rows[3:], series.uid))
    (alone,) = _vevents(evanston)
    assert alone["RRULE"] == ["RRULE:FREQ=WEEKLY;UNTIL=20310122T130000Z;BYDAY=TU"]
    _assert_expanded(evanston, _expected([rows[2]], series.uid))
