"""The public side of recurring events over HTTP, on SQLite and PostgreSQL: "Repeats every
second Tuesday" on list cards, the event page and in the API; an occurrence's page linking
the series' other dates; the form's "every upcoming date" choice answering exactly as one
date does; the person's series page (only their own RSVPs, private headers, CSRF)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from events_app import settings, urls
from events_app.db import read_session, write_session
from events_app.models import Event, EventStatus, RsvpStatus, utcnow
from events_app.services import rsvp as rsvp_service
from events_app.services import series, series_rsvp
from events_app.services.event_form import parse_event_form
from events_app.services.series_rules import Rule
from tests import nu_checker
from tests.factories import make_event, make_rsvp
from tests.organizer_support import cheap_passwords, make_organizer  # noqa: F401 - fixture
from tests.rsvp_helpers import csrf_from, feed_token, outbox, post_rsvp, req, rsvps
from tests.series_public_helpers import make_series

REPEATS = "Repeats every second Tuesday"
SERIES_LINK_RE = re.compile(r"https?://[^/\s]+(/rsvp/[A-Za-z0-9_-]{43}/series)\b")


def _series_link(email: str) -> str:
    mails = [m for m in outbox("series_summary") if m.to_addr == email]
    assert mails, f"no series e-mail to {email}"
    found = SERIES_LINK_RE.search(mails[-1].body_text)
    assert found, mails[-1].body_text
    return found.group(1)


def test_list_marks_each_occurrence_with_its_rule_in_words(client) -> None:
    _series, events = make_series(dates=3)
    single = make_event(title="One-off rally")
    page = client.get("/events").text
    for e in events:
        assert f'/events/{e.slug}"' in page  # each occurrence in its place
    assert page.count(REPEATS) == 3
    assert client.get("/embed/upcoming").text.count(REPEATS) == 3  # the embeddable list too
    card = page[page.index(single.title):]
    assert REPEATS not in card.split("</article>")[0]


def test_day_list_marks_an_occurrence_with_its_rule_in_words(client) -> None:
    _series, events = make_series(dates=2)
    day = events[0].starts_at.astimezone(ZoneInfo(settings.DEFAULT_TIMEZONE)).date()
    noon = datetime.combine(day, time(12), ZoneInfo(settings.DEFAULT_TIMEZONE))
    single = make_event(title="One-off rally", starts_at=noon.astimezone(UTC),
                        ends_at=(noon + timedelta(hours=1)).astimezone(UTC))
    page = client.get(urls.day_path(day)).text
    assert f'/events/{events[0].slug}"' in page and f'/events/{single.slug}"' in page
    assert page.count(REPEATS) == 1
    occurrence = page[page.index(f'/events/{events[0].slug}"'):].split("</article>")[0]
    assert REPEATS in occurrence


def test_occurrence_page_names_the_rule_and_links_the_other_upcoming_dates(client) -> None:
    _series, events = make_series(dates=4)
    with write_session() as s:
        draft = s.get(Event, events[3].id)
        draft.status = EventStatus.DRAFT.value
        s.add(draft)
    page = client.get(f"/events/{events[1].slug}").text
    assert REPEATS in page and "Other dates" in page
    others = page[page.index("Other dates"):].split("</section>")[0]
    assert f'/events/{events[2].slug}"' in others
    assert f'/events/{events[3].slug}"' not in page  # a draft date is not public
    assert f'/events/{events[1].slug}"' not in others  # not itself
    single = client.get(f"/events/{make_event().slug}").text
    assert "Other dates" not in single and "Repeats" not in single


def test_form_offers_every_upcoming_date_only_when_the_series_allows(client) -> None:
    _series, events = make_series(dates=3)
    page = client.get(f"/events/{events[0].slug}").text
    assert 'name="dates" value="all"' in page and "Every upcoming date (3 dates)" in page
    _other, no_all = make_series(dates=3, rsvp_all=False)
    assert 'name="dates"' not in client.get(f"/events/{no_all[0].slug}").text
    _last, one_left = make_series(dates=1)
    assert 'name="dates"' not in client.get(f"/events/{one_left[0].slug}").text


def test_rsvp_to_every_date_answers_like_one_date_and_emails_the_rest(client) -> None:
    _series, events = make_series(dates=3, capacity=1)
    make_rsvp(events[2], email="first@example.org")
    r = post_rsvp(client, events[0].slug, email="ann@example.org", dates="all")
    assert r.status_code == 200 and "Check your e-mail" in r.text
    assert "every upcoming date" in r.text
    assert rsvps(events[0].id)["ann@example.org"].status == RsvpStatus.CONFIRMED
    assert rsvps(events[2].id)["ann@example.org"].status == RsvpStatus.WAITLISTED
    # The same address again: the very same answer (the page never tells them apart).
    again = post_rsvp(client, events[0].slug, email="ann@example.org", dates="all")
    assert again.status_code == 200
    assert again.text == r.text and again.headers["cache-control"] == "no-store"


def test_series_page_lists_and_changes_all_of_the_persons_rsvps(client) -> None:
    _series, events = make_series(dates=3, capacity=5, max_guests=3)
    post_rsvp(client, events[0].slug, email="ann@example.org", dates="all")
    series_rsvp.submit_all(events[0].id, req("sam@example.org"))
    link = _series_link("ann@example.org")
    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.text.count('data-status="confirmed"') == 3
    assert "sam@example.org" not in page.text and "Sam" not in page.text
    for e in events:
        assert f"/rsvp/{rsvps(e.id)['ann@example.org'].token}" in page.text
    assert all(rsvps(e.id)["ann@example.org"].verified_at for e in events)
    token = csrf_from(page.text)
    r = client.post(link, data={"csrf_token": token, "action": "guests", "guests": "2"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?m=updated")
    assert {rsvps(e.id)["ann@example.org"].guests for e in events} == {2}
    confirm = client.post(link, data={"csrf_token": token, "action": "cancel_all"})
    assert "Cancel all 3 of your RSVPs?" in confirm.text
    assert {rsvps(e.id)["ann@example.org"].status for e in events} == {"confirmed"}
    done = client.post(link, data={"csrf_token": token, "action": "cancel_all_confirmed"})
    assert done.status_code == 200 and "Your RSVPs are cancelled" in done.text
    assert {rsvps(e.id)["ann@example.org"].status for e in events} == {"cancelled"}
    assert {rsvps(e.id)["sam@example.org"].status for e in events} == {"confirmed"}
    # Back on every date from the same page.
    joined = client.post(link, data={"csrf_token": token, "action": "join"})
    assert "Done." in joined.text
    assert {rsvps(e.id)["ann@example.org"].status for e in events} == {"confirmed"}


def test_series_page_refuses_bad_input_without_a_500(client) -> None:
    _series, events = make_series(dates=2, max_guests=2)
    series_rsvp.submit_all(events[0].id, req("ann@example.org"))
    link = _series_link("ann@example.org")
    token = csrf_from(client.get(link).text)
    bad = client.post(link, data={"csrf_token": token, "action": "guests", "guests": "x"})
    assert bad.status_code == 422 and "whole number" in bad.text
    too_many = client.post(link, data={"csrf_token": token, "action": "guests", "guests": "9"})
    assert too_many.status_code == 409 and "at most 2 guests" in too_many.text
    assert client.post(link, data={"csrf_token": token, "action": "?"}).status_code == 400
    assert client.post(link, data={"action": "cancel_all_confirmed"}).status_code == 403
    assert client.get("/rsvp/not-a-token/series").status_code == 404
    single = make_rsvp(make_event(), email="ann@example.org")
    not_series = client.get(f"/rsvp/{single.token}/series", follow_redirects=False)
    assert not_series.status_code == 303
    assert not_series.headers["location"] == f"/rsvp/{single.token}"
    assert client.post(f"/rsvp/{single.token}/series",
                       data={"csrf_token": token, "action": "join"}).status_code == 404


def test_an_occurrence_manage_page_links_the_series_page(client) -> None:
    _series, events = make_series(dates=2)
    rsvp_service.submit_rsvp(events[1].id, req("ann@example.org"))
    token = rsvps(events[1].id)["ann@example.org"].token
    page = client.get(f"/rsvp/{token}").text
    assert f'/rsvp/{token}/series"' in page
    single = make_rsvp(make_event(), email="bo@example.org")
    assert "/series" not in client.get(f"/rsvp/{single.token}").text


def test_api_gives_the_series_in_words_and_its_uid_never_attendees(client) -> None:
    series, events = make_series(dates=2)
    make_rsvp(events[0], email="ann@example.org")
    listed = client.get("/api/v1/events").json()["events"]
    assert [e["series"] for e in listed] == [{"uid": series.uid, "repeats": REPEATS}] * 2
    detail = client.get(f"/api/v1/events/{events[0].slug}").json()
    assert detail["series"] == {"uid": series.uid, "repeats": REPEATS}
    assert "ann@example.org" not in client.get(f"/api/v1/events/{events[0].slug}").text
    assert client.get(f"/api/v1/events/{make_event().slug}").json()["series"] is None


def test_a_refused_all_dates_post_comes_back_with_the_choice_kept(client) -> None:
    _series, events = make_series(dates=2, capacity=1, waitlist_enabled=False)
    bad = post_rsvp(client, events[0].slug, name="", dates="all")
    assert bad.status_code == 422 and "Please enter your name." in bad.text
    assert 'value="all" checked' in bad.text
    for e in events:
        make_rsvp(e, email="first@example.org")
    full = post_rsvp(client, events[0].slug, email="ann@example.org", dates="all")
    assert full.status_code == 409 and "full" in full.text
    assert "ann@example.org" not in {m.to_addr for m in outbox()}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # HTML, not the database
def test_series_pages_and_mails_are_valid_html(client, tmp_path) -> None:
    nu_checker.java_command()  # skip (or fail in CI) when the checker cannot run
    _series, events = make_series(dates=3, capacity=1, max_guests=2)
    make_rsvp(events[2], email="first@example.org")
    pages = {"list": client.get("/events").text,
             "occurrence": client.get(f"/events/{events[0].slug}").text,
             "form-errors": post_rsvp(client, events[0].slug, name="", dates="all").text}
    post_rsvp(client, events[0].slug, email="ann@example.org", dates="all")
    link = _series_link("ann@example.org")
    page = client.get(link)
    token = csrf_from(page.text)
    pages["series"] = page.text
    pages["series-guests-refused"] = client.post(
        link, data={"csrf_token": token, "action": "guests", "guests": "1"}).text
    pages["series-cancel-confirm"] = client.post(
        link, data={"csrf_token": token, "action": "cancel_all"}).text
    pages["series-cancelled"] = client.post(
        link, data={"csrf_token": token, "action": "cancel_all_confirmed"}).text
    for i, m in enumerate(outbox("series_summary")):
        pages[f"mail-{i}"] = m.body_html
    files = []
    for name, html in pages.items():
        (tmp_path / f"{name}.html").write_text(html)
        files.append(tmp_path / f"{name}.html")
    errors = [m for m in nu_checker.check(files) if m.kind in ("error", "non-document-error")]
    assert not errors, "\n".join(map(str, errors))
    assert {"mail-0", "mail-1"} <= set(pages)  # joined, cancelled


@pytest.mark.usefixtures("cheap_passwords")
def test_a_series_made_by_the_organizer_service_end_to_end(client) -> None:
    """'Every second Tuesday at 7 PM America/Chicago until June' from services/series.py:
    listed date by date in words, RSVP'd to at once, one date cancelled on its own."""
    ada = make_organizer("ada@example.org", "Ada Organizer")
    year = utcnow().year + 1
    made = series.new_series(ada, parse_event_form({
        "title": "Network meeting", "summary": "Rapid response", "description": "",
        "category": "meeting", "timezone": "America/Chicago",
        "start_date": f"{year}-02-09", "start_time": "19:00", "end_date": f"{year}-02-09",
        "end_time": "20:30", "venue_name": "Central Library", "city": "St. Louis",
        "capacity": "3", "max_guests": "2", "waitlist_enabled": "on"}),
        Rule("weekly", interval=2, weekdays=(1,), until=date(year, 6, 1)),
        publish=True, rsvp_all=True)
    with read_session() as s:
        dates = series.occurrences(s, made)
    assert len(dates) >= 8
    page = client.get(f"/events?from={year}-02-01&to={year}-06-30").text
    assert page.count(REPEATS) == len(dates)
    r = post_rsvp(client, dates[0].slug, email="ann@example.org", guests="1", dates="all")
    assert r.status_code == 200
    assert all(rsvps(e.id)["ann@example.org"].seats == 2 for e in dates)
    series.cancel(ada, dates[1].slug, "Room closed", series.Scope.ONE)
    link = _series_link("ann@example.org")
    view = client.get(link).text
    assert view.count('data-status="confirmed"') == len(dates)  # RSVP rows keep their status
    assert view.count("This date is cancelled.") == 1
    other = client.get(f"/events/{dates[0].slug}").text.split("Other dates")[1]
    assert f"/events/{dates[1].slug}\"" not in other.split("</section>")[0]


def test_guests_changed_where_there_is_room_and_the_other_dates_named(client) -> None:
    _series, events = make_series(dates=2, capacity=3, max_guests=2)
    series_rsvp.submit_all(events[0].id, req("ann@example.org"))
    make_rsvp(events[1], email="bo@example.org", guests=1)  # date 2: no room for more
    link = _series_link("ann@example.org")
    token = csrf_from(client.get(link).text)
    r = client.post(link, data={"csrf_token": token, "action": "guests", "guests": "2"})
    assert r.status_code == 200 and "Some dates could not be changed" in r.text
    assert [rsvps(e.id)["ann@example.org"].guests for e in events] == [2, 0]
    again = client.post(link, data={"csrf_token": token, "action": "guests", "guests": "2"})
    assert again.status_code == 409 and "Nothing was changed" in again.text


def test_opening_the_series_link_puts_every_date_in_the_persons_own_feed(client) -> None:
    _series, events = make_series(dates=3)
    post_rsvp(client, events[0].slug, email="ann@example.org", dates="all")
    feed = f"/my/{feed_token('ann@example.org')}/calendar.ics"
    assert all(e.uid not in client.get(feed).text for e in events)  # not proven yet
    client.get(_series_link("ann@example.org"))
    body = client.get(feed).text
    assert all(e.uid in body for e in events)
