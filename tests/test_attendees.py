"""Attendee lists: counts, search and sort, door check-in, and the CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from events_app.db import read_session, write_session
from events_app.models import AuditLog, Event, Organizer, Outbox, Rsvp, utcnow
from events_app.services import attendees, audit, audit_detail, rsvp
from events_app.util import paging
from tests.factories import make_event, make_rsvp
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    csrf_token,
    login,
    make_organizer,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_passwords")


@pytest.fixture
def event(owner: Organizer) -> Event:
    return make_event(owner_id=owner.id, capacity=10, title="Budget town hall")


def _names(rows: list[attendees.AttendeeRow]) -> list[str]:
    return [r.rsvp.name for r in rows]


def _list(event: Event, **query: object) -> list[str]:
    with read_session() as s:
        return _names(attendees.list_attendees(s, event, attendees.AttendeeQuery(**query)))


# --- list, counts, search, sort --------------------------------------------------------------

def test_counts_search_sort_and_filters(event: Event) -> None:
    now = utcnow()
    make_rsvp(event, "Zoe Zhang", "zoe@example.org", guests=2, phone="+1 555 0100",
              created_at=now - timedelta(hours=3))
    make_rsvp(event, "adam Abbott", "adam@example.org", created_at=now - timedelta(hours=1))
    make_rsvp(event, "Wendy Wait", "wendy@example.org", guests=1, status="waitlisted",
              created_at=now - timedelta(minutes=30))
    make_rsvp(event, "Walt Wait", "walt@example.org", status="waitlisted",
              created_at=now - timedelta(minutes=20))
    make_rsvp(event, "Carl Cancel", "carl@example.org", status="cancelled")
    make_rsvp(event, "Hana 100%_match", "hana@example.org", checked_in_at=now)

    with read_session() as s:
        c = attendees.counts(s, event)
        rows = attendees.list_attendees(s, event, attendees.AttendeeQuery(sort="status"))
    assert (c.confirmed_parties, c.confirmed_seats) == (3, 5)
    assert (c.waitlisted_parties, c.waitlisted_seats) == (2, 3)
    assert (c.cancelled_parties, c.checked_in_parties, c.checked_in_seats) == (1, 1, 1)
    assert _names(rows) == ["adam Abbott", "Hana 100%_match", "Zoe Zhang", "Wendy Wait",
                            "Walt Wait", "Carl Cancel"]
    assert [r.waitlist_position for r in rows] == [None, None, None, 1, 2, None]

    assert _list(event) == ["adam Abbott", "Carl Cancel", "Hana 100%_match", "Walt Wait",
                            "Wendy Wait", "Zoe Zhang"]  # by name, case-insensitive
    assert _list(event, sort="name", descending=True)[0] == "Zoe Zhang"
    assert _list(event, sort="rsvp")[:3] == ["Zoe Zhang", "adam Abbott", "Wendy Wait"]
    assert _list(event, sort="guests", descending=True)[:2] == ["Zoe Zhang", "Wendy Wait"]
    assert _list(event, sort="checked_in")[-1] == "Hana 100%_match"
    assert _list(event, q="WAIT") == ["Walt Wait", "Wendy Wait"]
    assert _list(event, q="555 0100") == ["Zoe Zhang"]  # phone
    assert _list(event, q="adam@") == ["adam Abbott"]  # e-mail
    assert _list(event, q="%") == ["Hana 100%_match"]  # wildcards are literal
    assert _list(event, q="_") == ["Hana 100%_match"]
    assert _list(event, status="waitlisted") == ["Walt Wait", "Wendy Wait"]
    assert _list(event, status="here") == ["Hana 100%_match"]
    assert _list(event, status="not_here") == ["adam Abbott", "Zoe Zhang"]


def test_attendee_page_shows_contacts_counts_and_rejects_bad_sort(client, event: Event) -> None:
    make_rsvp(event, "Ann <b>Bold</b>", "ann@example.org", guests=1, phone="555-0101",
              comment="Wheelchair access please")
    make_rsvp(event, "Walt", "walt@example.org", status="waitlisted")
    login(client, "owner@example.org")
    page = client.get(f"/organizer/events/{event.slug}/attendees")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "ann@example.org" in page.text and "555-0101" in page.text
    assert "Ann &lt;b&gt;Bold&lt;/b&gt;" in page.text  # autoescaped
    assert "Wheelchair access please" in page.text
    assert re.search(r'data-count="confirmed_seats">2<', page.text)
    assert re.search(r'data-count="waitlisted_parties">1<', page.text)
    found = client.get(f"/organizer/events/{event.slug}/attendees?q=walt&status=waitlisted")
    assert "walt@example.org" in found.text and "ann@example.org" not in found.text
    assert client.get(f"/organizer/events/{event.slug}/attendees?sort=email").status_code == 400
    assert client.get(f"/organizer/events/{event.slug}/attendees?status=vip").status_code == 400
    assert client.get(f"/organizer/events/{event.slug}/attendees?q={'x' * 201}").status_code \
        == 400


def test_attendee_emails_never_reach_public_pages(client, event: Event) -> None:
    make_rsvp(event, "Private Person", "private.person@example.org", phone="555-0199")
    html = client.get(f"/events/{event.slug}").text + client.get("/events").text
    assert "private.person@example.org" not in html and "555-0199" not in html


def _many_rsvps(event: Event, confirmed: int, waitlisted: int) -> None:
    """Store a big list in one transaction (one make_rsvp each would be slow)."""
    now = utcnow()
    with write_session() as s:
        for i in range(confirmed + waitlisted):
            wait = i >= confirmed
            s.add(Rsvp(event_id=event.id, name=f"Person {i:03d}", email=f"p{i}@example.org",
                       guests=i % 2, status="waitlisted" if wait else "confirmed",
                       waitlisted_at=now if wait else None,
                       created_at=now - timedelta(minutes=i)))


def _shown(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="name-cell">([^<]+)', html)


def _pager(html: str) -> dict[str, str]:
    return {rel: href.replace("&amp;", "&") for rel, href in
            re.findall(r'<a rel="(prev|next)" href="[^"]*/attendees([^"]*)"', html)}


def test_attendee_list_pages_keep_the_search_and_counts_cover_the_event(client, owner):
    event = make_event(owner_id=owner.id, title="Rally")
    _many_rsvps(event, confirmed=105, waitlisted=10)
    login(client, "owner@example.org")
    base = f"/organizer/events/{event.slug}/attendees"

    first = client.get(base).text
    assert len(_shown(first)) == attendees.PAGE_SIZE == 50
    assert "Showing 1–50 of 115 RSVPs" in first
    assert _pager(first) == {"next": "?page=2"}
    # The counts at the top are the whole event's, not the page's.
    assert 'data-count="confirmed_parties">105<' in first
    assert 'data-count="waitlisted_parties">10<' in first

    last = client.get(f"{base}?page=3").text
    assert len(_shown(last)) == 15 and "Showing 101–115 of 115 RSVPs" in last
    assert _pager(last) == {"prev": "?page=2"}
    assert _shown(client.get(f"{base}?page=99").text) == _shown(last)  # past the end: last
    assert client.get(f"{base}?page=abc").status_code == 400

    # Every row exactly once across the pages, in the chosen order.
    pages = [_shown(client.get(f"{base}?sort=name&dir=desc&page={n}").text) for n in (1, 2, 3)]
    everyone = [name for p in pages for name in p]
    assert everyone == sorted(everyone, reverse=True) and len(set(everyone)) == 115

    # Page links keep the search, filter and sort; page 1 has no number in its URL.
    middle = client.get(f"{base}?q=person&status=confirmed&sort=rsvp&page=2").text
    assert "Showing 51–100 of 105 RSVPs" in middle
    assert _pager(middle) == {"prev": "?q=person&status=confirmed&sort=rsvp",
                              "next": "?q=person&status=confirmed&sort=rsvp&page=3"}
    one_page = client.get(f"{base}?status=waitlisted").text
    assert "10 RSVPs shown" in one_page and _pager(one_page) == {}

    # An action on page 2 comes back to page 2, at the row.
    row = re.search(r'<tr id="rsvp-(\d+)"', middle)
    assert row
    assert 'name="page" value="2"' in middle
    r = post(client, f"{base}/{row.group(1)}/check-in",
             {"here": "1", "q": "person", "status": "confirmed", "sort": "rsvp", "page": "2"},
             csrf_token(client, base))
    assert r.headers["location"] == \
        f"{base}?q=person&status=confirmed&sort=rsvp&page=2#rsvp-{row.group(1)}"

    ask = post(client, f"{base}/{row.group(1)}/remove", {"sort": "rsvp", "page": "2"},
               csrf_token(client, base))
    assert re.search(rf'href="[^"]*{base}\?sort=rsvp&amp;page=2#rsvp-{row.group(1)}">Keep it',
                     ask.text)

    # The CSV is the whole list, whatever page is on screen.
    body = client.get(f"/organizer/events/{event.slug}/attendees.csv").content.decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(body, newline="")))) == 115


def test_page_window_edges() -> None:
    empty = paging.window(0, 1, 100)
    assert (empty.page, empty.pages, empty.first, empty.last, empty.offset) == (1, 1, 0, 0, 0)
    exact = paging.window(200, 2, 100)
    assert (exact.pages, exact.first, exact.last, exact.offset) == (2, 101, 200, 100)
    assert paging.window(201, 9, 100).page == 3 and paging.window(5, 0, 100).page == 1


# --- check-in --------------------------------------------------------------------------------

def test_check_in_and_undo_with_plain_forms(client, event: Event) -> None:
    ann = make_rsvp(event, "Ann", "ann@example.org", guests=2)
    login(client, "owner@example.org")
    token = csrf_token(client, f"/organizer/events/{event.slug}/attendees")
    url = f"/organizer/events/{event.slug}/attendees/{ann.id}/check-in"
    r = post(client, url, {"here": "1", "q": "an", "sort": "status"}, token)
    assert r.status_code == 303
    assert r.headers["location"] == \
        f"/organizer/events/{event.slug}/attendees?q=an&sort=status#rsvp-{ann.id}"
    page = client.get(r.headers["location"])
    assert "Ann is checked in." in page.text
    assert re.search(r'data-count="checked_in_seats">3<', page.text)
    assert "Undo check-in" in page.text
    with read_session() as s:
        first_time = s.get(Rsvp, ann.id).checked_in_at
    assert first_time is not None

    # A second tap (another phone at the door) keeps the first arrival time.
    post(client, url, {"here": "1"}, token)
    with read_session() as s:
        assert s.get(Rsvp, ann.id).checked_in_at == first_time

    post(client, url, {"here": "0"}, token)
    with read_session() as s:
        assert s.get(Rsvp, ann.id).checked_in_at is None
        actions = s.exec(select(AuditLog.action).where(AuditLog.entity_type == "rsvp")
                         .order_by(AuditLog.id)).all()
    assert actions == ["rsvp.check_in", "rsvp.undo_check_in"]


def test_check_in_answers_json_for_the_script(client, event: Event) -> None:
    ann = make_rsvp(event, "Ann", "ann@example.org", guests=1)
    make_rsvp(event, "Ben", "ben@example.org")
    walt = make_rsvp(event, "Walt", "walt@example.org", status="waitlisted")
    login(client, "owner@example.org")
    token = csrf_token(client, f"/organizer/events/{event.slug}/attendees")
    base = f"/organizer/events/{event.slug}/attendees"
    r = post(client, f"{base}/{ann.id}/check-in", {"here": "1"}, token,
             headers={"accept": "application/json"})
    assert r.status_code == 200
    body = r.json()
    # The event's zone (America/Chicago) with its abbreviation: "7:05 PM CST".
    assert body["ok"] and body["here"] and \
        re.fullmatch(r"\d{1,2}:\d\d [AP]M C[SD]T", body["checked_in_at"])
    assert (body["people"], body["seats"]) == (2, 2)
    assert f'id="rsvp-{ann.id}"' in body["row_html"] and "Undo check-in" in body["row_html"]
    assert body["counts"]["checked_in_seats"] == 2
    assert body["counts"]["checked_in_parties"] == 1
    assert body["counts"]["confirmed_seats"] == 3

    refused = post(client, f"{base}/{walt.id}/check-in", {"here": "1"}, token,
                   headers={"accept": "application/json"})
    assert refused.status_code == 409
    assert "waitlisted, not confirmed" in refused.json()["error"]
    with read_session() as s:
        assert s.get(Rsvp, walt.id).checked_in_at is None
    missing = post(client, f"{base}/999999/check-in", {"here": "1"}, token,
                   headers={"accept": "application/json"})
    assert missing.status_code == 404


def test_check_in_part_of_a_party_then_the_rest(client, event: Event) -> None:
    """2 of 3 arrive: the counts say 2 people; the third comes later; undo clears both."""
    ann = make_rsvp(event, "Ann", "ann@example.org", guests=2)
    make_rsvp(event, "Ben", "ben@example.org", checked_in_at=utcnow())
    login(client, "owner@example.org")
    base = f"/organizer/events/{event.slug}/attendees"
    token = csrf_token(client, base)
    url = f"{base}/{ann.id}/check-in"

    r = post(client, url, {"here": "1", "people": "2"}, token)
    page = client.get(r.headers["location"])
    assert "Ann: 2 of 3 checked in." in page.text
    assert re.search(r'data-count="checked_in_seats">3<', page.text)  # Ben + 2 of Ann's
    assert re.search(r'data-count="checked_in_parties">2<', page.text)
    assert "2 of 3 here" in page.text
    with read_session() as s:
        first = s.get(Rsvp, ann.id)
        assert (first.checked_in_seats, first.checked_in_at is not None) == (2, True)
        assert attendees.counts(s, event).checked_in_seats == 3

    r = post(client, url, {"here": "1", "people": "3"}, token,
             headers={"accept": "application/json"})
    body = r.json()
    assert (body["people"], body["counts"]["checked_in_seats"]) == (3, 4)
    with read_session() as s:
        later = s.get(Rsvp, ann.id)
        assert later.checked_in_at == first.checked_in_at  # the first arrival is kept
        assert later.checked_in_seats == 3

    post(client, url, {"here": "0"}, token)
    with read_session() as s:
        undone = s.get(Rsvp, ann.id)
        assert (undone.checked_in_at, undone.checked_in_seats) == (None, 0)
        assert attendees.counts(s, event).checked_in_seats == 1
        details = s.exec(select(AuditLog.detail).where(AuditLog.entity_type == "rsvp")
                         .order_by(AuditLog.id)).all()
    assert [audit_detail.in_words(d) for d in details] == ["Ann (2 of 3)", "Ann (3 of 3)", "Ann"]


@pytest.mark.parametrize(("people", "message"), [
    ("0", "between 1 and 3"), ("4", "between 1 and 3"), ("two", "whole number"),
    ("-1", "whole number"), ("1.5", "whole number")])
def test_check_in_of_more_people_than_the_party_is_refused(client, event, people,
                                                           message) -> None:
    ann = make_rsvp(event, "Ann", "ann@example.org", guests=2)
    login(client, "owner@example.org")
    base = f"/organizer/events/{event.slug}/attendees"
    token = csrf_token(client, base)
    r = post(client, f"{base}/{ann.id}/check-in", {"here": "1", "people": people}, token,
             headers={"accept": "application/json"})
    assert r.status_code == 409 and message in r.json()["error"]
    r = post(client, f"{base}/{ann.id}/check-in", {"here": "1", "people": people}, token)
    assert r.status_code == 303
    assert message in client.get(r.headers["location"]).text
    with read_session() as s:
        assert s.get(Rsvp, ann.id).checked_in_at is None


def test_counts_never_exceed_a_party_that_shrank_after_check_in(event: Event) -> None:
    make_rsvp(event, "Ann", "ann@example.org", guests=0, checked_in_at=utcnow(),
              checked_in_seats=3)
    with read_session() as s:
        assert attendees.counts(s, event).checked_in_seats == 1


def test_parallel_check_ins_of_one_party_are_serialised(db_url: str, owner, event) -> None:
    """Phones at the door tapping at once: each decision runs under the RSVP's row lock, so
    the stored count is the last committed one and the first arrival time is kept."""
    from tests.test_rsvp_concurrency import _at_once

    ann = make_rsvp(event, "Ann", "ann@example.org", guests=2)
    assert _at_once(6, lambda i: attendees.check_in(owner, event.slug, ann.id or 0, True,
                                                    people=1 + i % 3)) == []
    with read_session() as s:
        party = s.get(Rsvp, ann.id)
        entries = s.exec(select(AuditLog.detail, AuditLog.at)
                         .where(AuditLog.entity_type == "rsvp").order_by(AuditLog.id)).all()
    assert party.checked_in_at is not None and 1 <= party.checked_in_seats <= 3
    assert entries
    assert audit_detail.in_words(entries[-1][0]) == f"Ann ({party.checked_in_seats} of 3)"
    # No two entries in a row record the same count (a change is only written when it is one).
    counts = [d for d, _ in entries]
    assert all(a != b for a, b in zip(counts, counts[1:], strict=False))
    assert party.checked_in_at <= min(at for _, at in entries)


def test_check_in_refuses_to_lock_outside_a_write_transaction(owner, event: Event) -> None:
    from events_app.services.locking import LockOutsideWriteTransaction

    ann = make_rsvp(event, "Ann", "ann@example.org", guests=2)
    with read_session() as s, pytest.raises(LockOutsideWriteTransaction):
        attendees.set_checked_in(s, owner, event, ann.id or 0, True, people=2)


def test_door_page_has_one_button_per_confirmed_party(client, event: Event) -> None:
    make_rsvp(event, "Ann", "ann@example.org")
    make_rsvp(event, "Walt", "walt@example.org", status="waitlisted")
    make_rsvp(event, "Carl", "carl@example.org", status="cancelled")
    login(client, "owner@example.org")
    html = client.get(f"/organizer/events/{event.slug}/attendees").text
    assert html.count('aria-label="Check in ') == 1
    assert 'aria-label="Check in Ann"' in html
    assert "organizer.js" in html  # the optional enhancement


def test_check_in_needs_the_event_in_the_url_to_match(db_url: str, event: Event) -> None:
    other = make_event(title="Other")
    stranger = make_rsvp(other, "Stranger", "stranger@example.org")
    with write_session() as s:
        actor = s.exec(select(Organizer)).first()
        assert attendees.set_checked_in(s, actor, event, stranger.id, True) is None


# --- moving, removing, e-mailing -------------------------------------------------------------

def _statuses(event: Event) -> dict[str, str]:
    with read_session() as s:
        return dict(s.exec(select(Rsvp.name, Rsvp.status).where(Rsvp.event_id == event.id))
                    .all())


def _mail_to(kind: str | None = None) -> list[str]:
    with read_session() as s:
        stmt = select(Outbox.to_addr).order_by(Outbox.id)
        if kind:
            stmt = stmt.where(Outbox.kind == kind)
        return list(s.exec(stmt).all())


def test_move_waitlisted_to_confirmed_warns_before_overfilling(client, owner) -> None:
    event = make_event(owner_id=owner.id, capacity=3)
    make_rsvp(event, "Ann", "ann@example.org", guests=1)
    wes = make_rsvp(event, "Wes", "wes@example.org", status="waitlisted")
    xia = make_rsvp(event, "Xia", "xia@example.org", guests=1, status="waitlisted")
    login(client, "owner@example.org")
    token = csrf_token(client, f"/organizer/events/{event.slug}/attendees")
    base = f"/organizer/events/{event.slug}/attendees"

    r = post(client, f"{base}/{wes.id}/confirm", {"q": "w"}, token)  # fits: no question
    assert r.status_code == 303 and r.headers["location"] == f"{base}?q=w#rsvp-{wes.id}"
    assert "Wes is confirmed and was e-mailed." in client.get(r.headers["location"]).text
    assert _statuses(event)["Wes"] == "confirmed"

    warn = post(client, f"{base}/{xia.id}/confirm", {}, token)  # 3 + 2 > 3
    assert warn.status_code == 200
    assert "This goes over capacity." in warn.text and "which makes 5" in warn.text
    assert _statuses(event)["Xia"] == "waitlisted"
    r = post(client, f"{base}/{xia.id}/confirm", {"override": "1"}, token)
    assert "now over its capacity" in client.get(r.headers["location"]).text
    assert _statuses(event)["Xia"] == "confirmed"
    assert _mail_to() == ["wes@example.org", "xia@example.org"]

    again = post(client, f"{base}/{xia.id}/confirm", {"override": "1"}, token)
    assert "Xia is not on the waitlist." in client.get(again.headers["location"]).text
    with read_session() as s:
        details = s.exec(select(AuditLog.detail).where(AuditLog.action == "rsvp.force_confirm")
                         .order_by(AuditLog.id)).all()
    assert [audit_detail.in_words(d) for d in details] == ["Wes, 1 seat(s)",
                                                       "Xia, 2 seat(s), over capacity"]


def test_remove_asks_first_then_promotes_the_waitlist(client, owner) -> None:
    event = make_event(owner_id=owner.id, capacity=2)
    ann = make_rsvp(event, "Ann", "ann@example.org", guests=1)
    make_rsvp(event, "Wes", "wes@example.org", status="waitlisted")
    ben = make_rsvp(event, "Ben", "ben@example.org", status="waitlisted")
    login(client, "owner@example.org")
    token = csrf_token(client, f"/organizer/events/{event.slug}/attendees")
    base = f"/organizer/events/{event.slug}/attendees"

    ask = post(client, f"{base}/{ann.id}/remove", {}, token)
    assert ask.status_code == 200 and "Remove Ann's RSVP?" in ask.text
    assert _statuses(event)["Ann"] == "confirmed"

    r = post(client, f"{base}/{ann.id}/remove", {"confirm": "1", "notify": "1"}, token)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "Ann&#39;s RSVP was cancelled." in page and "Wes, Ben" in page
    assert _statuses(event) == {"Ann": "cancelled", "Wes": "confirmed", "Ben": "confirmed"}
    assert "ann@example.org" in _mail_to()
    assert {"wes@example.org", "ben@example.org"} <= set(_mail_to())

    before = _mail_to()
    post(client, f"{base}/{ben.id}/remove", {"confirm": "1"}, token)  # without an e-mail
    assert _statuses(event)["Ben"] == "cancelled"
    assert _mail_to() == before
    with read_session() as s:
        details = s.exec(select(AuditLog.detail).where(AuditLog.action == "rsvp.remove")
                         .order_by(AuditLog.id)).all()
    assert audit_detail.in_words(details[0]) == ("Ann (confirmed); e-mailed: yes\n"
                                             "confirmed from the waitlist: Wes, Ben")
    assert audit_detail.in_words(details[1]) == "Ben (confirmed); e-mailed: no"


def _audit_rows() -> list[tuple[str, int | None, int | None]]:
    with read_session() as s:
        return [tuple(r) for r in s.exec(  # type: ignore[misc]
            select(AuditLog.action, AuditLog.entity_id, AuditLog.actor_id)
            .where(AuditLog.entity_type == "rsvp").order_by(AuditLog.id)).all()]


def test_force_confirm_and_remove_are_audited_in_their_own_transaction(owner, monkeypatch):
    """The audit entry commits with the change or not at all: a refused action logs nothing,
    an audit write that fails undoes the change, a success logs exactly one entry."""
    event = make_event(owner_id=owner.id, capacity=1)
    ann = make_rsvp(event, "Ann", "ann@example.org")
    wes = make_rsvp(event, "Wes", "wes@example.org", status="waitlisted")

    with pytest.raises(rsvp.RsvpError, match="Only a waitlisted"):
        rsvp.force_confirm(ann.id, actor=owner)
    assert _audit_rows() == []

    real_record = audit.record

    def record_then_fail(*args, **kwargs):
        real_record(*args, **kwargs)
        raise RuntimeError("audit storage failed")

    monkeypatch.setattr(audit, "record", record_then_fail)
    with pytest.raises(RuntimeError):
        rsvp.force_confirm(wes.id, actor=owner)
    with pytest.raises(RuntimeError):
        rsvp.remove_rsvp(ann.id, actor=owner)
    monkeypatch.undo()
    assert _statuses(event) == {"Ann": "confirmed", "Wes": "waitlisted"}  # nothing changed
    assert _audit_rows() == [] and _mail_to() == []

    assert rsvp.force_confirm(wes.id, actor=owner) is True
    assert _audit_rows() == [("rsvp.force_confirm", wes.id, owner.id)]
    rsvp.remove_rsvp(ann.id, actor=owner)
    assert rsvp.remove_rsvp(ann.id, actor=owner) == []  # already cancelled: no second entry
    assert _audit_rows() == [("rsvp.force_confirm", wes.id, owner.id),
                             ("rsvp.remove", ann.id, owner.id)]


def test_a_refused_confirm_from_the_page_writes_no_audit_entry(client, owner) -> None:
    event = make_event(owner_id=owner.id, capacity=5, status="draft")
    wes = make_rsvp(event, "Wes", "wes@example.org", status="waitlisted")
    login(client, "owner@example.org")
    base = f"/organizer/events/{event.slug}/attendees"
    r = post(client, f"{base}/{wes.id}/confirm", {}, csrf_token(client, base))
    assert "can&#39;t be confirmed" in client.get(r.headers["location"]).text
    assert _statuses(event) == {"Wes": "waitlisted"}
    assert _audit_rows() == []


# --- numbers from the organizer's requests ---------------------------------------------------

@pytest.mark.parametrize("page_no", ["①", "²", "٣", "0", "-2", "x"])
def test_a_bad_page_number_refuses_the_action_before_anything_is_saved(
        client, event: Event, page_no: str) -> None:
    """The check-in used to save, then answer 500 while building the way back to the list."""
    ann = make_rsvp(event, "Ann", "ann@example.org")
    walt = make_rsvp(event, "Walt", "walt@example.org", status="waitlisted")
    login(client, "owner@example.org")
    token = csrf_token(client, f"/organizer/events/{event.slug}/attendees")
    base = f"/organizer/events/{event.slug}/attendees"
    for url, data in [(f"{base}/{ann.id}/check-in", {"here": "1"}),
                      (f"{base}/{ann.id}/remove", {"confirm": "1"}),
                      (f"{base}/{walt.id}/confirm", {"override": "1"})]:
        r = post(client, url, {**data, "page": page_no}, token)
        assert r.status_code == 400, url
        assert "whole number" in r.text
    with read_session() as s:
        assert s.get(Rsvp, ann.id).checked_in_at is None
        assert s.get(Rsvp, ann.id).status == "confirmed"
        assert s.get(Rsvp, walt.id).status == "waitlisted"
        assert s.exec(select(AuditLog).where(AuditLog.entity_type == "rsvp")).all() == []


def test_a_good_page_number_is_carried_back_to_the_list(client, event: Event) -> None:
    ann = make_rsvp(event, "Ann", "ann@example.org")
    login(client, "owner@example.org")
    token = csrf_token(client, f"/organizer/events/{event.slug}/attendees")
    r = post(client, f"/organizer/events/{event.slug}/attendees/{ann.id}/check-in",
             {"here": "1", "page": "3"}, token)
    assert r.status_code == 303
    assert r.headers["location"].endswith(f"/attendees?page=3#rsvp-{ann.id}")


@pytest.mark.parametrize("path", ["/organizer/?page=²", "/organizer/?past_page=①",
                                  "/organizer/events/{slug}/attendees?page=٣",
                                  "/organizer/audit?page=²"])
def test_organizer_page_numbers_in_other_digits_are_a_400(client, event, path) -> None:
    make_organizer("admin@example.org", admin=True)  # the audit log is for admins
    login(client, "admin@example.org")
    r = client.get(path.format(slug=event.slug))
    assert r.status_code == 400
    assert "whole number" in r.text
