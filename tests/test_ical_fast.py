"""services/ical.vevent_ical writes feeds' VEVENTs as text: it must be byte for byte what
icalendar writes for the same event (build_vevent(...).to_ical()), for any text, zone, time
and state, so every reader sees what it saw before the fast path. No database: the events are
built in memory."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from events_app.models import CATEGORIES, Event
from events_app.services.event_text import LocalText
from events_app.services.ical import FeedEntry, build_vevent, vevent_ical

ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata",
         "UTC", "Etc/UTC", "GMT", "Etc/GMT+5", "Europe/Dublin", "Pacific/Chatham"]
# Characters that exercise escaping, quoting, RFC 6868 and folding (multi-byte included).
TRICKY = st.text(st.sampled_from(list("ab ;,:\\\"'^\n\r\tNé€😀’x.-")), max_size=200)


def _event(**overrides) -> Event:
    values = dict(
        id=7, slug="town-hall", uid="20310101-abc@events.example", title="Town hall",
        summary="", description="", category="meeting", timezone="America/New_York",
        starts_at=datetime(2031, 3, 9, 6, 30, tzinfo=UTC),
        ends_at=datetime(2031, 3, 9, 8, 0, tzinfo=UTC), status="published",
        created_at=datetime(2031, 1, 1, tzinfo=UTC),
        updated_at=datetime(2031, 1, 2, 3, 4, 5, 6789, tzinfo=UTC), sequence=0)
    values.update(overrides)
    return Event(**values)


def _same(entry: FeedEntry) -> None:
    assert vevent_ical(entry) == build_vevent(entry).to_ical()


@given(title=TRICKY, summary=TRICKY, description=TRICKY, venue=TRICKY, host=TRICKY,
       online=st.sampled_from(["", "https://meet.example/a,b;c"]), note=TRICKY,
       status=st.sampled_from(["published", "cancelled", "draft"]),
       waitlisted=st.booleans(), category=st.sampled_from([*CATEGORIES, "odd,one"]))
def test_text_fields_match_icalendar(title, summary, description, venue, host, online, note,
                                     status, waitlisted, category) -> None:
    event = _event(title=title or "x", summary=summary, description=description,
                   venue_name=venue, street_address=venue[:5], host_name=host,
                   online_url=online, status=status, category=category,
                   cancel_message=note[:20], uid=f"u,{title[:10]};x")
    _same(FeedEntry(event, note=note, waitlisted=waitlisted))


@given(zone=st.sampled_from(ZONES), all_day=st.booleans(),
       start=st.datetimes(min_value=datetime(1, 1, 3), max_value=datetime(9999, 12, 28)),
       minutes=st.integers(1, 60 * 24 * 40), sequence=st.integers(0, 10_000),
       geo=st.one_of(st.none(), st.tuples(st.floats(-90, 90), st.floats(-180, 180))))
def test_times_and_places_match_icalendar(zone, all_day, start, minutes, sequence, geo) -> None:
    starts = start.replace(tzinfo=UTC)
    event = _event(timezone=zone, all_day=all_day, starts_at=starts,
                   ends_at=min(starts + timedelta(minutes=minutes),
                               datetime(9999, 12, 31, 23, 0, tzinfo=UTC)),
                   sequence=sequence, latitude=geo[0] if geo else None,
                   longitude=geo[1] if geo else None)
    _same(FeedEntry(event))


def test_the_repeated_hour_and_long_lines_match_icalendar() -> None:
    # 2031-11-02 01:30 happens twice in New York: written in UTC (vtimezone.wall_time).
    event = _event(starts_at=datetime(2031, 11, 2, 5, 30, tzinfo=UTC),
                   ends_at=datetime(2031, 11, 2, 6, 30, tzinfo=UTC),
                   description="\\" * 73 + "^" * 80 + "word " * 100)
    _same(FeedEntry(event))
    assert b"DTSTART:20311102T053000Z" in vevent_ical(FeedEntry(event))


def test_attendee_entries_keep_the_component_path() -> None:
    entry = FeedEntry(_event(), attendee="ann@example.org", attendee_name='Ann "A", B',
                      withdrawn=True, sequence_bump=1)
    assert b"ATTENDEE;" in vevent_ical(entry)
    _same(entry)


def test_recurrence_properties_match_icalendar() -> None:
    """A series' master (RRULE, EXDATEs as times with a zone and as dates) and an override
    (RECURRENCE-ID) in icalendar's order and format."""
    chicago = ZoneInfo("America/Chicago")
    master = FeedEntry(_event(), uid="series-1@events-app",
                       rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;WKST=MO;UNTIL=20310601T045959Z",
                       exdates=(datetime(2031, 3, 11, 19, 0, tzinfo=chicago),
                                datetime(2031, 3, 9, 2, 30, tzinfo=chicago)))
    _same(master)
    assert vevent_ical(master).count(b"\r\nEXDATE;TZID=America/Chicago:") == 2
    _same(FeedEntry(_event(all_day=True), uid="s", rrule="FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20310630",
                    exdates=(date(2031, 4, 25),)))
    _same(FeedEntry(_event(status="cancelled"), uid="s",
                    recurrence_id=datetime(2031, 3, 11, 19, 0, tzinfo=chicago)))
    _same(FeedEntry(_event(all_day=True), uid="s", recurrence_id=date(2031, 3, 11)))


@given(title=TRICKY, summary=TRICKY, description=TRICKY,
       fallbacks=st.tuples(st.booleans(), st.booleans(), st.booleans()),
       status=st.sampled_from(["published", "cancelled"]))
def test_texts_in_another_language_match_icalendar(title, summary, description, fallbacks,
                                                   status) -> None:
    """A Spanish reader's entry: translated fields plain, fallback ones with LANGUAGE=en on
    SUMMARY and DESCRIPTION (services/ical.py), as icalendar writes the parameter."""
    event = _event(title="Town hall", summary="In English", description="English words",
                   status=status)
    langs = ["en" if fell else "es" for fell in fallbacks]
    text = LocalText(title=event.title if fallbacks[0] else title or "x",
                     summary=event.summary if fallbacks[1] else summary,
                     description=event.description if fallbacks[2] else description,
                     title_lang=langs[0], summary_lang=langs[1], description_lang=langs[2],
                     language="es")
    entry = FeedEntry(event, text=text)
    _same(entry)
    assert (b"SUMMARY;LANGUAGE=en:" in vevent_ical(entry)) == fallbacks[0]
