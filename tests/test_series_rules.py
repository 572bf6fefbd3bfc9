"""Recurrence rules (services/series_rules.py): RRULE text, expansion across DST and month
ends, words, and the form's "Repeats" fieldset. Expected dates are written out by hand from a
calendar, not computed by the code under test."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events_app import i18n
from events_app.services.series_rules import (
    MAX_OCCURRENCES,
    Rule,
    describe,
    instance_starts,
    limit_errors,
    parse_form,
    preview,
)

CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local_dates(rule: Rule, start: datetime, n: int = 50) -> list[date]:
    return [s.astimezone(start.tzinfo).date() for s in instance_starts(rule, start, limit=n)]


# --- expansion ------------------------------------------------------------------------------

def test_every_second_tuesday_keeps_7pm_chicago_across_the_fall_dst_change() -> None:
    start = datetime(2026, 10, 20, 19, 0, tzinfo=CHICAGO)  # CDT, UTC-5
    rule = Rule("weekly", interval=2, weekdays=(1,), until=date(2026, 12, 1))
    assert instance_starts(rule, start) == [
        utc(2026, 10, 21, 0, 0),  # Oct 20 7 PM CDT
        utc(2026, 11, 4, 1, 0),  # Nov 3 7 PM CST (DST ended Nov 1)
        utc(2026, 11, 18, 1, 0),
        utc(2026, 12, 2, 1, 0),  # Dec 1: the until date is inclusive
    ]


def test_spring_forward_keeps_wall_clock_in_berlin() -> None:
    start = datetime(2027, 3, 22, 18, 30, tzinfo=BERLIN)  # Monday, CET (UTC+1)
    rule = Rule("weekly", weekdays=(0,), count=3)
    assert instance_starts(rule, start) == [
        utc(2027, 3, 22, 17, 30), utc(2027, 3, 29, 16, 30), utc(2027, 4, 5, 16, 30)]


def test_a_time_in_the_spring_gap_takes_the_offset_before_the_gap() -> None:
    # 2:30 AM does not exist in New York on 2027-03-14; RFC 5545 reads it with the offset
    # before the gap (EST, UTC-5): 07:30 UTC, which is 3:30 AM EDT.
    start = datetime(2027, 3, 13, 2, 30, tzinfo=NEW_YORK)
    starts = instance_starts(Rule("daily", count=3), start)
    assert starts == [utc(2027, 3, 13, 7, 30), utc(2027, 3, 14, 7, 30), utc(2027, 3, 15, 6, 30)]


def test_a_repeated_time_is_its_first_pass() -> None:
    # 1:30 AM happens twice in New York on 2027-11-07: the first pass is EDT (UTC-4).
    start = datetime(2027, 11, 6, 1, 30, tzinfo=NEW_YORK)
    starts = instance_starts(Rule("daily", count=3), start)
    assert starts == [utc(2027, 11, 6, 5, 30), utc(2027, 11, 7, 5, 30), utc(2027, 11, 8, 6, 30)]


def test_an_ambiguous_start_chosen_as_second_pass_stays_so_for_the_first_instance() -> None:
    start = datetime(2027, 11, 7, 1, 30, fold=1, tzinfo=NEW_YORK)  # EST pass: 06:30 UTC
    starts = instance_starts(Rule("daily", count=2), start)
    assert starts == [utc(2027, 11, 7, 6, 30), utc(2027, 11, 8, 6, 30)]


def test_monthly_on_the_31st_skips_months_without_one() -> None:
    start = datetime(2027, 1, 31, 18, 0, tzinfo=CHICAGO)
    assert local_dates(Rule("monthly", monthly_day=31, count=5), start) == [
        date(2027, 1, 31), date(2027, 3, 31), date(2027, 5, 31), date(2027, 7, 31),
        date(2027, 8, 31)]


def test_monthly_on_the_29th_meets_february_only_in_a_leap_year() -> None:
    start = datetime(2027, 1, 29, 18, 0, tzinfo=CHICAGO)
    dates = local_dates(Rule("monthly", until=date(2028, 3, 31)), start)  # day from the start
    assert date(2027, 2, 28) not in dates and date(2027, 3, 1) not in dates
    assert date(2028, 2, 29) in dates
    assert len(dates) == 14  # Jan 2027 .. Mar 2028 (15 months) less February 2027


def test_fifth_monday_only_in_months_that_have_one() -> None:
    start = datetime(2026, 11, 30, 19, 0, tzinfo=CHICAGO)  # the fifth Monday of November
    rule = Rule("monthly", monthly_nth=5, monthly_weekday=0, until=date(2027, 6, 30))
    assert local_dates(rule, start) == [date(2026, 11, 30), date(2027, 3, 29), date(2027, 5, 31)]


def test_last_friday_and_first_saturday() -> None:
    start = datetime(2027, 1, 29, 18, 0, tzinfo=CHICAGO)
    last_friday = Rule("monthly", monthly_nth=-1, monthly_weekday=4, count=3)
    assert local_dates(last_friday, start) == [
        date(2027, 1, 29), date(2027, 2, 26), date(2027, 3, 26)]
    first_saturday = Rule("monthly", monthly_nth=1, count=3)  # weekday from the start
    sat = datetime(2027, 2, 6, 10, 0, tzinfo=CHICAGO)
    assert local_dates(first_saturday, sat) == [
        date(2027, 2, 6), date(2027, 3, 6), date(2027, 4, 3)]


def test_weekly_on_weekdays_every_second_week_counts_weeks_from_monday() -> None:
    start = datetime(2027, 1, 6, 18, 0, tzinfo=CHICAGO)  # a Wednesday
    rule = Rule("weekly", interval=2, weekdays=(0, 2), count=4)
    # Week of Jan 4: Wed 6 (Mon 4 is before the start); skip the week of Jan 11; Jan 18, 20...
    assert local_dates(rule, start) == [
        date(2027, 1, 6), date(2027, 1, 18), date(2027, 1, 20), date(2027, 2, 1)]


def test_a_start_the_rule_does_not_match_is_not_an_instance() -> None:
    start = datetime(2027, 1, 4, 19, 0, tzinfo=CHICAGO)  # Monday; the rule says Tuesdays
    assert local_dates(Rule("weekly", weekdays=(1,), count=2), start) == [
        date(2027, 1, 5), date(2027, 1, 12)]


def test_until_utc_is_exclusive_and_limit_caps() -> None:
    start = datetime(2027, 1, 5, 19, 0, tzinfo=CHICAGO)
    rule = Rule("weekly", count=10)
    assert instance_starts(rule, start, until_utc=utc(2027, 1, 13, 1, 0)) == [
        utc(2027, 1, 6, 1, 0)]
    assert len(instance_starts(rule, start, limit=3)) == 3


def test_preview_is_in_the_series_timezone() -> None:
    start = datetime(2026, 10, 27, 19, 0, tzinfo=CHICAGO)
    dates = preview(start, Rule("weekly", count=20), n=2)
    assert [(d.tzinfo, d.hour, d.date()) for d in dates] == [
        (CHICAGO, 19, date(2026, 10, 27)), (CHICAGO, 19, date(2026, 11, 3))]


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError):
        instance_starts(Rule("daily", count=2), datetime(2027, 1, 1, 9))


# --- RRULE text -----------------------------------------------------------------------------

@pytest.mark.parametrize(("rule", "expected"), [
    (Rule("daily", count=5), "FREQ=DAILY;COUNT=5"),
    (Rule("weekly", interval=2, weekdays=(1,), until=date(2027, 6, 1)),
     "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;WKST=MO;UNTIL=20270602T045959Z"),
    (Rule("weekly", weekdays=(0, 1, 2, 3, 4), count=10),
     "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=10"),
    (Rule("monthly", monthly_nth=-1, monthly_weekday=4, count=3),
     "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3"),
    (Rule("monthly", interval=3, monthly_day=31, until=date(2027, 1, 10)),
     "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=31;UNTIL=20270111T055959Z"),
])
def test_to_rrule_and_back(rule: Rule, expected: str) -> None:
    start = datetime(2026, 12, 1, 19, 0, tzinfo=CHICAGO)
    assert rule.to_rrule(start) == expected
    assert Rule.from_rrule(expected, "America/Chicago") == rule.resolved(start)


def test_defaults_are_resolved_from_the_start() -> None:
    start = datetime(2027, 2, 9, 19, 0, tzinfo=CHICAGO)  # the second Tuesday of February
    assert Rule("weekly", count=2).to_rrule(start) == "FREQ=WEEKLY;BYDAY=TU;COUNT=2"
    assert Rule("monthly", count=2).to_rrule(start) == "FREQ=MONTHLY;BYMONTHDAY=9;COUNT=2"
    assert Rule("monthly", monthly_nth=2, count=2).to_rrule(start) == \
        "FREQ=MONTHLY;BYDAY=2TU;COUNT=2"


def test_from_rrule_reads_date_and_floating_until() -> None:
    assert Rule.from_rrule("FREQ=DAILY;UNTIL=20270601", CHICAGO).until == date(2027, 6, 1)
    assert Rule.from_rrule("RRULE:FREQ=DAILY;UNTIL=20270601T190000", CHICAGO).until == \
        date(2027, 6, 1)
    # a feed-style UNTIL (the last instance, 7 PM Chicago) reads back as that local date
    assert Rule.from_rrule("FREQ=DAILY;UNTIL=20270602T000000Z", CHICAGO).until == \
        date(2027, 6, 1)


@pytest.mark.parametrize("value", [
    "FREQ=YEARLY;COUNT=2", "FREQ=DAILY;BYHOUR=9;COUNT=2", "FREQ=DAILY", "nonsense",
    "FREQ=MONTHLY;BYDAY=TU,TH;COUNT=2", "FREQ=DAILY;BYDAY=MO;COUNT=3",
    "FREQ=DAILY;COUNT=2;UNTIL=20270101",
])
def test_from_rrule_refuses_what_it_does_not_write(value: str) -> None:
    with pytest.raises(ValueError):
        Rule.from_rrule(value, CHICAGO)


@pytest.mark.parametrize("kwargs", [
    {"freq": "yearly", "count": 1}, {"freq": "daily"}, {"freq": "daily", "count": 0},
    {"freq": "daily", "count": 1, "until": date(2027, 1, 1)},
    {"freq": "daily", "interval": 0, "count": 1}, {"freq": "monthly", "interval": 13, "count": 1},
    {"freq": "daily", "weekdays": (1,), "count": 1},
    {"freq": "weekly", "weekdays": (7,), "count": 1},
    {"freq": "monthly", "monthly_day": 32, "count": 1},
    {"freq": "monthly", "monthly_nth": 6, "count": 1},
    {"freq": "monthly", "monthly_weekday": 1, "count": 1},
    {"freq": "monthly", "monthly_day": 3, "monthly_nth": 1, "count": 1},
])
def test_rule_refuses_impossible_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Rule(**kwargs)


# --- words ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("rule", "words"), [
    (Rule("weekly", interval=2, weekdays=(1,), count=3), "Repeats every second Tuesday"),
    (Rule("weekly", weekdays=(0, 2), count=3), "Repeats weekly on Monday and Wednesday"),
    (Rule("weekly", weekdays=(0, 2, 4), interval=2, count=3),
     "Repeats every second week on Monday, Wednesday and Friday"),
    (Rule("weekly", weekdays=(0, 1, 2, 3, 4), count=3), "Repeats every weekday"),
    (Rule("weekly", count=3), "Repeats every Tuesday"),
    (Rule("weekly", interval=10, count=3), "Repeats every 10 weeks on Tuesday"),
    (Rule("daily", count=3), "Repeats daily"),
    (Rule("daily", interval=3, count=3), "Repeats every third day"),
    (Rule("monthly", monthly_nth=-1, monthly_weekday=4, count=3),
     "Repeats monthly on the last Friday"),
    (Rule("monthly", monthly_nth=1, monthly_weekday=5, count=3),
     "Repeats monthly on the first Saturday"),
    (Rule("monthly", monthly_day=22, count=3), "Repeats monthly on the 22nd"),
    (Rule("monthly", monthly_day=11, interval=2, count=3),
     "Repeats every second month on the 11th"),
    (Rule("monthly", count=3), "Repeats monthly on the 1st"),
])
def test_describe(rule: Rule, words: str) -> None:
    start = datetime(2026, 12, 1, 19, 0, tzinfo=CHICAGO)  # a Tuesday, the 1st
    assert describe(rule, start) == words


def test_describe_with_end() -> None:
    start = datetime(2026, 12, 1, 19, 0, tzinfo=CHICAGO)
    assert describe(Rule("daily", until=date(2027, 6, 1)), start, with_end=True) == \
        "Repeats daily, until June 1, 2027"
    assert describe(Rule("daily", count=10), start, with_end=True) == "Repeats daily, 10 times"


# --- the form -------------------------------------------------------------------------------

def test_form_none_is_no_rule() -> None:
    assert parse_form({}) == (None, {})
    assert parse_form({"repeat": "none", "interval": "x"}) == (None, {})


def test_form_every_second_tuesday_until_june() -> None:
    rule, errors = parse_form({"repeat": "weekly", "interval": "2", "weekday": ["1"],
                               "ends": "until", "until": "2027-06-01"})
    assert errors == {}
    assert rule == Rule("weekly", interval=2, weekdays=(1,), until=date(2027, 6, 1))


def test_form_reads_repeated_fields_from_starlette_form_data() -> None:
    from starlette.datastructures import FormData
    form = FormData([("repeat", "weekly"), ("weekday", "MO"), ("weekday", "3"),
                     ("ends", "count"), ("count", "8")])
    rule, errors = parse_form(form)
    assert errors == {} and rule == Rule("weekly", weekdays=(0, 3), count=8)


def test_form_monthly_choices() -> None:
    assert parse_form({"repeat": "monthly", "monthly_by": "weekday", "monthly_nth": "last",
                       "monthly_weekday": "4", "ends": "count", "count": "3"})[0] == \
        Rule("monthly", monthly_nth=-1, monthly_weekday=4, count=3)
    assert parse_form({"repeat": "monthly", "monthly_by": "day", "ends": "count",
                       "count": "3"})[0] == Rule("monthly", count=3)


@pytest.mark.parametrize(("form", "field"), [
    ({"repeat": "yearly"}, "repeat"),
    ({"repeat": "daily", "interval": "0", "ends": "count", "count": "2"}, "interval"),
    ({"repeat": "daily", "interval": "٣", "ends": "count", "count": "2"}, "interval"),
    ({"repeat": "monthly", "interval": "13", "ends": "count", "count": "2"}, "interval"),
    ({"repeat": "weekly", "weekday": ["9"], "ends": "count", "count": "2"}, "weekday"),
    ({"repeat": "monthly", "monthly_by": "weekday", "monthly_nth": "6", "ends": "count",
      "count": "2"}, "monthly_nth"),
    ({"repeat": "monthly", "monthly_day": "32", "ends": "count", "count": "2"}, "monthly_day"),
    ({"repeat": "monthly", "monthly_by": "year", "ends": "count", "count": "2"}, "monthly_by"),
    ({"repeat": "daily", "ends": "until", "until": "June"}, "until"),
    ({"repeat": "daily", "ends": "count", "count": "401"}, "count"),
    ({"repeat": "daily", "ends": "count", "count": "-1"}, "count"),
    ({"repeat": "daily", "ends": "never"}, "ends"),
])
def test_form_errors_name_the_field(form: dict, field: str) -> None:
    rule, errors = parse_form(form)
    assert rule is None and field in errors and errors[field]


def test_form_limits_need_the_start() -> None:
    start = datetime(2026, 12, 1, 19, 0, tzinfo=CHICAGO)
    daily_long = {"repeat": "daily", "ends": "until", "until": "2028-06-01"}
    assert parse_form(daily_long)[0] is not None  # without the start, only the syntax
    rule, errors = parse_form(daily_long, start)
    assert rule is None and "400" in errors["until"]
    _, errors = parse_form({"repeat": "weekly", "ends": "until", "until": "2029-01-01"}, start)
    assert "2 years" in errors["until"]
    _, errors = parse_form({"repeat": "weekly", "ends": "until", "until": "2026-11-30"}, start)
    assert "on or after" in errors["until"]
    _, errors = parse_form({"repeat": "monthly", "interval": "12", "ends": "count",
                            "count": "4"}, start)
    assert "2 years" in errors["count"]
    rule, errors = parse_form({"repeat": "weekly", "ends": "until", "until": "2028-12-01"},
                              start)
    assert errors == {} and rule is not None


def test_limit_errors_no_date_at_all() -> None:
    start = datetime(2027, 4, 1, 19, 0, tzinfo=CHICAGO)
    rule = Rule("monthly", monthly_day=31, until=date(2027, 4, 30))
    assert "no date" in limit_errors(rule, start)["until"]
    assert limit_errors(Rule("daily", count=MAX_OCCURRENCES), start) == {}


@pytest.mark.parametrize("day", [date(9997, 12, 31), date(9998, 1, 5), date(9999, 12, 31)])
@pytest.mark.parametrize("form", [
    {"repeat": "weekly", "ends": "count", "count": "3"},
    {"repeat": "daily", "ends": "until", "until": "9999-12-31"},
])
def test_a_start_without_two_years_left_in_the_calendar_is_a_field_error(
        day: date, form: dict) -> None:
    """The two-year check reaches past year 9999 from these starts: said on the start date
    (it was a ValueError/OverflowError, a 500 for any caller not guarding the date)."""
    for zone in (CHICAGO, ZoneInfo("Pacific/Kiritimati")):
        rule, errors = parse_form(form, datetime(day.year, day.month, day.day, 19, 0,
                                                 tzinfo=zone))
        assert rule is None
        assert errors == {"start_date": "A series needs room to run for 2 years: choose a "
                                        "start date up to December 30, 9997."}
        with i18n.using("es"):
            _, errors = parse_form(form, datetime(day.year, day.month, day.day, 19, 0,
                                                  tzinfo=zone))
        assert errors == {"start_date": "Una serie necesita margen para durar 2 años: elija "
                                        "una fecha de inicio hasta el 30 de diciembre de 9997."}
    latest = datetime(9997, 12, 30, 23, 30, tzinfo=ZoneInfo("Pacific/Kiritimati"))
    rule, errors = parse_form({"repeat": "daily", "ends": "count", "count": "3"}, latest)
    assert errors == {} and rule is not None  # the last start that fits still works
    assert [d.astimezone(latest.tzinfo).day for d in preview(latest, rule)] == [30, 31, 1]


# --- properties -----------------------------------------------------------------------------

ZONES = [ZoneInfo(z) for z in ("America/Chicago", "Europe/Berlin", "Australia/Sydney",
                               "America/St_Johns", "Asia/Kolkata", "UTC")]


@st.composite
def rules_and_starts(draw: st.DrawFn) -> tuple[Rule, datetime]:
    zone = draw(st.sampled_from(ZONES))
    day = draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2029, 12, 31)))
    start = datetime(day.year, day.month, day.day, draw(st.integers(0, 23)),
                     draw(st.sampled_from([0, 15, 30, 45])), tzinfo=zone)
    freq = draw(st.sampled_from(["daily", "weekly", "monthly"]))
    kwargs: dict = {"interval": draw(st.integers(1, 4))}
    if freq == "weekly":
        kwargs["weekdays"] = tuple(draw(st.sets(st.integers(0, 6), max_size=3)))
    elif freq == "monthly":
        if draw(st.booleans()):
            kwargs["monthly_day"] = draw(st.integers(1, 31))
        else:
            kwargs["monthly_nth"] = draw(st.sampled_from([1, 2, 3, 4, 5, -1]))
            kwargs["monthly_weekday"] = draw(st.integers(0, 6))
    if draw(st.booleans()):
        kwargs["count"] = draw(st.integers(1, 30))
    else:
        kwargs["until"] = day + timedelta(days=draw(st.integers(0, 400)))
    return Rule(freq, **kwargs), start


@given(rules_and_starts())
def test_rrule_text_reads_back_as_the_same_rule(case: tuple[Rule, datetime]) -> None:
    rule, start = case
    text = rule.to_rrule(start)
    again = Rule.from_rrule(text, start.tzinfo)  # type: ignore[arg-type]
    assert again == rule.resolved(start)
    assert again.to_rrule(start) == text


@given(rules_and_starts())
def test_instances_keep_the_wall_clock_and_the_rule(case: tuple[Rule, datetime]) -> None:
    rule, start = case
    zone = start.tzinfo
    starts = instance_starts(rule, start, limit=60)
    assert starts == sorted(set(starts)) and all(s.tzinfo is UTC for s in starts)
    if rule.count is not None:
        assert len(starts) <= rule.count
    resolved = rule.resolved(start)
    for instant in starts:
        local = instant.astimezone(zone)
        wall = local.replace(tzinfo=None)
        expected = datetime.combine(wall.date(), start.time())
        # the start's wall-clock time, or (in a spring gap) that time read with the offset
        # from before the gap
        assert wall == expected or instant == expected.replace(tzinfo=zone).astimezone(UTC)
        assert local.date() >= start.date()
        if resolved.until is not None:
            assert local.date() <= resolved.until
        if resolved.freq == "weekly":
            assert local.weekday() in resolved.weekdays
        if resolved.monthly_day is not None:
            assert local.day == resolved.monthly_day
        if resolved.monthly_nth is not None:
            assert local.weekday() == resolved.monthly_weekday
            nth = (local.day - 1) // 7 + 1
            last = (local + timedelta(days=7)).month != local.month
            assert nth == resolved.monthly_nth or (resolved.monthly_nth == -1 and last)
