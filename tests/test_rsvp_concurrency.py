"""Seats are never oversold under real concurrency: many HTTP clients at once against a
uvicorn server with several worker processes, on PostgreSQL and on SQLite.

The guarantee under test lives in the database (event row lock / SQLite write lock), so the
server runs as separate processes: an in-process lock could not make these tests pass.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from events_app.services import rsvp as svc
from tests.conftest import LiveServer, start_server
from tests.factories import make_event
from tests.rsvp_helpers import csrf_from, req, rsvps

CAPACITY = 25
PEOPLE = 60
STATUS_RE = re.compile(r'data-status="(\w+)"')


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    srv = start_server(db_url, tmp_path, workers=3)
    yield srv
    srv.stop()


@dataclass
class Answer:
    email: str
    seats: int
    http_status: int
    rsvp_status: str  # what the person was told: confirmed / waitlisted / error text
    manage_url: str = ""


def _rsvp_over_http(base: str, slug: str, email: str, guests: int,
                    barrier: threading.Barrier) -> Answer:
    with httpx2.Client(base_url=base, timeout=60) as c:
        token = csrf_from(c.get(f"/events/{slug}").text)
        barrier.wait()  # everyone posts at the same moment
        r = c.post(f"/events/{slug}/rsvp", data={
            "csrf_token": token, "name": f"Person {email}", "email": email,
            "guests": str(guests), "website": ""})
        if r.status_code != 303:
            return Answer(email, guests + 1, r.status_code, r.text[:500])
        page = c.get(r.headers["location"])
        m = STATUS_RE.search(page.text)
        return Answer(email, guests + 1, r.status_code, m.group(1) if m else page.text[:500],
                      manage_url=r.headers["location"])


def _assert_seats_consistent(event_id: int) -> tuple[int, list]:
    """No overselling, and no waitlisted party would fit in the seats left."""
    rows = list(rsvps(event_id).values())
    confirmed = sum(r.seats for r in rows if r.status == "confirmed")
    waiting = [r for r in rows if r.status == "waitlisted"]
    assert confirmed <= CAPACITY
    assert all(r.seats > CAPACITY - confirmed for r in waiting), (confirmed, waiting)
    return confirmed, waiting


def test_concurrent_rsvps_over_http(db_url, server) -> None:
    """One multi-process server per database (starting it is the slow part), two scenarios."""
    _sixty_simultaneous_rsvps_never_oversell(server)
    _simultaneous_first_rsvps_from_one_email_make_one_rsvp(server)


def _sixty_simultaneous_rsvps_never_oversell(server: LiveServer) -> None:
    ev = make_event(capacity=CAPACITY, max_guests=2)
    rng = random.Random(4)
    people = [(f"person{i}@example.org", rng.randint(0, 2)) for i in range(PEOPLE)]
    barrier = threading.Barrier(PEOPLE)
    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        answers = list(pool.map(
            lambda p: _rsvp_over_http(server.url, ev.slug, p[0], p[1], barrier), people))

    # Every request got a definite answer, and it is what the database holds.
    assert all(a.http_status == 303 for a in answers), [
        (a.http_status, a.rsvp_status) for a in answers if a.http_status != 303]
    rows = rsvps(ev.id)
    assert len(rows) == PEOPLE  # nothing lost, nothing doubled
    assert {a.email: a.rsvp_status for a in answers} == {e: r.status for e, r in rows.items()}
    assert {e: r.guests for e, r in rows.items()} == {e: g for e, g in people}

    confirmed, waiting = _assert_seats_consistent(ev.id)
    assert confirmed >= CAPACITY - 2  # filled as far as parties (of at most 3) fit
    positions = sorted(svc.get_manage_view(r.token).position for r in waiting)
    assert positions == list(range(1, len(waiting) + 1))

    # Now a dozen confirmed people cancel at once: the waitlist moves up, still never over.
    leaving = [a for a in answers if a.rsvp_status == "confirmed"][:12]
    barrier = threading.Barrier(len(leaving))

    def cancel(a: Answer) -> int:
        with httpx2.Client(base_url=server.url, timeout=60) as c:
            token = csrf_from(c.get(a.manage_url).text)
            barrier.wait()
            return c.post(a.manage_url, data={"csrf_token": token, "action": "cancel"}).status_code

    with ThreadPoolExecutor(max_workers=len(leaving)) as pool:
        codes = list(pool.map(cancel, leaving))
    assert codes == [303] * len(leaving)
    confirmed_after, _ = _assert_seats_consistent(ev.id)
    assert confirmed_after >= CAPACITY - 2
    assert all(rsvps(ev.id)[a.email].status == "cancelled" for a in leaving)


def _simultaneous_first_rsvps_from_one_email_make_one_rsvp(server: LiveServer) -> None:
    ev = make_event(capacity=10)
    n = 12
    barrier = threading.Barrier(n)

    def go(i: int) -> tuple[int, str]:
        with httpx2.Client(base_url=server.url, timeout=60) as c:
            token = csrf_from(c.get(f"/events/{ev.slug}").text)
            barrier.wait()
            r = c.post(f"/events/{ev.slug}/rsvp", data={
                "csrf_token": token, "name": f"Twin {i}", "email": "twin@example.org",
                "guests": "0"})
            return r.status_code, r.text

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(go, range(n)))
    codes = sorted(code for code, _ in results)
    # One created it (redirect to its manage page); the others updated it ("check your e-mail").
    assert codes == [200] * (n - 1) + [303]
    assert all("Check your e-mail" in text for code, text in results if code == 200)
    rows = rsvps(ev.id)
    assert list(rows) == ["twin@example.org"] and rows["twin@example.org"].status == "confirmed"


def test_same_email_race_in_the_service_layer(db_url) -> None:
    """Threads in one process, no HTTP: still one row and no IntegrityError escapes."""
    ev = make_event(capacity=3)
    n = 8
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def go(i: int) -> None:
        barrier.wait()
        try:
            svc.submit_rsvp(ev.id, req("same@example.org", guests=i % 3))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert list(rsvps(ev.id)) == ["same@example.org"]
