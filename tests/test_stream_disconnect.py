"""A download the client abandons half-way gives its database connection back at once.

The attendee CSV streams from a generator that holds a read session (a pooled connection in a
transaction) between chunks. When the client goes away, Starlette cancels the stream; the
generator must be closed then, not whenever the garbage collector reaches it: until then the
connection stays checked out, and an abandoned burst of downloads emptied a worker's pool
(every request after it waited 30 s for a connection and failed).
"""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import Any

import pytest

from events_app import db
from events_app.models import Event, Organizer
from events_app.services import attendee_csv
from tests.factories import make_event, make_rsvp
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    login,
)

pytestmark = pytest.mark.usefixtures("cheap_passwords")


@pytest.fixture
def event(owner: Organizer) -> Event:
    event = make_event(owner_id=owner.id, capacity=None, title="Budget town hall")
    for i in range(attendee_csv.BATCH + 7):  # two chunks
        make_rsvp(event, f"Person {i:04d}", f"p{i}@example.org")
    return event


def _abandoned_download(app: Any, path: str, cookie: str) -> list[bytes]:
    """GET `path`, the client going away once the first chunk arrived; the chunks received.
    In a thread of its own, with a fresh event loop, as a server would run it."""
    chunks: list[bytes] = []

    async def main() -> None:
        first = asyncio.Event()
        asked = False

        async def receive() -> dict[str, Any]:
            nonlocal asked
            if not asked:
                asked = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await first.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                chunks.append(message["body"])
                first.set()
                await asyncio.sleep(0.2)  # a slow client: the disconnect comes first

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
                 "server": ("testserver", 80),
                 "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())]}
        await app(scope, receive, send)

    thread = threading.Thread(target=asyncio.run, args=(main(),))
    thread.start()
    thread.join()
    return chunks


def test_an_abandoned_csv_download_returns_its_connection(client, owner: Organizer,
                                                          event: Event) -> None:
    login(client, owner.email)
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    pool = db.get_engine().pool
    before = pool.checkedout()
    gc.disable()  # the garbage collector must not be what gives it back
    try:
        chunks = _abandoned_download(client.app, f"/organizer/events/{event.slug}/attendees.csv",
                                     cookie)
        assert len(chunks) == 1 and chunks[0].startswith(b"Event,")
        assert pool.checkedout() == before
    finally:
        gc.enable()
