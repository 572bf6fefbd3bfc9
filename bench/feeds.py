"""Benchmark: the public iCal feed with ~2,000 events, cold render vs cached, and requests/s.

Usage: .venv/bin/python bench/feeds.py [--events 2000] [--requests 300]

Seeds a temporary SQLite database, then prints how long a cold render takes (what one poll
would cost without any cache), how long the re-render after one event is edited takes (only
that VEVENT is serialised again), how long a cached lookup takes (the data_version query plus a
dictionary hit), and the requests per second of the cached feed (full 200 and 304) served by
a real uvicorn process over one keep-alive connection.
Figures only: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

# Settings are read at import: point them somewhere harmless before importing the app.
_tmp = Path(tempfile.mkdtemp(prefix="feeds-bench-"))
os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp / 'unused.db'}")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from events_app import db  # noqa: E402
from events_app.migrate import upgrade  # noqa: E402
from events_app.models import CATEGORIES, Event, utcnow  # noqa: E402
from events_app.services import feeds, ical  # noqa: E402
from events_app.services.feeds import FeedFilter  # noqa: E402

ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
         "Europe/London", "Australia/Sydney"]
CITIES = ["Chicago", "St. Louis", "Philadelphia", "Denver", "Seattle", "Boston", "Atlanta"]


def seed(n: int) -> None:
    now = utcnow().replace(microsecond=0)
    cats = list(CATEGORIES)
    with db.write_session() as session:
        for i in range(n):
            start = now + timedelta(days=(i % 400) - 20, hours=i % 12)
            status = "draft" if i % 50 == 0 else "published"
            session.add(Event(
                slug=f"bench-{i}", title=f"Benchmark event {i}: town hall, budget; vote",
                summary="A summary line for the benchmark.",
                description="Longer description with some text. " * 8,
                category=cats[i % len(cats)], starts_at=start,
                ends_at=start + timedelta(hours=2), timezone=ZONES[i % len(ZONES)],
                venue_name="Union Hall", street_address=f"{i} Main St",
                city=CITIES[i % len(CITIES)], host_name="Local 12", status=status,
                latitude=38.6 if i % 3 else None, longitude=-90.2 if i % 3 else None,
            ))


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    url = f"sqlite:///{_tmp / 'bench.db'}"
    upgrade(url)
    db.set_engine(db.make_engine(url))
    seed(args.events)
    flt = FeedFilter()

    def cold() -> bytes:
        feeds.public_cache.clear()
        ical.clear_vevent_cache()
        with db.read_session() as session:
            return feeds.public_feed(session, flt).body

    def after_one_edit() -> bytes:
        """An organizer edits one event: the feed renders again, reusing the other VEVENTs."""
        with db.write_session() as session:
            event = session.get(Event, 2)
            event.updated_at, event.sequence = utcnow(), event.sequence + 1
            session.add(event)
        with db.read_session() as session:
            return feeds.public_feed(session, flt).body

    def warm() -> bytes:
        with db.read_session() as session:
            return feeds.public_feed(session, flt).body

    body = cold()
    n_events = body.count(b"BEGIN:VEVENT")
    cold_times = timed(cold, 3)
    edit_times = timed(after_one_edit, 5)
    warm()
    warm_times = timed(warm, 200)

    print(f"feed: {n_events} events, {len(body) / 1024:.0f} KiB")
    print(f"cold render:          {statistics.median(cold_times) * 1000:8.1f} ms (median of 3)")
    print(f"render after 1 edit:  {statistics.median(edit_times) * 1000:8.1f} ms "
          "(median of 5; the edit's write included)")
    print(f"cached lookup:        {statistics.median(warm_times) * 1000:8.2f} ms (median of 200)")
    with serve(url) as (host, port):
        first_ms, get_rps, etag = requests_per_second(host, port, args.requests)
        _, nm_rps, _ = requests_per_second(host, port, args.requests, etag)
    print(f"first GET via uvicorn: {first_ms:7.1f} ms (renders: the server's cache is cold)")
    print(f"cached GET:           {get_rps:8.0f} requests/s (uvicorn, 1 worker, keep-alive)")
    print(f"conditional GET 304:  {nm_rps:8.0f} requests/s")


@contextmanager
def serve(url: str):
    """A real uvicorn process on the bench database (one worker)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "BASE_URL": f"http://127.0.0.1:{port}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "events_app.web.app:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, cwd=str(Path(__file__).resolve().parent.parent))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("uvicorn did not start") from None
                time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def requests_per_second(host: str, port: int, n: int, etag: str = "") -> tuple[float, float, str]:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    headers = {"If-None-Match": etag} if etag else {}
    t = time.perf_counter()
    conn.request("GET", "/calendar.ics", headers=headers)
    resp = conn.getresponse()
    resp.read()
    first_ms = (time.perf_counter() - t) * 1000
    start = time.perf_counter()
    for _ in range(n):
        conn.request("GET", "/calendar.ics", headers=headers)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == (304 if etag else 200), resp.status
    rps = n / (time.perf_counter() - start)
    conn.close()
    return first_ms, rps, resp.headers["ETag"]


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(_tmp, ignore_errors=True)
