"""Rate limits hold under parallel requests (issue 9, item 6): real HTTP clients at once
against a uvicorn server with several worker processes, on PostgreSQL and on SQLite.

The guarantee lives in the database (a locked counter row), so the server runs as separate
processes: an in-process lock could not make these pass.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import func
from sqlmodel import select

from events_app.db import read_session
from events_app.models import Rsvp
from tests.conftest import LiveServer, start_server
from tests.factories import make_event
from tests.organizer_support import cheap_passwords, make_organizer  # noqa: F401
from tests.rsvp_helpers import csrf_from

LOGIN_LIMIT = 5
RSVP_LIMIT = 10


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    srv = start_server(db_url, tmp_path, workers=3, extra_env={
        "LOGIN_MAX_FAILURES": str(LOGIN_LIMIT), "RSVP_RATE_LIMIT": str(RSVP_LIMIT)})
    yield srv
    srv.stop()


def _in_parallel(n: int, attempt) -> list[int]:
    barrier = threading.Barrier(n)
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda i: attempt(i, barrier), range(n)))


@pytest.mark.usefixtures("cheap_passwords")
def test_25_parallel_wrong_passwords_get_at_most_5_checks(server: LiveServer) -> None:
    make_organizer("ada@example.org")

    def attempt(_: int, barrier: threading.Barrier) -> int:
        with httpx2.Client(base_url=server.url, timeout=60) as c:
            token = csrf_from(c.get("/organizer/login").text)
            barrier.wait()
            return c.post("/organizer/login", data={
                "csrf_token": token, "email": "ada@example.org",
                "password": "a wrong guess"}).status_code

    statuses = _in_parallel(25, attempt)
    checked = statuses.count(422)  # the password was verified (and was wrong)
    assert checked == LOGIN_LIMIT, statuses
    assert statuses.count(429) == 25 - LOGIN_LIMIT, statuses
    # And this client is now held off even with the right password.
    with httpx2.Client(base_url=server.url, timeout=60) as c:
        token = csrf_from(c.get("/organizer/login").text)
        r = c.post("/organizer/login", data={"csrf_token": token, "email": "ada@example.org",
                                             "password": "correct horse battery staple"})
        assert r.status_code == 429


def test_30_parallel_rsvps_from_one_ip_get_at_most_10_through(server: LiveServer) -> None:
    event = make_event(capacity=None)

    def attempt(i: int, barrier: threading.Barrier) -> int:
        with httpx2.Client(base_url=server.url, timeout=60) as c:
            token = csrf_from(c.get(f"/events/{event.slug}").text)
            barrier.wait()
            return c.post(f"/events/{event.slug}/rsvp", data={
                "csrf_token": token, "name": f"Person {i}", "email": f"p{i}@example.org",
                "guests": "0", "website": ""}, follow_redirects=False).status_code

    statuses = _in_parallel(30, attempt)
    assert statuses.count(429) == 30 - RSVP_LIMIT, statuses
    assert all(s < 400 for s in statuses if s != 429), statuses
    with read_session() as s:
        stored = s.exec(select(func.count()).select_from(Rsvp)
                        .where(Rsvp.event_id == event.id)).one()
    assert stored == RSVP_LIMIT
