"""util/timezones: the accepted names, the form's list, and wall-clock times nobody chose an
occurrence of (read as pytz's localize() did, so date filters and demo data stay put)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from events_app.util.timezones import COMMON_TIMEZONES, is_timezone, standard_wall_time

CHICAGO = ZoneInfo("America/Chicago")


def test_names() -> None:
    assert is_timezone("America/Chicago") and is_timezone("America/Knox_IN")  # an alias
    assert not is_timezone("localtime") and not is_timezone("Mars/Olympus_Mons")
    assert "America/Chicago" in COMMON_TIMEZONES and "America/Knox_IN" not in COMMON_TIMEZONES


def test_an_ordinary_time_has_one_reading() -> None:
    local = standard_wall_time(datetime(2026, 7, 4, 18, 0), CHICAGO)
    assert local.astimezone(UTC) == datetime(2026, 7, 4, 23, 0, tzinfo=UTC)


def test_a_repeated_time_is_read_in_standard_time() -> None:
    # 1 November 2026, 1:30 happens in CDT (06:30 UTC) and again in CST (07:30 UTC).
    local = standard_wall_time(datetime(2026, 11, 1, 1, 30), CHICAGO)
    assert local.astimezone(UTC) == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
    assert local.tzname() == "CST"


def test_a_skipped_time_takes_the_offset_before_the_jump() -> None:
    # 8 March 2026, clocks jump from 2:00 CST to 3:00 CDT: 2:30 is read as CST (08:30 UTC).
    local = standard_wall_time(datetime(2026, 3, 8, 2, 30), CHICAGO)
    assert local.astimezone(UTC) == datetime(2026, 3, 8, 8, 30, tzinfo=UTC)


def test_a_repeated_hour_without_dst_on_either_side_is_its_later_reading() -> None:
    # Moscow left permanent DST on 26 October 2014: 1:30 was +04 then +03, neither "summer".
    local = standard_wall_time(datetime(2014, 10, 26, 1, 30), ZoneInfo("Europe/Moscow"))
    assert local.astimezone(UTC) == datetime(2014, 10, 25, 22, 30, tzinfo=UTC)
