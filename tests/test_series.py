"""Recurring series (services/series.py) on real SQLite and PostgreSQL: rows made ahead and
extended (twice at once too), every edit and cancel scope, skipped dates, rule changes that keep
RSVPs, duplicate, convert, and who is e-mailed. Dates are in 2027, ahead of the suite's clock."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from events_app import cli, i18n, settings, timefmt
from events_app.db import read_session, write_session
from events_app.models import AuditLog, Event, EventHost, Rsvp, Series, utcnow
from events_app.services import attendee_csv, audit, data_version, reminders, retention, series
from events_app.services.event_admin import EventNotFound, EventStateError
from events_app.services.event_form import form_values, parse_event_form
from events_app.services.series import Scope, SeriesNotFound
from events_app.services.series_rules import Rule
from events_app.util.forms import FormError
from tests.factories import make_event, make_rsvp
from tests.organizer_support import cheap_passwords, make_organizer  # noqa: F401 - fixture
from tests.rsvp_helpers import outbox

pytestmark = pytest.mark.usefixtures("cheap_passwords")
CHICAGO = ZoneInfo("America/Chicago")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _form(**overrides: str) -> dict[str, str]:
    values = {
        "title": "Network meeting", "summary": "Rapid response", "description": "",
        "category": "meeting", "timezone": "America/Chicago",
        "start_date": "2027-02-09", "start_time": "19:00",  # a Tuesday
        "end_date": "2027-02-09", "end_time": "20:30",
        "venue_name": "Central Library", "city": "St. Louis", "capacity": "3",
        "max_guests": "2", "waitlist_enabled": "on",
    }
    values.update(overrides)
    return values


BIWEEKLY = Rule("weekly", interval=2, weekdays=(1,), until=date(2027, 6, 1))
# Feb 9, Feb 23, Mar 9, Mar 23 (CDT from Mar 14), Apr 6, Apr 20, May 4, May 18, Jun 1: 9


@pytest.fixture
def ada() -> Any:
    return make_organizer("ada@example.org", "Ada Organizer")


def _new(actor: Any, rule: Rule = BIWEEKLY, publish: bool = True, **form: str) -> Series:
    return series.new_series(actor, parse_event_form(_form(**form)), rule, publish=publish)


def _rows(series_id: int | None) -> list[Event]:
    with read_session() as s:
        return list(s.exec(select(Event).where(Event.series_id == series_id)
                           .order_by(col(Event.starts_at))))


def _series(series_id: int | None) -> Series:
    with read_session() as s:
        found = s.get(Series, series_id)
        assert found is not None
        return found


def _local(e: Event) -> str:
    return e.starts_at.astimezone(CHICAGO).strftime("%Y-%m-%d %H:%M")


def _data(event: Event, **changes: str) -> Any:
    with read_session() as s:
        values = form_values(s.get(Event, event.id))
    values.update(changes)
    return parse_event_form(values)


# --- creating and extending -----------------------------------------------------------------

def test_new_series_makes_every_date_with_the_same_wall_clock_time(db_url: str, ada: Any) -> None:
    made = _new(ada)
    rows = _rows(made.id)
    assert [_local(e) for e in rows] == [
        "2027-02-09 19:00", "2027-02-23 19:00", "2027-03-09 19:00", "2027-03-23 19:00",
        "2027-04-06 19:00", "2027-04-20 19:00", "2027-05-04 19:00", "2027-05-18 19:00",
        "2027-06-01 19:00"]  # the until date is inclusive
    assert rows[0].starts_at == utc(2027, 2, 10, 1, 0)  # CST
    assert rows[3].starts_at == utc(2027, 3, 24, 0, 0)  # CDT
    assert all(e.ends_at - e.starts_at == timedelta(minutes=90) for e in rows)
    assert all(e.recurrence_id == e.starts_at and not e.detached for e in rows)
    assert all(e.status == "published" and e.capacity == 3 and e.owner_id == ada.id
               for e in rows)
    assert rows[0].slug == "network-meeting-2027-02-09"
    assert len({e.uid for e in rows} | {made.uid}) == 10  # each its own UID, the series another
    stored = _series(made.id)
    assert stored.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;WKST=MO;UNTIL=20270602T045959Z"
    assert stored.first_start == rows[0].starts_at and stored.duration_minutes == 90
    assert series.describe_series(stored) == "Repeats every second Tuesday"


def test_a_start_the_rule_does_not_match_moves_to_its_first_date(db_url: str, ada: Any) -> None:
    made = _new(ada, Rule("weekly", weekdays=(3,), count=2), rsvp_deadline="2027-02-09T12:00")
    rows = _rows(made.id)
    assert [_local(e) for e in rows] == ["2027-02-11 19:00", "2027-02-18 19:00"]
    # the RSVP deadline keeps its lead (7 hours before the start)
    assert [e.starts_at - e.rsvp_deadline for e in rows] == [timedelta(hours=7)] * 2


def test_co_hosts_and_drafts_are_copied(db_url: str, ada: Any) -> None:
    bo = make_organizer("bo@example.org", "Bo")
    made = _new(ada, Rule("daily", count=3), publish=False, cohosts="bo@example.org")
    rows = _rows(made.id)
    assert {e.status for e in rows} == {"draft"}
    with read_session() as s:
        hosts = s.exec(select(EventHost.event_id).where(EventHost.organizer_id == bo.id)).all()
    assert sorted(hosts) == sorted(e.id for e in rows)
    with pytest.raises(FormError) as err:
        _new(ada, Rule("daily", count=3), cohosts="nobody@example.org")
    assert "cohosts" in err.value.errors
    with read_session() as s:
        assert len(s.exec(select(Series)).all()) == 1  # the refused one left nothing behind


def test_limits_are_form_errors(db_url: str, ada: Any) -> None:
    with pytest.raises(FormError) as err:
        _new(ada, Rule("daily", until=date(2028, 12, 1)))
    assert "400" in err.value.errors["until"]
    with read_session() as s:
        assert s.exec(select(Event)).all() == []


def test_rows_are_made_up_to_the_horizon_and_extended(db_url: str, ada: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    now = utcnow()
    start = (now + timedelta(days=1)).astimezone(CHICAGO).date()
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 20)
    made = _new(ada, Rule("weekly", count=10), start_date=start.isoformat(),
                end_date=start.isoformat())
    assert len(_rows(made.id)) == 3  # days 1, 8, 15 (< 20)
    assert series.extend_all() == 0  # nothing new inside the same window
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 40)
    assert series.extend_all() == 3  # 22, 29, 36
    assert series.extend_all() == 0
    rows = _rows(made.id)
    assert len(rows) == 6 and len({e.recurrence_id for e in rows}) == 6
    assert [(b.starts_at - a.starts_at).days for a, b in zip(rows, rows[1:], strict=False)] \
        in ([7] * 5, [7, 7, 7, 7, 7])
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 400)
    assert cli.main(["extend-series"]) == 0
    assert len(_rows(made.id)) == 10  # the rule's count, not the horizon, ends it


def test_extending_twice_at_once_makes_each_row_once(db_url: str, ada: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 3)
    start = (utcnow() + timedelta(days=1)).astimezone(CHICAGO).date()
    made = [_new(ada, Rule("daily", count=30), start_date=start.isoformat(),
                 end_date=start.isoformat(), title=f"Phone bank {n}") for n in range(3)]
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 60)
    # Two or three rows each so far, depending on the hour the test runs at.
    missing = sum(30 - len(_rows(m.id)) for m in made)
    assert 3 * (30 - 3) <= missing <= 3 * (30 - 2)
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            results.append(series.extend_all())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(results) == missing  # made once, by one run or the other
    for m in made:
        rows = _rows(m.id)
        assert len(rows) == 30 and len({e.recurrence_id for e in rows}) == 30


# --- editing --------------------------------------------------------------------------------

def test_edit_one_date_detaches_it_and_tells_its_attendees(db_url: str, ada: Any) -> None:
    made = _new(ada)
    rows = _rows(made.id)
    make_rsvp(rows[2], email="pat@example.org")
    make_rsvp(rows[3], email="sam@example.org")
    series.edit(ada, rows[2].slug, _data(rows[2], start_time="18:00", end_time="19:30",
                                          title="Network meeting (early)"), Scope.ONE)
    after = _rows(made.id)
    assert after[2].detached and _local(after[2]) == "2027-03-09 18:00"
    assert after[2].recurrence_id == rows[2].recurrence_id  # it is still that date's instance
    assert after[2].sequence == rows[2].sequence + 1
    assert [e.title for e in after].count("Network meeting") == 8
    assert [m.to_addr for m in outbox("event_changed")] == ["pat@example.org"]


def test_edit_all_changes_time_and_text_everywhere_but_keeps_own_edits(db_url: str,
                                                                        ada: Any) -> None:
    made = _new(ada)
    rows = _rows(made.id)
    series.edit(ada, rows[1].slug, _data(rows[1], venue_name="City Hall"), Scope.ONE)
    make_rsvp(rows[4], email="pat@example.org")
    rsvp_before = make_rsvp(rows[5], email="sam@example.org")
    series.edit(ada, rows[4].slug, _data(rows[4], start_time="18:30", end_time="20:30",
                                          title="Rapid-response meeting",
                                          venue_name="Union Hall"), Scope.ALL)
    after = _rows(made.id)
    assert [_local(e)[-5:] for e in after] == ["18:30"] * 9
    assert all(e.ends_at - e.starts_at == timedelta(hours=2) for e in after)
    assert {e.title for e in after} == {"Rapid-response meeting"}
    # the date whose venue was edited on its own keeps it; the rest follow the series
    assert [e.venue_name for e in after] == ["Union Hall", "City Hall"] + ["Union Hall"] * 7
    assert all(e.recurrence_id == e.starts_at for e in after)  # the rule's instants moved too
    assert [e.id for e in after] == [e.id for e in rows]
    stored = _series(made.id)
    assert stored.first_start == after[0].starts_at and stored.duration_minutes == 120
    assert stored.sequence == made.sequence + 1
    with read_session() as s:
        assert s.get(Rsvp, rsvp_before.id).event_id == rows[5].id
    assert sorted(m.to_addr for m in outbox("event_changed")) == [
        "pat@example.org", "sam@example.org"]


def test_edit_following_splits_the_series(db_url: str, ada: Any) -> None:
    made = _new(ada)
    rows = _rows(made.id)
    make_rsvp(rows[5], email="pat@example.org")
    series.edit(ada, rows[4].slug, _data(rows[4], capacity="10", city="Clayton"),
                Scope.FOLLOWING)
    old, new = _rows(made.id), None
    assert [e.id for e in old] == [e.id for e in rows[:4]]
    assert {e.city for e in old} == {"St. Louis"} and {e.capacity for e in old} == {3}
    with read_session() as s:
        later = s.exec(select(Series).where(Series.id != made.id)).one()
    new = _rows(later.id)
    assert [e.id for e in new] == [e.id for e in rows[4:]]
    assert {e.city for e in new} == {"Clayton"} and {e.capacity for e in new} == {10}
    assert later.uid != made.uid and later.first_start == rows[4].starts_at
    assert _series(made.id).rrule.endswith("UNTIL=20270324T045959Z")  # Mar 23, Chicago
    assert later.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;WKST=MO;UNTIL=20270602T045959Z"
    assert _series(made.id).sequence == made.sequence + 1
    with read_session() as s:
        assert s.exec(select(Rsvp.event_id).where(Rsvp.email == "pat@example.org")).one() \
            == rows[5].id


def test_edit_following_from_the_first_date_is_edit_all(db_url: str, ada: Any) -> None:
    made = _new(ada)
    rows = _rows(made.id)
    series.edit(ada, rows[0].slug, _data(rows[0], city="Clayton"), Scope.FOLLOWING)
    with read_session() as s:
        assert len(s.exec(select(Series)).all()) == 1
    assert {e.city for e in _rows(made.id)} == {"Clayton"}


def _begun_weeks_ago(actor: Any) -> tuple[Series, list[Event]]:
    """Weekly, 5 dates: the first three over (15, 8 and 1 day(s) ago), two to come."""
    start = (utcnow() - timedelta(days=15)).astimezone(CHICAGO).date()
    made = _new(actor, Rule("weekly", count=5), start_date=start.isoformat(),
                end_date=start.isoformat())
    rows = _rows(made.id)
    now = utcnow()
    assert [e.starts_at <= now for e in rows] == [True] * 3 + [False] * 2
    return made, rows


def _at(instant: datetime | None) -> str:
    assert instant is not None
    return instant.astimezone(CHICAGO).strftime("%H:%M")


def test_edit_all_leaves_dates_already_started_as_they_were(db_url: str, ada: Any) -> None:
    made, rows = _begun_weeks_ago(ada)
    past = make_rsvp(rows[1], email="pat@example.org", checked_in_at=rows[1].starts_at)
    make_rsvp(rows[3], email="sam@example.org")
    version = data_version.refresh()
    series.edit(ada, rows[3].slug, _data(rows[3], start_time="18:00", end_time="19:30",
                                          title="Rapid response", venue_name="Union Hall"),
                Scope.ALL)
    assert data_version.refresh().events != version.events
    after = _rows(made.id)
    assert [e.sequence - old.sequence for old, e in zip(rows, after, strict=True)] == \
        [0, 0, 0, 1, 1]  # the dates to come moved: calendars must update them
    # history: the dates over keep their time, title, place and SEQUENCE
    for old, new in zip(rows[:3], after[:3], strict=True):
        assert (new.starts_at, new.ends_at, new.title, new.venue_name, new.sequence) == \
            (old.starts_at, old.ends_at, "Network meeting", "Central Library", old.sequence)
        assert new.detached and _at(new.recurrence_id) == "18:00"  # an override of the rule
    assert [(_local(e)[-5:], e.title, e.detached) for e in after[3:]] == [
        ("18:00", "Rapid response", False)] * 2
    assert all(e.recurrence_id == e.starts_at for e in after[3:])
    # every row is still an instance of the rule the series (and its feed) now says
    stored = _series(made.id)
    assert {e.recurrence_id for e in after} <= set(series.rule_starts(stored))
    assert _at(stored.first_start) == "18:00"
    assert [m.to_addr for m in outbox("event_changed")] == ["sam@example.org"]
    with read_session() as s:
        kept = s.get(Rsvp, past.id)
        assert kept.event_id == rows[1].id and kept.checked_in_at is not None
    # the template new dates copy is one still to come, with the new values
    with read_session() as s:
        template = series.template_event(s, stored)
    assert template is not None and template.id == rows[4].id


def test_edit_all_of_text_only_keeps_past_rows_keyed_as_they_were(db_url: str,
                                                                  ada: Any) -> None:
    made, rows = _begun_weeks_ago(ada)
    series.edit(ada, rows[4].slug, _data(rows[4], title="Renamed"), Scope.ALL)
    after = _rows(made.id)
    assert [(e.title, e.detached) for e in after] == \
        [("Network meeting", True)] * 3 + [("Renamed", False)] * 2
    assert [e.recurrence_id for e in after] == [e.recurrence_id for e in rows]
    assert [e.starts_at for e in after] == [e.starts_at for e in rows]


def test_co_hosts_changed_for_all_dates_reach_past_ones_too(db_url: str, ada: Any) -> None:
    bo = make_organizer("bo@example.org", "Bo")
    cy = make_organizer("cy@example.org", "Cy")
    start = (utcnow() - timedelta(days=15)).astimezone(CHICAGO).date()
    made = _new(ada, Rule("weekly", count=5), start_date=start.isoformat(),
                end_date=start.isoformat(), cohosts="bo@example.org")
    rows = _rows(made.id)
    series.edit(ada, rows[4].slug, _data(rows[4], title="Renamed", cohosts="cy@example.org"),
                Scope.ALL)
    with read_session() as s:
        hosts = {(h.event_id, h.organizer_id) for h in s.exec(select(EventHost))}
    # access is not history: Bo, taken off the series, no longer manages its past dates
    assert hosts == {(e.id, cy.id) for e in rows} and bo.id not in {h[1] for h in hosts}
    assert [e.title for e in _rows(made.id)] == ["Network meeting"] * 3 + ["Renamed"] * 2


def test_edit_following_from_a_past_date_changes_it_and_the_dates_to_come(db_url: str,
                                                                         ada: Any) -> None:
    made, rows = _begun_weeks_ago(ada)
    series.edit(ada, rows[1].slug, _data(rows[1], city="Clayton"), Scope.FOLLOWING)
    with read_session() as s:
        later = s.exec(select(Series).where(Series.id != made.id)).one()
    assert [e.id for e in _rows(made.id)] == [rows[0].id]
    new = _rows(later.id)
    # the date edited changes (the organizer chose it); the other started one is history
    assert [(e.city, e.detached) for e in new] == [
        ("Clayton", False), ("St. Louis", True), ("Clayton", False), ("Clayton", False)]


@pytest.mark.parametrize("scope", [Scope.ALL, Scope.FOLLOWING])
def test_series_edits_refuse_a_new_date_or_timezone(db_url: str, ada: Any, scope: Scope) -> None:
    made = _new(ada)
    row = _rows(made.id)[2]
    with pytest.raises(FormError) as err:
        series.edit(ada, row.slug, _data(row, start_date="2027-03-10", end_date="2027-03-10"),
                    scope)
    assert "start_date" in err.value.errors
    with pytest.raises(FormError) as err:
        series.edit(ada, row.slug, _data(row, timezone="America/New_York"), scope)
    assert "timezone" in err.value.errors
    with read_session() as s:
        assert len(s.exec(select(Series)).all()) == 1  # nothing half-written (no split)


def test_a_capacity_below_one_dates_seats_refuses_the_whole_edit(db_url: str, ada: Any) -> None:
    made = _new(ada)
    rows = _rows(made.id)
    make_rsvp(rows[6], email="pat@example.org", guests=2)  # 3 seats
    with pytest.raises(FormError) as err:
        series.edit(ada, rows[0].slug, _data(rows[0], capacity="2", title="Smaller"),
                    Scope.ALL)
    assert "Tuesday 4 May 2027: " in err.value.errors["capacity"]
    assert {e.title for e in _rows(made.id)} == {"Network meeting"}


def test_only_managers_reach_a_series(db_url: str, ada: Any) -> None:
    made = _new(ada)
    row = _rows(made.id)[0]
    eve = make_organizer("eve@example.org", "Eve")
    with pytest.raises(EventNotFound):
        series.edit(eve, row.slug, _data(row, title="Mine"), Scope.ALL)
    with pytest.raises(SeriesNotFound):
        series.skip(eve, made.id or 0, [date(2027, 2, 23)])
    with pytest.raises(SeriesNotFound):
        series.change_rule(eve, made.id or 0, Rule("daily", count=2))
    admin = make_organizer("root@example.org", "Root", admin=True)
    assert series.skip(admin, made.id or 0, [date(2027, 2, 23)]).skipped == [date(2027, 2, 23)]


# --- cancelling -----------------------------------------------------------------------------

def test_cancel_one_date_mails_method_cancel_to_its_attendees_only(db_url: str,
                                                                   ada: Any) -> None:
    made = _new(ada)
    rows = _rows(made.id)
    make_rsvp(rows[2], email="pat@example.org")
    make_rsvp(rows[2], email="wes@example.org", status="waitlisted")
    make_rsvp(rows[3], email="sam@example.org")
    event, told = series.cancel(ada, rows[2].slug, "Snow day", Scope.ONE)
    assert told == 2 and event.status == "cancelled"
    mails = outbox("event_cancelled")
    assert sorted(m.to_addr for m in mails) == ["pat@example.org", "wes@example.org"]
    assert all("METHOD:CANCEL" in m.ics for m in mails if m.to_addr == "pat@example.org")
    assert [e.status for e in _rows(made.id)].count("cancelled") == 1
    assert _series(made.id).rrule == made.rrule  # the rule goes on


def test_cancel_following_ends_the_series(db_url: str, ada: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    made = _new(ada, Rule("weekly", interval=2, weekdays=(1,), count=20))
    rows = _rows(made.id)
    make_rsvp(rows[6], email="pat@example.org")
    _, told = series.cancel(ada, rows[5].slug, "", Scope.FOLLOWING)
    after = _rows(made.id)
    assert [e.status for e in after] == ["published"] * 5 + ["cancelled"] * (len(rows) - 5)
    assert told == 1 and [m.to_addr for m in outbox("event_cancelled")] == ["pat@example.org"]
    last = rows[-1].starts_at.astimezone(CHICAGO).date()
    assert series.rule_of(_series(made.id)) == Rule("weekly", interval=2, weekdays=(1,),
                                                    until=last)
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 2000)
    assert series.extend_all() == 0  # no new dates after the rest was cancelled
    with pytest.raises(EventStateError):
        series.cancel(ada, rows[5].slug, "", Scope.FOLLOWING)


def test_cancel_following_from_a_past_date_leaves_the_other_past_ones(db_url: str,
                                                                     ada: Any) -> None:
    made, rows = _begun_weeks_ago(ada)
    make_rsvp(rows[2], email="pat@example.org")
    make_rsvp(rows[3], email="sam@example.org")
    _, told = series.cancel(ada, rows[1].slug, "", Scope.FOLLOWING)
    assert [e.status for e in _rows(made.id)] == ["published", "cancelled", "published",
                                                  "cancelled", "cancelled"]
    assert told == 1 and [m.to_addr for m in outbox("event_cancelled")] == ["sam@example.org"]


def test_cancel_all_leaves_dates_already_past(db_url: str, ada: Any) -> None:
    start = (utcnow() - timedelta(days=15)).astimezone(CHICAGO).date()
    made = _new(ada, Rule("weekly", count=5), start_date=start.isoformat(),
                end_date=start.isoformat())
    rows = _rows(made.id)
    series.cancel(ada, rows[3].slug, "", Scope.ALL)
    assert [e.status for e in _rows(made.id)] == ["published"] * 3 + ["cancelled"] * 2


# --- skipping dates -------------------------------------------------------------------------

def test_skip_removes_empty_dates_and_cancels_booked_ones(db_url: str, ada: Any) -> None:
    made = _new(ada)
    rows = _rows(made.id)
    make_rsvp(rows[3], email="pat@example.org")
    result = series.skip(ada, made.id or 0, [date(2027, 2, 23), date(2027, 3, 23)])
    assert result.skipped == [date(2027, 2, 23), date(2027, 3, 23)]
    assert (result.removed, result.notified) == (2, 1)
    after = _rows(made.id)
    assert [e.id for e in after] == [e.id for i, e in enumerate(rows) if i not in (1, 3)]
    with read_session() as s:
        assert s.get(Event, rows[1].id) is None  # nobody had RSVP'd: gone
        kept = s.get(Event, rows[3].id)  # booked: cancelled, on its own, attendees told
        assert kept.status == "cancelled" and kept.series_id is None
        assert s.exec(select(Rsvp).where(Rsvp.event_id == rows[3].id)).one().email == \
            "pat@example.org"
    assert [m.to_addr for m in outbox("event_cancelled")] == ["pat@example.org"]
    stored = _series(made.id)
    assert stored.skipped == "2027-02-23,2027-03-23" and stored.sequence == made.sequence + 1
    assert series.skip(ada, made.id or 0, [date(2027, 2, 23)]).skipped == []  # twice: nothing


def test_a_skipped_dates_note_is_said_in_the_readers_language(db_url: str, ada: Any,
                                                             client: Any) -> None:
    """The note a booked skipped date keeps is the site's words, not the organizers': the
    Spanish page, API, feed and e-mail say it in Spanish, the English ones in English."""
    made = _new(ada)
    booked = _rows(made.id)[3]
    make_rsvp(booked, email="ana@example.org", language="es")
    series.skip(ada, made.id or 0, [date(2027, 3, 23)])
    english, spanish = ("This date is no longer part of the series.",
                        "Esta fecha ya no forma parte de la serie.")
    assert spanish in outbox("event_cancelled")[0].body_text
    page = f"/events/{booked.slug}"
    for lang, said, not_said in (("es", spanish, english), ("en", english, spanish)):
        html = client.get(page, headers={"Accept-Language": lang}).text
        api = client.get(f"/api/v1/events/{booked.slug}", headers={"Accept-Language": lang})
        feed = client.get(f"/calendar.ics?lang={lang}&when=past").text \
            + client.get(f"/calendar.ics?lang={lang}").text
        assert said in html and not_said not in html, lang
        assert api.json()["cancel_message"] == said, lang
        assert said in feed.replace("\r\n ", ""), lang


def test_skip_refuses_dates_that_are_not_the_rules(db_url: str, ada: Any) -> None:
    made = _new(ada)
    with pytest.raises(FormError) as err:
        series.skip(ada, made.id or 0, [date(2027, 2, 16)])
    assert "Tuesday 16 February 2027 is not" in err.value.errors["dates"]
    assert len(_rows(made.id)) == 9


def test_skipped_dates_are_not_made_again(db_url: str, ada: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 10)
    start = (utcnow() + timedelta(days=1)).astimezone(CHICAGO).date()
    made = _new(ada, Rule("daily", count=20), start_date=start.isoformat(),
                end_date=start.isoformat())
    series.skip(ada, made.id or 0, [start + timedelta(days=2), start + timedelta(days=15)])
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 60)
    series.extend_all()
    days = [e.starts_at.astimezone(CHICAGO).date() for e in _rows(made.id)]
    assert len(days) == 18
    assert start + timedelta(days=2) not in days and start + timedelta(days=15) not in days


# --- changing the rule ----------------------------------------------------------------------

def test_change_rule_moves_dates_with_their_rsvps(db_url: str, ada: Any) -> None:
    made = _new(ada)
    rows = _rows(made.id)
    pat = make_rsvp(rows[2], email="pat@example.org")
    change = series.change_rule(ada, made.id or 0, Rule("weekly", interval=2, weekdays=(2,),
                                                        until=date(2027, 6, 2)))
    assert (change.kept, change.moved, change.created, change.removed) == (0, 9, 0, 0)
    after = _rows(made.id)
    assert [e.id for e in after] == [e.id for e in rows]  # the same rows, a day later
    assert [_local(e) for e in after][:3] == [
        "2027-02-10 19:00", "2027-02-24 19:00", "2027-03-10 19:00"]
    assert all(e.recurrence_id == e.starts_at for e in after)
    with read_session() as s:
        assert s.get(Rsvp, pat.id).event_id == rows[2].id
    assert [m.to_addr for m in outbox("event_changed")] == ["pat@example.org"]
    stored = _series(made.id)
    assert stored.first_start == after[0].starts_at
    assert series.describe_series(stored) == "Repeats every second Wednesday"


def test_change_rule_keeps_unchanged_dates_and_removes_dropped_ones(db_url: str,
                                                                     ada: Any) -> None:
    made = _new(ada, Rule("weekly", weekdays=(1,), until=date(2027, 3, 9)))  # 5 Tuesdays
    rows = _rows(made.id)
    kept_rsvp = make_rsvp(rows[2], email="pat@example.org")
    make_rsvp(rows[1], email="sam@example.org")
    change = series.change_rule(ada, made.id or 0, Rule("weekly", interval=2, weekdays=(1,),
                                                        until=date(2027, 3, 23)))
    # Feb 9, 23, Mar 9 kept; Feb 16 (booked) and Mar 2 (empty) dropped; Mar 23 added
    assert (change.kept, change.moved, change.created, change.removed) == (3, 0, 1, 2)
    after = _rows(made.id)
    assert [_local(e)[:10] for e in after] == [
        "2027-02-09", "2027-02-23", "2027-03-09", "2027-03-23"]
    assert [e.id for e in after[:3]] == [rows[0].id, rows[2].id, rows[4].id]
    with read_session() as s:
        assert s.get(Rsvp, kept_rsvp.id).event_id == rows[2].id
        dropped = s.get(Event, rows[1].id)
        assert dropped.status == "cancelled" and dropped.series_id is None
        assert s.get(Event, rows[3].id) is None
    assert [m.to_addr for m in outbox("event_cancelled")] == ["sam@example.org"]
    assert outbox("event_changed") == []


def test_change_rule_leaves_past_dates_with_the_old_rule(db_url: str, ada: Any) -> None:
    start = (utcnow() - timedelta(days=8)).astimezone(CHICAGO).date()
    made = _new(ada, Rule("weekly", count=6), start_date=start.isoformat(),
                end_date=start.isoformat())
    rows = _rows(made.id)
    change = series.change_rule(ada, made.id or 0, Rule("weekly", count=2))
    assert change.series.id != made.id
    assert [e.id for e in _rows(made.id)] == [rows[0].id, rows[1].id]
    assert [e.id for e in _rows(change.series.id)] == [rows[2].id, rows[3].id]
    assert (change.kept, change.removed) == (2, 2)


def test_change_rule_checks_the_limits(db_url: str, ada: Any) -> None:
    made = _new(ada)
    with pytest.raises(FormError):
        series.change_rule(ada, made.id or 0, Rule("daily", until=date(2029, 1, 1)))
    assert _series(made.id).rrule == made.rrule and len(_rows(made.id)) == 9


# --- duplicate, convert, publish ------------------------------------------------------------

def test_duplicate_continues_the_pattern_as_a_draft(db_url: str, ada: Any) -> None:
    made = _new(ada, Rule("weekly", interval=2, weekdays=(1,), count=4), capacity="7")
    # Feb 9 .. Mar 23; the copy's four dates follow on the same fortnightly rhythm
    rows = _rows(made.id)
    make_rsvp(rows[0], email="pat@example.org")
    copy = series.duplicate(ada, made.id or 0)
    new_rows = _rows(copy.id)
    assert [_local(e) for e in new_rows] == [
        "2027-04-06 19:00", "2027-04-20 19:00", "2027-05-04 19:00", "2027-05-18 19:00"]
    assert {e.status for e in new_rows} == {"draft"} and {e.capacity for e in new_rows} == {7}
    assert copy.uid != made.uid
    with read_session() as s:
        assert s.exec(select(Rsvp).where(col(Rsvp.event_id).in_([e.id for e in new_rows]))
                      ).all() == []


def test_convert_a_single_event_keeps_its_rsvps(db_url: str, ada: Any) -> None:
    single = make_event(starts_at=utc(2027, 2, 10, 1, 0), ends_at=utc(2027, 2, 10, 3, 0),
                        owner_id=ada.id, title="Monthly training", capacity=5)
    pat = make_rsvp(single, email="pat@example.org")
    made = series.convert(ada, single.slug, Rule("monthly", monthly_nth=2, count=3))
    rows = _rows(made.id)
    assert [_local(e) for e in rows] == ["2027-02-09 19:00", "2027-03-09 19:00",
                                         "2027-04-13 19:00"]
    assert rows[0].id == single.id and rows[0].uid == single.uid and rows[0].slug == single.slug
    assert {e.capacity for e in rows} == {5} and {e.title for e in rows} == {"Monthly training"}
    with read_session() as s:
        assert s.get(Rsvp, pat.id).event_id == single.id
    assert series.describe_series(_series(made.id)) == "Repeats monthly on the second Tuesday"
    with pytest.raises(EventStateError):
        series.convert(ada, single.slug, Rule("daily", count=2))


def test_convert_needs_the_events_own_date(db_url: str, ada: Any) -> None:
    single = make_event(starts_at=utc(2027, 2, 10, 1, 0), owner_id=ada.id)
    with pytest.raises(FormError) as err:
        series.convert(ada, single.slug, Rule("weekly", weekdays=(2,), count=3))
    assert "(Tuesday 9 February 2027)" in err.value.errors["repeat"]
    with read_session() as s:
        assert s.exec(select(Series)).all() == []


def test_set_published_publishes_every_date(db_url: str, ada: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 10)
    start = (utcnow() + timedelta(days=1)).astimezone(CHICAGO).date()
    made = _new(ada, Rule("daily", count=20), publish=False, start_date=start.isoformat(),
                end_date=start.isoformat())
    assert series.set_published(ada, made.id or 0, True) == len(_rows(made.id))
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 60)
    series.extend_all()
    assert {e.status for e in _rows(made.id)} == {"published"}  # later dates follow


# --- reading --------------------------------------------------------------------------------

def test_occurrences_and_other_dates(db_url: str, ada: Any) -> None:
    made = _new(ada)
    rows = _rows(made.id)
    series.cancel(ada, rows[3].slug, "", Scope.ONE)
    with read_session() as s:
        stored = series.get_series(s, made.id or 0)
        assert stored is not None
        assert [e.id for e in series.occurrences(s, stored)] == [e.id for e in rows]
        upcoming = series.occurrences(s, stored, upcoming_only=True, now=rows[6].starts_at)
        assert [e.id for e in upcoming] == [e.id for e in rows[6:]]  # the 6th still runs
        others = series.other_dates(s, rows[1], limit=3)
        assert [e.id for e in others] == [rows[0].id, rows[2].id, rows[4].id]  # not cancelled
        later = series.other_dates(s, rows[1], now=rows[6].starts_at)
        assert [e.id for e in later] == [rows[7].id, rows[8].id]
        single = make_event()
        assert series.other_dates(s, single) == []
        assert series.template_event(s, stored).id == rows[-1].id


def test_series_writes_change_the_public_data_version(db_url: str, ada: Any) -> None:
    made = _new(ada)
    before = data_version.refresh()
    with write_session() as s:
        row = s.get(Series, made.id)
        row.skipped = "2027-02-23"  # a Series row alone (no Event row) changed
        s.add(row)
    assert data_version.refresh().events != before.events


def test_changes_are_audited(db_url: str, ada: Any) -> None:
    made = _new(ada)
    series.skip(ada, made.id or 0, [date(2027, 2, 23)])
    with read_session() as s:
        actions = [a.action for a in s.exec(select(AuditLog).order_by(col(AuditLog.id)))]
    assert "series.create" in actions and actions[-1] == "series.skip"
    assert "event.cancel" not in actions  # nobody had RSVP'd to Feb 23: removed, not cancelled


def test_series_actions_read_as_sentences_in_the_audit_log(
        db_url: str, ada: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    made = _new(ada)
    rows = _rows(made.id)
    series.edit(ada, rows[0].slug, _data(rows[0], city="Clayton"), Scope.ALL)
    series.edit(ada, rows[4].slug, _data(rows[4], title="Spring meeting"), Scope.FOLLOWING)
    series.skip(ada, made.id or 0, [date(2027, 3, 9)])
    series.cancel(ada, rows[7].slug, "", Scope.FOLLOWING)
    series.change_rule(ada, made.id or 0,
                       Rule("weekly", interval=2, weekdays=(2,), until=date(2027, 3, 24)))
    series.duplicate(ada, made.id or 0)
    single = make_event(starts_at=utc(2027, 2, 10, 1, 0), ends_at=utc(2027, 2, 10, 3, 0),
                        owner_id=ada.id, title="Monthly training")
    series.convert(ada, single.slug, Rule("daily", count=3))
    _new(ada, Rule("weekly", weekdays=(1,), count=70), title="Phone bank")
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 2000)
    added = series.extend_all()
    with read_session() as s:
        entries = audit.list_entries(s, page_size=500).rows
    said = [(r.actor_name, r.summary) for r in reversed(entries)
            if r.entry.action.startswith("series.")]
    ada_did = [summary for who, summary in said if who == "Ada Organizer"]
    assert ada_did == [
        "Created the series “Network meeting”, repeating every second Tuesday, until June 1, "
        "2027",
        "Edited every date of the series “Network meeting” not started yet",
        "Split the series “Spring meeting”: its dates from April 6, 2027 on became a new "
        "series",
        "Edited a date of the series “Spring meeting” and every later one",
        "Skipped March 9, 2027 in the series “Network meeting”",
        "Cancelled a date of the series “Spring meeting” and every later one",
        "Changed the series “Network meeting” to repeat every second Wednesday, until March "
        "24, 2027",
        "Created the series “Network meeting” as a copy of another",
        "Made the event “Monthly training” a series, repeating daily, 3 times",
        "Created the series “Phone bank”, repeating every Tuesday, 70 times",
    ]
    assert added > 0 and said[-1][1] == f"Added {added} dates to the series “Phone bank”"
    assert said[-1][0].startswith("Command line")


def test_reminders_attendee_csv_and_retention_work_per_date(db_url: str, ada: Any) -> None:
    made = _new(ada)
    rows = _rows(made.id)
    make_rsvp(rows[1], name="Pat", email="pat@example.org")
    make_rsvp(rows[1], name="Sam", email="sam@example.org", status="waitlisted")
    make_rsvp(rows[2], name="Pat", email="pat@example.org")  # the same person, next date
    lead = timedelta(hours=12)
    # reminders: each date's confirmed attendees, before that date, once
    assert reminders.queue_reminders(now=rows[1].starts_at - timedelta(hours=2), lead=lead) == 1
    assert reminders.queue_reminders(now=rows[1].starts_at - timedelta(hours=1), lead=lead) == 0
    assert reminders.queue_reminders(now=rows[2].starts_at - timedelta(hours=2), lead=lead) == 1
    assert [(m.to_addr, m.subject) for m in outbox("reminder")] == [
        ("pat@example.org", f"Reminder: Network meeting, "
                            f"{timefmt.format_start(e.starts_at, e.timezone)}")
        for e in rows[1:3]]
    # the attendee list of one date holds that date's RSVPs only
    with read_session() as s:
        names = [[line[2] for line in csv.reader(io.StringIO(
            attendee_csv.export_csv(s, s.get(Event, e.id))))][1:] for e in rows[1:3]]
    assert [sorted(n) for n in names] == [["Pat", "Sam"], ["Pat"]]
    # retention counts from each date's own end
    retention.purge(now=rows[1].ends_at + retention.retention() + timedelta(minutes=1))
    with read_session() as s:
        erased = {(r.event_id, r.erased_at is not None) for r in s.exec(select(Rsvp))}
    assert erased == {(rows[1].id, True), (rows[2].id, False)}


def test_move_one_date_then_edit_all_leaves_it_where_it_was(db_url: str, ada: Any) -> None:
    made = _new(ada)
    rows = _rows(made.id)
    series.edit(ada, rows[2].slug, _data(rows[2], start_date="2027-03-11",
                                          end_date="2027-03-11"), Scope.ONE)
    series.edit(ada, rows[0].slug, _data(rows[0], start_time="18:00", end_time="19:30"),
                Scope.ALL)
    with read_session() as s:
        moved = s.get(Event, rows[2].id)
    assert _local(moved) == "2027-03-11 19:00" and moved.detached
    # still the rule's Mar 9 instance, at the series' new time
    assert moved.recurrence_id is not None
    assert moved.recurrence_id.astimezone(CHICAGO).strftime("%Y-%m-%d %H:%M") == \
        "2027-03-09 18:00"
    assert [_local(e)[-5:] for e in _rows(made.id)].count("18:00") == 8


def test_all_day_series_spans_whole_local_days_across_dst(db_url: str, ada: Any) -> None:
    made = _new(ada, Rule("weekly", weekdays=(6,), count=3), all_day="on",
                start_date="2027-10-31", end_date="2027-10-31", start_time="", end_time="")
    rows = _rows(made.id)
    assert [(e.local_start.strftime("%m-%d %H:%M"), e.local_end.strftime("%m-%d %H:%M"))
            for e in rows] == [("10-31 00:00", "11-01 00:00"), ("11-07 00:00", "11-08 00:00"),
                               ("11-14 00:00", "11-15 00:00")]
    assert rows[1].ends_at - rows[1].starts_at == timedelta(hours=25)  # clocks go back Nov 7
    assert all(e.all_day for e in rows) and _series(made.id).duration_minutes == 1440


def test_rule_starts_series_map_and_rsvp_all(db_url: str, ada: Any) -> None:
    made = _new(ada)
    series.skip(ada, made.id or 0, [date(2027, 2, 23)])
    stored = _series(made.id)
    starts = series.rule_starts(stored)
    assert len(starts) == 9 and starts[1] == utc(2027, 2, 24, 1, 0)  # skipped, still listed
    assert series.rule_starts(stored, until_utc=starts[2]) == starts[:2]
    with read_session() as s:
        assert series.series_map(s, [made.id, None, made.id]) == {made.id: stored}
        assert series.series_map(s, [None]) == {}
    assert series.set_rsvp_all(ada, made.id or 0, True).rsvp_all
    assert _series(made.id).rsvp_all


def test_a_co_host_of_one_date_manages_that_date_only(db_url: str, ada: Any) -> None:
    made = _new(ada)
    rows = _rows(made.id)
    cy = make_organizer("cy@example.org", "Cy")
    series.edit(ada, rows[2].slug, _data(rows[2], cohosts="cy@example.org"), Scope.ONE)
    series.edit(cy, rows[2].slug, _data(rows[2], title="Cy's date", cohosts="cy@example.org"),
                Scope.ONE)
    with pytest.raises(SeriesNotFound):
        series.edit(cy, rows[2].slug, _data(rows[2], title="All mine",
                                             cohosts="cy@example.org"), Scope.ALL)
    with pytest.raises(SeriesNotFound):
        series.cancel(cy, rows[2].slug, "", Scope.FOLLOWING)
    with pytest.raises(SeriesNotFound):
        series.skip(cy, made.id or 0, [date(2027, 2, 23)])
    assert [e.title for e in _rows(made.id)].count("Network meeting") == 8


def test_the_events_own_edit_form_detaches_an_occurrence(db_url: str, ada: Any) -> None:
    from events_app.services import event_admin

    made = _new(ada)
    first, row = _rows(made.id)[:2]
    event_admin.edit(ada, row.slug, _data(row, venue_name="City Hall"))
    series.edit(ada, first.slug, _data(first, venue_name="Union Hall"), Scope.ALL)
    assert [e.venue_name for e in _rows(made.id)] == ["Union Hall", "City Hall"] + \
        ["Union Hall"] * 7
    assert [e.detached for e in _rows(made.id)] == [False, True] + [False] * 7


def test_single_events_take_scope_one_only(db_url: str, ada: Any) -> None:
    single = make_event(owner_id=ada.id, title="Once")
    make_rsvp(single, email="pat@example.org")
    event = series.edit(ada, single.slug, _data(single, title="Just once"), Scope.ONE)
    assert event.title == "Just once" and not event.detached
    with pytest.raises(EventStateError):
        series.edit(ada, single.slug, _data(single), Scope.ALL)
    with pytest.raises(EventStateError):
        series.cancel(ada, single.slug, "", Scope.FOLLOWING)
    event, told = series.cancel(ada, single.slug, "", Scope.ONE)
    assert event.status == "cancelled" and told == 1
    with pytest.raises(EventNotFound):
        series.cancel(ada, "no-such-event", "", Scope.ONE)


def test_one_broken_series_does_not_stop_the_others(db_url: str, ada: Any,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 5)
    start = (utcnow() + timedelta(days=1)).astimezone(CHICAGO).date()
    broken, fine = (_new(ada, Rule("daily", count=20), start_date=start.isoformat(),
                         end_date=start.isoformat(), title=t) for t in ("Broken", "Fine"))
    with write_session() as s:
        row = s.get(Series, broken.id)
        row.rrule = "FREQ=YEARLY;COUNT=20"  # not a rule this app writes (say, a bad import)
        s.add(row)
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 30)
    assert cli.main(["extend-series"]) == 1
    assert f"ids {broken.id}" in capsys.readouterr().err
    assert len(_rows(fine.id)) == 20 and len(_rows(broken.id)) < 20


# --- Refusals in the organizer's language ----------------------------------------------------

def test_refusals_are_said_in_the_organizers_language(db_url: str, ada: Any) -> None:
    """The service's refusals are translated where raised, in the request's language (here
    set as a request would), with Babel's dates."""
    made = _new(ada)
    single = make_event(starts_at=utc(2027, 2, 10, 1, 0), owner_id=ada.id)
    with i18n.using("es"):
        with pytest.raises(FormError) as err:
            series.skip(ada, made.id or 0, [date(2027, 2, 16)])
        assert err.value.errors["dates"] == \
            "Martes, 16 de febrero de 2027 no es una fecha de esta serie."
        with pytest.raises(FormError) as err:
            series.convert(ada, single.slug, Rule("weekly", weekdays=(2,), count=3))
        assert "fecha del propio evento (martes, 9 de febrero de 2027)" in \
            err.value.errors["repeat"]
        with pytest.raises(EventStateError) as state:
            series.convert(ada, _rows(made.id)[0].slug, Rule("weekly", weekdays=(1,), count=3))
        assert str(state.value) == "Este evento ya forma parte de una serie."
    with pytest.raises(EventStateError) as state:
        series.convert(ada, _rows(made.id)[0].slug, Rule("weekly", weekdays=(1,), count=3))
    assert str(state.value) == "This event is already part of a series."
