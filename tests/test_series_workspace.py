"""The organizer workspace for recurring events (issue 14): the "Repeats" fieldset on the event
form (preview without JavaScript, errors with input kept), the series page with each date's
counts (services/series_overview.py, one query), editing and cancelling a date with a scope,
skipping dates, changing the rule, duplicating a series, turning an event into a series, and
the dashboard's link to a series. Rules and writes are services/series.py's (tested in
tests/test_series.py); these tests drive them the way the pages do."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event as sa_event
from sqlmodel import col, select

from events_app.db import get_engine, read_session, write_session
from events_app.models import Event, EventHost, Organizer, Rsvp, Series, utcnow
from events_app.services import audit, series, series_overview
from events_app.services.event_form import form_values, repeat_choices
from tests.factories import make_event, make_rsvp
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    field_error,
    login,
    make_organizer,
    post,
)
from tests.rsvp_helpers import outbox

pytestmark = pytest.mark.usefixtures("cheap_passwords")

CHICAGO = ZoneInfo("America/Chicago")


def _next(weekday: int, after: date) -> date:
    """The first `weekday` (0 = Monday) strictly after `after`."""
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


# A Tuesday a little ahead, and the end of the June after it: "every second Tuesday at 7 PM
# America/Chicago until June", whatever day the suite runs.
FIRST = _next(1, datetime.now(UTC).date() + timedelta(days=3))
UNTIL = date(FIRST.year + (FIRST.month > 5), 6, 30)


def _form(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "Rapid-response network meeting", "summary": "", "description": "",
        "category": "meeting", "timezone": "America/Chicago",
        "start_date": FIRST.isoformat(), "start_time": "19:00",
        "end_date": FIRST.isoformat(), "end_time": "20:30",
        "venue_name": "Union hall", "city": "Chicago", "capacity": "30", "max_guests": "2",
        "waitlist_enabled": "on",
        "repeat": "weekly", "interval": "2", "weekday": ["1"], "monthly_by": "day",
        "ends": "until", "until": UNTIL.isoformat(), "count": "",
    }
    values.update(overrides)
    return values


def _biweekly_starts() -> list[datetime]:
    """What the rule must give: every second Tuesday, 7 PM on Chicago's clocks (CST or CDT)."""
    days, d = [], FIRST
    while d <= UNTIL:
        days.append(datetime(d.year, d.month, d.day, 19, 0, tzinfo=CHICAGO).astimezone(UTC))
        d += timedelta(days=14)
    return days


@pytest.fixture
def signed_in(client: Any, owner: Organizer) -> Any:
    assert login(client, "owner@example.org").status_code == 303
    return client


def _occurrences(series_id: int) -> list[Event]:
    with read_session() as s:
        return list(s.exec(select(Event).where(Event.series_id == series_id)
                           .order_by(col(Event.starts_at))).all())


def _only_series() -> Series:
    with read_session() as s:
        (found,) = s.exec(select(Series)).all()
        return found


def _create(client: Any, **overrides: Any) -> tuple[Series, list[Event], Any]:
    r = post(client, "/organizer/events/new", {**_form(**overrides), "then": "publish"})
    assert r.status_code == 303, r.text[:2000]
    found = _only_series()
    return found, _occurrences(found.id or 0), r


# --- the "Repeats" fieldset ------------------------------------------------------------------

def test_new_event_form_offers_repeats_without_a_script(signed_in: Any) -> None:
    html = signed_in.get("/organizer/events/new").text
    assert "<legend>Repeats</legend>" in html
    assert re.search(r'name="repeat" type="radio" value="none" checked', html)
    assert 'name="step" value="preview"' in html  # a submit button: works without JS
    # Enter presses the form's first submit button: saving as a draft, not the preview
    # (tests/test_event_form_browser.py presses it).
    form = html[html.index('<form method="post" class="event-form"'):]
    assert re.search(r'<button type="submit"[^>]*>', form).group(0).count('value="draft"') == 1


def test_preview_lists_the_next_dates_and_saves_nothing(signed_in: Any) -> None:
    r = post(signed_in, "/organizer/events/new", {**_form(title=""), "step": "preview"})
    assert r.status_code == 200  # an unfinished title does not stop a preview
    html = unescape(r.text)
    listed = re.findall(r'<li><time datetime="([^"]+)">', html)
    expected = [s.strftime("%Y-%m-%dT%H:%M:%SZ") for s in _biweekly_starts()[:8]]
    assert listed == expected
    assert "Repeats every second Tuesday" in html
    assert f"until {UNTIL:%B} {UNTIL.day}, {UNTIL.year}" in html
    # Everything entered is still there, the ticked weekday included.
    assert re.search(r'id="f-weekday-1" name="weekday" type="checkbox" value="1" checked', html)
    assert 'name="interval" type="number" value="2"' in html or \
        re.search(r'id="f-interval" name="interval" type="[^"]+" value="2"', html)
    with read_session() as s:
        assert s.exec(select(Series)).all() == [] and s.exec(select(Event)).all() == []


def test_preview_says_what_it_still_needs(signed_in: Any) -> None:
    r = post(signed_in, "/organizer/events/new", {**_form(start_date=""), "step": "preview"})
    assert r.status_code == 422 and field_error(r.text, "start_date")
    assert "Enter the start date, time and timezone to see the dates." in unescape(r.text)
    r = post(signed_in, "/organizer/events/new", {**_form(repeat="none"), "step": "preview"})
    assert r.status_code == 200
    assert "Choose how often it repeats" in r.text
    assert "<ol>" not in r.text


def test_rule_errors_are_shown_next_to_fields_with_input_kept(signed_in: Any) -> None:
    r = post(signed_in, "/organizer/events/new",
             {**_form(interval="0", until="", title="Kept title"), "then": "publish"})
    assert r.status_code == 422
    assert field_error(r.text, "interval")
    assert field_error(r.text, "until")
    assert 'value="Kept title"' in r.text
    with read_session() as s:
        assert s.exec(select(Series)).all() == [] and s.exec(select(Event)).all() == []


@pytest.mark.parametrize("start", ["9999-12-28", "0001-01-02"])
def test_a_start_at_the_edge_of_time_is_a_field_error_not_a_500(signed_in: Any,
                                                                start: str) -> None:
    for step in ("preview", "save"):
        r = post(signed_in, "/organizer/events/new",
                 {**_form(start_date=start, end_date=start), "step": step})
        assert r.status_code == 422
        assert field_error(r.text, "start_date")
    with read_session() as s:
        assert s.exec(select(Series)).all() == []


def test_series_longer_than_the_limit_is_refused(signed_in: Any) -> None:
    r = post(signed_in, "/organizer/events/new",
             {**_form(repeat="daily", interval="1", weekday=[],
                      until=(FIRST + timedelta(days=800)).isoformat()), "then": "draft"})
    assert r.status_code == 422
    assert "at most" in (field_error(r.text, "until") or "")
    with read_session() as s:
        assert s.exec(select(Series)).all() == []


def test_choices_are_worded_for_the_start_date() -> None:
    choices = repeat_choices({"start_date": "2027-01-12"})  # the second Tuesday of January
    assert choices.default_weekday == "1" and choices.default_nth == "2"
    assert dict(choices.nth_options)["2"] == "On the second Tuesday"
    assert dict(choices.nth_options)["-1"] == "On the last Tuesday"
    assert choices.monthly_day_label == "On the 12th"
    assert [label for _, label in choices.weekdays][:2] == ["Monday", "Tuesday"]
    assert repeat_choices({"start_date": "2027-01-29"}).default_nth == "-1"  # a fifth Friday


# --- creating a series and its page ------------------------------------------------------------

def test_creating_a_series_makes_every_date_and_shows_the_series_page(signed_in: Any) -> None:
    found, dates, r = _create(signed_in)
    assert [e.starts_at for e in dates] == _biweekly_starts()
    assert {e.status for e in dates} == {"published"}
    assert all(e.local_start.strftime("%a %H:%M") == "Tue 19:00" for e in dates)
    assert r.headers["location"] == f"/organizer/events/{dates[0].slug}/series"
    page = signed_in.get(r.headers["location"])
    assert page.status_code == 200
    html = unescape(page.text)
    assert "Repeats every second Tuesday" in html
    assert f"{len(dates)} upcoming dates" in html
    assert html.count('name="skip"') == len(dates)
    for e in dates:
        assert f'data-slug="{e.slug}"' in html


def test_refused_series_leaves_nothing_written(signed_in: Any) -> None:
    r = post(signed_in, "/organizer/events/new",
             {**_form(cohosts="nobody@example.org"), "then": "publish"})
    assert r.status_code == 422
    assert "nobody@example.org" in (field_error(r.text, "cohosts") or "")
    assert re.search(r'id="f-weekday-1" name="weekday" type="checkbox" value="1" checked', r.text)
    with read_session() as s:
        assert s.exec(select(Series)).all() == [] and s.exec(select(Event)).all() == []


def test_all_day_monthly_series_from_the_form(signed_in: Any) -> None:
    first = date(FIRST.year + 1, 1, 31)  # monthly on the 31st: months without one are skipped
    _, dates, _ = _create(signed_in, all_day="on", start_date=first.isoformat(), start_time="",
                          end_date=first.isoformat(), end_time="", repeat="monthly",
                          interval="1", weekday=[], monthly_by="day", ends="count", count="4")
    assert [e.local_start.date().isoformat() for e in dates] == [
        f"{first.year}-01-31", f"{first.year}-03-31", f"{first.year}-05-31",
        f"{first.year}-07-31"]
    assert all(e.all_day and e.ends_at - e.starts_at == timedelta(days=1) for e in dates)


def test_series_page_counts_each_date(signed_in: Any) -> None:
    _, dates, _ = _create(signed_in)
    first, second = dates[0], dates[1]
    make_rsvp(first, "Ann", "ann@example.org", guests=2)
    make_rsvp(first, "Bo", "bo@example.org", checked_in_at=utcnow())
    make_rsvp(first, "Cy", "cy@example.org", status="waitlisted", guests=1)
    make_rsvp(first, "Di", "di@example.org", status="cancelled")
    make_rsvp(second, "Ed", "ed@example.org")
    html = signed_in.get(f"/organizer/events/{second.slug}/series").text

    def cells(slug: str) -> dict[str, str]:
        row = re.search(rf'<tr data-slug="{slug}">(.*?)</tr>', html, re.S)
        assert row
        return {k: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", v)).strip()
                for k, v in re.findall(r'class="num ([\w-]+)">(.*?)</td>', row.group(1), re.S)}

    assert cells(first.slug) == {"seats": "4 / 30", "waitlist": "2", "checked-in": "1"}
    assert cells(second.slug) == {"seats": "1 / 30", "waitlist": "0", "checked-in": "0"}


def test_past_dates_count_confirmed_people_in_the_readers_words(signed_in: Any) -> None:
    """The column counts people ("Confirmados"), not an RSVP's status ("Confirmada")."""
    _, dates, _ = _create(signed_in)
    with write_session() as s:  # the first date happened last week
        row = s.get(Event, dates[0].id)
        row.starts_at -= timedelta(days=30)
        row.ends_at -= timedelta(days=30)
    for lang, word in (("es", "Confirmados"), ("en", "Confirmed")):
        html = signed_in.get(f"/organizer/events/{dates[1].slug}/series?lang={lang}").text
        assert f'<th scope="col" class="num">{word}</th>' in html
        assert f'<td data-label="{word}" class="num seats">' in html


# --- the overview service ---------------------------------------------------------------------

def _series_rows(owner: Organizer, n: int = 3) -> tuple[Series, list[Event]]:
    """A series written as rows (the overview only reads them)."""
    start = utcnow().replace(microsecond=0) + timedelta(days=2)
    with write_session() as s:
        row = Series(rrule="FREQ=DAILY;COUNT=3", timezone="America/Chicago", first_start=start,
                     duration_minutes=60, owner_id=owner.id)
        s.add(row)
        s.flush()
        s.refresh(row)
    days = [start + timedelta(days=i) for i in range(n)]
    events = [make_event(owner_id=owner.id, series_id=row.id, capacity=5, starts_at=day,
                         recurrence_id=day, ends_at=day + timedelta(hours=1)) for day in days]
    return row, events


@pytest.fixture
def statements(engine: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa_event.listen(get_engine(), "before_cursor_execute", count)
    yield seen
    sa_event.remove(get_engine(), "before_cursor_execute", count)


def test_overview_counts_every_date_in_one_query(owner: Organizer, statements: list[str]) -> None:
    row, events = _series_rows(owner, n=3)
    make_rsvp(events[0], "Ann", "ann@example.org", guests=1, checked_in_at=utcnow(),
              checked_in_seats=1)  # one of a party of two arrived
    make_rsvp(events[0], "Bo", "bo@example.org", status="waitlisted")
    make_rsvp(events[2], "Cy", "cy@example.org", guests=4)
    other_series, other = _series_rows(owner, n=1)  # not counted in
    make_rsvp(other[0], "Di", "di@example.org")
    with read_session() as s:
        s.get(Series, row.id)  # loaded before counting
        statements.clear()
        rows = series_overview.occurrence_rows(s, row)
        assert len([q for q in statements if q.lstrip().upper().startswith("SELECT")]) == 1
    assert [(r.event.id, r.confirmed, r.waitlisted, r.checked_in) for r in rows] == [
        (events[0].id, 2, 1, 1), (events[1].id, 0, 0, 0), (events[2].id, 5, 0, 0)]
    assert rows[2].is_full and not rows[0].is_full
    local_days = [e.starts_at.astimezone(CHICAGO).date() for e in events]
    assert [r.rule_day for r in rows] == local_days


# --- editing and cancelling dates ------------------------------------------------------------

def _edit(client: Any, event: Event, scope: str, **changes: str) -> Any:
    with read_session() as s:
        values = form_values(s.get(Event, event.id))  # type: ignore[arg-type]
    return post(client, f"/organizer/events/{event.slug}/edit",
                {**values, **changes, "scope": scope})


def test_edit_form_of_a_date_asks_which_dates(signed_in: Any) -> None:
    _, dates, _ = _create(signed_in)
    html = signed_in.get(f"/organizer/events/{dates[2].slug}/edit").text
    for value in ("one", "following", "all"):
        assert f'name="scope" type="radio" value="{value}"' in html
    assert "<legend>Repeats</legend>" not in html  # the rule changes on its own page
    assert f'/organizer/events/{dates[2].slug}/series"' in html


def test_edit_one_date_only(signed_in: Any) -> None:
    found, dates, _ = _create(signed_in)
    r = _edit(signed_in, dates[1], "one", venue_name="Library annex")
    assert r.status_code == 303
    venues = [e.venue_name for e in _occurrences(found.id or 0)]
    assert venues[1] == "Library annex"
    assert set(venues[:1] + venues[2:]) == {"Union hall"}


def _all_dates() -> list[Event]:
    with read_session() as s:
        return list(s.exec(select(Event).where(col(Event.series_id).is_not(None))
                           .order_by(col(Event.starts_at))).all())


def test_edit_this_and_following(signed_in: Any) -> None:
    found, dates, _ = _create(signed_in)
    r = _edit(signed_in, dates[2], "following", venue_name="Library annex")
    assert r.status_code == 303
    after = _all_dates()
    assert [e.id for e in after] == [e.id for e in dates]  # every date, RSVPs and all, kept
    assert [e.venue_name for e in after[:2]] == ["Union hall"] * 2
    assert {e.venue_name for e in after[2:]} == {"Library annex"}
    # From the edited date on it is a series of its own (as calendar apps split one).
    assert {e.series_id for e in after[:2]} == {found.id}
    (rest,) = {e.series_id for e in after[2:]}
    assert rest != found.id
    page = unescape(signed_in.get(f"/organizer/events/{dates[2].slug}/series").text)
    assert f"{len(dates) - 2} upcoming dates" in page


def test_edit_every_date(signed_in: Any) -> None:
    found, dates, _ = _create(signed_in)
    r = _edit(signed_in, dates[3], "all", capacity="45")
    assert r.status_code == 303
    assert {e.capacity for e in _occurrences(found.id or 0)} == {45}


def test_new_time_for_every_date_tells_attendees_when_asked(signed_in: Any) -> None:
    found, dates, _ = _create(signed_in)
    make_rsvp(dates[1], "Ann", "ann@example.org")
    make_rsvp(dates[4], "Bo", "bo@example.org")
    r = _edit(signed_in, dates[0], "all", start_time="18:30", end_time="20:00",
              notify_attendees="on")
    assert r.status_code == 303
    after = _occurrences(found.id or 0)
    assert {e.local_start.strftime("%H:%M") for e in after} == {"18:30"}
    assert sorted(m.to_addr for m in outbox("event_changed")) == \
        ["ann@example.org", "bo@example.org"]


def test_new_time_without_the_box_tells_nobody(signed_in: Any) -> None:
    _, dates, _ = _create(signed_in)
    make_rsvp(dates[1], "Ann", "ann@example.org")
    assert _edit(signed_in, dates[0], "all", start_time="18:30").status_code == 303
    assert outbox("event_changed") == []


def test_unknown_scope_is_a_400_and_changes_nothing(signed_in: Any) -> None:
    found, dates, _ = _create(signed_in)
    r = _edit(signed_in, dates[1], "everything", venue_name="Elsewhere")
    assert r.status_code == 400
    assert {e.venue_name for e in _occurrences(found.id or 0)} == {"Union hall"}


def test_edit_errors_re_render_with_the_scope_kept(signed_in: Any) -> None:
    _, dates, _ = _create(signed_in)
    r = _edit(signed_in, dates[1], "following", end_time="18:00")  # before the start
    assert r.status_code == 422
    assert re.search(r'name="scope" type="radio" value="following" checked', r.text)


def test_cancel_one_date_and_tell_its_attendees(signed_in: Any) -> None:
    found, dates, _ = _create(signed_in)
    make_rsvp(dates[1], "Ann", "ann@example.org")
    make_rsvp(dates[2], "Bo", "bo@example.org")
    page = signed_in.get(f"/organizer/events/{dates[1].slug}/cancel").text
    assert 'name="scope" type="radio" value="one" checked' in page
    r = post(signed_in, f"/organizer/events/{dates[1].slug}/cancel",
             {"scope": "one", "message": "Holiday"})
    assert r.status_code == 303
    statuses = [e.status for e in _occurrences(found.id or 0)]
    assert statuses[1] == "cancelled"
    assert set(statuses[:1] + statuses[2:]) == {"published"}
    flash = signed_in.get(r.headers["location"]).text
    assert "1 person was e-mailed" in flash


def test_cancel_the_rest_of_the_series(signed_in: Any) -> None:
    found, dates, _ = _create(signed_in)
    r = post(signed_in, f"/organizer/events/{dates[3].slug}/cancel",
             {"scope": "following", "message": ""})
    assert r.status_code == 303
    statuses = [e.status for e in _occurrences(found.id or 0)]
    assert statuses[:3] == ["published"] * 3
    assert set(statuses[3:]) == {"cancelled"}


# --- skipping, changing the rule, duplicating, converting ------------------------------------

def test_skip_ticked_dates(signed_in: Any) -> None:
    found, dates, _ = _create(signed_in)
    skipped = dates[2].local_start.date()
    r = post(signed_in, f"/organizer/events/{dates[0].slug}/series/skip",
             {"skip": skipped.isoformat()})
    assert r.status_code == 303
    with read_session() as s:
        assert s.get(Series, found.id).skipped_dates == [skipped]  # type: ignore[union-attr]
    live = [e.local_start.date() for e in _occurrences(found.id or 0) if e.status != "cancelled"]
    assert skipped not in live
    page = unescape(signed_in.get(r.headers["location"]).text)
    assert "Skipped:" in page


def test_skipping_a_booked_date_tells_its_attendees(signed_in: Any) -> None:
    found, dates, _ = _create(signed_in)
    make_rsvp(dates[1], "Ann", "ann@example.org")
    r = post(signed_in, f"/organizer/events/{dates[1].slug}/series/skip",
             {"skip": dates[1].local_start.date().isoformat()})
    assert r.status_code == 303
    assert "1 person was e-mailed" in unescape(signed_in.get(r.headers["location"]).text)
    assert [m.to_addr for m in outbox("event_cancelled")] == ["ann@example.org"]
    assert dates[1].id not in [e.id for e in _occurrences(found.id or 0)]


def test_a_cohost_of_the_dates_may_manage_the_series(client: Any, owner: Organizer) -> None:
    login(client, "owner@example.org")
    _, dates, _ = _create(client)
    carl = make_organizer("carl@example.org", "Carl Cohost")
    with write_session() as s:
        for e in dates:
            s.add(EventHost(event_id=e.id, organizer_id=carl.id))
    client.cookies.clear()
    login(client, "carl@example.org")
    assert client.get(f"/organizer/events/{dates[0].slug}/series").status_code == 200
    r = post(client, f"/organizer/events/{dates[0].slug}/series/skip",
             {"skip": dates[2].local_start.date().isoformat()})
    assert r.status_code == 303
    assert "Skipped:" in unescape(client.get(r.headers["location"]).text)


def test_skip_with_nothing_ticked_or_a_bad_date(signed_in: Any) -> None:
    found, dates, _ = _create(signed_in)
    r = post(signed_in, f"/organizer/events/{dates[0].slug}/series/skip", {})
    assert r.status_code == 303
    assert "Tick the dates" in signed_in.get(r.headers["location"]).text
    r = post(signed_in, f"/organizer/events/{dates[0].slug}/series/skip", {"skip": "June 5"})
    assert r.status_code == 400
    assert len(_occurrences(found.id or 0)) == len(dates)


def test_rsvp_to_every_date_is_switched_on_the_series_page(signed_in: Any) -> None:
    found, dates, _ = _create(signed_in)
    series_url = f"/organizer/events/{dates[0].slug}/series"
    url = f"{series_url}/rsvp-all"
    public = f"/events/{dates[1].slug}"
    assert "People RSVP to one date at a time" in unescape(signed_in.get(series_url).text)
    assert 'id="rsvp-dates-all"' not in signed_in.get(public).text

    assert signed_in.post(url, data={"rsvp_all": "1"}).status_code == 403  # no CSRF token
    with read_session() as s:
        assert s.get(Series, found.id).rsvp_all is False  # type: ignore[union-attr]

    r = post(signed_in, url, {"rsvp_all": "1"})
    assert r.status_code == 303 and r.headers["location"].endswith(series_url)
    page = unescape(signed_in.get(series_url).text)
    assert "People may now RSVP to every upcoming date at once" in page
    assert "Stop RSVPs to every date at once" in page
    with read_session() as s:
        assert s.get(Series, found.id).rsvp_all is True  # type: ignore[union-attr]
    assert 'id="rsvp-dates-all"' in signed_in.get(public).text  # the public is offered it

    post(signed_in, url, {"rsvp_all": "1"})  # already on: nothing changes, nothing audited
    r = post(signed_in, url, {"rsvp_all": "0"})
    assert r.status_code == 303
    with read_session() as s:
        assert s.get(Series, found.id).rsvp_all is False  # type: ignore[union-attr]
        said = [r.summary for r in reversed(audit.list_entries(s, page_size=100).rows)
                if r.entry.action == "series.rsvp_all"]
    assert said == [
        f"Let people RSVP to every date of the series “{dates[0].title}” at once",
        f"Stopped letting people RSVP to every date of the series “{dates[0].title}” at once"]
    assert 'id="rsvp-dates-all"' not in signed_in.get(public).text


def test_change_rule_page_shows_the_rule_and_previews(signed_in: Any) -> None:
    _, dates, _ = _create(signed_in)
    url = f"/organizer/events/{dates[0].slug}/series/repeat"
    html = signed_in.get(url).text
    assert re.search(r'name="repeat" type="radio" value="weekly" checked', html)
    assert re.search(r'id="f-weekday-1" name="weekday" type="checkbox" value="1" checked', html)
    r = post(signed_in, url, {**_form(interval="1"), "step": "preview"})
    assert r.status_code == 200
    assert "Repeats every Tuesday" in unescape(r.text)


def test_new_rule_previews_and_takes_over_from_the_next_date(signed_in: Any) -> None:
    """The rule page's preview and the change itself count from the same date: the series'
    next one by its rule (services/series.next_rule_start); the dates before stay."""
    started = FIRST - timedelta(days=28)  # two past dates, then FIRST
    found, dates, _ = _create(signed_in, start_date=started.isoformat(),
                              end_date=started.isoformat())
    url = f"/organizer/events/{dates[0].slug}/series/repeat"
    preview = post(signed_in, url, {**_form(interval="1"), "step": "preview"})
    shown = re.findall(r'<li><time datetime="([^"]+)"', preview.text)
    at_first = datetime(FIRST.year, FIRST.month, FIRST.day, 19, 0, tzinfo=CHICAGO)
    assert shown[:2] == [(at_first + timedelta(days=d)).astimezone(UTC)
                         .strftime("%Y-%m-%dT%H:%M:%SZ") for d in (0, 7)]
    assert post(signed_in, url, {**_form(interval="1"), "step": "save"}).status_code == 303
    with read_session() as s:
        old, new = s.exec(select(Series).order_by(col(Series.id))).all()
    assert old.id == found.id and new.first_start == at_first.astimezone(UTC)
    assert [e.local_start.date() for e in _occurrences(old.id or 0)] == \
        [started, started + timedelta(days=14)]


def test_change_rule_keeps_rsvps_of_dates_it_keeps(signed_in: Any) -> None:
    found, dates, _ = _create(signed_in)
    kept = make_rsvp(dates[2], "Ann", "ann@example.org")
    r = post(signed_in, f"/organizer/events/{dates[0].slug}/series/repeat",
             {**_form(interval="1"), "step": "save"})  # weekly: every old date stays
    assert r.status_code == 303
    now = _occurrences(found.id or 0)
    assert len([e for e in now if e.status == "published"]) > len(dates)
    with read_session() as s:
        rsvp = s.get(Rsvp, kept.id)
        assert rsvp is not None and rsvp.event_id == dates[2].id and rsvp.status == "confirmed"


def test_duplicate_series_makes_a_draft_copy(signed_in: Any) -> None:
    found, dates, _ = _create(signed_in)
    r = post(signed_in, f"/organizer/events/{dates[0].slug}/series/duplicate")
    assert r.status_code == 303
    with read_session() as s:
        copies = [x for x in s.exec(select(Series)).all() if x.id != found.id]
    (copy,) = copies
    copied = _occurrences(copy.id or 0)
    assert copied and {e.status for e in copied} == {"draft"}
    assert r.headers["location"] == f"/organizer/events/{copied[0].slug}/series"
    page = signed_in.get(r.headers["location"]).text
    assert "Publish every date" in page
    r = post(signed_in, f"/organizer/events/{copied[0].slug}/series/publish", {"publish": "1"})
    assert r.status_code == 303
    assert {e.status for e in _occurrences(copy.id or 0)} == {"published"}
    assert f"Published {len(copied)} dates" in unescape(signed_in.get(r.headers["location"]).text)


def test_convert_a_single_event_keeps_its_rsvps(signed_in: Any, owner: Organizer) -> None:
    start = datetime.combine(FIRST, datetime.min.time()).replace(hour=19, tzinfo=CHICAGO)
    event = make_event(owner_id=owner.id, title="Know your rights", capacity=20,
                       starts_at=start.astimezone(UTC),
                       ends_at=(start + timedelta(hours=2)).astimezone(UTC))
    rsvp_row = make_rsvp(event, "Ann", "ann@example.org")
    edit = signed_in.get(f"/organizer/events/{event.slug}/edit").text
    assert f"/organizer/events/{event.slug}/repeat" in edit
    url = f"/organizer/events/{event.slug}/repeat"
    convert_page = signed_in.get(url)
    assert convert_page.status_code == 200
    # RSVP to every date is switched on the series page (this page used to offer a box
    # that converting then ignored)
    assert 'name="rsvp_all"' not in convert_page.text
    preview = post(signed_in, url, {"repeat": "monthly", "monthly_by": "weekday",
                                    "monthly_nth": "1", "ends": "count", "count": "4",
                                    "interval": "1", "step": "preview"})
    assert preview.status_code == 200
    assert len(re.findall(r"<li><time datetime=", preview.text)) == 4
    r = post(signed_in, url, {"repeat": "monthly", "monthly_by": "weekday", "monthly_nth": "1",
                              "ends": "count", "count": "4", "interval": "1", "step": "save"})
    assert r.status_code == 303
    with read_session() as s:
        converted = s.get(Event, event.id)
        assert converted is not None and converted.series_id is not None
        assert s.get(Rsvp, rsvp_row.id).event_id == event.id  # type: ignore[union-attr]
    assert len(_occurrences(converted.series_id)) == 4


def test_convert_without_a_rule_is_refused_with_a_message(signed_in: Any, owner: Organizer) -> None:
    event = make_event(owner_id=owner.id)
    r = post(signed_in, f"/organizer/events/{event.slug}/repeat", {"repeat": "none"})
    assert r.status_code == 422
    assert field_error(r.text, "repeat")
    with read_session() as s:
        assert s.get(Event, event.id).series_id is None  # type: ignore[union-attr]


def test_series_pages_of_a_single_event_lead_back_to_it(signed_in: Any, owner: Organizer) -> None:
    event = make_event(owner_id=owner.id)
    r = signed_in.get(f"/organizer/events/{event.slug}/series", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith(f"/{event.slug}/edit")


# --- who may see it, and the dashboard ---------------------------------------------------------

def test_another_organizer_cannot_see_or_change_the_series(client: Any, owner: Organizer) -> None:
    login(client, "owner@example.org")
    found, dates, _ = _create(client)
    make_organizer("other@example.org", "Otto Other")
    client.cookies.clear()
    login(client, "other@example.org")
    slug = dates[0].slug
    assert client.get(f"/organizer/events/{slug}/series").status_code == 404
    assert post(client, f"/organizer/events/{slug}/series/skip",
                {"skip": dates[1].local_start.date().isoformat()}).status_code == 404
    assert post(client, f"/organizer/events/{slug}/series/duplicate").status_code == 404
    assert post(client, f"/organizer/events/{slug}/series/rsvp-all",
                {"rsvp_all": "1"}).status_code == 404
    with read_session() as s:
        assert len(s.exec(select(Series)).all()) == 1
        assert s.get(Series, found.id).skipped == ""  # type: ignore[union-attr]
        assert s.get(Series, found.id).rsvp_all is False  # type: ignore[union-attr]


def test_dashboard_links_dates_to_their_series(signed_in: Any) -> None:
    _, dates, _ = _create(signed_in)
    html = signed_in.get("/organizer/").text
    assert f'/organizer/events/{dates[0].slug}/series"' in html
    # The series' next date stands for the rest of them on the page: one row, not one per date.
    listed = re.findall(r'<tr data-slug="([^"]+)">', html)
    assert listed == [dates[0].slug]
    assert html.count("Repeats · all dates") == 1
    on_page = min(len(dates), 25)
    assert f"The next of {on_page} dates in this list" in html


def test_series_service_sees_the_same_dates_as_the_page(signed_in: Any) -> None:
    found, dates, _ = _create(signed_in)
    with read_session() as s:
        listed = series.occurrences(s, s.get(Series, found.id))  # type: ignore[arg-type]
        rows = series_overview.occurrence_rows(s, s.get(Series, found.id))  # type: ignore[arg-type]
    assert [e.id for e in listed] == [r.event.id for r in rows] == [e.id for e in dates]
