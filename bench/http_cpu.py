"""In-process CPU per request of the read paths, next to bare Starlette replaying the same bytes.

wrk figures swing with whatever else the machine runs; CPU time spent inside the ASGI app does
not (much). This drives the app's ASGI callable directly (no server, no sockets), N requests
per case, and reports process CPU per request for the app and for a bare Starlette route
returning the recorded response, plus their ratio. A server adds the same HTTP parsing cost to
both, so wrk's ratios come out higher than these. Figures only: nothing asserts a speed.

Cases: the feed warm and 304 (plain and gzip), the API v1 list, the legacy /api/events, a
personal feed hit, the list and detail pages, a month view; then, in a fresh process each,
the first request after start-up (`--cold`) and the RSS after the run.

Usage: .venv/bin/python -m bench.http_cpu [--events 20000 | --database-url URL]
       [--requests 2000] [--cold]
(the benchmark's SQLite calendar of --events, generated once by bench/dataset.py, by default)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
Headers = list[tuple[bytes, bytes]]


def _scope(path: str, headers: dict[str, str], method: str = "GET") -> dict[str, Any]:
    raw_path, _, query = path.partition("?")
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(),
        "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"),
                    *((k.lower().encode(), v.encode()) for k, v in headers.items())],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }


async def call(app: Any, path: str, headers: dict[str, str] | None = None,
               method: str = "GET") -> tuple[int, Headers, bytes]:
    """One request through an ASGI app: (status, headers, body)."""
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    await app(_scope(path, headers or {}, method), receive, send)
    return out["status"], out["headers"], out["body"]


def _baseline(recorded: dict[str, tuple[int, Headers, bytes]]) -> Any:
    """Bare Starlette: one route returning the recorded bytes of the case in X-Bench-Key."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def replay(request: Request) -> Response:
        status, headers, body = recorded[request.headers["x-bench-key"]]
        kept = {k.decode(): v.decode() for k, v in headers if k != b"content-length"}
        return Response(body, status_code=status, headers=kept)

    return Starlette(routes=[Route("/{path:path}", replay, methods=["GET", "HEAD"])])


def _cases(slug: str, feed_token: str | None) -> list[tuple[str, str, dict[str, str]]]:
    gz = {"Accept-Encoding": "gzip"}
    cases = [
        ("feed", "/calendar.ics", {}),
        ("feed-304", "/calendar.ics", {"If-None-Match": "<feed>"}),
        ("feed-gzip", "/calendar.ics", gz),
        ("feed-gzip-304", "/calendar.ics", {**gz, "If-None-Match": "<feed-gzip>"}),
        ("api-v1-list", "/api/v1/events", {}),
        ("api-v1-304", "/api/v1/events", {"If-None-Match": "<api-v1-list>"}),
        ("api-legacy", "/api/events", {}),
        ("atom", "/events.atom", {}),
        ("list", "/events", {}),
        ("list-gzip", "/events", gz),
        ("detail", f"/events/{slug}", {}),
        ("detail-gzip", f"/events/{slug}", gz),
        ("month", "/events/month/2026-12", {}),
        ("month-gzip", "/events/month/2026-12", gz),
    ]
    if feed_token:
        cases.append(("personal-feed", f"/my/{feed_token}/calendar.ics", {}))
    return cases


def _etag(headers: Headers) -> str:
    return next(v.decode() for k, v in headers if k == b"etag")


def _feed_token(url: str) -> str | None:
    """A personal feed of someone with verified RSVPs (created if the dataset has none)."""
    from sqlalchemy import text

    from events_app.db import write_session
    from events_app.services import personal_feeds

    with write_session() as session:
        email = session.execute(text(
            "SELECT email FROM rsvp WHERE verified_at IS NOT NULL AND status = 'confirmed' "
            "ORDER BY id LIMIT 1")).scalar()
        if email is None:
            return None
        return personal_feeds.feed_for(session, email).token


def measure(requests: int) -> dict[str, Any]:
    from bench import dataset
    from events_app.web.app import app

    token = _feed_token(os.environ["DATABASE_URL"])
    loop = asyncio.new_event_loop()
    results: dict[str, Any] = {}
    recorded: dict[str, tuple[int, Headers, bytes]] = {}
    etags: dict[str, str] = {}
    base = _baseline(recorded)
    for name, path, headers in _cases(dataset.DETAIL_SLUG, token):
        headers = {k: etags.get(v[1:-1], v) if v.startswith("<") else v
                   for k, v in headers.items()}
        first = loop.run_until_complete(call(app, path, headers))
        if first[0] == 200:
            etags[name] = _etag(first[1]) if any(k == b"etag" for k, _ in first[1]) else ""
        recorded[name] = first
        n = requests
        start = time.process_time()
        for _ in range(n):
            loop.run_until_complete(call(app, path, headers))
        app_us = (time.process_time() - start) / n * 1e6
        base_headers = {**headers, "X-Bench-Key": name}
        start = time.process_time()
        for _ in range(n):
            loop.run_until_complete(call(base, path, base_headers))
        base_us = (time.process_time() - start) / n * 1e6
        results[name] = {"status": first[0], "bytes": len(first[2]),
                         "app_cpu_us": round(app_us, 1), "base_cpu_us": round(base_us, 1),
                         "ratio": round(base_us / app_us, 2)}
    results["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return results


def cold(path: str) -> dict[str, Any]:
    """The first request after start-up (in this fresh process), wall and CPU ms, with the
    start-up's own warm-up (the app's lifespan) run first as a server would."""
    from events_app.web.app import app

    loop = asyncio.new_event_loop()
    start_wall = time.perf_counter()
    loop.run_until_complete(_lifespan_startup(app))
    startup_ms = (time.perf_counter() - start_wall) * 1000
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    status, _, body = loop.run_until_complete(call(app, path))
    first_wall, first_cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    for task in _background:  # the lifespan, waiting for a shutdown that never comes
        task.cancel()
    loop.run_until_complete(asyncio.gather(*_background, return_exceptions=True))
    return {"path": path, "status": status, "startup_ms": round(startup_ms, 1),
            "first_wall_ms": round(first_wall * 1000, 1),
            "first_cpu_ms": round(first_cpu * 1000, 1)}


async def _lifespan_startup(app: Any) -> None:
    """Send the ASGI lifespan start-up event, as uvicorn does before the first request."""
    messages = [{"type": "lifespan.startup"}]
    started = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # never shut down within this run
        return {}

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()

    task = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"},
                                      "state": {}}, receive, send))
    await started.wait()
    _background.append(task)


_background: list[Any] = []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: the SQLite dataset of --events")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--cold", action="store_true",
                        help="also time the first request of each page in a fresh process")
    parser.add_argument("--cold-path", help=argparse.SUPPRESS)  # the child process's job
    args = parser.parse_args()
    if args.database_url is None:
        # bench.dataset imports the app, whose settings are read once at import, before the
        # URL is known: measure in a fresh process that has it from the start.
        from bench import dataset
        size = dataset.Size(args.events, args.events * 10)
        url = dataset.ensure("sqlite", size).url
        os.execv(sys.executable, [sys.executable, "-m", "bench.http_cpu",
                                  "--database-url", url, *sys.argv[1:]])
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    if args.cold_path:
        print(json.dumps(cold(args.cold_path)))
        return 0
    results = measure(args.requests)
    print(f"{'case':<16} {'status':>6} {'bytes':>9} {'app us':>9} {'base us':>9} {'ratio':>6}")
    for name, r in results.items():
        if isinstance(r, dict):
            print(f"{name:<16} {r['status']:>6} {r['bytes']:>9} {r['app_cpu_us']:>9} "
                  f"{r['base_cpu_us']:>9} {r['ratio']:>6}")
    print(f"peak RSS: {results['rss_mb']} MB")
    if args.cold:
        from bench import dataset
        for path in ("/events", "/events?category=protest&city=Chicago", "/events?q=vigil",
                     f"/events/{dataset.DETAIL_SLUG}", "/calendar.ics", "/api/v1/events"):
            out = subprocess.run(
                [sys.executable, "-m", "bench.http_cpu", "--database-url", args.database_url,
                 "--cold-path", path], capture_output=True, text=True, cwd=ROOT, check=True)
            print("cold", out.stdout.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
