"""RSVP to every upcoming date of a series (services/series_rsvp.py), on SQLite and
PostgreSQL: each date its own RSVP under its own capacity, waitlisted where full, one summary
e-mail, the person's series page (only their own RSVPs), cancelling and resizing them all,
and never oversold when many people RSVP at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from events_app.db import read_session, write_session
from events_app.models import Event, EventStatus, Rsvp, RsvpStatus, utcnow
from events_app.services import locking, series_rsvp
from events_app.services import rsvp as rsvp_service
from tests.factories import make_rsvp
from tests.rsvp_helpers import outbox, req, rsvps
from tests.series_public_helpers import make_series


def _series_rows(email: str, events: list[Event]) -> dict[int, Rsvp]:
    with read_session() as s:
        rows = s.exec(select(Rsvp).where(Rsvp.email == email,
                                         col(Rsvp.event_id).in_([e.id for e in events])))
        return {r.event_id: r for r in rows}


def test_every_date_gets_its_own_rsvp_under_its_own_capacity(db_url) -> None:
    _series, events = make_series(dates=3, capacity=2)
    make_rsvp(events[1], email="a@example.org")
    make_rsvp(events[1], email="b@example.org")  # the second date is full
    result = series_rsvp.submit_all(events[0].id, req("pat@example.org", guests=1))
    assert [d.status for d in result.dates] == ["confirmed", "waitlisted", "confirmed"]
    assert result.dates[1].position == 1
    rows = _series_rows("pat@example.org", events)
    assert {e.id: rows[e.id].status for e in events} == {
        events[0].id: "confirmed", events[1].id: "waitlisted", events[2].id: "confirmed"}
    assert len({r.token for r in rows.values()}) == 3  # each its own manage link
    # One e-mail for all three dates, listing each; no per-date confirmation.
    mails = [m for m in outbox() if m.to_addr == "pat@example.org"]
    assert [(m.kind, m.subject) for m in mails] == [
        ("series_summary", "Your RSVPs: Rapid-response network meeting")]
    assert "number 1 in line" in mails[0].body_text
    assert mails[0].body_text.count("confirmed for you and 1 guest") == 2
    assert "/series" in mails[0].body_text


def test_a_full_date_without_waitlist_is_skipped_and_said_so(db_url) -> None:
    _series, events = make_series(dates=2, capacity=1, waitlist_enabled=False)
    make_rsvp(events[0], email="a@example.org")
    result = series_rsvp.submit_all(events[1].id, req("pat@example.org"))
    assert [d.status for d in result.dates] == ["skipped", "confirmed"]
    assert "full" in result.dates[0].note
    assert set(_series_rows("pat@example.org", events)) == {events[1].id}
    assert "not booked: Sorry, this event is full." in outbox("series_summary")[0].body_text


def test_every_date_refusing_answers_as_one_date_would(db_url) -> None:
    _series, events = make_series(dates=2, capacity=1, waitlist_enabled=False)
    for e in events:
        make_rsvp(e, email="a@example.org")
    with pytest.raises(rsvp_service.EventFull):
        series_rsvp.submit_all(events[0].id, req("pat@example.org"))
    assert _series_rows("pat@example.org", events) == {} and outbox() == []


def test_only_upcoming_open_dates_and_only_when_the_series_allows(db_url) -> None:
    _series, events = make_series(dates=3)
    with write_session() as s:
        started = s.get(Event, events[0].id)
        started.starts_at = utcnow() - timedelta(minutes=5)
        s.add(started)
        cancelled = s.get(Event, events[2].id)
        cancelled.status = EventStatus.CANCELLED.value
        s.add(cancelled)
    result = series_rsvp.submit_all(events[1].id, req("pat@example.org"))
    assert [d.event.id for d in result.dates] == [events[1].id]
    _other, single = make_series(dates=2, rsvp_all=False)
    with pytest.raises(rsvp_service.RsvpClosed):
        series_rsvp.submit_all(single[0].id, req("pat@example.org"))


def test_dates_already_held_stay_as_they_are(db_url) -> None:
    _series, events = make_series(dates=2)
    held = make_rsvp(events[0], email="pat@example.org", guests=2)
    result = series_rsvp.submit_all(events[0].id, req("pat@example.org"))
    assert [(d.status, d.already) for d in result.dates] == [("confirmed", True),
                                                              ("confirmed", False)]
    assert rsvps(events[0].id)["pat@example.org"].guests == 2
    assert rsvps(events[0].id)["pat@example.org"].token == held.token
    # Sending it again changes nothing and e-mails at most once per window.
    series_rsvp.submit_all(events[0].id, req("pat@example.org"))
    series_rsvp.submit_all(events[0].id, req("pat@example.org"))
    assert [m.kind for m in outbox() if m.to_addr == "pat@example.org"] == [
        "series_summary", "series_summary"]


def test_series_page_lists_only_the_same_address_in_the_same_series(db_url) -> None:
    _series, events = make_series(dates=3)
    _other, other_events = make_series(dates=2)
    series_rsvp.submit_all(events[0].id, req("pat@example.org"))
    series_rsvp.submit_all(events[0].id, req("sam@example.org"))
    make_rsvp(other_events[0], email="pat@example.org")
    token = rsvps(events[1].id)["pat@example.org"].token
    view = series_rsvp.get_series_view(token)
    assert view is not None
    assert [r.event.id for r in view.rows] == [e.id for e in events]
    assert {r.rsvp.email for r in view.rows} == {"pat@example.org"}
    # A single event's link, an unknown or erased one: no series page.
    single = make_rsvp(make_series(dates=1)[1][0], email="x@example.org")
    assert series_rsvp.get_series_view("nope") is None
    assert series_rsvp.get_series_view(single.token) is not None  # a series of one date
    rsvp_service.erase_my_rsvp(token)
    assert series_rsvp.get_series_view(token) is None


def test_cancel_all_frees_each_dates_seat_for_its_waitlist(db_url) -> None:
    _series, events = make_series(dates=2, capacity=1)
    series_rsvp.submit_all(events[0].id, req("pat@example.org"))
    series_rsvp.submit_all(events[0].id, req("sam@example.org"))  # waitlisted on both
    token = rsvps(events[0].id)["pat@example.org"].token
    result = series_rsvp.cancel_all(token)
    assert [d.status for d in result.dates] == ["cancelled", "cancelled"]
    for e in events:
        assert rsvps(e.id)["sam@example.org"].status == RsvpStatus.CONFIRMED
        assert rsvps(e.id)["pat@example.org"].status == RsvpStatus.CANCELLED
    subjects = [m.subject for m in outbox("series_summary") if m.to_addr == "pat@example.org"]
    assert subjects == ["Your RSVPs: Rapid-response network meeting",
                        "RSVPs cancelled: Rapid-response network meeting"]
    assert [m.kind for m in outbox("promoted")] == ["promoted", "promoted"]
    assert series_rsvp.cancel_all(token).changed == []  # twice: nothing more


def test_change_guests_everywhere_each_date_under_its_own_capacity(db_url) -> None:
    _series, events = make_series(dates=2, capacity=3, max_guests=4)
    series_rsvp.submit_all(events[0].id, req("pat@example.org"))
    make_rsvp(events[1], email="a@example.org", guests=1)  # 1 spot left on date 2
    token = rsvps(events[0].id)["pat@example.org"].token
    outcomes = series_rsvp.change_guests_all(token, 2)
    assert [o.status for o in outcomes] == ["confirmed", "skipped"]
    assert "Only 0 more spots left" in outcomes[1].note
    assert rsvps(events[0].id)["pat@example.org"].guests == 2
    assert rsvps(events[1].id)["pat@example.org"].guests == 0


def test_opening_the_summary_link_verifies_the_dates_it_announced(db_url) -> None:
    _series, events = make_series(dates=3)
    typed_earlier = make_rsvp(events[2], email="pat@example.org", verified_at=None)
    series_rsvp.submit_all(events[0].id, req("pat@example.org"))
    token = rsvps(events[0].id)["pat@example.org"].token
    assert series_rsvp.verify_batch(token) == 2
    rows = _series_rows("pat@example.org", events)
    assert rows[events[0].id].verified_at and rows[events[1].id].verified_at
    assert rows[typed_earlier.event_id].verified_at is None  # not in that e-mail
    assert series_rsvp.verify_batch(token) == 0


def test_never_oversold_with_many_people_at_once(db_url) -> None:
    """All-dates and single-date RSVPs race for the same occurrences; the database locks
    decide, so every date ends with at most its capacity confirmed and an unbroken line."""
    capacity, everyone, singles = 4, 10, 6
    _series, events = make_series(dates=3, capacity=capacity)
    barrier = threading.Barrier(everyone + singles)

    def all_dates(i: int) -> None:
        barrier.wait()
        series_rsvp.submit_all(events[0].id, req(f"all{i}@example.org"))

    def one_date(i: int) -> None:
        barrier.wait()
        rsvp_service.submit_rsvp(events[1].id, req(f"one{i}@example.org", choice="waitlist"))

    with ThreadPoolExecutor(max_workers=everyone + singles) as pool:
        futures = [pool.submit(all_dates, i) for i in range(everyone)]
        futures += [pool.submit(one_date, i) for i in range(singles)]
        for f in futures:
            f.result()
    for e, people in zip(events, (everyone, everyone + singles, everyone), strict=True):
        rows = list(rsvps(e.id).values())
        assert len(rows) == people
        confirmed = [r for r in rows if r.status == RsvpStatus.CONFIRMED]
        assert len(confirmed) == capacity  # full, never over
        with read_session() as s:
            positions = sorted(rsvp_service.waitlist_position(s, r) or 0 for r in rows
                               if r.status == RsvpStatus.WAITLISTED)
        assert positions == list(range(1, people - capacity + 1))
    for i in range(everyone):  # every all-dates person holds one RSVP on each date
        assert len(_series_rows(f"all{i}@example.org", events)) == 3


def test_cancelling_all_while_others_join_keeps_every_date_full_and_in_order(db_url) -> None:
    """Cancel-all, all-dates RSVPs and one-date cancels at once: locks taken in one order, so
    nothing deadlocks; freed seats go to each date's line, never over capacity."""
    capacity = 4
    _series, events = make_series(dates=3, capacity=capacity)
    for i in range(6):  # 4 confirmed and 2 waiting on every date
        series_rsvp.submit_all(events[0].id, req(f"early{i}@example.org"))
    tokens = {e.id: {email: r.token for email, r in rsvps(e.id).items()} for e in events}
    jobs = [lambda i=i: series_rsvp.cancel_all(tokens[events[0].id][f"early{i}@example.org"])
            for i in range(3)]
    jobs += [lambda i=i: series_rsvp.submit_all(events[1].id, req(f"late{i}@example.org"))
             for i in range(4)]
    jobs += [lambda: rsvp_service.cancel_rsvp(tokens[events[2].id]["early3@example.org"])]
    barrier = threading.Barrier(len(jobs))

    def run(job) -> None:
        barrier.wait()
        job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        for f in [pool.submit(run, job) for job in jobs]:
            f.result()
    for e in events:
        rows = list(rsvps(e.id).values())
        confirmed = sum(r.seats for r in rows if r.status == RsvpStatus.CONFIRMED)
        waiting = [r for r in rows if r.status == RsvpStatus.WAITLISTED]
        assert confirmed == capacity  # 10 people for 4 seats, minus at most 4 cancels
        with read_session() as s:
            positions = sorted(rsvp_service.waitlist_position(s, r) or 0 for r in waiting)
        assert positions == list(range(1, len(waiting) + 1))
        assert all(rsvps(e.id)[f"early{i}@example.org"].status == RsvpStatus.CANCELLED
                   for i in range(3))


def test_opening_the_summary_link_while_a_date_is_changed_cannot_deadlock(db_url,
                                                                        engine) -> None:
    """verify_batch writes RSVPs of several dates. It locks their dates first, in id order,
    as any writer of several dates' RSVPs does (here one holding the dates and locking the
    RSVPs last to first): it waits holding nothing, instead of holding one RSVP while
    waiting for another that writer holds (PostgreSQL would abort one of the two)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has one write lock per database: no row order to get wrong")
    _series, events = make_series(dates=2)
    series_rsvp.submit_all(events[0].id, req("pat@example.org"))
    rows = _series_rows("pat@example.org", events)
    first, second = rows[events[0].id], rows[events[1].id]
    assert first.verified_at is None and second.verified_at is None
    verified: list[object] = []

    def open_link() -> None:
        try:
            verified.append(series_rsvp.verify_batch(first.token))
        except Exception as exc:  # a deadlock shows up here or in the other transaction
            verified.append(exc)

    def waiting() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar_one())

    with write_session() as s:
        locking.lock_events(s, sorted(e.id for e in events))
        locking.lock_rsvp(s, second.id)
        opener = threading.Thread(target=open_link)
        opener.start()
        for _ in range(400):  # until the link's transaction waits for a lock (10 s at most)
            if waiting() or not opener.is_alive():
                break
            opener.join(0.025)
        assert waiting() == 1
        locking.lock_rsvp(s, first.id)
    opener.join(30)
    assert verified == [2]
