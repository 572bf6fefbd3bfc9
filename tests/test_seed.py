"""The demo calendar loads, covers what the demo needs, and loading twice changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from events_app.db import read_session, write_session
from events_app.models import Event, Series
from events_app.services import seed as seed_service


def test_seed_is_idempotent(db_url: str) -> None:
    with write_session() as s:
        added = seed_service.seed(s)
    assert added >= 25
    with read_session() as s:
        before = {e.slug: (e.id, e.starts_at, e.updated_at) for e in s.exec(select(Event))}
    with write_session() as s:
        assert seed_service.seed(s) == 0
    with read_session() as s:
        after = {e.slug: (e.id, e.starts_at, e.updated_at) for e in s.exec(select(Event))}
    assert after == before
    assert len(after) == added


def test_seed_covers_the_demo_cases(db_url: str) -> None:
    today = date(2026, 3, 1)
    with write_session() as s:
        seed_service.seed(s, today=today)
    with read_session() as s:
        events = list(s.exec(select(Event)))
    zones = {e.timezone for e in events}
    assert {"America/New_York", "America/Chicago", "America/Denver",
            "America/Los_Angeles"} <= zones
    assert sum(e.status == "cancelled" for e in events) == 1
    assert any(e.all_day for e in events)
    assert any(e.is_online_only for e in events)
    assert any(e.capacity is not None and e.capacity <= 5 for e in events)
    assert any(e.starts_at.date() < today for e in events)
    assert sum(e.starts_at.date() > today for e in events) >= 15
    for e in events:
        assert e.ends_at > e.starts_at, e.slug
        assert e.starts_at.tzinfo is not None


def test_seed_times_are_local_wall_clock_times(db_url: str) -> None:
    """'start' in the file is the time on the clocks at the venue, on either side of DST."""
    records = {r["slug"]: r for r in seed_service.load_records()}
    with write_session() as s:
        seed_service.seed(s, today=date(2026, 3, 1))  # offsets cross the 8 March DST change
    with read_session() as s:
        for e in s.exec(select(Event).where(col(Event.series_id).is_(None))):
            rec = records[e.slug]
            local = e.starts_at.astimezone(ZoneInfo(e.timezone))
            if not rec.get("all_day"):
                assert local.strftime("%H:%M") == rec["start"], e.slug
            else:
                assert local.strftime("%H:%M") == "00:00"


def test_demo_always_has_an_upcoming_daylight_time_event() -> None:
    """Whatever day the demo is loaded, some upcoming event falls in daylight-saving time, so
    a subscriber sees DST handled (its two training events are half a year apart)."""
    from datetime import timedelta

    records = seed_service.load_records()
    for month in range(1, 13):
        today = date(2027, month, 15)
        events = [seed_service._event_from_record(r, today) for r in records]
        in_dst = [e.slug for e in events if e.starts_at.date() > today and not e.all_day
                  and e.starts_at.astimezone(ZoneInfo(e.timezone)).dst() > timedelta(0)]
        assert in_dst, today


def test_the_first_admin_takes_over_the_demo_events(db_url: str) -> None:
    """Loaded before any account: the first admin created owns them; a later admin does not
    take events away, and events loaded once an admin exists are that admin's."""
    from tests.organizer_support import make_organizer

    with write_session() as s:
        seed_service.seed(s)
    organizer = make_organizer("olga@example.org", "Olga Organizer")
    with read_session() as s:
        assert set(s.exec(select(Event.owner_id))) == {None}  # not an admin: nothing moves
    ada = make_organizer("ada@example.org", "Ada Admin", admin=True)
    make_organizer("bo@example.org", "Bo Admin", admin=True)
    with read_session() as s:
        assert set(s.exec(select(Event.owner_id))) == {ada.id}
    with write_session() as s:
        s.add(Event(slug="own-event", title="Olga's", starts_at=datetime.now(UTC),
                    ends_at=datetime.now(UTC), owner_id=organizer.id))
    other = tmp_seed_file()
    with write_session() as s:
        assert seed_service.seed(s, other) == 1
    with read_session() as s:
        assert s.exec(select(Event.owner_id).where(Event.slug == "extra-demo")).one() == ada.id
        assert s.exec(select(Event.owner_id).where(Event.slug == "own-event")).one() == \
            organizer.id


def tmp_seed_file():
    import json
    import tempfile
    from pathlib import Path

    rec = {**seed_service.load_records()[0], "slug": "extra-demo"}
    path = Path(tempfile.mkdtemp()) / "events.json"
    path.write_text(json.dumps({"events": [rec]}), encoding="utf-8")
    return path


def test_seed_has_a_biweekly_meeting_and_a_monthly_training(db_url: str) -> None:
    """Two realistic series, made as an organizer's would be: every second Tuesday at 7 PM in
    Chicago (across the November DST change), the first Saturday of each month at 10 AM."""
    from events_app.services import series

    today = date(2026, 10, 1)
    with write_session() as s:
        added = seed_service.seed(s, today=today)
    with write_session() as s:
        assert seed_service.seed(s, today=today) == 0  # keyed on the series' UID
    with read_session() as s:
        stored = {x.uid: x for x in s.exec(select(Series))}
        assert len(stored) == 2
        meeting = stored["rapid-response-network-meeting@seed.events-app"]
        training = stored["know-your-rights-training@seed.events-app"]
        assert series.describe_series(meeting) == "Repeats every second Tuesday"
        assert series.describe_series(training) == "Repeats monthly on the first Saturday"
        meetings = series.occurrences(s, meeting)
        trainings = series.occurrences(s, training)
        assert added == len(seed_service.load_records()) + len(meetings) + len(trainings)
    assert len(meetings) == 13 and len(trainings) == 8
    chicago, new_york = ZoneInfo("America/Chicago"), ZoneInfo("America/New_York")
    assert {e.starts_at.astimezone(chicago).strftime("%a %H:%M") for e in meetings} == \
        {"Tue 19:00"}
    assert {e.starts_at.astimezone(chicago).utcoffset() for e in meetings} == \
        {timedelta(hours=-5), timedelta(hours=-6)}  # both sides of DST, same wall clock
    assert all(e.starts_at.astimezone(new_york).strftime("%a %H:%M") == "Sat 10:00"
               and e.starts_at.astimezone(new_york).day <= 7 for e in trainings)
    assert {e.status for e in meetings + trainings} == {"published"}
    assert meeting.rsvp_all and not training.rsvp_all
