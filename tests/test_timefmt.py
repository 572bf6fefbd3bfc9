"""Times are shown in the event's own timezone, with the right abbreviation across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from events_app import i18n, timefmt


def test_start_in_central_daylight_time() -> None:
    # 19:00 UTC on 14 March 2026 is 2:00 PM in St. Louis (CDT, UTC-5, DST began 8 March).
    assert timefmt.format_start(datetime(2026, 3, 14, 19, 0, tzinfo=UTC), "America/Chicago") == (
        "Sat 14 Mar, 2:00 PM CDT"
    )


def test_same_wall_time_either_side_of_dst_change() -> None:
    before = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)  # CST, UTC-6
    after = datetime(2026, 3, 14, 19, 0, tzinfo=UTC)  # CDT, UTC-5
    assert timefmt.format_start(before, "America/Chicago") == "Sat 7 Mar, 2:00 PM CST"
    assert timefmt.format_start(after, "America/Chicago") == "Sat 14 Mar, 2:00 PM CDT"


def test_autumn_change_and_other_zones() -> None:
    # US clocks go back at 06:00 UTC on 1 Nov 2026, so 1:30 AM happens twice in New York:
    # first as EDT (05:30 UTC), then as EST (06:30 UTC).
    assert timefmt.format_start(datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
                                "America/New_York") == "Sun 1 Nov, 1:30 AM EDT"
    assert timefmt.format_start(datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
                                "America/New_York") == "Sun 1 Nov, 1:30 AM EST"
    assert timefmt.format_start(datetime(2026, 7, 4, 17, 0, tzinfo=UTC),
                                "America/Denver") == "Sat 4 Jul, 11:00 AM MDT"
    assert timefmt.format_start(datetime(2026, 1, 10, 20, 0, tzinfo=UTC),
                                "America/Los_Angeles") == "Sat 10 Jan, 12:00 PM PST"


def test_range_same_day_and_all_day() -> None:
    start = datetime(2026, 3, 14, 19, 0, tzinfo=UTC)
    end = datetime(2026, 3, 14, 21, 30, tzinfo=UTC)
    assert timefmt.format_range(start, end, "America/Chicago", False) == (
        "Sat 14 Mar 2026, 2:00 PM – 4:30 PM CDT"
    )
    # An all-day event stores the exclusive end: local midnight after the last day.
    day_start = datetime(2026, 3, 14, 5, 0, tzinfo=UTC)  # 00:00 CDT
    day_end = datetime(2026, 3, 15, 5, 0, tzinfo=UTC)
    assert timefmt.format_range(day_start, day_end, "America/Chicago", True) == (
        "Sat 14 Mar 2026, all day"
    )
    two_days_end = datetime(2026, 3, 16, 5, 0, tzinfo=UTC)
    assert timefmt.format_range(day_start, two_days_end, "America/Chicago", True) == (
        "Sat 14 Mar – Sun 15 Mar 2026, all day"
    )


def test_utc_iso_is_a_valid_html_datetime_in_whole_seconds() -> None:
    # HTML's <time datetime> allows at most three fraction digits; stored times have six.
    stored = datetime(2026, 11, 25, 17, 39, 59, 764193, tzinfo=UTC)
    assert timefmt.utc_iso(stored) == "2026-11-25T17:39:59Z"
    assert timefmt.utc_iso(stored.astimezone(ZoneInfo("Pacific/Auckland"))) == \
        "2026-11-25T17:39:59Z"


def test_range_across_the_fall_back_change_shows_both_offsets_and_duration() -> None:
    """Two hours from 1:30 AM CDT on the night clocks go back end at 2:30 AM CST."""
    start = datetime(2027, 11, 7, 6, 30, tzinfo=UTC)  # 1:30 AM CDT, the first 1:30
    assert timefmt.format_range(start, start + timedelta(hours=2), "America/Chicago", False) \
        == "Sun 7 Nov 2027, 1:30 AM CDT – 2:30 AM CST (2 hours)"
    second = datetime(2027, 11, 7, 7, 30, tzinfo=UTC)  # 1:30 AM CST, the second one
    assert timefmt.format_range(second, second + timedelta(minutes=90), "America/Chicago",
                                False) == "Sun 7 Nov 2027, 1:30 AM – 3:00 AM CST"
    assert timefmt.format_duration(timedelta(minutes=45)) == "45 minutes"
    assert timefmt.format_duration(timedelta(minutes=61)) == "1 hour 1 minute"


def test_all_day_last_day_reads_the_exclusive_end_once_for_everyone() -> None:
    start = datetime(2031, 3, 14)
    assert timefmt.all_day_last_day(start, datetime(2031, 3, 15)) == date(2031, 3, 14)  # one day
    assert timefmt.all_day_last_day(start, datetime(2031, 3, 17)) == date(2031, 3, 16)  # three days
    midday = datetime(2031, 3, 16, 12)
    assert timefmt.all_day_last_day(start, midday) == date(2031, 3, 16)  # a later end counts
    assert timefmt.all_day_last_day(start, start) == date(2031, 3, 14)  # never before the first day


# --- The same moments in Spanish (Babel's CLDR names; patterns from the catalog) -------------

def test_spanish_start_either_side_of_the_spring_change() -> None:
    before = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)  # CST
    after = datetime(2026, 3, 14, 19, 0, tzinfo=UTC)  # CDT
    with i18n.using("es"):
        assert timefmt.format_start(before, "America/Chicago") == "sáb 7 mar, 14:00 CST"
        assert timefmt.format_start(after, "America/Chicago") == "sáb 14 mar, 14:00 CDT"
        assert timefmt.format_clock(after, "America/Chicago") == "14:00 CDT"
    # Outside the block the language is the default again, and English unchanged.
    assert timefmt.format_start(after, "America/Chicago") == "Sat 14 Mar, 2:00 PM CDT"


def test_spanish_range_across_the_fall_back_change_and_all_day() -> None:
    start = datetime(2027, 11, 7, 6, 30, tzinfo=UTC)  # 1:30 AM CDT, the first 1:30
    day_start = datetime(2026, 3, 14, 5, 0, tzinfo=UTC)  # 00:00 CDT
    with i18n.using("es"):
        assert timefmt.format_range(start, start + timedelta(hours=2), "America/Chicago",
                                    False) == "dom 7 nov 2027, 1:30 CDT – 2:30 CST (2 horas)"
        second = datetime(2027, 11, 7, 7, 30, tzinfo=UTC)  # 1:30 AM CST, the second one
        assert timefmt.format_range(second, second + timedelta(minutes=90), "America/Chicago",
                                    False) == "dom 7 nov 2027, 1:30 – 3:00 CST"
        assert timefmt.format_range(day_start, day_start + timedelta(days=1), "America/Chicago",
                                    True) == "sáb 14 mar 2026, todo el día"
        assert timefmt.format_range(day_start, datetime(2026, 3, 16, 5, 0, tzinfo=UTC),
                                    "America/Chicago", True) == \
            "sáb 14 mar – dom 15 mar 2026, todo el día"
        assert timefmt.format_duration(timedelta(minutes=61)) == "1 hora 1 minuto"
        assert timefmt.format_duration(timedelta(minutes=150)) == "2 horas 30 minutos"


def test_spanish_instants_headings_and_weekdays() -> None:
    winter = datetime(2026, 1, 15, 20, 5, 9, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 20, 5, 9, tzinfo=UTC)
    with i18n.using("es"):
        assert timefmt.format_instant(winter, "America/New_York") == \
            "jue 15 ene 2026, 15:05:09 EST"
        assert timefmt.format_instant(summer, "America/New_York") == \
            "mié 15 jul 2026, 16:05:09 EDT"
        assert timefmt.format_day_heading(date(2026, 3, 14)) == "sábado, 14 de marzo de 2026"
        assert timefmt.upper_first(timefmt.format_month(date(2027, 3, 1))) == "Marzo de 2027"
        assert timefmt.weekday_name(date(2026, 3, 14), "abbreviated") == "sáb"
    assert timefmt.format_day_heading(date(2026, 3, 14)) == "Saturday 14 March 2026"
    assert timefmt.format_month(date(2027, 3, 1)) == "March 2027"


def test_kept_formats_never_mix_zones_languages_or_the_repeated_hour() -> None:
    """Babel's answers are kept (timefmt._format): asked again, the same instant still reads
    per zone and per language, and the two 1:30s of the fall-back night stay apart."""
    at = datetime(2026, 3, 14, 19, 0, tzinfo=UTC)
    first = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 1:30 AM CDT
    second = first + timedelta(hours=1)  # 1:30 AM CST, the same wall clock
    for _ in range(2):
        assert timefmt.format_start(at, "America/Chicago") == "Sat 14 Mar, 2:00 PM CDT"
        assert timefmt.format_start(at, "America/New_York") == "Sat 14 Mar, 3:00 PM EDT"
        assert timefmt.format_clock(first, "America/Chicago") == "1:30 AM CDT"
        assert timefmt.format_clock(second, "America/Chicago") == "1:30 AM CST"
        with i18n.using("es"):
            assert timefmt.format_start(at, "America/Chicago") == "sáb 14 mar, 14:00 CDT"
