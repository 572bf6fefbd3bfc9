"""Feeds: iCalendar output (services/ical.py) and what a feed holds (services/feeds.py):
content, times, escaping, visibility, no attendee data.

Feeds are rendered with a fixed `now` in 2031, so the DST dates below stay meaningful and the
30-day windows are exact whatever day the suite runs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest

from events_app import settings
from events_app.db import read_session, write_session
from events_app.models import Event
from events_app.services import feeds, ical, personal_feeds
from events_app.services.feeds import FeedFilter
from events_app.services.ical import event_ics
from tests.factories import make_event, make_rsvp
from tests.feed_helpers import Parsed, organizer_edit, parse, utc, vtimezone_utc
from tests.ical_readers import read_icaljs

# The built-in site description (no SITE_DESCRIPTION set), in the feed's language.
DESCRIPTION = "Protests, policy briefings, town halls and trainings across the network."

NOW = datetime(2031, 1, 15, 12, 0, tzinfo=UTC)


def public_feed(now: datetime = NOW, categories=(), cities=()) -> Parsed:
    with read_session() as session:
        flt = FeedFilter.of(categories, cities)
        return parse(feeds.render_public_feed(session, flt, now))


def personal_feed(email: str, now: datetime = NOW) -> Parsed:
    with read_session() as session:
        return parse(feeds.render_personal_feed(session, email, now))






def test_event_ics_is_a_complete_calendar_with_one_event(db_url) -> None:
    start = datetime(2031, 6, 14, 19, 0, tzinfo=UTC)  # 2:00 PM CDT
    event = make_event(title="Town hall", starts_at=start, host_name="Local 12",
                       timezone="America/Chicago", latitude=38.627, longitude=-90.199,
                       street_address="1200 Market St", city="St. Louis", region="MO",
                       category="town-hall")
    p = parse(event_ics(event))
    assert str(p.lib["METHOD"]) == "PUBLISH"
    assert str(p.lib["VERSION"]) == "2.0"
    assert p.uids == [event.uid]
    assert [str(tz["TZID"]) for tz in p.lib.walk("VTIMEZONE")] == ["America/Chicago"]
    ev = p.strict_event(event.uid)
    assert ev.summary == "Town hall"
    assert utc(ev.dtstart) == start
    assert utc(ev.dtend) == start + timedelta(hours=2)
    assert vtimezone_utc(p, ev.dtstart, "America/Chicago") == start
    assert ev.sequence == 0
    assert ev.status.value == "CONFIRMED"
    assert ev.transparency == "OPAQUE"
    assert ev.organizer.common_name == "Local 12"
    assert ev.organizer.uri == f"mailto:{settings.MAIL_FROM}"
    assert (ev.geo.lat, ev.geo.lng) == (38.627, -90.199)
    assert ev.location == "City Hall, 1200 Market St, St. Louis, MO"
    assert ev.categories == ["Town hall"]
    assert ev.url == f"{settings.BASE_URL}/events/{event.slug}"
    assert f"Event page: {settings.BASE_URL}/events/{event.slug}" in ev.description
    assert f"RSVP: {settings.BASE_URL}/events/{event.slug}#rsvp" in ev.description
    assert utc(ev.dtstamp) == event.updated_at.replace(microsecond=0)
    assert utc(ev.created) == event.created_at.replace(microsecond=0)
    assert utc(ev.last_modified) == event.updated_at.replace(microsecond=0)
    lib_ev = p.lib_event(event.uid)
    assert utc(lib_ev.DTSTART) == start
    assert lib_ev["DTSTART"].params["TZID"] == "America/Chicago"


def test_calendar_properties(db_url) -> None:
    make_event(starts_at=NOW + timedelta(days=3))
    p = public_feed()
    cal = p.lib
    assert str(cal["PRODID"]) == ical.PRODID
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert p.x_text("X-WR-CALNAME") == settings.SITE_NAME
    assert p.x_text("X-WR-CALDESC") == DESCRIPTION
    assert p.strict.name == [settings.SITE_NAME]  # RFC 7986 NAME, read by the strict parser
    assert p.strict.description == [DESCRIPTION]
    assert p.x_text("X-WR-TIMEZONE") == settings.DEFAULT_TIMEZONE
    assert p.strict.refresh_interval == timedelta(hours=1)
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in p.raw
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in p.raw
    assert cal.get_missing_tzids() == set()
    assert p.strict.prodid == ical.PRODID


# (IANA zone, local wall-clock start) pairs chosen around DST changes in three hemispheres'
# rules, plus zones without DST and with half-hour offsets.
ZONED_STARTS = [
    ("America/Chicago", datetime(2031, 3, 8, 18, 0)),    # Saturday before spring-forward (CST)
    ("America/Chicago", datetime(2031, 3, 9, 3, 30)),    # first hour after the jump (CDT)
    ("America/Chicago", datetime(2031, 3, 9, 18, 0)),    # the Sunday after (CDT)
    ("America/Chicago", datetime(2031, 11, 1, 18, 0)),   # before fall-back (CDT)
    ("America/Chicago", datetime(2031, 11, 2, 18, 0)),   # after fall-back (CST)
    ("Europe/Berlin", datetime(2031, 3, 29, 19, 0)),     # CET
    ("Europe/Berlin", datetime(2031, 3, 30, 19, 0)),     # CEST
    ("Australia/Sydney", datetime(2031, 4, 5, 19, 0)),   # AEDT
    ("Australia/Sydney", datetime(2031, 4, 6, 19, 0)),   # AEST
    ("Asia/Kolkata", datetime(2031, 3, 9, 10, 0)),       # +05:30, no DST
    ("America/St_Johns", datetime(2031, 3, 9, 10, 0)),   # -02:30 after its change
    ("UTC", datetime(2031, 3, 9, 10, 0)),
]


def test_times_round_trip_to_the_same_utc_instants(db_url) -> None:
    from zoneinfo import ZoneInfo

    made: list[tuple[Event, datetime]] = []
    for tzid, wall in ZONED_STARTS:
        start = wall.replace(tzinfo=ZoneInfo(tzid)).astimezone(UTC)
        made.append((make_event(timezone=tzid, starts_at=start,
                                ends_at=start + timedelta(hours=3)), start))
    # One event spanning the fall-back change: its end is in the other offset.
    span_start = datetime(2031, 11, 1, 23, 0, tzinfo=ZoneInfo("America/Chicago")).astimezone(UTC)
    made.append((make_event(timezone="America/Chicago", starts_at=span_start,
                            ends_at=span_start + timedelta(hours=6)), span_start))

    p = public_feed()
    assert sorted(str(tz["TZID"]) for tz in p.lib.walk("VTIMEZONE")) == [
        "America/Chicago", "America/St_Johns", "Asia/Kolkata", "Australia/Sydney",
        "Europe/Berlin"]
    for event, start in made:
        end = event.ends_at
        strict, lib = p.strict_event(event.uid), p.lib_event(event.uid)
        assert (utc(strict.dtstart), utc(strict.dtend)) == (start, end), event.timezone
        assert (utc(lib.DTSTART), utc(lib.DTEND)) == (start, end), event.timezone
        if event.timezone != "UTC":
            # A client that only trusts the VTIMEZONE in the file gets the same instants.
            assert lib["DTSTART"].params["TZID"] == event.timezone
            assert vtimezone_utc(p, strict.dtstart, event.timezone) == start
            assert vtimezone_utc(p, strict.dtend, event.timezone) == end
        else:
            assert b"Z" in lib["DTSTART"].to_ical()


def test_second_pass_of_the_repeated_hour_is_written_in_utc(db_url) -> None:
    """01:30 happens twice in Chicago on 2 Nov 2031; TZID local time means the first one."""
    first = datetime(2031, 11, 2, 6, 30, tzinfo=UTC)   # 01:30 CDT
    second = datetime(2031, 11, 2, 7, 30, tzinfo=UTC)  # 01:30 CST, an hour later
    a = make_event(timezone="America/Chicago", starts_at=first, ends_at=first + timedelta(hours=3))
    b = make_event(timezone="America/Chicago", starts_at=second,
                   ends_at=second + timedelta(hours=3))
    p = public_feed()
    assert utc(p.strict_event(a.uid).dtstart) == first
    assert utc(p.strict_event(b.uid).dtstart) == second
    assert p.lib_event(b.uid)["DTSTART"].to_ical() == b"20311102T073000Z"
    assert utc(p.lib_event(b.uid).DTSTART) == second


def test_all_day_events_use_dates_with_exclusive_end(db_url) -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/Chicago")
    one = make_event(all_day=True, timezone="America/Chicago",
                     starts_at=datetime(2031, 3, 9, tzinfo=tz).astimezone(UTC),
                     ends_at=datetime(2031, 3, 10, tzinfo=tz).astimezone(UTC))
    three = make_event(all_day=True, timezone="America/Chicago",
                       starts_at=datetime(2031, 5, 1, tzinfo=tz).astimezone(UTC),
                       ends_at=datetime(2031, 5, 4, tzinfo=tz).astimezone(UTC))
    p = public_feed()
    for event, first, end in ((one, date(2031, 3, 9), date(2031, 3, 10)),
                              (three, date(2031, 5, 1), date(2031, 5, 4))):
        lib = p.lib_event(event.uid)
        assert lib["DTSTART"].params["VALUE"] == "DATE"
        assert (first, end) == (lib.DTSTART, lib.DTEND)
        strict = p.strict_event(event.uid)
        assert (strict.dtstart, strict.dtend) == (first, end)
        assert type(strict.dtstart) is date
        assert strict.transparency == "TRANSPARENT"
    assert p.lib.walk("VTIMEZONE") == []  # dates carry no TZID


HOSTILE_TITLE = "Rally, march; \\back\\slash\\ \"quoted\" 😀✊🏽 " + "労働組合の集会" * 12
HOSTILE_TEXT = (
    "Line one, with commas; and semicolons.\r\nLine two\rLine three\n\n"
    "Tab\there, escape\x1b and bell\x07 removed; emoji 👩🏽‍🔧 and a 🇺🇸 flag. "
    + "長い説明文です。" * 40
)


def test_hostile_text_is_escaped_and_folded(db_url) -> None:
    event = make_event(
        title=HOSTILE_TITLE, summary="Sum, mary; \\", description=HOSTILE_TEXT,
        venue_name="Hall; East, \"Wing\"", city="Zürich", host_name="Ana; \"Org\",\n Inc.",
        category="town-hall", starts_at=NOW + timedelta(days=5),
    )
    expected_description_part = ical.clean_text(HOSTILE_TEXT)
    assert "\r" not in expected_description_part and "\x07" not in expected_description_part
    for raw in (public_feed().raw, event_ics(event)):
        p = parse(raw)  # also checks CRLF, 75-octet lines and UTF-8-safe folds
        strict, lib = p.strict_event(event.uid), p.lib_event(event.uid)
        assert strict.summary == HOSTILE_TITLE
        assert str(lib["SUMMARY"]) == HOSTILE_TITLE
        assert expected_description_part in strict.description
        assert "Line one, with commas; and semicolons.\nLine two\nLine three\n\nTab\there" \
            in strict.description
        assert str(lib["DESCRIPTION"]) == strict.description
        assert strict.location == "Hall; East, \"Wing\", Zürich"
        # Parameter values: one line, and ' for " (no RFC 6868 codes clients might show).
        assert strict.organizer.common_name == "Ana; 'Org', Inc."
        assert str(lib["ORGANIZER"].params["CN"]) == "Ana; 'Org', Inc."
        # Long CJK text really was folded, and never inside a character.
        assert any(line.startswith(b" ") for line in raw.split(b"\r\n"))
    name_event = make_event(title="Solo", starts_at=NOW + timedelta(days=6))
    with write_session() as session:
        row = session.get(Event, name_event.id)
        row.title = "Name, with; \\ and\nnewline"
        session.add(row)
    p = parse(event_ics(row))
    assert p.x_text("X-WR-CALNAME") == "Name, with; \\ and\nnewline"
    assert p.strict.name == ["Name, with; \\ and\nnewline"]
    assert b"X-WR-CALNAME;VALUE=TEXT:Name\\, with\\; \\\\ and\\nnewline" in p.raw
    assert read_icaljs(p.raw)["x_wr_calname"] == "Name, with; \\ and\nnewline"
    assert read_icaljs(p.raw)["name"] == "Name, with; \\ and\nnewline"


def test_uid_stable_and_sequence_increases_across_edits(db_url) -> None:
    event = make_event(title="Original", starts_at=NOW + timedelta(days=10))
    before = public_feed().lib_event(event.uid)
    assert int(before["SEQUENCE"]) == 0

    moved = NOW + timedelta(days=11)
    edited = organizer_edit(event.id, title="Renamed", slug="renamed-event", starts_at=moved,
                   ends_at=moved + timedelta(hours=2), venue_name="Union Hall")
    p = public_feed()
    assert p.uids == [event.uid]
    after = p.strict_event(event.uid)
    assert after.sequence == 1
    assert after.summary == "Renamed"
    assert utc(after.dtstart) == moved
    assert after.location.startswith("Union Hall")
    assert utc(after.last_modified) == edited.updated_at.replace(microsecond=0)
    assert utc(after.last_modified) >= utc(before.decoded("LAST-MODIFIED"))
    assert after.url.endswith("/events/renamed-event")

    organizer_edit(event.id, status="cancelled", cancelled_at=NOW - timedelta(hours=1))
    cancelled = public_feed().strict_event(event.uid)
    assert cancelled.sequence == 2
    assert cancelled.status.value == "CANCELLED"


def test_cancelled_events_stay_30_days_then_go(db_url) -> None:
    event = make_event(title="Called off", starts_at=NOW + timedelta(days=40))
    organizer_edit(event.id, status="cancelled", cancelled_at=NOW - timedelta(days=2),
                   cancel_message="Moved online; see the new event.")
    ev = public_feed().strict_event(event.uid)
    assert ev.status.value == "CANCELLED"
    assert ev.transparency == "TRANSPARENT"
    assert ev.summary == "Cancelled: Called off"
    assert "Moved online; see the new event." in ev.description
    assert "RSVP:" not in ev.description

    assert event.uid in public_feed(now=NOW + timedelta(days=27)).uids
    assert event.uid not in public_feed(now=NOW + timedelta(days=30)).uids


def test_window_drafts_and_filters(db_url) -> None:
    old = make_event(title="Ended 32 days ago", starts_at=NOW - timedelta(days=32))
    recent = make_event(title="Ended 29 days ago", starts_at=NOW - timedelta(days=29))
    draft = make_event(title="Draft", status="draft", starts_at=NOW + timedelta(days=2))
    protest = make_event(category="protest", city="Chicago", starts_at=NOW + timedelta(days=3))
    briefing = make_event(category="briefing", city="St. Paul", starts_at=NOW + timedelta(days=4))
    meeting = make_event(category="meeting", city="st. paul", starts_at=NOW + timedelta(days=5))

    everything = public_feed()
    assert everything.uids == [recent.uid, protest.uid, briefing.uid, meeting.uid]
    assert old.uid not in everything.uids and draft.uid not in everything.uids
    assert b"Draft" not in everything.raw
    assert public_feed(categories=["protest"]).uids == [protest.uid]
    assert public_feed(cities=["ST. PAUL"]).uids == [briefing.uid, meeting.uid]
    assert public_feed(categories=["protest", "briefing"], cities=["Chicago", "St. Paul"]).uids \
        == [protest.uid, briefing.uid]
    named = public_feed(categories=["protest"], cities=["Chicago"])
    assert named.x_text("X-WR-CALNAME") == f"{settings.SITE_NAME} (Protest, Chicago)"


def test_filter_canonical_form() -> None:
    a = FeedFilter.of(["rally", "protest", "rally", " "], ["St. Paul", "chicago", "st. paul"])
    b = FeedFilter.of(["protest", "rally"], ["Chicago", "St. Paul"])
    assert a.key() == b.key()
    assert a.categories == ("protest", "rally")
    assert FeedFilter.of([], []).is_empty


def test_no_attendee_data_in_any_feed(db_url) -> None:
    event = make_event(title="Packed meeting", starts_at=NOW + timedelta(days=3))
    secrets_ = ["alice.private@example.org", "+1 555 0100", "Alice Secretname", "comment-xyz"]
    make_rsvp(event, email="alice.private@example.org", phone="+1 555 0100",
              name="Alice Secretname", comment="comment-xyz")
    waiting = make_rsvp(event, email="bob.hidden@example.net", status="waitlisted",
                       phone="+44 20 7946 0000", name="Bob Hiddenname")
    secrets_ += ["bob.hidden@example.net", "+44 20 7946 0000", "Bob Hiddenname"]
    raws = [public_feed().raw, event_ics(event), personal_feed(waiting.email).raw]
    for raw in raws:
        text = raw.decode()
        for secret in secrets_:
            assert secret not in text
        assert "ATTENDEE" not in text
    assert parse(raws[0]).strict_event(event.uid).attendees == []


def test_personal_feed_covers_all_rsvps_of_that_email(db_url) -> None:
    confirmed = make_event(title="Confirmed one", starts_at=NOW + timedelta(days=3))
    waitlisted = make_event(title="Waitlisted one", starts_at=NOW + timedelta(days=4))
    cancelled_rsvp = make_event(title="Changed my mind", starts_at=NOW + timedelta(days=5))
    someone_else = make_event(title="Not mine", starts_at=NOW + timedelta(days=6))
    gone = make_event(title="Cancelled event", starts_at=NOW + timedelta(days=7))
    typed_by_someone = make_event(title="Link never opened", starts_at=NOW + timedelta(days=8))
    me = "me@example.org"
    make_rsvp(typed_by_someone, email=me, verified_at=None)
    make_rsvp(confirmed, email=me)
    make_rsvp(waitlisted, email=me, status="waitlisted")
    make_rsvp(cancelled_rsvp, email=me, status="cancelled")
    make_rsvp(someone_else, email="other@example.org")
    make_rsvp(gone, email=me)
    organizer_edit(gone.id, status="cancelled", cancelled_at=NOW - timedelta(days=1))

    p = personal_feed(me)
    assert p.uids == [confirmed.uid, waitlisted.uid, gone.uid]
    assert p.strict_event(confirmed.uid).status.value == "CONFIRMED"
    wait = p.strict_event(waitlisted.uid)
    assert wait.status.value == "TENTATIVE"
    assert "waitlist" in wait.description
    assert p.strict_event(gone.uid).status.value == "CANCELLED"
    assert str(p.lib["METHOD"]) == "PUBLISH"


def test_only_a_feed_token_has_an_email_never_a_manage_token(db_url) -> None:
    event = make_event()
    rsvp = make_rsvp(event, email="x@example.org")
    with write_session() as session:
        feed = personal_feeds.feed_for(session, "x@example.org")
        assert personal_feeds.feed_for(session, "x@example.org").id == feed.id  # one per address
    with read_session() as session:
        assert personal_feeds.email_for_token(session, feed.token) == "x@example.org"
        for token in (rsvp.token, "nope", "", "x" * 200, "a\x00b"):
            assert personal_feeds.email_for_token(session, token) is None
    with write_session() as session:
        new = personal_feeds.rotate(session, "x@example.org")
    with read_session() as session:
        assert personal_feeds.email_for_token(session, feed.token) is None
        assert personal_feeds.email_for_token(session, new.token) == "x@example.org"


def test_feeds_reuses_render_until_data_or_day_changes(db_url) -> None:
    feeds.public_cache.clear()
    event = make_event(title="Cached", starts_at=NOW + timedelta(days=3))
    flt = FeedFilter()
    with read_session() as session:
        first = feeds.public_feed(session, flt, NOW)
    with read_session() as session:
        again = feeds.public_feed(session, flt, NOW + timedelta(hours=1))
    assert again is first
    assert feeds.public_cache.renders == 1

    organizer_edit(event.id, bump=False, title="Cached, renamed")
    with read_session() as session:
        changed = feeds.public_feed(session, flt, NOW + timedelta(hours=1))
    assert changed.etag != first.etag
    assert b"Cached\\, renamed" in changed.body
    assert changed.last_modified >= first.last_modified
    assert feeds.public_cache.renders == 2

    with read_session() as session:  # the next day the window moves: render again
        next_day = feeds.public_feed(session, flt, NOW + timedelta(days=1))
    assert feeds.public_cache.renders == 3
    assert next_day.body == changed.body  # same events, same bytes, same ETag
    assert next_day.etag == changed.etag


def test_cache_is_bounded() -> None:
    cache = feeds.FeedCache(max_entries=2)
    now = datetime(2031, 1, 1, tzinfo=UTC)
    for key in ("a", "b", "c"):
        cache.get(key, 1, now, lambda k=key: k.encode())
    cache.get("a", 1, now, lambda: b"a")
    assert cache.renders == 4  # "a" was evicted by "c" and had to render again


@pytest.mark.parametrize("slug,name", [("plain-slug", "plain-slug.ics"),
                                       ('we"ird/..\\slug', "we-ird-..-slug.ics")])
def test_ics_filename_is_header_safe(slug: str, name: str) -> None:
    assert ical.ics_filename(Event(slug=slug, title="t", starts_at=NOW, ends_at=NOW)) == name



def test_control_characters_never_reach_the_wire() -> None:
    """PostgreSQL refuses NUL, but SQLite stores it; neither it nor other C0 controls (bar
    tab and newline) may reach a feed, where strict parsers reject them."""
    event = Event(id=1, slug="x", title="A\x00B\x1bC\rD", description="one\r\ntwo\x0cthree",
                  starts_at=NOW, ends_at=NOW + timedelta(hours=1), timezone="UTC",
                  status="published", created_at=NOW, updated_at=NOW)
    p = parse(event_ics(event))
    ev = p.strict_event(event.uid)
    assert ev.summary == "ABC\nD"
    assert ev.description.startswith("one\ntwothree")
    for byte in range(32):
        if byte not in (9, 10, 13):
            assert bytes([byte]) not in p.raw


@pytest.mark.parametrize("tzid", ["America/Chicago", "Australia/Sydney", "Europe/Berlin",
                                  "America/St_Johns", "Asia/Kolkata", "Europe/Dublin",
                                  "Australia/Lord_Howe"])
def test_vtimezone_matches_tz_database_every_hour(tzid: str) -> None:
    """Read through the strict parser's VTIMEZONE interpreter, every wall-clock hour of 2031
    (and the half hours, for zones offset by 30 minutes) maps to the tz database's instant."""
    from zoneinfo import ZoneInfo

    from events_app.services.vtimezone import vtimezone

    cal = icalendar.Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", "test")
    cal.add_component(vtimezone(tzid, frozenset(range(2030, 2033))))
    p = parse(cal.to_ical())
    tz = ZoneInfo(tzid)
    instant = datetime(2031, 1, 1, tzinfo=UTC)
    checked = 0
    while instant < datetime(2032, 1, 1, tzinfo=UTC):
        local = instant.astimezone(tz)
        if local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset():  # unambiguous
            assert vtimezone_utc(p, local, tzid) == instant, local
            checked += 1
        instant += timedelta(minutes=30)
    assert checked > 17000


def test_vtimezone_onsets_use_rfc_wall_time_one_rdate_per_line() -> None:
    """RFC 5545 3.6.5: onsets are wall-clock time in the offset in force before the change:
    US DST starts at 02:00 and ends at 02:00; Sydney's ends at 03:00 (AEDT). Each onset is its
    own RDATE line: ical.js and vobject read only the first value of a list."""
    from events_app.services.vtimezone import vtimezone

    years = frozenset(range(2030, 2033))
    chicago = vtimezone("America/Chicago", years).to_ical()
    for onset in (b"20300310T020000", b"20310309T020000", b"20320314T020000",
                  b"20301103T020000", b"20311102T020000", b"20321107T020000"):
        assert b"\r\nRDATE:" + onset + b"\r\n" in chicago
    assert b"RDATE:20300310T020000," not in chicago
    sydney = vtimezone("Australia/Sydney", years).to_ical()
    for onset in (b"20300407T030000", b"20310406T030000", b"20320404T030000"):
        assert b"\r\nRDATE:" + onset + b"\r\n" in sydney
    dublin = icalendar.Timezone.from_ical(vtimezone("Europe/Dublin", years).to_ical())
    assert dublin.walk("DAYLIGHT") == []  # negative DST in tzdata is not "daylight" time


def test_vtimezone_covers_only_the_years_used() -> None:
    """Years far apart give separate runs of onsets, not everything in between."""
    from events_app.services.vtimezone import vtimezone

    vtz = vtimezone("America/Chicago", frozenset({2030, 2031, 2032, 2196, 2197, 2198}))
    raw = vtz.to_ical()
    assert b"RDATE:20310309T020000" in raw and b"RDATE:21970312T020000" in raw
    assert b"RDATE:2100" not in raw and b"RDATE:2050" not in raw


def test_spliced_feed_equals_full_serialisation(db_url) -> None:
    """render_calendar splices cached VEVENT bytes; the result must be exactly what
    serialising the whole component tree gives, and follow every column edit."""
    from events_app.services.ical import build_vevent, calendar_shell, render_calendar

    events = [make_event(starts_at=NOW + timedelta(days=i), timezone=tz)
              for i, tz in enumerate(["America/Chicago", "Europe/Berlin", "America/Chicago"])]
    full = calendar_shell(events, "Name", "Desc")
    for event in events:
        full.add_component(build_vevent(event))
    assert render_calendar(events, "Name", "Desc") == full.to_ical()

    # An edit to any column (here only the host, without a SEQUENCE bump) shows up.
    edited = organizer_edit(events[0].id, bump=False, host_name="New host")
    rendered = parse(render_calendar([edited, *events[1:]], "Name", "Desc"))
    assert rendered.strict_event(edited.uid).organizer.common_name == "New host"


# --- Unpublishing, horizon, canonical filters, names, the waitlist (issue 8) ----------------

def test_unpublished_event_stays_cancelled_for_30_days_unless_never_published(db_url) -> None:
    from events_app.services import event_admin
    from tests.organizer_support import make_organizer

    actor = make_organizer("unpub@example.org")
    shown = make_event(title="Was public")  # in a week: unpublishing happens now
    never = make_event(title="Never public", status="draft")
    me = "sub@example.org"
    make_rsvp(shown, email=me)
    with write_session() as session:
        event_admin.unpublish(session, actor, session.get(Event, shown.id))
        event_admin.unpublish(session, actor, session.get(Event, never.id))  # a no-op
    with read_session() as session:
        row = session.get(Event, shown.id)
        assert row.status == "draft" and row.unpublished_at is not None
        assert session.get(Event, never.id).unpublished_at is None
    now = row.unpublished_at
    with read_session() as session:  # its city's feed still answers, with the cancellation
        city = feeds.canonical_filter(session, FeedFilter.of([], ["ST. LOUIS"]))
    assert city.cities == ("St. Louis",)
    for p in (public_feed(now=now), personal_feed(me, now=now),
              public_feed(now=now, cities=["st. louis"])):
        assert p.uids == [shown.uid]
        ev = p.strict_event(shown.uid)
        assert ev.status.value == "CANCELLED" and ev.sequence == 1
        assert ev.summary == "Cancelled: Was public"
        assert "no longer on the calendar" in ev.description
    assert shown.uid in public_feed(now=now + timedelta(days=29)).uids
    assert public_feed(now=now + timedelta(days=31)).uids == []

    with write_session() as session:  # published again: back, with a higher SEQUENCE
        event_admin.publish(session, actor, session.get(Event, shown.id))
    ev = public_feed(now=now).strict_event(shown.uid)
    assert ev.status.value == "CONFIRMED" and ev.sequence == 2
    with read_session() as session:
        assert session.get(Event, shown.id).unpublished_at is None


def test_horizon_months_and_max_events(db_url, monkeypatch) -> None:
    near = make_event(title="Next month", starts_at=NOW + timedelta(days=30))
    eleven = make_event(title="In 11 months", starts_at=datetime(2031, 12, 1, tzinfo=UTC))
    beyond = make_event(title="In 13 months", starts_at=datetime(2032, 2, 20, tzinfo=UTC))
    assert public_feed().uids == [near.uid, eleven.uid]  # 12 months ahead by default
    with read_session() as session:
        three = FeedFilter.of([], [], months=3)
        assert parse(feeds.render_public_feed(session, three, NOW)).uids == [near.uid]
        wider = FeedFilter.of([], [], months=99)  # ?months= only narrows
        assert wider.months_ahead == settings.FEED_MONTHS_AHEAD
    monkeypatch.setattr(settings, "FEED_MONTHS_AHEAD", 24)
    assert public_feed().uids == [near.uid, eleven.uid, beyond.uid]
    monkeypatch.setattr(settings, "FEED_MAX_EVENTS", 2)
    assert public_feed().uids == [near.uid, eleven.uid]  # the nearest ones
    me = "far@example.org"
    for event in (near, eleven, beyond):
        make_rsvp(event, email=me)
    assert personal_feed(me).uids == [near.uid, eleven.uid]


def test_filters_take_the_stored_spelling(db_url) -> None:
    dallas = make_event(city="Dallas", category="protest", starts_at=NOW + timedelta(days=2))
    make_event(city="Houston", category="rally", starts_at=NOW + timedelta(days=3))
    with read_session() as session:
        shouted = feeds.public_feed(session, FeedFilter.of(["PROTEST"], ["dALLAS"]), NOW)
        feeds.public_cache.clear()  # as in another worker process
        proper = feeds.public_feed(session, FeedFilter.of(["protest"], ["Dallas"]), NOW)
        canonical = feeds.canonical_filter(session, FeedFilter.of(["Protest"],
                                                                         ["  dallas "]))
    assert shouted.body == proper.body and shouted.etag == proper.etag
    assert canonical == FeedFilter(("protest",), ("Dallas",))
    p = parse(proper.body)
    assert p.uids == [dallas.uid]
    assert p.x_text("X-WR-CALNAME") == f"{settings.SITE_NAME} (Protest, Dallas)"
    with read_session() as session:
        with pytest.raises(feeds.UnknownFilter, match="no city 'Atlantis'"):
            feeds.canonical_filter(session, FeedFilter.of([], ["Atlantis"]))
        with pytest.raises(feeds.UnknownFilter, match="no category 'nonsense'"):
            feeds.canonical_filter(session, FeedFilter.of(["nonsense"], []))
        # A category offered in the forms is known before its first event: an empty feed.
        webinars = feeds.canonical_filter(session, FeedFilter.of(["Webinar"], []))
    assert webinars.categories == ("webinar",)


def test_calendar_names_read_as_written_by_every_reader(db_url) -> None:
    make_event(city="Montebello", category="meeting", starts_at=NOW + timedelta(days=2))
    make_event(city="Chicago", category="meeting", starts_at=NOW + timedelta(days=2))
    p = public_feed(categories=["meeting"], cities=["Chicago", "Montebello"])
    name = f"{settings.SITE_NAME} (Meeting, Chicago, Montebello)"
    js = read_icaljs(p.raw)
    assert js["name"] == js["x_wr_calname"] == name
    assert js["x_wr_caldesc"] == DESCRIPTION
    assert str(p.lib["X-WR-CALNAME"]) == str(p.lib["NAME"]) == name  # icalendar
    assert p.strict.name == [name]
    import vobject

    assert vobject.readOne(p.raw.decode()).x_wr_calname.value == name


def test_waitlisted_events_say_so_in_the_summary(db_url) -> None:
    event = make_event(title="Training", starts_at=NOW + timedelta(days=4))
    make_rsvp(event, email="wait@example.org", status="waitlisted")
    ev = personal_feed("wait@example.org").strict_event(event.uid)
    assert ev.summary == "Training (waitlist)"
    assert ev.status.value == "TENTATIVE"
    assert public_feed().strict_event(event.uid).summary == "Training"


def test_stored_spelling_is_the_smallest_among_events_that_are_or_were_public(db_url) -> None:
    soon = NOW + timedelta(days=2)
    make_event(city="st. louis", starts_at=soon)
    make_event(city="St. Louis", starts_at=soon)
    make_event(city="ST. LOUIS", starts_at=soon, status="draft")  # never public: not counted
    make_event(city="Aurora", starts_at=soon, status="draft")
    make_event(city="Zion", starts_at=soon, status="draft", unpublished_at=NOW)  # once public
    make_event(city="Boston", starts_at=soon, status="cancelled")
    with read_session() as session:
        found = feeds.canonical_filter(session, FeedFilter.of([], ["ST. LOUIS", "zion",
                                                                   "boston"]))
        assert found.cities == ("Boston", "St. Louis", "Zion")
        with pytest.raises(feeds.UnknownFilter, match="no city 'aurora'"):
            feeds.canonical_filter(session, FeedFilter.of([], ["aurora"]))


def test_renders_beyond_the_parallel_limit_wait_for_a_slot() -> None:
    """FeedCache(parallel_renders=1): a second key's render starts only once the first ends
    (a storm of cold feeds never holds all their rows in memory at once)."""
    import threading

    cache = feeds.FeedCache(parallel_renders=1)
    first_started, release = threading.Event(), threading.Event()
    order: list[str] = []

    def slow() -> bytes:
        order.append("first started")
        first_started.set()
        release.wait(10)
        order.append("first done")
        return b"first"

    def quick() -> bytes:
        order.append("second started")
        return b"second"

    when = datetime(2026, 1, 1, tzinfo=UTC)
    one = threading.Thread(target=cache.get, args=("a", 1, when, slow))
    one.start()
    assert first_started.wait(10)
    two = threading.Thread(target=cache.get, args=("b", 1, when, quick))
    two.start()
    two.join(0.2)
    assert two.is_alive()  # waiting for the slot, not rendering
    release.set()
    one.join(10)
    two.join(10)
    assert order == ["first started", "first done", "second started"]
    assert cache.lookup("b", 1).body == b"second"


def test_todays_window_start_moves_at_midnight_utc(monkeypatch) -> None:
    """The window start a cache hit uses, worked out once per day, is window_start's, and
    moves the moment the UTC day does."""
    for now in (datetime(2030, 3, 9, 23, 59, 59, 999999, tzinfo=UTC),
                datetime(2030, 3, 10, 0, 0, tzinfo=UTC),
                datetime(2030, 3, 10, 23, 0, tzinfo=UTC),
                datetime(2030, 3, 11, 0, 0, 1, tzinfo=UTC)):
        monkeypatch.setattr(feeds, "utcnow", lambda now=now: now)
        assert feeds._todays_window_start() == feeds.window_start(now)
