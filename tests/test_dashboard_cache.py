"""The dashboard's kept lists (web/organizer/kept_html.py): a dashboard opened again
answers from memory, yet never shows one organizer another's events, and follows every write
that shows on it (seats, co-hosts, names, titles) and the clock (an event that ends moves to
Past) at once. Through HTTP, on both databases."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from events_app.db import make_engine, read_session, write_session
from events_app.models import EventHost, Organizer, Rsvp, utcnow
from events_app.services import dashboard, data_version
from events_app.web.app import create_app
from tests.conftest import start_server
from tests.factories import make_event, make_rsvp, queries_run
from tests.organizer_support import (
    PASSWORD,
    cheap_passwords,  # noqa: F401 - fixture
    login,
    make_organizer,
)
from tests.rsvp_helpers import csrf_from

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def _rows(html: str) -> dict[str, str]:
    """slug -> the row's text, squeezed (title, relation, seats)."""
    return {slug: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
            for slug, row in re.findall(r'<tr data-slug="([^"]+)">(.*?)</tr>', html, re.S)}


def _section(html: str, name: str) -> dict[str, str]:
    """The rows of one section ("upcoming" or "past")."""
    start = html.index(f'id="{name}-h"')
    end = html.find("</section>", start)
    return _rows(html[start:end])


def _signed_in(email: str) -> TestClient:
    client = TestClient(create_app())
    assert login(client, email).status_code == 303
    client.get("/organizer/")  # shows (and drops) the welcome message
    return client


def test_each_organizer_gets_their_own_lists(db_url: str) -> None:
    make_organizer("ann@example.org", "Ann Owner")
    make_organizer("bob@example.org", "Bob Owner")
    make_organizer("ada@example.org", "Ada Admin", admin=True)
    with read_session() as s:
        ids = {o.email: o.id for o in s.exec(select(Organizer)).all()}
    anns = make_event(owner_id=ids["ann@example.org"], title="Ann's airport vigil")
    bobs = make_event(owner_id=ids["bob@example.org"], title="Bob's budget briefing")
    ann, bob, ada = (_signed_in(f"{n}@example.org") for n in ("ann", "bob", "ada"))

    for _ in range(2):  # the second answer comes from the kept lists
        assert set(_rows(ann.get("/organizer/").text)) == {anns.slug}
        assert set(_rows(bob.get("/organizer/").text)) == {bobs.slug}
        admin_rows = _rows(ada.get("/organizer/").text)
        assert set(admin_rows) == {anns.slug, bobs.slug}
        assert "Owner: Ann Owner" in admin_rows[anns.slug]
    # Ann's kept lists never carry the admin's labels, nor Bob's anything.
    assert "Owner:" not in ann.get("/organizer/").text
    assert "Bob" not in ann.get("/organizer/").text
    # A search is kept apart from the plain dashboard.
    assert _rows(ann.get("/organizer/?q=budget").text) == {}
    assert set(_rows(ada.get("/organizer/?q=budget").text)) == {bobs.slug}


def test_kept_lists_follow_every_write_that_shows(db_url: str) -> None:
    owner = make_organizer("olga@example.org", "Olga Owner")
    carl_id = make_organizer("carl@example.org", "Carl Cohost").id
    event = make_event(owner_id=owner.id, title="Town hall", capacity=10)
    olga, carl = _signed_in("olga@example.org"), _signed_in("carl@example.org")

    assert "0 / 10" in _rows(olga.get("/organizer/").text)[event.slug]
    make_rsvp(event, "Pat", "pat@example.org", guests=2)  # seats
    assert "3 / 10" in _rows(olga.get("/organizer/").text)[event.slug]

    assert _rows(carl.get("/organizer/").text) == {}
    with write_session() as s:  # a co-host row alone, no change to the event
        s.add(EventHost(event_id=event.id, organizer_id=carl_id))
    assert "owner: Olga Owner" in _rows(carl.get("/organizer/").text)[event.slug]

    with write_session() as s:  # the owner's new name, on the co-host's dashboard
        found = s.get(Organizer, owner.id)
        assert found is not None
        found.name = "Olga Ortiz"
        s.add(found)
    assert "owner: Olga Ortiz" in _rows(carl.get("/organizer/").text)[event.slug]

    with write_session() as s:  # co-host removed: the event leaves their dashboard
        host = s.get(EventHost, (event.id, carl_id))
        assert host is not None
        s.delete(host)
    assert _rows(carl.get("/organizer/").text) == {}

    with write_session() as s:
        s.merge(event).title = "Town hall, moved"
    assert "Town hall, moved" in _rows(olga.get("/organizer/").text)[event.slug]

    spanish = olga.get("/organizer/?lang=es").text  # kept per language
    assert "Próximos" in spanish and ">Upcoming<" not in spanish
    assert "Upcoming" in olga.get("/organizer/?lang=en").text


def test_an_event_that_ends_moves_to_past_without_any_write(db_url: str) -> None:
    owner = make_organizer("olga@example.org", "Olga Owner")
    olga = _signed_in("olga@example.org")  # first: only one request between the event and its end
    ends = utcnow() + timedelta(seconds=6)  # room for a stall on a loaded machine
    event = make_event(owner_id=owner.id, title="Short call",
                       starts_at=ends - timedelta(hours=1), ends_at=ends)
    html = olga.get("/organizer/").text
    assert event.slug in _section(html, "upcoming") and _section(html, "past") == {}
    time.sleep(max(0.0, (ends - utcnow()).total_seconds()) + 0.2)
    html = olga.get("/organizer/").text
    assert _section(html, "upcoming") == {} and event.slug in _section(html, "past")


def test_next_change_is_the_next_end_or_midnight(db_url: str) -> None:
    now = utcnow()
    _, midnight = dashboard.today_bounds(now)
    with read_session() as s:
        assert dashboard.next_change(s, now) == midnight  # no event at all
    soon = make_event(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(minutes=1))
    make_event(starts_at=now - timedelta(days=3))  # over: no longer changes anything
    with read_session() as s:
        assert dashboard.next_change(s, now) == min(soon.ends_at, midnight)
        assert dashboard.next_change(s, soon.ends_at + timedelta(seconds=1)) <= \
            soon.ends_at + timedelta(days=1)


def test_organizer_and_cohost_writes_bump_the_workspace_version_only(db_url: str) -> None:
    before = data_version.current()
    owner = make_organizer("olga@example.org", "Olga Owner")
    after = data_version.current()
    assert after.workspace != before.workspace
    assert (after.events, after.seats) == (before.events, before.seats)  # public caches stay
    event = make_event(owner_id=owner.id)
    before = data_version.current()
    with write_session() as s:
        s.add(EventHost(event_id=event.id, organizer_id=owner.id))
    after = data_version.current()
    assert after.workspace != before.workspace and after.events == before.events


# --- the attendee list, kept per session ------------------------------------------------------

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_kept_attendee_list_is_per_session_and_follows_check_ins(db_url: str) -> None:
    owner = make_organizer("olga@example.org", "Olga Owner")
    carl_id = make_organizer("carl@example.org", "Carl Cohost").id
    event = make_event(owner_id=owner.id, title="Door test", capacity=10)
    ann = make_rsvp(event, "Ann Attendee", "ann@example.org")
    with write_session() as s:
        s.add(EventHost(event_id=event.id, organizer_id=carl_id))
    base = f"/organizer/events/{event.slug}/attendees"
    phone, laptop, carl = (_signed_in(e) for e in
                           ("olga@example.org", "olga@example.org", "carl@example.org"))

    pages = {}
    for name, client in (("phone", phone), ("laptop", laptop), ("carl", carl)):
        for _ in range(2):  # the second answer is the kept one
            html = client.get(base).text
            tokens = set(_TOKEN.findall(html))
            assert len(tokens) == 1  # sign-out and every row: this session's token
        pages[name] = tokens.pop()
    assert len(set(pages.values())) == 3  # each session its own rows' tokens

    # A check-in from the laptop shows on the phone's next load (kept or not).
    done = laptop.post(f"{base}/{ann.id}/check-in",
                       data={"here": "1", "csrf_token": pages["laptop"]}, follow_redirects=False)
    assert done.status_code == 303
    assert 'class="status-confirmed is-here"' in phone.get(base).text
    assert 'data-count="checked_in_parties">1<' in phone.get(base).text

    # Who may see the list is asked on every request: a co-host removed sees a 404 at once.
    with write_session() as s:
        host = s.get(EventHost, (event.id, carl_id))
        assert host is not None
        s.delete(host)
    assert carl.get(base).status_code == 404
    assert "Ann Attendee" in phone.get(base).text


# --- kept per event's RSVPs: an RSVP elsewhere keeps them, one to the event does not ----------

def _rsvp_elsewhere(db_url: str, event_id: int | None, name: str, email: str) -> None:
    """An RSVP written by another process: a second engine, with its own pool and its own
    view of the data version, which tells this process nothing."""
    elsewhere = make_engine(db_url)
    try:
        with Session(elsewhere) as session:
            session.add(Rsvp(event_id=event_id or 0, name=name, email=email))
            session.commit()
    finally:
        elsewhere.dispose()


def _queries(client: TestClient, path: str) -> tuple[str, int]:
    """The page, and how many statements answering it took (the data version's aside)."""
    with queries_run() as seen:
        html = client.get(path).text
    return html, len(seen)


@pytest.mark.parametrize("page", ["attendees", "dashboard"])
def test_kept_page_survives_an_rsvp_to_another_event_not_one_to_its_own(
        db_url: str, page: str) -> None:
    owner = make_organizer("olga@example.org", "Olga Owner")
    event = make_event(owner_id=owner.id, title="Door test", capacity=10)
    other = make_event(title="Someone else's rally", capacity=10)
    make_rsvp(event, "Ann Attendee", "ann@example.org")
    olga = _signed_in("olga@example.org")
    path = f"/organizer/events/{event.slug}/attendees" if page == "attendees" else "/organizer/"
    olga.get(path)  # rendered, then kept
    _, kept_cost = _queries(olga, path)

    make_rsvp(other, "Bo Elsewhere", "bo@example.org")
    html, cost = _queries(olga, path)
    assert cost == kept_cost  # answered from the kept part: nothing read but the sign-in's
    assert "Bo Elsewhere" not in html

    make_rsvp(event, "Cy Newcomer", "cy@example.org", guests=1)
    html, cost = _queries(olga, path)
    assert cost > kept_cost  # read and rendered afresh, at once
    if page == "attendees":
        assert "Cy Newcomer" in html and 'data-count="confirmed_parties">2<' in html
    else:
        assert "3 / 10" in _rows(html)[event.slug]


@pytest.mark.parametrize("page", ["attendees", "dashboard"])
def test_another_process_rsvp_shows_within_the_check_interval(
        db_url: str, page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_version, "CHECK_INTERVAL", 0.5)
    owner = make_organizer("olga@example.org", "Olga Owner")
    event = make_event(owner_id=owner.id, title="Door test", capacity=10)
    olga = _signed_in("olga@example.org")
    path = f"/organizer/events/{event.slug}/attendees" if page == "attendees" else "/organizer/"
    olga.get(path)  # rendered, then kept
    _rsvp_elsewhere(db_url, event.id, "Far Away", "far@example.org")
    time.sleep(0.6)
    html = olga.get(path).text
    if page == "attendees":
        assert "Far Away" in html and 'data-count="confirmed_parties">1<' in html
    else:
        assert "1 / 10" in _rows(html)[event.slug]


def test_dashboard_today_follows_a_check_in(db_url: str) -> None:
    """The door's list (Today) counts arrivals: a check-in is an RSVP write of that event."""
    owner = make_organizer("olga@example.org", "Olga Owner")
    now = utcnow()  # started a minute ago, on for two hours: on Today whatever the hour
    event = make_event(owner_id=owner.id, title="Going on", capacity=10,
                       starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=2))
    party = make_rsvp(event, "Ann Attendee", "ann@example.org", guests=1)
    olga = _signed_in("olga@example.org")
    assert "<strong>0</strong> of 2 checked in" in olga.get("/organizer/").text
    with write_session() as s:
        found = s.get(Rsvp, party.id)
        assert found is not None
        found.checked_in_at, found.checked_in_seats = utcnow(), 2
    assert "<strong>2</strong> of 2 checked in" in olga.get("/organizer/").text


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


class _Browser:
    """Just enough of a browser for a live server: cookies kept, redirects not followed,
    and a new connection per request (urllib keeps none), so every worker gets some."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirects())

    def open(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as answer:  # a redirect, not followed
            return answer.code, answer.read().decode()

    def get(self, path: str) -> str:
        return self.open(path)[1]


def test_every_worker_shows_an_rsvp_written_elsewhere_within_a_second(
        db_url: str, tmp_path: Path) -> None:
    """Two uvicorn workers with their kept organizer pages, warmed up; an RSVP written by
    another process (this test's) is on the attendee list and the dashboard from whichever
    worker answers, a second later."""
    owner = make_organizer("olga@example.org", "Olga Owner")
    event = make_event(owner_id=owner.id, title="Door test", capacity=10)
    attendees = f"/organizer/events/{event.slug}/attendees"
    server = start_server(db_url, tmp_path, workers=2)
    try:
        olga = _Browser(server.url)
        token = csrf_from(olga.get("/organizer/login"))
        status, _ = olga.open("/organizer/login", {
            "csrf_token": token, "email": "olga@example.org", "password": PASSWORD})
        assert status == 303
        olga.get("/organizer/")  # shows (and drops) the welcome message
        for _ in range(6):  # kept in every worker that answers
            assert "0 / 10" in _rows(olga.get("/organizer/"))[event.slug]
            assert "Cy Newcomer" not in olga.get(attendees)
        make_rsvp(event, "Cy Newcomer", "cy@example.org", guests=1)
        time.sleep(1)
        for _ in range(6):
            assert "2 / 10" in _rows(olga.get("/organizer/"))[event.slug]
            assert "Cy Newcomer" in olga.get(attendees)
    finally:
        server.stop()
