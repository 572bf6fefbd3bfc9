"""Acceptance test of issue 14 ("Done when"), on SQLite and PostgreSQL, through HTTP only, as
the real users would: an organizer signs in and submits the real forms (with CSRF) to create
"every second Tuesday at 7 PM America/Chicago until June" and a monthly first-Saturday series,
cancels one date, moves another and skips a holiday; the public reads the list, month views
and API and RSVPs to one date or to every date; a subscriber fetches /calendar.ics, and every
calendar reader (tests/ical_readers.py) must expand it to exactly what the site lists. The
cron command `events-app extend-series` is run as cron runs it (its own process), twice.

Expected dates are written out here from the calendar (never from the code under test), for
whatever day the suite runs: the Tuesdays cross the March DST change in Chicago."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from events_app import settings
from tests.ical_readers import Occurrence, expansions
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    login,
    make_organizer,
    post,
)
from tests.rsvp_helpers import csrf_from, feed_token, outbox, post_rsvp

pytestmark = pytest.mark.usefixtures("cheap_passwords")

CHICAGO = ZoneInfo("America/Chicago")
TODAY = datetime.now(UTC).date()


def _next(weekday: int, after: date) -> date:
    """The first `weekday` (0 = Monday) strictly after `after`."""
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def _first_saturday(year: int, month: int) -> date:
    return _next(5, date(year, month, 1) - timedelta(days=1))


FIRST = _next(1, TODAY + timedelta(days=3))  # a Tuesday a little ahead
UNTIL = date(FIRST.year + (FIRST.month > 5), 6, 30)  # "until June" (the end of it)
_NEXT_MONTH = date(TODAY.year + TODAY.month // 12, TODAY.month % 12 + 1, 1)
FIRST_SATURDAY = _first_saturday(_NEXT_MONTH.year, _NEXT_MONTH.month)
# Rows made when a series is created: fewer than the rule gives, so the cron command has
# dates to add (the rest up to June).
SHORT_HORIZON_DAYS = 120


def _utc(day: date, at: time) -> datetime:
    return datetime.combine(day, at, CHICAGO).astimezone(UTC)


def _tuesdays() -> list[datetime]:
    """Every second Tuesday from FIRST to UNTIL, 7 PM on Chicago's clocks (CST or CDT)."""
    found, day = [], FIRST
    while day <= UNTIL:
        found.append(_utc(day, time(19, 0)))
        day += timedelta(days=14)
    return found


def _saturdays() -> list[datetime]:
    """The first Saturday of each month from FIRST_SATURDAY to UNTIL, 10 AM Chicago."""
    found, year, month = [], FIRST_SATURDAY.year, FIRST_SATURDAY.month
    while (day := _first_saturday(year, month)) <= UNTIL:
        found.append(_utc(day, time(10, 0)))
        year, month = year + month // 12, month % 12 + 1
    return found


def _form(**overrides: Any) -> dict[str, Any]:
    """The new-event form as the organizer fills it in: "every second Tuesday at 7 PM
    America/Chicago until June", RSVPs to every date allowed."""
    values: dict[str, Any] = {
        "title": "Rapid-response network meeting", "summary": "Every second Tuesday",
        "description": "", "category": "meeting", "timezone": "America/Chicago",
        "start_date": FIRST.isoformat(), "start_time": "19:00",
        "end_date": FIRST.isoformat(), "end_time": "20:30",
        "venue_name": "Union hall", "city": "Chicago", "capacity": "30", "max_guests": "2",
        "waitlist_enabled": "on", "rsvp_all": "on",
        "repeat": "weekly", "interval": "2", "weekday": ["1"], "monthly_by": "day",
        "ends": "until", "until": UNTIL.isoformat(), "count": "",
    }
    values.update(overrides)
    return values


MONTHLY = {
    "title": "Know-Your-Rights training", "summary": "First Saturday of the month",
    "category": "training",
    "start_date": FIRST_SATURDAY.isoformat(), "start_time": "10:00",
    "end_date": FIRST_SATURDAY.isoformat(), "end_time": "13:00", "rsvp_all": "",
    "venue_name": "Central library", "repeat": "monthly", "interval": "1", "weekday": [],
    "monthly_by": "weekday", "monthly_nth": "1", "monthly_weekday": "5",
}


# --- reading the site as its users do ---------------------------------------------------------

CARD_RE = re.compile(
    r'<article class="event-card( is-cancelled)?"[^>]*>.*?<time datetime="([^"]+)">.*?'
    r'<a href="(?:https?://[^/"]+)?/events/([^"]+)">.*?</article>', re.S)
REPEATS_RE = re.compile(r'<p class="event-repeats">([^<]+)</p>')


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _listed(client: Any, query: str = "") -> list[dict[str, Any]]:
    """Every card of the public list (filtered by `query`, "category=training"), page after
    page: slug, start, cancelled, "Repeats ..."."""
    cards, page = [], 1
    while True:
        params = "&".join(p for p in (query, f"page={page}" if page > 1 else "") if p)
        r = client.get("/events" + (f"?{params}" if params else ""))
        assert r.status_code == 200
        for m in CARD_RE.finditer(r.text):
            words = REPEATS_RE.search(m.group(0))
            cards.append({"slug": m.group(3), "start": _when(m.group(2)),
                          "cancelled": bool(m.group(1)),
                          "repeats": unescape(words.group(1)) if words else None})
        if 'rel="next"' not in r.text:
            return cards
        page += 1


def _api(client: Any, slug: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/events/{slug}")
    assert r.status_code == 200, r.text
    return r.json()


def _site_occurrences(client: Any, query: str = "") -> list[Occurrence]:
    """What the site lists, as a reader's occurrence: (series UID, UTC start, UTC end, status,
    title) - the list for which dates and in what state, the public API for each date's end
    and its series' UID."""
    found = []
    for card in _listed(client, query):
        info = _api(client, card["slug"])
        assert _when(info["starts_at"]) == card["start"]
        assert (info["status"] == "cancelled") == card["cancelled"]
        found.append(_occurrence(info, info["series"]["uid"] if info["series"] else None))
    return sorted(found)


def _occurrence(info: dict[str, Any], uid: str | None = None) -> Occurrence:
    """An API event as a reader's occurrence, under `uid` (its series') or its own UID."""
    cancelled = info["status"] == "cancelled"
    return (uid or info["uid"], f"{_when(info['starts_at']):%Y-%m-%dT%H:%M:%SZ}",
            f"{_when(info['ends_at']):%Y-%m-%dT%H:%M:%SZ}",
            "CANCELLED" if cancelled else "CONFIRMED",
            f"Cancelled: {info['title']}" if cancelled else info["title"])


def _assert_readers_agree_with_site(client: Any, query: str = "") -> list[Occurrence]:
    """The subscribed feed (with the same filter as the list) expands, in every reader, to
    exactly the occurrences the site lists."""
    site = _site_occurrences(client, query)
    r = client.get("/calendar.ics" + (f"?{query}" if query else ""))
    assert r.status_code == 200
    for reader, got in expansions(r.content).items():
        assert got == site, (f"{reader}: missing {sorted(set(site) - set(got))}, "
                             f"extra {sorted(set(got) - set(site))}")
    return site


def _organizer_dates(client: Any, series_page: str) -> list[tuple[str, datetime]]:
    """(slug, start) of every upcoming date on the workspace's series page."""
    html = client.get(series_page).text
    return [(slug, _when(at)) for slug, at in re.findall(
        r'<a class="event-link" href="(?:https?://[^/"]+)?/organizer/events/([^"/]+)/edit">'
        r'<time datetime="([^"]+)">', html)]


def _edit_form(client: Any, slug: str) -> dict[str, Any]:
    """The edit form's fields as the browser would submit them (text inputs, the selected
    option, ticked boxes and radios)."""
    html = client.get(f"/organizer/events/{slug}/edit").text
    values: dict[str, Any] = {}
    for tag in re.findall(r"<input [^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if not name or name.group(1) == "csrf_token":
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio") and " checked" not in tag:
            continue
        values[name.group(1)] = unescape(value.group(1)) if value else "on"
    for name, body in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        if chosen:
            values[name] = unescape(chosen.group(1))
    for name, body in re.findall(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html,
                                 re.S):
        values[name] = unescape(body)
    return values


def _run_cli(db_url: str, *args: str) -> str:
    """`events-app ...` in its own process against the test database, as cron runs it."""
    env = {**os.environ, "DATABASE_URL": db_url}
    env.pop("SERIES_HORIZON_DAYS", None)
    done = subprocess.run([str(Path(sys.executable).parent / "events-app"), *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _mails(kind: str, to: str) -> list[Any]:
    return [m for m in outbox(kind) if m.to_addr == to]


# --- the "Done when" -----------------------------------------------------------------

def test_done_when_every_reader_agrees_with_the_site_on_every_date(
        client: Any, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    tuesdays, saturdays = _tuesdays(), _saturdays()
    horizon = datetime.now(UTC) + timedelta(days=SHORT_HORIZON_DAYS)
    made_now = [t for t in tuesdays if t <= horizon]
    assert 8 <= len(made_now) < len(tuesdays)  # a date each to cancel, move, skip; more later
    assert len({t.astimezone(CHICAGO).utcoffset() for t in tuesdays}) == 2  # CST and CDT
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", SHORT_HORIZON_DAYS)

    # The organizer signs in, previews the dates, then saves and publishes both series.
    make_organizer("olga@example.org", "Olga Organizer")
    assert login(client, "olga@example.org").status_code == 303
    preview = post(client, "/organizer/events/new", {**_form(), "step": "preview"})
    assert preview.status_code == 200
    assert "Repeats every second Tuesday" in unescape(preview.text)
    r = post(client, "/organizer/events/new", {**_form(), "then": "publish"})
    assert r.status_code == 303, r.text[:3000]
    tuesday_page = r.headers["location"]
    assert tuesday_page.endswith("/series")
    r = post(client, "/organizer/events/new", {**_form(**MONTHLY), "then": "publish"})
    assert r.status_code == 303, r.text[:3000]
    saturday_page = r.headers["location"]
    dates = _organizer_dates(client, tuesday_page)
    assert [at for _slug, at in dates] == made_now
    assert [at for _slug, at in _organizer_dates(client, saturday_page)] == \
        [s for s in saturdays if s <= horizon]
    slugs = [slug for slug, _at in dates]

    # The public sees every date in its place with the rule in words, and in the month view.
    listed = _listed(client)
    by_slug = {c["slug"]: c for c in listed}
    for slug, at in dates:
        assert by_slug[slug]["start"] == at
        assert by_slug[slug]["repeats"] == "Repeats every second Tuesday"
    monthly = [c for c in listed if c["slug"] not in dict(dates)]
    assert {c["repeats"] for c in monthly} == {"Repeats monthly on the first Saturday"}
    everything = [(c["slug"], c["start"]) for c in listed]
    assert len(monthly) == len([s for s in saturdays if s <= horizon])
    months = sorted({at.astimezone(CHICAGO).strftime("%Y-%m") for _s, at in everything})
    for month in months:
        view = client.get(f"/events/month/{month}").text
        for slug, at in everything:
            if at.astimezone(CHICAGO).strftime("%Y-%m") == month:
                assert re.search(f'href="(https?://[^/"]+)?/events/{slug}"', view), (month, slug)
    _assert_readers_agree_with_site(client)
    # In a subscribed calendar each series is one repeating event.
    feed = client.get("/calendar.ics").text.replace("\r\n ", "")
    rules = sorted(line for line in feed.splitlines() if line.startswith("RRULE:"))
    assert len(rules) == 2 and feed.count("BEGIN:VEVENT") == 2
    assert "FREQ=MONTHLY" in rules[0] and "BYDAY=1SA" in rules[0]
    assert "FREQ=WEEKLY" in rules[1] and "INTERVAL=2" in rules[1] and "BYDAY=TU" in rules[1]

    # RSVPs: Ann to every date at once, Bo to the date about to be cancelled, Cy to the one
    # about to move.
    cancelled, skipped, moved = slugs[1], slugs[2], slugs[3]
    r = post_rsvp(client, slugs[0], name="Ann Lee", email="ann@example.org", dates="all")
    assert r.status_code == 200 and "every upcoming date" in r.text
    assert post_rsvp(client, cancelled, name="Bo Diaz", email="bo@example.org").status_code == 200
    assert post_rsvp(client, moved, name="Cy Park", email="cy@example.org").status_code == 200

    # Cancel one date: its attendees are e-mailed with a METHOD:CANCEL calendar.
    r = post(client, f"/organizer/events/{cancelled}/cancel",
             {"scope": "one", "message": "The hall is closed that night."})
    assert r.status_code == 303
    cancelled_uid = _api(client, cancelled)["uid"]
    for person in ("bo@example.org", "ann@example.org"):
        (mail,) = _mails("event_cancelled", person)
        assert "METHOD:CANCEL" in mail.ics and cancelled_uid in mail.ics
        assert "STATUS:CANCELLED" in mail.ics
        assert "The hall is closed that night." in mail.body_text
    assert _mails("event_cancelled", "cy@example.org") == []

    # Move another date a day later, 6 PM, telling its attendees.
    new_day = dates[3][1].astimezone(CHICAGO).date() + timedelta(days=1)
    form = _edit_form(client, moved)
    form.update(start_date=new_day.isoformat(), start_time="18:00",
                end_date=new_day.isoformat(), end_time="19:30", scope="one",
                notify_attendees="on")
    r = post(client, f"/organizer/events/{moved}/edit", form)
    assert r.status_code == 303, r.text[:3000]
    (changed,) = _mails("event_changed", "cy@example.org")
    assert _api(client, moved)["uid"] in changed.ics  # the date alone, under its own UID
    assert f"DTSTART;TZID=America/Chicago:{new_day:%Y%m%d}T180000" in changed.ics
    assert "RRULE" not in changed.ics and "RECURRENCE-ID" not in changed.ics

    # Skip a holiday.
    holiday = dates[2][1].astimezone(CHICAGO).date()
    r = post(client, f"{tuesday_page}/skip", {"skip": holiday.isoformat()})
    assert r.status_code == 303
    assert len(_mails("event_cancelled", "ann@example.org")) == 2

    # The site now: the cancelled date marked, the moved one at its new time; the holiday,
    # which had an attendee, stays as a cancelled event of its own (its links keep working)
    # and is no longer a date of the series.
    by_slug = {c["slug"]: c for c in _listed(client)}
    assert by_slug[cancelled]["cancelled"]
    assert by_slug[cancelled]["repeats"] == "Repeats every second Tuesday"
    assert by_slug[moved]["start"] == _utc(new_day, time(18, 0))
    assert by_slug[skipped]["cancelled"] and by_slug[skipped]["repeats"] is None
    assert _api(client, skipped)["series"] is None
    _assert_readers_agree_with_site(client)
    old_day = dates[3][1].astimezone(CHICAGO).date()
    assert f"/events/{moved}\"" in client.get(f"/events/day/{new_day}").text
    assert f"/events/{moved}\"" not in client.get(f"/events/day/{old_day}").text
    assert f"/events/{moved}\"" in client.get(f"/events/month/{new_day:%Y-%m}").text
    # A date's own download holds that date alone, as it now is.
    for slug in (cancelled, moved, slugs[0]):
        download = client.get(f"/events/{slug}.ics")
        assert download.status_code == 200
        for reader, got in expansions(download.content).items():
            assert got == [_occurrence(_api(client, slug))], (reader, slug)

    # The cron command adds the dates up to June, once, however often it runs.
    monkeypatch.undo()
    out = _run_cli(db_url, "extend-series")
    added = len(tuesdays) - len(made_now) + len([s for s in saturdays if s > horizon])
    assert f"Recurring series: {added} occurrence(s) created" in out
    assert "Recurring series: 0 occurrence(s) created" in _run_cli(db_url, "extend-series")
    now_dates = _organizer_dates(client, tuesday_page)
    expected = sorted([t for t in tuesdays if t not in (dates[2][1], dates[3][1])]
                      + [_utc(new_day, time(18, 0))])
    assert sorted(at for _slug, at in now_dates) == expected
    listed = _listed(client)
    assert len({c["slug"] for c in listed}) == len(listed)
    starts = sorted(c["start"] for c in listed)
    assert starts == sorted(expected + [dates[2][1]] + saturdays)
    site = _assert_readers_agree_with_site(client)
    assert len(site) == len(tuesdays) + len(saturdays)
    trainings = _assert_readers_agree_with_site(client, "category=training")
    assert len(trainings) == len(saturdays) and {o[0] for o in trainings} < {o[0] for o in site}

    # Ann's all-dates RSVP: one manage page lists every date she is on, the cancelled one
    # marked; her own feed holds those dates, each on its own.
    summary = _mails("series_summary", "ann@example.org")
    assert summary
    link = re.search(r"https?://[^/\s]+(/rsvp/[A-Za-z0-9_-]{43}/series)\b",
                     summary[-1].body_text)
    assert link, summary[-1].body_text
    page = client.get(link.group(1))
    assert page.status_code == 200
    ann_dates = [s for s in slugs if s != skipped]
    rows = re.findall(r'<tr data-status="([a-z]+)">\s*<th scope="row"><a href="[^"]*/events/'
                      r'([^"]+)"><time datetime="([^"]+)">', page.text)
    assert [(slug, status) for status, slug, _at in rows] == \
        [(slug, "confirmed") for slug in ann_dates]
    assert {slug: _when(at) for _status, slug, at in rows}[moved] == _utc(new_day, time(18, 0))
    assert page.text.count("This date is cancelled.") == 1
    assert "bo@example.org" not in page.text and "cy@example.org" not in page.text
    # The dates the cron command added since are offered; she joins them from the same page.
    later = [slug for slug, at in now_dates if at > horizon]
    assert f"{len(later)} upcoming dates take RSVPs" in page.text
    joined = client.post(link.group(1), data={"csrf_token": csrf_from(page.text),
                                              "action": "join"})
    assert joined.status_code == 200 and "Done." in joined.text
    page = client.get(link.group(1)).text
    assert page.count('data-status="confirmed"') == len(ann_dates) + len(later)
    assert "Dates you're not on yet" not in page
    feed = client.get(f"/my/{feed_token('ann@example.org')}/calendar.ics")
    assert feed.status_code == 200
    # The holiday had left the series before she opened the link that proves her address, so
    # that one RSVP stays unproven and out of her feed (personal_feeds lists proven ones).
    own = sorted(_occurrence(_api(client, slug)) for slug in ann_dates + later)
    for reader, got in expansions(feed.content).items():
        assert got == own, (reader, sorted(set(own) - set(got)), sorted(set(got) - set(own)))


def test_following_dates_changed_and_cancelled_reach_every_reader(client: Any,
                                                                 db_url: str) -> None:
    """The other scopes, through the same forms: a full date waitlists an all-dates RSVP;
    "this and all following" gets a new time (from there on a series of its own, as calendar
    apps split one); "the rest of the series" is cancelled; readers still agree with the site
    and the cron command adds nothing back."""
    make_organizer("olga@example.org", "Olga Organizer")
    assert login(client, "olga@example.org").status_code == 303
    r = post(client, "/organizer/events/new", {**_form(capacity="1"), "then": "publish"})
    assert r.status_code == 303, r.text[:3000]
    series_page = r.headers["location"]
    dates = _organizer_dates(client, series_page)
    assert [at for _slug, at in dates] == _tuesdays()
    slugs = [slug for slug, _at in dates]

    assert post_rsvp(client, slugs[2], name="Bo Diaz", email="bo@example.org").status_code == 200
    r = post_rsvp(client, slugs[0], name="Ann Lee", email="ann@example.org", dates="all")
    assert r.status_code == 200
    link = re.search(r"https?://[^/\s]+(/rsvp/[A-Za-z0-9_-]{43}/series)\b",
                     _mails("series_summary", "ann@example.org")[-1].body_text)
    assert link
    page = client.get(link.group(1)).text
    states = re.findall(r'<tr data-status="([a-z]+)">', page)
    assert states == ["confirmed"] * 2 + ["waitlisted"] + ["confirmed"] * (len(slugs) - 3)
    seats = dict(re.findall(r'<tr data-slug="([^"]+)">.*?class="num seats">(\d+) /',
                            client.get(series_page).text, re.S))
    assert seats[slugs[2]] == "1" and seats[slugs[3]] == "1"

    # One date moved a day and then cancelled; then the venue of every date changed: the
    # cancelled date stays cancelled on its own day.
    day = dates[1][1].astimezone(CHICAGO).date() + timedelta(days=1)
    form = _edit_form(client, slugs[1])
    form.update(start_date=day.isoformat(), end_date=day.isoformat(), scope="one")
    assert post(client, f"/organizer/events/{slugs[1]}/edit", form).status_code == 303
    r = post(client, f"/organizer/events/{slugs[1]}/cancel", {"scope": "one", "message": ""})
    assert r.status_code == 303
    form = _edit_form(client, slugs[0])
    form.update(venue_name="Library annex", scope="all")
    assert post(client, f"/organizer/events/{slugs[0]}/edit", form).status_code == 303
    assert {_api(client, s)["venue_name"] for s in slugs} == {"Library annex"}
    info = _api(client, slugs[1])
    assert info["status"] == "cancelled" and _when(info["starts_at"]) == _utc(day, time(19, 0))
    _assert_readers_agree_with_site(client)

    form = _edit_form(client, slugs[4])
    form.update(start_time="18:00", end_time="19:30", scope="following")
    r = post(client, f"/organizer/events/{slugs[4]}/edit", form)
    assert r.status_code == 303, r.text[:3000]
    site = _assert_readers_agree_with_site(client)
    assert len({o[0] for o in site}) == 2  # two repeating events now
    moved = [datetime.fromisoformat(o[1]) for o in site]
    assert sorted(moved) == sorted(
        _utc(day, time(19, 0)) if i == 1 else dates[i][1] if i < 4
        else dates[i][1] - timedelta(hours=1) for i in range(len(dates)))
    listed = _listed(client)
    assert {c["repeats"] for c in listed} == {"Repeats every second Tuesday"}

    r = post(client, f"/organizer/events/{slugs[6]}/cancel",
             {"scope": "following", "message": "The network meets online from now on."})
    assert r.status_code == 303
    site = _assert_readers_agree_with_site(client)
    assert [o[3] for o in sorted(site, key=lambda o: o[1])] == \
        ["CONFIRMED", "CANCELLED"] + ["CONFIRMED"] * 4 + ["CANCELLED"] * (len(slugs) - 6)
    assert {m.to_addr for m in outbox("event_cancelled")} == {"ann@example.org"}
    assert "Recurring series: 0 occurrence(s) created" in _run_cli(db_url, "extend-series")
    assert _assert_readers_agree_with_site(client) == site


def test_a_converted_event_moved_across_dst_and_its_rule_changed(client: Any,
                                                                db_url: str) -> None:
    """An event made on its own becomes the series (its RSVP kept); a winter date is moved a
    week on, past the spring clock change; then the rule changes twice (weekly, keeping every
    date; every four weeks, removing some and telling their attendees). After each step every
    reader expands the feed to what the site lists."""
    make_organizer("olga@example.org", "Olga Organizer")
    assert login(client, "olga@example.org").status_code == 303
    r = post(client, "/organizer/events/new", {**_form(repeat="none"), "then": "publish"})
    assert r.status_code == 303, r.text[:3000]
    (card,) = _listed(client)
    first = card["slug"]
    assert post_rsvp(client, first, name="Cy Park", email="cy@example.org").status_code == 200
    repeat = {k: v for k, v in _form().items() if k in (
        "repeat", "interval", "weekday", "monthly_by", "ends", "until", "count")}
    r = post(client, f"/organizer/events/{first}/repeat", {**repeat, "step": "save"})
    assert r.status_code == 303, r.text[:3000]
    series_page = f"/organizer/events/{first}/series"
    dates = _organizer_dates(client, series_page)
    assert [at for _s, at in dates] == _tuesdays() and dates[0][0] == first
    assert "Repeats every second Tuesday" in unescape(client.get(f"/events/{first}").text)
    _assert_readers_agree_with_site(client)
    seats = dict(re.findall(r'<tr data-slug="([^"]+)">.*?class="num seats">(\d+) /',
                            client.get(series_page).text, re.S))
    assert seats[first] == "1"  # Cy's RSVP stayed with the date

    # The last date on winter time moves a week on, onto summer time, same 7 PM.
    winter = [(s, at) for s, at in dates
              if at.astimezone(CHICAGO).utcoffset() == timedelta(hours=-6)]
    slug, at = winter[-1]
    later = at.astimezone(CHICAGO).date() + timedelta(days=7)
    assert _utc(later, time(19, 0)).astimezone(CHICAGO).utcoffset() == timedelta(hours=-5)
    form = _edit_form(client, slug)
    form.update(start_date=later.isoformat(), end_date=later.isoformat(), scope="one")
    assert post(client, f"/organizer/events/{slug}/edit", form).status_code == 303
    by_slug = {c["slug"]: c for c in _listed(client)}
    assert by_slug[slug]["start"] == _utc(later, time(19, 0))
    _assert_readers_agree_with_site(client)

    # Weekly: every date so far stays (with its RSVPs), the weeks between are added.
    dan_slug = dates[1][0]
    assert post_rsvp(client, dan_slug, name="Dan Ng", email="dan@example.org").status_code == 200
    rule_page = f"/organizer/events/{first}/series/repeat"
    r = post(client, rule_page, {**repeat, "interval": "1", "step": "save"})
    assert r.status_code == 303, r.text[:3000]
    weekly = _assert_readers_agree_with_site(client)
    assert len(weekly) > len(dates)
    assert outbox("event_cancelled") == []

    # Every four weeks: the second-week dates go, and Dan (on one of them) is told.
    r = post(client, rule_page, {**repeat, "interval": "4", "step": "save"})
    assert r.status_code == 303, r.text[:3000]
    assert [m.to_addr for m in outbox("event_cancelled")] == ["dan@example.org"]
    site = _assert_readers_agree_with_site(client)
    live = sorted(datetime.fromisoformat(o[1]) for o in site if o[3] == "CONFIRMED")
    # Every fourth Tuesday from the first, 7 PM; the moved winter date stays moved if its
    # Tuesday is one of them, and goes (nobody was on it) if not - which, depends on the day
    # the suite runs.
    assert live == sorted(_utc(later, time(19, 0)) if t == at else t for t in _tuesdays()[::2])


def test_cron_runs_overlapping_make_each_date_once(client: Any, db_url: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Two `events-app extend-series` processes at once (a slow cron run overlapping the
    next): between them every missing date is made exactly once."""
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", SHORT_HORIZON_DAYS)
    make_organizer("olga@example.org", "Olga Organizer")
    assert login(client, "olga@example.org").status_code == 303
    r = post(client, "/organizer/events/new", {**_form(), "then": "publish"})
    assert r.status_code == 303, r.text[:3000]
    made = len(_organizer_dates(client, r.headers["location"]))
    monkeypatch.undo()
    env = {**os.environ, "DATABASE_URL": db_url}
    env.pop("SERIES_HORIZON_DAYS", None)
    command = [str(Path(sys.executable).parent / "events-app"), "extend-series"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    created = [int(re.search(r"Recurring series: (\d+) occurrence", out).group(1))  # type: ignore[union-attr]
               for out, _err in outputs]
    assert sum(created) == len(_tuesdays()) - made
    listed = _listed(client)
    assert sorted(c["start"] for c in listed) == _tuesdays()
    _assert_readers_agree_with_site(client)
