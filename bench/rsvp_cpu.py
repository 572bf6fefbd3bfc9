"""CPU per RSVP post, measured in-process: the app's own CPU, the database server's, and the
round trips and pool checkouts behind one post.

`make bench` measures RSVP posts under wrk, whose rates swing with whatever else the machine
runs; CPU time per post hardly does, and it is what decides how many posts two cores can
take (300/s needs ~6 ms of app and database CPU together). This drives the real ASGI app
(every middleware, the real throttle, CSRF and templates) with sequential posts on a fresh
database of its own, from client addresses that each stay under the RSVP rate limit, to one
event with few seats and several without a limit, and counts:

- app CPU: this process's CPU time (the ASGI driver here is a few lines; no HTTP parsing);
- DB CPU (PostgreSQL): CPU time of the server backends serving this database, from /proc;
- statements sent and connections checked out, from SQLAlchemy's engine and pool events.

With --smtp, SMTP_HOST points at a local sink (aiosmtpd, a test dependency, in a process of
its own so its CPU is not the app's): each post then also pays for its e-mail's delivery,
which Starlette runs after the response in the same request (two more transactions, and
the SMTP conversation). Without it, as in production without SMTP_HOST, mail stays queued.

Usage: .venv/bin/python -m bench.rsvp_cpu [--db postgresql|sqlite] [--posts 200] [--rounds 5]
       [--returning] [--smtp]
       [--profile FILE]  (cProfile of the measured posts; prints the top functions)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

# Read when events_app.settings is first imported: set before any app import (main() points
# SMTP_HOST at the sink instead with --smtp).
os.environ.setdefault("SECRET_KEY", "bench-only-secret-" + "x" * 20)
os.environ["SMTP_HOST"] = ""
PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
POSTS_PER_CLIENT = 4  # below settings.RSVP_RATE_LIMIT (10 a minute), left in force
T = TypeVar("T")


def _database(kind: str) -> tuple[str, Any]:
    """A fresh, migrated database of this run's own, and how to drop it afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from events_app.migrate import upgrade

    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="rsvp-cpu-")
        url = f"sqlite:///{folder}/events.db"
        upgrade(url)
        return url, lambda: shutil.rmtree(folder, ignore_errors=True)
    name = f"events_rsvp_cpu_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    upgrade(url)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def _backend_cpu(database: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to `database` (their
    process titles name it); 0 where /proc cannot tell."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            if not cmdline.startswith(b"postgres: ") or f" {database} ".encode() not in cmdline:
                continue
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Client:
    """A few lines of ASGI: the request as uvicorn would hand it over, the reply collected."""

    def __init__(self, app: Any, host: str) -> None:
        self.app, self.host = app, host

    async def call(self, method: str, path: str, headers: dict[str, str], body: bytes = b"",
                   client: str = "127.0.0.1",
                   response_headers: list[tuple[bytes, bytes]] | None = None
                   ) -> tuple[int, bytes]:
        path, _, query = path.partition("?")
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": query.encode(), "root_path": "", "client": (client, 50000),
            "server": (self.host, 80),
            "headers": [(b"host", self.host.encode()),
                        *((k.lower().encode(), v.encode()) for k, v in headers.items())],
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status, chunks = 0, []

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if response_headers is not None:
                    response_headers.extend(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


async def _run(args: argparse.Namespace, url: str) -> dict[str, float]:
    from sqlalchemy import event as sa_event
    from sqlalchemy.engine import make_url

    from bench import inprocess
    from bench.run import prepare
    from events_app import db, settings
    from events_app.web.app import create_app

    calls = _CallCounter() if args.count_calls else None  # before any thread starts
    targets = prepare(url, [1], capacity=args.capacity)[1]
    app = create_app()
    engine = db.get_engine()
    counts = {"statements": 0, "checkouts": 0}

    @sa_event.listens_for(engine, "before_cursor_execute")
    def _statement(*_: Any) -> None:
        counts["statements"] += 1

    @sa_event.listens_for(engine.pool, "checkout")
    def _checkout(*_: Any) -> None:
        counts["checkouts"] += 1

    client = Client(app, settings.ALLOWED_HOSTS[0])
    headers, token = await form_session(client, targets.contested_slug)
    paths = [f"/events/{s}/rsvp" for s in (targets.contested_slug, *targets.open_slugs)]
    statuses: dict[int, int] = {}

    async def posts(first: int, n: int) -> None:
        for i in range(first, first + n):
            # --returning: one address posts to each event in turn, so all but its first
            # post come from an address that already has a personal feed (members RSVPing
            # again); else every post is a new address.
            person = i // len(paths) if args.returning else i
            body = urlencode({"name": f"Bench Person {person}",
                              "email": f"p{person}@bench.example.org",
                              "guests": str(i % 3), "csrf_token": token,
                              "website": ""}).encode()
            address = f"10.{i // POSTS_PER_CLIENT // 65536 % 256}." \
                      f"{i // POSTS_PER_CLIENT // 256 % 256}.{i // POSTS_PER_CLIENT % 256}"
            code, _ = await client.call("POST", paths[i % len(paths)], headers, body, address)
            statuses[code] = statuses.get(code, 0) + 1

    await posts(0, args.warmup)
    statuses.clear()
    counts.update(statements=0, checkouts=0)
    database = make_url(url).database or ""
    pg = not db.is_sqlite(url)
    # Timed by CPU, not the clock: on a shared machine waits for the database (and for the
    # other processes' turn on the cores) would otherwise swamp what the app itself spends.
    profiler = cProfile.Profile(time.thread_time) if args.profile else None
    if profiler:
        inprocess.run_threads_inline()  # cProfile sees one thread (posts are sequential)
    # On a shared machine CPU time grows with the load (caches, frequency): the least of
    # several rounds is the figure that compares across runs.
    cpu = wall = db_cpu = float("inf")
    for r in range(args.rounds):
        db_before = _backend_cpu(database) if pg else 0.0
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        if calls:
            calls.on = True
        await posts(args.warmup + r * args.posts, args.posts)
        if calls:
            calls.on = False
        if profiler:
            profiler.disable()
        cpu = min(cpu, time.process_time() - cpu_before)
        wall = min(wall, time.perf_counter() - wall_before)
        db_cpu = min(db_cpu, _backend_cpu(database) - db_before if pg else 0.0)
    engine.dispose()
    if profiler:
        inprocess.print_profile(profiler, args.profile, 45)
    n = args.posts
    return {"posts": n * args.rounds, "statuses": statuses,  # type: ignore[dict-item]
            "app_cpu_ms": round(1000 * cpu / n, 2), "db_cpu_ms": round(1000 * db_cpu / n, 2),
            "wall_ms": round(1000 * wall / n, 2),
            "statements": round(counts["statements"] / n / args.rounds, 2),
            "checkouts": round(counts["checkouts"] / n / args.rounds, 2),
            **({"python_calls": round(calls.calls / n / args.rounds)} if calls else {})}


class _CallCounter:
    """Python function calls in every thread while `on`: unlike CPU time, the same on a
    loaded machine as on an idle one, so two versions of the code compare exactly. Threads
    started after it (the thread pool's, started by the warm-up) are counted too."""

    def __init__(self) -> None:
        self.on, self.calls = False, 0
        threading.setprofile(self._event)
        sys.setprofile(self._event)

    def _event(self, _frame: Any, event: str, _arg: Any) -> None:
        if event == "call" and self.on:
            self.calls += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--posts", type=int, default=200, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--capacity", type=int, default=200)
    parser.add_argument("--count-calls", action="store_true",
                        help="also count Python function calls per post (slows the run)")
    parser.add_argument("--profile", help="write a cProfile of the measured posts here")
    parser.add_argument("--returning", action="store_true",
                        help="each address RSVPs to every event in turn (most posts from an "
                             "address seen before) instead of one post per address")
    parser.add_argument("--smtp", action="store_true",
                        help="deliver each post's e-mail to a local SMTP sink (a separate "
                             "process) after the response, as a configured site does")
    args = parser.parse_args()
    sink = _smtp_sink() if args.smtp else None
    try:
        _measure(args)
    finally:
        if sink is not None:
            sink.terminate()
            sink.wait(timeout=10)


def _smtp_sink() -> subprocess.Popen[bytes]:
    """An SMTP server that accepts and discards every message, in its own process, on a free
    port, with SMTP_HOST/SMTP_PORT set for the app (before its settings are first read)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                             "-c", "aiosmtpd.handlers.Sink"])
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or sink.poll() is not None:
                sink.kill()
                raise RuntimeError("the SMTP sink did not start") from None
            time.sleep(0.1)
    os.environ.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))
    return sink


async def form_session(client: Client, slug: str) -> tuple[dict[str, str], str]:
    """A visitor's CSRF cookie and the form token the event page signs for it: the headers
    and `csrf_token` value an RSVP post needs."""
    cookie = {"Cookie": f"csrftoken={secrets.token_urlsafe(32)}"}
    status, page = await client.call("GET", f"/events/{slug}", cookie)
    found = _CSRF_FIELD.search(page.decode())
    if status != 200 or found is None:
        raise RuntimeError(f"event page: {status}")
    return {**cookie, "Content-Type": "application/x-www-form-urlencoded"}, found.group(1)


def on_fresh_database(kind: str, run: Callable[[str], Awaitable[T]]) -> T:
    """`run(url)` with the app on a fresh database of this run's own (_database), dropped
    afterwards whatever happens."""
    url, drop = _database(kind)
    from events_app import db
    db.set_engine(db.make_engine(url))
    try:
        return asyncio.run(run(url))
    finally:
        db.set_engine(None)
        drop()


def _measure(args: argparse.Namespace) -> None:
    figures = on_fresh_database(args.db, lambda url: _run(args, url))
    print(f"{args.db}: {figures}", file=sys.stderr if args.profile else sys.stdout)


if __name__ == "__main__":
    main()
