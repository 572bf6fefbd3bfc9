"""RSVP rules in services/rsvp.py, on SQLite and PostgreSQL: seats, waitlist, promotion,
updates by e-mail, closing, organizer actions, and the mail each change queues."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events_app.db import read_session, write_session
from events_app.models import Event, RsvpStatus, utcnow
from events_app.services import rsvp as svc
from tests.factories import make_event
from tests.rsvp_helpers import outbox, req, rsvps, statuses

# --- Seats and the waitlist ---------------------------------------------------------------


def test_parties_are_confirmed_while_they_fit_then_waitlisted_with_positions(db_url) -> None:
    ev = make_event(capacity=5)
    a = svc.submit_rsvp(ev.id, req("a@example.org", guests=2))  # 3 seats
    b = svc.submit_rsvp(ev.id, req("b@example.org", guests=1))  # 2 seats: exactly full
    c = svc.submit_rsvp(ev.id, req("c@example.org"))
    d = svc.submit_rsvp(ev.id, req("d@example.org", guests=3))
    assert (a.confirmed, b.confirmed, c.confirmed, d.confirmed) == (True, True, False, False)
    assert (a.position, c.position, d.position) == (None, 1, 2)
    assert all(r.created for r in (a, b, c, d))
    with read_session() as s:
        event = s.get(Event, ev.id)
        counts = svc.seat_counts(s, event)
    assert (counts.confirmed, counts.waitlisted, counts.remaining) == (5, 5, 0)
    assert counts.is_full
    assert [m.kind for m in outbox()] == ["confirmation", "confirmation", "waitlisted",
                                          "waitlisted"]
    assert [m.to_addr for m in outbox("waitlisted")] == ["c@example.org", "d@example.org"]


def test_the_rsvp_a_post_returns_is_the_row_it_wrote_with_its_mail(db_url) -> None:
    """Confirmed and waitlisted alike (on PostgreSQL a confirmed one is written with its
    e-mail by one statement, from the object it returns): every column of the returned RSVP
    is the stored row's, its one e-mail names it and carries its manage link."""
    ev = make_event(capacity=1)
    for email, kind in (("a@example.org", "confirmation"), ("b@example.org", "waitlisted")):
        result = svc.submit_rsvp(ev.id, req(email, comment="Hola"))
        stored = rsvps(ev.id)[email]
        assert result.rsvp.model_dump() == stored.model_dump()
        mail = [m for m in outbox() if m.to_addr == email]
        assert [(m.kind, m.rsvp_id, m.id) for m in mail] == [(kind, stored.id, *result.mail_ids)]
        assert stored.token in mail[0].body_text


def test_a_party_that_does_not_fit_the_rest_is_asked_and_stores_nothing(db_url):
    ev = make_event(capacity=4)
    svc.submit_rsvp(ev.id, req("a@example.org", guests=2))  # 3 of 4
    with pytest.raises(svc.PartyDoesNotFit) as exc:
        svc.submit_rsvp(ev.id, req("big@example.org", guests=1))  # needs 2, 1 left
    assert (exc.value.left, exc.value.party, exc.value.waitlist) == (1, 2, True)
    assert "Only 1 spot left, not enough for your party of 2" in exc.value.message
    assert list(rsvps(ev.id)) == ["a@example.org"]
    assert [m.to_addr for m in outbox()] == ["a@example.org"]  # the refusal mailed nothing
    small = svc.submit_rsvp(ev.id, req("small@example.org"))  # needs 1: fits
    assert small.rsvp.status == "confirmed"


def test_a_party_that_does_not_fit_may_choose_the_waitlist_whole(db_url):
    ev = make_event(capacity=4)
    svc.submit_rsvp(ev.id, req("a@example.org", guests=2))
    big = svc.submit_rsvp(ev.id, req("big@example.org", guests=1, choice="waitlist"))
    assert big.rsvp.status == "waitlisted" and big.rsvp.guests == 1 and big.position == 1
    assert [m.kind for m in outbox() if m.to_addr == "big@example.org"] == ["waitlisted"]


def test_a_party_that_does_not_fit_may_come_with_fewer_guests(db_url):
    ev = make_event(capacity=4)
    svc.submit_rsvp(ev.id, req("a@example.org", guests=2))
    fewer = svc.submit_rsvp(ev.id, req("big@example.org", guests=0, choice="fewer"))
    assert fewer.rsvp.status == "confirmed" and fewer.rsvp.guests == 0


def test_a_chosen_smaller_party_is_asked_again_when_the_spot_went_meanwhile(db_url):
    """The choice is judged under the lock on the counts at submit time, not on the numbers
    the person saw: a spot taken in between means a new question, never an oversold seat
    and never a waitlist place the person did not choose."""
    ev = make_event(capacity=4)
    svc.submit_rsvp(ev.id, req("a@example.org", guests=2))
    svc.submit_rsvp(ev.id, req("quick@example.org"))  # takes the last spot
    with pytest.raises(svc.PartyDoesNotFit) as exc:
        svc.submit_rsvp(ev.id, req("big@example.org", guests=0, choice="fewer"))
    assert (exc.value.left, exc.value.waitlist) == (0, True)
    assert "just taken" in exc.value.message
    assert "big@example.org" not in rsvps(ev.id)
    late = svc.submit_rsvp(ev.id, req("big@example.org", guests=0, choice="waitlist"))
    assert late.rsvp.status == "waitlisted"


def test_a_full_event_still_waitlists_a_first_post_without_asking(db_url):
    """With no spot left there is nothing to choose between: the form said "full" and its
    button "Join the waitlist"."""
    ev = make_event(capacity=3)
    svc.submit_rsvp(ev.id, req("a@example.org", guests=2))
    w = svc.submit_rsvp(ev.id, req("w@example.org", guests=1))
    assert w.rsvp.status == "waitlisted"


def test_the_shortfall_answer_is_the_same_for_an_address_that_already_rsvpd(db_url):
    """The question depends on the seats only: asking it for an address that already holds
    an RSVP must not differ, or the form would tell who is coming."""
    ev = make_event(capacity=3)
    svc.submit_rsvp(ev.id, req("known@example.org"))  # 1 of 3
    svc.submit_rsvp(ev.id, req("b@example.org"))  # 2 of 3
    answers = []
    for email in ("known@example.org", "new@example.org"):
        with pytest.raises(svc.PartyDoesNotFit) as exc:
            svc.submit_rsvp(ev.id, req(email, guests=2))
        answers.append((exc.value.message, exc.value.left, exc.value.party))
    assert answers[0] == answers[1]
    assert [m.kind for m in outbox()] == ["confirmation", "confirmation"]


def test_unlimited_capacity_confirms_everyone(db_url) -> None:
    ev = make_event(capacity=None)
    results = [svc.submit_rsvp(ev.id, req(f"p{i}@example.org", guests=4)) for i in range(12)]
    assert all(r.confirmed for r in results)


def test_full_event_without_waitlist_refuses_and_stores_nothing(db_url) -> None:
    ev = make_event(capacity=2, waitlist_enabled=False)
    svc.submit_rsvp(ev.id, req("a@example.org", guests=1))
    with pytest.raises(svc.EventFull, match="full"):
        svc.submit_rsvp(ev.id, req("b@example.org"))
    assert list(rsvps(ev.id)) == ["a@example.org"]
    assert len(outbox()) == 1  # the refused RSVP queued no mail either


def test_without_waitlist_a_party_too_big_for_the_rest_is_told_how_many_are_left(db_url):
    ev = make_event(capacity=3, waitlist_enabled=False)
    svc.submit_rsvp(ev.id, req("a@example.org"))
    with pytest.raises(svc.PartyDoesNotFit) as exc:
        svc.submit_rsvp(ev.id, req("b@example.org", guests=2))
    assert "Only 2 spots left" in exc.value.message and exc.value.waitlist is False
    # Choosing the waitlist anyway cannot make one: the event has none.
    with pytest.raises(svc.PartyDoesNotFit):
        svc.submit_rsvp(ev.id, req("b@example.org", guests=2, choice="waitlist"))
    assert list(rsvps(ev.id)) == ["a@example.org"]


def test_party_size_limits(db_url) -> None:
    ev = make_event(capacity=3, max_guests=4)
    with pytest.raises(svc.NotEnoughSeats, match="3 spots in total") as exc:
        svc.submit_rsvp(ev.id, req("a@example.org", guests=3))
    assert exc.value.field == "guests"
    with pytest.raises(svc.NotEnoughSeats, match="at most 4 guests"):
        svc.submit_rsvp(ev.id, req("b@example.org", guests=5))
    assert rsvps(ev.id) == {}


def test_batch_seat_counts_agree_with_one_event_counts(db_url) -> None:
    """The dashboard's one-query `seat_counts_for` and the per-event `seat_counts` used for
    every seat decision must never disagree."""
    busy = make_event(capacity=4)
    svc.submit_rsvp(busy.id, req("a@example.org", guests=2))
    svc.submit_rsvp(busy.id, req("b@example.org"))
    svc.submit_rsvp(busy.id, req("c@example.org", guests=1))  # waitlisted: 2 seats
    gone = svc.submit_rsvp(busy.id, req("d@example.org", guests=3))
    svc.cancel_rsvp(gone.rsvp.token)  # cancelled parties hold no seats
    unlimited = make_event(capacity=None)
    svc.submit_rsvp(unlimited.id, req("a@example.org", guests=4))
    empty = make_event(capacity=10, waitlist_enabled=False)
    draft = make_event(status="draft")
    past = make_event(starts_at=utcnow() - timedelta(days=2))
    events = [busy, unlimited, empty, draft, past]
    with read_session() as s:
        batch = svc.seat_counts_for(s, events)
        single = {e.id: svc.seat_counts(s, e) for e in events}
    assert batch == single
    assert (batch[busy.id].confirmed, batch[busy.id].waitlisted) == (4, 2)
    assert (batch[unlimited.id].confirmed, batch[unlimited.id].capacity) == (5, None)
    assert (batch[empty.id].confirmed, batch[empty.id].waitlist_enabled) == (0, False)
    assert batch[draft.id].closed_reason and batch[past.id].closed_reason
    with read_session() as s:
        assert svc.seat_counts_for(s, []) == {}


# --- Same e-mail again --------------------------------------------------------------------


def test_same_email_again_changes_nothing_and_emails_the_existing_link(db_url) -> None:
    ev = make_event(capacity=10)
    first = svc.submit_rsvp(ev.id, req("ann@example.org", guests=1, name="Ann"))
    again = svc.submit_rsvp(ev.id, req("ann@example.org", guests=3, name="Mallory",
                                       phone="+1 314 555 0100", comment="Not coming"))
    assert again.created is False and again.rsvp.id == first.rsvp.id
    rows = rsvps(ev.id)
    assert list(rows) == ["ann@example.org"]
    row = rows["ann@example.org"]
    assert (row.name, row.guests, row.phone, row.comment, row.status, row.token) == (
        "Ann", 1, "", "", "confirmed", first.rsvp.token)
    (already,) = outbox("already")
    assert already.to_addr == "ann@example.org" and already.subject.startswith(
        "You already RSVP'd")
    assert f"/rsvp/{first.rsvp.token}" in already.body_text
    assert "nothing was changed" in already.body_text and "you and 1 guest" in already.body_text
    assert len(outbox("confirmation")) == 1


def test_growing_a_confirmed_party_must_fit_and_otherwise_changes_nothing(db_url) -> None:
    ev = make_event(capacity=4)
    ann = svc.submit_rsvp(ev.id, req("ann@example.org", guests=1))
    svc.submit_rsvp(ev.id, req("bob@example.org"))
    with pytest.raises(svc.NotEnoughSeats, match="Only 1 more spot left") as exc:
        svc.change_guests(ann.rsvp.token, 3)
    assert exc.value.field == "guests"
    row = rsvps(ev.id)["ann@example.org"]
    assert (row.guests, row.status) == (1, "confirmed")
    assert svc.change_guests(ann.rsvp.token, 2).confirmed


def test_rsvp_again_after_cancelling_is_a_fresh_party_with_a_new_link(db_url) -> None:
    ev = make_event(capacity=2)
    first = svc.submit_rsvp(ev.id, req("ann@example.org"))
    svc.cancel_rsvp(first.rsvp.token)
    svc.submit_rsvp(ev.id, req("bob@example.org", guests=1))  # takes both seats
    back = svc.submit_rsvp(ev.id, req("ann@example.org"))
    assert back.created and back.rsvp.id == first.rsvp.id
    assert back.rsvp.token != first.rsvp.token
    assert (back.rsvp.status, back.position, back.rsvp.cancelled_at) == ("waitlisted", 1, None)
    assert svc.get_manage_view(first.rsvp.token) is None


# --- Promotion ----------------------------------------------------------------------------


def test_cancelling_promotes_waitlisted_parties_in_order_while_they_fit(db_url) -> None:
    ev = make_event(capacity=4)
    a = svc.submit_rsvp(ev.id, req("a@example.org", guests=3))  # all 4 seats
    svc.submit_rsvp(ev.id, req("w1@example.org", guests=2))  # 3 seats
    svc.submit_rsvp(ev.id, req("w2@example.org", guests=3))  # 4 seats
    svc.submit_rsvp(ev.id, req("w3@example.org"))  # 1 seat
    result = svc.cancel_rsvp(a.rsvp.token)
    # w1 (3) fits, w2 (4) does not fit the 1 seat left and keeps its place, w3 (1) fits.
    assert [r.email for r in result.promoted] == ["w1@example.org", "w3@example.org"]
    assert statuses(ev.id) == {"a@example.org": "cancelled", "w1@example.org": "confirmed",
                               "w2@example.org": "waitlisted", "w3@example.org": "confirmed"}
    w2 = rsvps(ev.id)["w2@example.org"]
    assert svc.get_manage_view(w2.token).position == 1
    promoted = outbox("promoted")
    assert [m.to_addr for m in promoted] == ["w1@example.org", "w3@example.org"]
    assert all(m.ics.startswith("BEGIN:VCALENDAR") for m in promoted)
    assert [m.to_addr for m in outbox("cancelled")] == ["a@example.org"]


def test_lowering_guests_promotes_and_waitlisted_people_keep_their_order(db_url) -> None:
    ev = make_event(capacity=3)
    a = svc.submit_rsvp(ev.id, req("a@example.org", guests=2))
    svc.submit_rsvp(ev.id, req("w1@example.org"))
    svc.submit_rsvp(ev.id, req("w2@example.org"))
    result = svc.change_guests(a.rsvp.token, 1)
    assert [r.email for r in result.promoted] == ["w1@example.org"]
    assert statuses(ev.id)["w2@example.org"] == "waitlisted"
    assert svc.get_manage_view(rsvps(ev.id)["w2@example.org"].token).position == 1


def test_a_waitlisted_party_that_shrinks_to_fit_is_confirmed(db_url) -> None:
    ev = make_event(capacity=3)
    svc.submit_rsvp(ev.id, req("a@example.org", guests=1))
    w = svc.submit_rsvp(ev.id, req("w@example.org", guests=2, choice="waitlist"))
    assert w.position == 1
    result = svc.change_guests(w.rsvp.token, 0)
    assert result.rsvp.status == "confirmed" and result.position is None


def test_newcomers_never_jump_a_waitlisted_party_that_fits(db_url) -> None:
    ev = make_event(capacity=1)
    svc.submit_rsvp(ev.id, req("a@example.org"))
    svc.submit_rsvp(ev.id, req("w@example.org"))
    with write_session() as s:  # capacity raised without calling promote_waitlist
        event = s.get(Event, ev.id)
        event.capacity = 2
    late = svc.submit_rsvp(ev.id, req("late@example.org"))
    assert late.rsvp.status == "waitlisted"
    assert [r.email for r in late.promoted] == ["w@example.org"]
    assert statuses(ev.id)["w@example.org"] == "confirmed"


def test_no_promotion_into_a_started_event(db_url) -> None:
    now = utcnow()
    ev = make_event(capacity=1, starts_at=now + timedelta(hours=1))
    a = svc.submit_rsvp(ev.id, req("a@example.org"))
    svc.submit_rsvp(ev.id, req("w@example.org"))
    svc.cancel_rsvp(a.rsvp.token, now=now + timedelta(hours=1, minutes=5))
    assert statuses(ev.id)["w@example.org"] == "waitlisted"
    assert outbox("promoted") == []


# --- Closing ------------------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "message"), [
    ({"status": "draft"}, "not open for RSVPs"),
    ({"status": "cancelled"}, "has been cancelled"),
    ({"starts_at_offset": timedelta(minutes=-5)}, "closed when the event started"),
    ({"starts_at_offset": timedelta(days=-3)}, "This event is over"),
    ({"deadline_offset": timedelta(minutes=-1)}, "RSVPs for this event closed on"),
])
def test_closed_events_refuse_rsvps_with_a_clear_message(db_url, overrides, message) -> None:
    now = utcnow()
    fields = {k: v for k, v in overrides.items() if not k.endswith("_offset")}
    if "starts_at_offset" in overrides:
        fields["starts_at"] = now + overrides["starts_at_offset"]
    if "deadline_offset" in overrides:
        fields["rsvp_deadline"] = now + overrides["deadline_offset"]
    ev = make_event(capacity=10, **fields)
    with pytest.raises(svc.RsvpClosed, match=message):
        svc.submit_rsvp(ev.id, req("a@example.org"))
    assert rsvps(ev.id) == {}


def test_deadline_in_the_future_still_accepts(db_url) -> None:
    ev = make_event(rsvp_deadline=utcnow() + timedelta(hours=1))
    assert svc.submit_rsvp(ev.id, req("a@example.org")).confirmed


def test_after_the_deadline_guests_can_only_go_down(db_url) -> None:
    now = utcnow()
    ev = make_event(capacity=10, rsvp_deadline=now + timedelta(hours=1))
    a = svc.submit_rsvp(ev.id, req("a@example.org", guests=2))
    later = now + timedelta(hours=2)
    with pytest.raises(svc.RsvpClosed, match="fewer guests or cancel"):
        svc.change_guests(a.rsvp.token, 3, now=later)
    assert svc.change_guests(a.rsvp.token, 1, now=later).rsvp.guests == 1
    assert svc.cancel_rsvp(a.rsvp.token, now=later).rsvp.status == "cancelled"


def test_cancelling_twice_is_harmless(db_url) -> None:
    ev = make_event(capacity=10)
    a = svc.submit_rsvp(ev.id, req("a@example.org"))
    svc.cancel_rsvp(a.rsvp.token)
    again = svc.cancel_rsvp(a.rsvp.token)
    assert again.rsvp.status == "cancelled"
    assert len(outbox("cancelled")) == 1
    with pytest.raises(svc.RsvpClosed, match="cancelled"):
        svc.change_guests(a.rsvp.token, 1)


def test_unknown_tokens_and_events(db_url) -> None:
    assert svc.get_manage_view("nope") is None
    assert svc.get_manage_view("x" * 500) is None
    with pytest.raises(svc.RsvpNotFound):
        svc.cancel_rsvp("nope")
    with pytest.raises(svc.RsvpNotFound):
        svc.submit_rsvp(987654, req("a@example.org"))


def test_tokens_are_long_random_and_unrelated_to_id_or_email(db_url) -> None:
    ev = make_event()
    tokens = [svc.submit_rsvp(ev.id, req(f"p{i}@example.org")).rsvp.token for i in range(5)]
    assert len(set(tokens)) == 5
    assert all(len(t) >= 43 for t in tokens)  # 32 random bytes, url-safe base64
    assert not any("p" + str(i) in t.lower() and "example" in t.lower()
                   for i, t in enumerate(tokens))


# --- For organizers -----------------------------------------------------------------------


def test_capacity_cannot_drop_below_confirmed_seats(db_url) -> None:
    ev = make_event(capacity=10)
    svc.submit_rsvp(ev.id, req("a@example.org", guests=3))
    svc.submit_rsvp(ev.id, req("b@example.org", guests=1))
    with write_session() as s:
        event = s.get(Event, ev.id)
        with pytest.raises(svc.CapacityError, match="6 spots are already confirmed") as exc:
            svc.validate_capacity(s, event, 5)
        assert exc.value.field == "capacity"
        with pytest.raises(svc.CapacityError, match="negative"):
            svc.validate_capacity(s, event, -1)
        svc.validate_capacity(s, event, 6)
        svc.validate_capacity(s, event, None)


def test_raising_capacity_promotes_the_waitlist(db_url) -> None:
    ev = make_event(capacity=2)
    svc.submit_rsvp(ev.id, req("a@example.org", guests=1))
    svc.submit_rsvp(ev.id, req("w1@example.org", guests=1))
    svc.submit_rsvp(ev.id, req("w2@example.org"))
    with write_session() as s:
        event = s.get(Event, ev.id)
        promoted = svc.change_capacity(s, event, 4)
    assert [r.email for r in promoted] == ["w1@example.org"]
    with write_session() as s:
        event = s.get(Event, ev.id)
        with pytest.raises(svc.CapacityError):
            svc.change_capacity(s, event, 3)
    with read_session() as s:
        assert s.get(Event, ev.id).capacity == 4
    with write_session() as s:
        event = s.get(Event, ev.id)
        event.capacity = None
        assert [r.email for r in svc.promote_waitlist(s, event)] == ["w2@example.org"]


def test_force_confirm_may_go_over_capacity(db_url) -> None:
    ev = make_event(capacity=2)
    svc.submit_rsvp(ev.id, req("a@example.org"))
    # Neither fits the 1 left; both chose to wait whole.
    w1 = svc.submit_rsvp(ev.id, req("w1@example.org", guests=1, choice="waitlist"))
    w2 = svc.submit_rsvp(ev.id, req("w2@example.org", guests=1, choice="waitlist"))
    assert svc.force_confirm(w1.rsvp.id) is True  # 3 of 2
    assert statuses(ev.id)["w1@example.org"] == "confirmed"
    assert [m.to_addr for m in outbox("promoted")] == ["w1@example.org"]
    with pytest.raises(svc.RsvpError, match="Only a waitlisted"):
        svc.force_confirm(w1.rsvp.id)
    ev2 = make_event(capacity=5)
    svc.submit_rsvp(ev2.id, req("x@example.org", guests=4))
    w = svc.submit_rsvp(ev2.id, req("y@example.org"))
    with write_session() as s:
        s.get(Event, ev2.id).capacity = 6
    assert svc.force_confirm(w.rsvp.id) is False  # 6 of 6: not over
    assert w2.rsvp.status == "waitlisted"


def test_remove_rsvp_cancels_notifies_and_promotes(db_url) -> None:
    ev = make_event(capacity=1)
    a = svc.submit_rsvp(ev.id, req("a@example.org"))
    svc.submit_rsvp(ev.id, req("w@example.org"))
    promoted = svc.remove_rsvp(a.rsvp.id)
    assert [r.email for r in promoted] == ["w@example.org"]
    assert statuses(ev.id) == {"a@example.org": "cancelled", "w@example.org": "confirmed"}
    (note,) = outbox("cancelled")
    assert note.to_addr == "a@example.org" and "The organizers have cancelled" in note.body_text
    assert svc.remove_rsvp(a.rsvp.id) == []  # already removed: nothing happens
    b = svc.submit_rsvp(ev.id, req("b@example.org"))
    svc.remove_rsvp(b.rsvp.id, notify=False)
    assert len(outbox("cancelled")) == 1
    with pytest.raises(svc.RsvpNotFound):
        svc.remove_rsvp(424242)


def test_results_carry_the_queued_mail_ids(db_url) -> None:
    ev = make_event(capacity=1)
    a = svc.submit_rsvp(ev.id, req("a@example.org"))
    svc.submit_rsvp(ev.id, req("w@example.org"))
    cancelled = svc.cancel_rsvp(a.rsvp.token)
    by_id = {m.id: m for m in outbox()}
    assert by_id[a.mail_ids[0]].kind == "confirmation"
    assert sorted(by_id[i].kind for i in cancelled.mail_ids) == ["cancelled", "promoted"]
    assert statuses(ev.id)["w@example.org"] == RsvpStatus.CONFIRMED


def test_seat_counts_fits_is_the_one_party_rule() -> None:
    counts = svc.SeatCounts(confirmed=8, waitlisted=5, capacity=10)
    assert counts.fits(2) and not counts.fits(3)
    assert counts.fits(0)  # a party shrinking or staying the same always fits
    assert svc.SeatCounts(confirmed=12, waitlisted=0, capacity=10).fits(0) is False  # forced over
    assert svc.SeatCounts(confirmed=10_000, waitlisted=0, capacity=None).fits(50)
    after = counts.after_promoting(2)
    assert (after.confirmed, after.waitlisted, after.is_full) == (10, 3, True)
    assert not after.fits(1)


def test_post_rsvp_counts_every_post_of_a_client_against_its_limit(db_url) -> None:
    """The public form's path: throttle, event by slug and decision in one transaction; a
    post with nothing to store, and one the rules refuse, count all the same."""
    ev = make_event(capacity=10, max_guests=1)
    first = svc.post_rsvp(ev.slug, "203.0.113.9", 3, req("a@example.org"))
    assert first.result is not None and first.result.confirmed and first.event.id == ev.id
    nothing = svc.post_rsvp(ev.slug, "203.0.113.9", 3, None)
    assert nothing.result is None and nothing.event.id == ev.id
    with pytest.raises(svc.NotEnoughSeats):
        svc.post_rsvp(ev.slug, "203.0.113.9", 3, req("b@example.org", guests=5))
    with pytest.raises(svc.RateLimited):
        svc.post_rsvp(ev.slug, "203.0.113.9", 3, req("c@example.org"))
    assert svc.post_rsvp(ev.slug, "198.51.100.7", 3, req("c@example.org")).result is not None
    assert statuses(ev.id) == {"a@example.org": "confirmed", "c@example.org": "confirmed"}
    with pytest.raises(svc.RsvpNotFound):
        svc.post_rsvp("no-such-event", "198.51.100.7", 3, req("d@example.org"))
