"""Peak RSS of one served worker after many distinct pages, in English and Spanish.

The issue's RSS target ("under 150 MB per worker after the whole run") is about what a worker
keeps, and the worst case for that is not one page fetched many times but many distinct ones:
each is rendered once and stays in a cache until its byte budget pushes it out, and renders
running at once each hold their rows and template output. This starts the app under uvicorn
(one worker) on the benchmark's calendar, reads its RSS right after start-up, fetches every
page of a list (list pages, filters, searches, detail pages, months, days, feeds, API, Atom,
embed; each in both languages) `--concurrency` at a time, and prints the worker's peak
(VmHWM) and current RSS. Figures only: nothing asserts.

Usage: .venv/bin/python -m bench.rss [--events 100000 | --database-url URL]
       [--pages 600] [--concurrency 16] [--rounds 1]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import sys
import tempfile
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from bench.servers import ROOT, Server

LANGUAGES = ("en", "es")


def distinct_paths(url: str, count: int, seed: int = 11) -> list[str]:
    """`count` distinct public GET paths of the calendar at `url` (half of them per language)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        slugs = [r[0] for r in conn.execute(text(
            "SELECT slug FROM event WHERE status = 'published' ORDER BY id LIMIT 5000"))]
        cities = [r[0] for r in conn.execute(text("SELECT DISTINCT city FROM event"))]
        categories = [r[0] for r in conn.execute(text("SELECT DISTINCT category FROM event"))]
    engine.dispose()
    rnd = random.Random(seed)
    today = date.today()
    base = ["/events", "/calendar.ics", "/api/v1/events", "/events.atom", "/embed/upcoming",
            "/api/events"]
    pool: list[str] = list(base)
    pool += [f"/events?page={n}" for n in range(2, 40)]
    pool += [f"/events?category={c}&city={urllib.parse.quote_plus(t)}"
             for c in categories for t in cities]
    pool += [f"/events?q={w}" for w in ("vigil", "meeting", "training", "rally", "town",
                                        "community", "webinar", "briefing", "call")]
    pool += [f"/events/month/{(today + timedelta(days=31 * m)):%Y-%m}" for m in range(-12, 13)]
    pool += [f"/events/day/{today + timedelta(days=d)}" for d in range(-30, 60)]
    pool += [f"/calendar.ics?category={c}" for c in categories]
    pool += [f"/api/v1/events?page={n}" for n in range(2, 20)]
    pool += [f"/events/{s}" for s in rnd.sample(slugs, min(len(slugs), count))]
    paths = [f"{p}{'&' if '?' in p else '?'}lang={lang}" for p in pool for lang in LANGUAGES]
    return paths[:count] if count < len(paths) else paths


def fetch(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: the SQLite dataset of --events")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1, help="times the page list is fetched")
    args = parser.parse_args()
    if args.database_url is None:
        from bench import dataset
        args.database_url = dataset.ensure("sqlite", dataset.Size(args.events,
                                                                  args.events * 10)).url
    paths = distinct_paths(args.database_url, args.pages)
    with tempfile.TemporaryDirectory() as tmp:
        server = Server("events_app.web.app:app", 1, {
            "DATABASE_URL": args.database_url,
            "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret")},
            Path(tmp) / "server.log")
        server.start(ROOT)
        try:
            fetch(server.port, "/events")  # as the first visitor would
            print(f"after start-up and one page: {server.memory_mb()}")
            statuses: dict[int, int] = {}
            with ThreadPoolExecutor(args.concurrency) as pool:
                for _ in range(args.rounds):
                    for status in pool.map(lambda p: fetch(server.port, p), paths):
                        statuses[status] = statuses.get(status, 0) + 1
            print(f"{len(paths)} distinct paths x {args.rounds}, {args.concurrency} at a time; "
                  f"statuses {statuses}")
            print(f"after the run: {server.memory_mb()}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
