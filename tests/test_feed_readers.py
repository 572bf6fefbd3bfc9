"""Every feed the app serves, read by four independent readers (tests/ical_readers.py): each
must place every event at the same UTC start and end, and at the instant the organizer meant.

Fixtures cover standard time, daylight time (spring, summer, autumn, and a second year, whose
DST period ical.js and vobject once put in standard time), the spring-forward day, both passes
of the repeated hour on the fall-back night, and all-day events, in the US zones (Phoenix and
Honolulu without DST) and Europe/London. Feeds are rendered with a fixed `now` in 2031.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from events_app import settings
from events_app.db import read_session, write_session
from events_app.models import Event, RsvpStatus
from events_app.services import feeds, messages, personal_feeds
from events_app.services.feeds import FeedFilter
from events_app.services.ical import event_ics
from tests.factories import make_event, make_rsvp
from tests.feed_helpers import parse, vtimezone_utc
from tests.ical_readers import Span, instants, read_icaljs_many

NOW = datetime(2031, 1, 10, 12, 0, tzinfo=UTC)
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
         "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "Europe/London"]
US_SPRING, US_FALL = date(2031, 3, 9), date(2031, 11, 2)
EU_SPRING, EU_FALL = date(2031, 3, 30), date(2031, 10, 26)


@dataclass(frozen=True)
class Case:
    label: str
    tzid: str
    start: datetime  # aware, in tzid (fold says which pass of a repeated hour)
    hours: float = 2
    all_day_days: int = 0

    @property
    def expected(self) -> Span:
        if self.all_day_days:
            first = self.start.date()
            return first.isoformat(), (first + timedelta(days=self.all_day_days)).isoformat()
        start = self.start.astimezone(UTC)
        end = start + timedelta(hours=self.hours)
        return f"{start:%Y-%m-%dT%H:%M:%SZ}", f"{end:%Y-%m-%dT%H:%M:%SZ}"


def _cases() -> list[Case]:
    cases = []
    for tzid in ZONES:
        z = ZoneInfo(tzid)
        spring, fall = (EU_SPRING, EU_FALL) if tzid.startswith("Europe") else (US_SPRING, US_FALL)
        jump = time(2, 30) if tzid.startswith("Europe") else time(3, 30)  # first hour after

        def at(d: date, t: time, fold: int = 0, z: ZoneInfo = z) -> datetime:
            return datetime.combine(d, t, tzinfo=z).replace(fold=fold)

        cases += [
            Case("standard", tzid, at(date(2031, 1, 15), time(10, 0))),
            Case("spring daylight", tzid, at(date(2031, 4, 20), time(14, 0))),
            Case("summer daylight", tzid, at(date(2031, 7, 1), time(14, 0))),
            Case("autumn daylight", tzid, at(date(2031, 10, 1), time(18, 0))),
            Case("next year's daylight", tzid, at(date(2032, 7, 1), time(14, 0))),
            Case("spring-forward day, after the jump", tzid, at(spring, jump)),
            Case("spring-forward day, evening", tzid, at(spring, time(19, 0))),
            Case("spanning the spring-forward jump", tzid, at(spring - timedelta(days=1),
                                                              time(23, 0)), hours=6),
            Case("repeated hour, first pass", tzid, at(fall, time(1, 30)), hours=2),
            Case("repeated hour, second pass", tzid, at(fall, time(1, 30), fold=1), hours=1),
            Case("fall-back day, afternoon", tzid, at(fall, time(15, 0))),
            Case("all day", tzid, at(date(2031, 7, 4), time.min), all_day_days=1),
            Case("all day across the change", tzid, at(fall - timedelta(days=1), time.min),
                 all_day_days=3),
        ]
    return cases


CASES = _cases()


@pytest.fixture
def stored(db_url, monkeypatch) -> dict[str, tuple[Case, Event]]:
    """Every case as a published event in Chicago's city filter or not; uid -> (case, row)."""
    monkeypatch.setattr(settings, "FEED_MONTHS_AHEAD", 36)  # the 2032 cases too
    made = {}
    for i, case in enumerate(CASES):
        if case.all_day_days:
            starts = case.start.astimezone(UTC)
            ends = (case.start + timedelta(days=case.all_day_days)).astimezone(UTC)
        else:
            starts = case.start.astimezone(UTC)
            ends = starts + timedelta(hours=case.hours)
        event = make_event(title=f"{case.label} ({case.tzid})", timezone=case.tzid,
                           starts_at=starts, ends_at=ends, all_day=bool(case.all_day_days),
                           city="Chicago" if i % 2 else "Anchorage")
        made[event.uid] = (case, event)
    return made


def _check(raw: bytes, stored: dict[str, tuple[Case, Event]], uids: set[str] | None = None,
           icaljs: dict | None = None) -> None:
    """All four readers give each stored event its expected UTC start and end; and a client
    using only the file's own VTIMEZONE gets the same."""
    found = instants(raw, icaljs)
    expected = {uid: stored[uid][0].expected for uid in (uids or stored)}
    for reader, spans in found.items():
        assert set(spans) == set(expected), reader
        wrong = {uid: (stored[uid][0].label, stored[uid][0].tzid, got, expected[uid])
                 for uid, got in spans.items() if got != expected[uid]}
        assert not wrong, f"{reader} misplaces: {wrong}"
    p = parse(raw, check_readers=False)
    for uid in expected:
        ev = p.lib_event(uid)
        if "TZID" in ev["DTSTART"].params:
            local = p.strict_event(uid).dtstart
            tzid = ev["DTSTART"].params["TZID"]
            assert f"{vtimezone_utc(p, local, tzid):%Y-%m-%dT%H:%M:%SZ}" == expected[uid][0]


def test_public_and_filtered_feeds(stored) -> None:
    with read_session() as session:
        everything = feeds.render_public_feed(session, FeedFilter(), NOW)
        chicago = feeds.render_public_feed(session, FeedFilter.of([], ["chicago"]), NOW)
    _check(everything, stored)
    _check(chicago, stored, {uid for uid, (_, e) in stored.items() if e.city == "Chicago"})


def test_repeated_hour_is_written_in_utc_and_daylight_periods_one_rdate_a_line(stored) -> None:
    with read_session() as session:
        raw = feeds.render_public_feed(session, FeedFilter(), NOW)
    p = parse(raw)
    for uid, (case, _) in stored.items():
        if case.label.startswith("repeated hour") and case.tzid not in (
                "America/Phoenix", "Pacific/Honolulu"):
            assert p.lib_event(uid)["DTSTART"].to_ical().endswith(b"Z")
    assert b"RDATE:20310309T020000\r\n" in raw  # US DST 2031, its own line
    assert b"RDATE:20320314T020000\r\n" in raw  # and 2032's


def test_every_per_event_download(stored) -> None:
    raws = [event_ics(event) for _, event in stored.values()]
    for raw, (uid, _), js in zip(raws, stored.items(), read_icaljs_many(raws), strict=True):
        _check(raw, stored, {uid}, icaljs=js)


def test_personal_feed(stored) -> None:
    me = "member@example.org"
    for i, (_, event) in enumerate(stored.values()):
        make_rsvp(event, email=me, status=RsvpStatus.WAITLISTED.value if i % 3 == 0
                  else RsvpStatus.CONFIRMED.value)
    with read_session() as session:
        raw = feeds.render_personal_feed(session, me, NOW)
    _check(raw, stored)


def test_email_attachments(stored) -> None:
    """Confirmation (PUBLISH), change (REQUEST) and both cancellations (CANCEL)."""
    raws, uids = [], []
    for _, event in list(stored.values())[::3]:
        rsvp = make_rsvp(event, email=f"p{event.id}@example.org")
        change = messages.EventChange(time=("before", "after"), place=None)
        for content in (messages.confirmation(event, rsvp),
                        messages.event_changed(event, rsvp, change),
                        messages.cancelled(event, rsvp, had_seat=True)):
            raws.append(content.ics.encode())
            uids.append(event.uid)
        event.status = "cancelled"
        raws.append(messages.event_cancelled(event, rsvp, "Called off").ics.encode())
        uids.append(event.uid)
    for raw, uid, js in zip(raws, uids, read_icaljs_many(raws), strict=True):
        _check(raw, stored, {uid}, icaljs=js)


# --- Any stored date (issue 9 item 12): no 500, no slow feed ---------------------------------

EXTREMES = [
    # (label, timezone, starts_at, ends_at, all_day)
    ("last day, Chicago", "America/Chicago", datetime(9999, 12, 31, 18, 0, tzinfo=UTC),
     datetime(9999, 12, 31, 20, 0, tzinfo=UTC), False),
    ("last moment, Berlin (local end is past 9999)", "Europe/Berlin",
     datetime(9999, 12, 31, 22, 0, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
     False),
    ("last day, all day", "America/Chicago", datetime(9999, 12, 31, 6, 0, tzinfo=UTC),
     datetime(9999, 12, 31, 23, 0, tzinfo=UTC), True),
    ("year 1, Tokyo (local start is before year 1 in UTC terms)", "Asia/Tokyo",
     datetime(1, 1, 1, 0, 0, tzinfo=UTC), datetime(1, 1, 1, 2, 0, tzinfo=UTC), False),
    ("year 1, all day", "America/New_York", datetime(1, 1, 1, 0, 0, tzinfo=UTC),
     datetime(1, 1, 2, 0, 0, tzinfo=UTC), True),
    ("year 9997", "America/Chicago", datetime(9997, 7, 1, 19, 0, tzinfo=UTC),
     datetime(9997, 7, 1, 21, 0, tzinfo=UTC), False),
]


def test_any_stored_date_gives_a_feed_every_reader_reads(client) -> None:
    me = "far@example.org"
    made = []
    normal = make_event(title="Next week", timezone="America/Chicago")
    made.append(normal)
    make_rsvp(normal, email=me)
    for label, tzid, starts, ends, all_day in EXTREMES:
        event = make_event(title=label, timezone=tzid, starts_at=starts, ends_at=ends,
                           all_day=all_day)
        made.append(event)
        make_rsvp(event, email=me)
    with write_session() as session:
        token = personal_feeds.feed_for(session, me).token
    for event in made:
        r = client.get(f"/events/{event.slug}.ics")
        assert r.status_code == 200, event.title
        found = parse(r.content)  # four readers agree
        if not event.all_day:
            ev = found.strict_event(event.uid)
            assert (ev.dtstart.astimezone(UTC), ev.dtend.astimezone(UTC)) == (
                event.starts_at, event.ends_at)
    r = client.get(f"/my/{token}/calendar.ics")
    assert r.status_code == 200
    p = parse(r.content)
    assert set(p.uids) == {e.uid for e in made if e.starts_at.year > 1}  # year 1 is past
    # The year-9997 event is written in UTC, so Chicago's VTIMEZONE covers only the years of
    # next week's event, not 8,000 years of onsets.
    (chicago,) = [tz for tz in p.lib.walk("VTIMEZONE") if str(tz["TZID"]) == "America/Chicago"]
    assert len(chicago.to_ical().split(b"RDATE")) < 12
    assert client.get("/calendar.ics").status_code == 200


@pytest.mark.parametrize("tzid", ["America/Chicago", "Europe/London", "Australia/Sydney",
                                  "America/St_Johns"])
def test_every_half_hour_around_each_change_in_two_years(tzid: str) -> None:
    """Around every DST change of 2031 and 2032 (northern and southern rules, a half-hour
    offset), an event every half hour lands where the tz database says, for all four readers:
    the VTIMEZONE's onsets mean the same thing to each of them."""
    from events_app.services.ical import render_calendar
    from events_app.services.vtimezone import _transitions

    zone = ZoneInfo(tzid)
    changes = _transitions(zone, datetime(2031, 1, 1, tzinfo=UTC), datetime(2033, 1, 1, tzinfo=UTC))
    assert len(changes) == 4
    events, expected = [], {}
    stamp = datetime(2030, 1, 1, tzinfo=UTC)
    for change in changes:
        instant = change - timedelta(hours=26)
        while instant < change + timedelta(hours=26):
            event = Event(id=len(events) + 1, slug=f"e{len(events)}", title="t",
                          uid=f"{len(events)}@test", timezone=tzid, starts_at=instant,
                          ends_at=instant + timedelta(minutes=90), status="published",
                          created_at=stamp, updated_at=stamp)
            events.append(event)
            expected[event.uid] = (f"{instant:%Y-%m-%dT%H:%M:%SZ}",
                                   f"{instant + timedelta(minutes=90):%Y-%m-%dT%H:%M:%SZ}")
            instant += timedelta(minutes=30)
    raw = render_calendar(events, "Around the changes", "test")
    for reader, spans in instants(raw).items():
        wrong = {uid: (got, expected[uid]) for uid, got in spans.items() if got != expected[uid]}
        assert not wrong, f"{reader}: {len(wrong)} misplaced, e.g. {next(iter(wrong.items()))}"
        assert set(spans) == set(expected)
