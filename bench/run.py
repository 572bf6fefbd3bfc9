"""`make bench`: the app under wrk on a large calendar, every figure next to a bare baseline.

For each database (SQLite, PostgreSQL) and each uvicorn worker count (1, 2) it starts the app
and, beside it, bench/baseline_app.py (bare Starlette replaying the app's own bytes) with the
same uvicorn settings, then for each page: times the first (cold) request, records the
response for the baseline, warms both up, and runs wrk against the app and the baseline in
turns (--rounds, two by default, splitting --duration; bench/rounds.py), so both sides of a
ratio meet the same load on a shared machine. RSVP
posts go to fresh events (one with few seats, the others without a limit), each from its own
client address (X-Forwarded-For, as behind a proxy) under the real per-address throttle;
afterwards the benchmark counts seats in the database and reports any oversold event. One
table is printed and saved as JSON under bench/results/. Figures only: nothing here asserts a speed.

Usage: .venv/bin/python -m bench.run [--events 100000] [--db sqlite,postgresql]
       [--workers 1,2] [--duration 5] [--rounds 2] [--connections 32] [--only list,...]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import re
import secrets
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

# The bench process itself imports the app's models to prepare the database.
os.environ.setdefault("SECRET_KEY", "bench-only-secret")

from bench import dataset  # noqa: E402
from bench.rounds import APP, BASELINE, combine, order, ratio, split_seconds  # noqa: E402
from bench.servers import (  # noqa: E402
    ROOT,
    MachineCpu,
    Reply,
    Server,
    WrkResult,
    fetch,
    machine_cpu,
    run_wrk,
    wrk_binary,
)
from events_app.web.sessions import COOKIE_NAME as SESSION_COOKIE  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
BENCH_SECRET = "bench-only-secret-" + "x" * 20
RSVP_SLUG_PREFIX = "bench-rsvp-"
# Response headers the server adds itself; everything else is replayed by the baseline.
_HOP_HEADERS = {"date", "server", "content-length", "transfer-encoding", "connection",
                "keep-alive"}
# Posts the wrk script sends from each client address: below the app's default RSVP limit
# (settings.RSVP_RATE_LIMIT, 10 a minute), which the benchmark leaves in force.
POSTS_PER_CLIENT = 4
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
WrkArgs = tuple[str, ...]  # what follows `--` on wrk's command line, for its Lua script


@dataclass(frozen=True)
class Page:
    """One thing measured: a request, and the status it must answer with."""

    name: str
    method: str
    path: str
    status: int
    signed_in: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    # Also measured with one connection: the latency of a page alone, next to the one under
    # --connections, which at a few hundred req/s is mostly time spent queueing (issue 11's
    # "under 100 ms" for the organizer pages is about the former).
    single_client: bool = False


def pages(rsvp_slug: str, first_rsvp_slug: str = "x") -> list[Page]:
    door = dataset.DOOR_LIST_SLUG
    return [
        # Only when asked for (--only rsvp-first,...): the same posts as rsvp-post, to events
        # of their own, on workers that have served nothing else yet. Next to rsvp-post at the
        # end of the same run, it tells what the pages before leave behind from what the
        # machine's load does (figures of separate runs differ by both).
        Page(FIRST_POSTS, "POST", f"/events/{first_rsvp_slug}/rsvp", 200),
        Page("list", "GET", "/events", 200),
        Page("list-filtered", "GET", "/events?category=protest&city=Chicago", 200),
        Page("search", "GET", f"/events?q={dataset.SEARCH_WORD}", 200),
        Page("detail", "GET", f"/events/{dataset.DETAIL_SLUG}", 200),
        Page("feed", "GET", "/calendar.ics", 200),
        Page("feed-304", "GET", "/calendar.ics", 304),  # If-None-Match added from "feed"
        Page("api-list", "GET", "/api/v1/events", 200),
        Page("atom", "GET", "/events.atom", 200),
        Page("embed", "GET", "/embed/upcoming", 200),
        Page("dashboard", "GET", "/organizer/", 200, signed_in=True, single_client=True),
        Page("attendees", "GET", f"/organizer/events/{door}/attendees", 200, signed_in=True,
             single_client=True),
        Page("attendees-csv", "GET", f"/organizer/events/{door}/attendees.csv", 200,
             signed_in=True),
        # Last: every post changes the data the pages above are cached on.
        Page("rsvp-post", "POST", f"/events/{rsvp_slug}/rsvp", 200),  # "check your e-mail"
    ]


FIRST_POSTS = "rsvp-first"
PAGE_NAMES = [p.name for p in pages("x")]
DEFAULT_PAGES = [name for name in PAGE_NAMES if name != FIRST_POSTS]


# --- preparing a database for one run -----------------------------------------------------------

@dataclass(frozen=True)
class RsvpTargets:
    """The events a run's RSVP posts go round: one with few seats, so posts race for the
    last of them (the oversold check means something), and several without a limit, so
    every post there is a confirmation (the rate means something). Several, because real
    RSVP traffic is spread over many events; a single open event would measure how fast one
    event's row lock can be passed on, not how many RSVPs the site can take."""

    contested_id: int
    contested_slug: str
    open_ids: tuple[int, ...]
    open_slugs: tuple[str, ...]

    @property
    def ids(self) -> list[int]:
        return [self.contested_id, *self.open_ids]


def prepare(url: str, worker_counts: list[int], capacity: int,
            open_events: int = 7, label: str = "") -> dict[int, RsvpTargets]:
    """Forget what earlier runs wrote (RSVP-post events, outbox, throttle records), then add
    fresh RSVP-post events for each worker count, so each run starts with its seats free.
    With `label`, only add another set of events (named with it) and forget nothing.

    Done before any server starts: these writes change the data every cache is keyed on.
    """
    from sqlalchemy import text
    from sqlmodel import Session

    from events_app.db import make_engine
    from events_app.models import Event, EventStatus, utcnow

    engine = make_engine(url)
    like = {"p": f"{RSVP_SLUG_PREFIX}%"}
    with engine.begin() as conn:
        if not label:
            conn.execute(text("DELETE FROM outbox"))
            conn.execute(text("DELETE FROM throttle_bucket"))
            conn.execute(text("DELETE FROM rsvp WHERE event_id IN "
                              "(SELECT id FROM event WHERE slug LIKE :p)"), like)
            conn.execute(text("DELETE FROM event WHERE slug LIKE :p"), like)
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    start = (utcnow() + timedelta(days=14)).replace(minute=0, second=0, microsecond=0)
    out = {}
    with Session(engine, expire_on_commit=False) as session:
        for workers in worker_counts:
            made = []
            kinds = [("contested", capacity)] + [(f"open{i}", None) for i in range(open_events)]
            for kind, seats in kinds:
                event = Event(slug=f"{RSVP_SLUG_PREFIX}{kind}{label}-w{workers}-{stamp}",
                              title=f"RSVP benchmark, {kind}{label} ({workers} worker(s))",
                              starts_at=start, ends_at=start + timedelta(hours=2),
                              timezone="America/Chicago", city="Chicago",
                              venue_name="Union Hall", capacity=seats, max_guests=2,
                              waitlist_enabled=True, status=EventStatus.PUBLISHED.value)
                session.add(event)
                session.flush()
                made.append((int(event.id or 0), event.slug))
            out[workers] = RsvpTargets(made[0][0], made[0][1],
                                       tuple(i for i, _ in made[1:]), tuple(s for _, s in made[1:]))
        session.commit()
    engine.dispose()
    return out


@dataclass
class RsvpFigures:
    capacity: int
    confirmed: int  # on the contested event
    waitlisted: int
    seats_confirmed: int
    oversold_seats: int
    confirmed_total: int  # all the run's events, while wrk ran
    confirmed_per_s: float
    events: int
    # CPU time of the app's workers per RSVP stored: unlike the rates, it hardly depends on
    # what else the machine is running (the database server's share is not in it).
    app_cpu_ms_per_post: float = 0.0


def rsvp_count(url: str, targets: RsvpTargets) -> int:
    """RSVPs stored for the run's events (each post stores one)."""
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from events_app.db import make_engine
    from events_app.models import Rsvp

    engine = make_engine(url)
    with Session(engine) as session:
        n = session.exec(select(func.count()).select_from(Rsvp)
                         .where(col(Rsvp.event_id).in_(targets.ids))).one()
    engine.dispose()
    return int(n)


def rsvp_figures(url: str, targets: RsvpTargets, capacity: int, started: float,
                 seconds: float) -> RsvpFigures:
    """Counted in the database after the posts: parties and seats of the contested event
    (any seat over its capacity is an oversold one), and confirmations per second of wrk's
    run over all the run's events: only those made while wrk ran (the posts it left queued
    are answered after it stopped, and the cold post before it started)."""
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from events_app.db import make_engine
    from events_app.models import Rsvp

    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(
            select(Rsvp.event_id, Rsvp.status, func.count(), func.sum(1 + Rsvp.guests))
            .where(col(Rsvp.event_id).in_(targets.ids))
            .group_by(Rsvp.event_id, Rsvp.status)).all()
        in_run = session.exec(
            select(func.count()).select_from(Rsvp)
            .where(col(Rsvp.event_id).in_(targets.ids), Rsvp.status == "confirmed",
                   col(Rsvp.created_at) >= datetime.fromtimestamp(started, UTC),
                   col(Rsvp.created_at) < datetime.fromtimestamp(started + seconds, UTC))
        ).one()
    engine.dispose()
    found = {(event_id, status): (int(n), int(seats or 0)) for event_id, status, n, seats in rows}
    confirmed, seats = found.get((targets.contested_id, "confirmed"), (0, 0))
    waitlisted = found.get((targets.contested_id, "waitlisted"), (0, 0))[0]
    total = int(in_run)
    return RsvpFigures(capacity=capacity, confirmed=confirmed, waitlisted=waitlisted,
                       seats_confirmed=seats, oversold_seats=max(0, seats - capacity),
                       confirmed_total=total,
                       confirmed_per_s=round(total / seconds, 1) if seconds else 0.0,
                       events=len(targets.ids))


# --- measuring -----------------------------------------------------------------------------------

@dataclass
class Visitor:
    """Cookies and tokens a visitor (and, once signed in, the organizer) sends."""

    csrf_nonce: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    organizer_cookie: str = ""

    @property
    def cookie(self) -> str:
        return f"csrftoken={self.csrf_nonce}"


def sign_in(port: int, visitor: Visitor) -> None:
    """Log the bench organizer in the way a browser does: form, CSRF field, session cookie."""
    login = fetch(port, "GET", "/organizer/login", {"Cookie": visitor.cookie})
    token = _CSRF_FIELD.search(login.body.decode())
    if login.status != 200 or token is None:
        raise RuntimeError(f"login page: {login.status}")
    form = urlencode({"email": dataset.ORGANIZER_EMAIL, "password": dataset.PASSWORD,
                      "csrf_token": token.group(1), "next": "/organizer/"}).encode()
    reply = fetch(port, "POST", "/organizer/login",
                  {"Cookie": visitor.cookie,
                   "Content-Type": "application/x-www-form-urlencoded"}, form)
    session = reply.cookies().get(SESSION_COOKIE)
    if reply.status != 303 or not session:
        raise RuntimeError(f"login failed: {reply.status} {reply.body[:300]!r}")
    cookie = f"{visitor.cookie}; {SESSION_COOKIE}={session}"
    # The first page after login shows (and drops) the welcome message: keep the cookie
    # without it, so every measured dashboard is the ordinary one.
    after = fetch(port, "GET", "/organizer/", {"Cookie": cookie})
    session = after.cookies().get(SESSION_COOKIE, session)
    visitor.organizer_cookie = f"{visitor.cookie}; {SESSION_COOKIE}={session}"


def rsvp_posts(port: int, visitor: Visitor, targets: RsvpTargets) -> tuple[WrkArgs, bytes]:
    """The wrk script's arguments, and the first (cold) post, with the CSRF token the event
    page hands this visitor. The script sends each post from a client address of its own
    block (a few posts per address, below the RSVP throttle's limit), so the throttle does
    its real work (a counter row per address) without refusing anyone."""
    event_page = fetch(port, "GET", f"/events/{targets.contested_slug}",
                       {"Cookie": visitor.cookie})
    found = _CSRF_FIELD.search(event_page.body.decode())
    if found is None:
        raise RuntimeError(f"no RSVP form on /events/{targets.contested_slug}: "
                           f"{event_page.status} {event_page.body[:2000]!r}")
    token, nonce = found.group(1), secrets.token_hex(4)
    paths = [f"/events/{slug}/rsvp" for slug in (targets.contested_slug, *targets.open_slugs)]
    args = (token, nonce, str(secrets.randbelow(250) + 1), str(POSTS_PER_CLIENT), *paths)
    body = urlencode({"name": "First Bench Person", "email": f"first-{nonce}@bench.example.org",
                      "guests": "0", "csrf_token": token, "website": ""}).encode()
    return args, body


def record(reply: Reply, path: Path) -> None:
    """Save a response for the baseline. Only Set-Cookie ever repeats here; the last one is
    kept (Starlette's Response takes a mapping)."""
    headers = {k: v for k, v in reply.headers if k.lower() not in _HOP_HEADERS}
    path.write_bytes(pickle.dumps({"status": reply.status, "headers": headers,
                                   "body": reply.body}))


def warm_up(port: int, method: str, path: str, headers: dict[str, str], body: bytes | None,
            workers: int) -> None:
    """A few concurrent requests, so every worker has served this page at least once
    (a cold feed in the second worker would otherwise land in the measurement)."""
    with ThreadPoolExecutor(max_workers=2 * workers) as pool:
        list(pool.map(lambda _: fetch(port, method, path, headers, body), range(4 * workers)))


@dataclass
class Row:
    db: str
    workers: int
    page: str
    path: str
    status: int
    bytes: int
    cold_ms: float
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    # What the errors were: wrk's kinds (read, timeout, ...) and, for RSVP posts, the statuses.
    error_detail: dict[str, int] = field(default_factory=dict)
    base_rps: float = 0.0
    base_p50_ms: float = 0.0
    base_p99_ms: float = 0.0
    base_cold_ms: float = 0.0
    # req/s over the baseline's, each side's rounds combined (bench/rounds.py: all its
    # requests over all its seconds); what each round gave is in `rounds`.
    ratio: float = 0.0
    # Server CPU per request (user + system, all workers) while wrk ran, app and baseline,
    # and baseline/app: hardly moved by the machine's other load, which swings req/s. For a
    # large body (the 2.5 MB feed) most of it is the kernel's copy, the same for both: there
    # `ratio` swung 0.49-1.37 between runs of one build while this stayed 0.89-1.0, and
    # still 0.88-1.42 with alternating rounds (bench/rounds.py) while this stayed 0.92-0.99.
    cpu_us: float = 0.0
    base_cpu_us: float = 0.0
    cpu_ratio: float = 0.0
    load1: float = 0.0
    # Each worker's share of the app's CPU while wrk ran, in %. events_app.serving gives each
    # worker its own SO_REUSEPORT socket, so wrk's connections spread by the kernel's hash
    # (near 50/50, 35/65 is ordinary for 32 connections); a split far from that means the
    # run was served mostly by one worker: read a low ratio next to it before blaming the page.
    cpu_split: str = ""
    # Cores in use while wrk ran: the whole machine, and what neither the app, the database
    # it uses nor wrk used (the bench itself, and whatever else shares the machine). A rate
    # measured while others took cores is not comparable with one measured on an idle machine.
    machine_cores: float = 0.0
    others_cores: float = 0.0
    # One connection (Page.single_client): the page's own latency, no queue.
    c1_rps: float = 0.0
    c1_p50_ms: float = 0.0
    c1_p99_ms: float = 0.0
    note: str = ""
    rsvp: dict[str, Any] | None = None
    # Each round (--rounds: the app and the baseline measured in turns): seconds, req/s of
    # both sides, their ratio, and CPU per request of both.
    rounds: list[dict[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Turn:
    """One wrk run of one side (app or baseline) and what was spent while it ran."""

    result: WrkResult
    cpu: dict[int, float]  # CPU seconds each of the side's workers used, by pid
    machine: MachineCpu  # CPU seconds the machine and the run's database used


def fill(row: Row, app: list[Turn], base: list[Turn]) -> None:
    """The row's figures from each side's runs, combined (bench/rounds.combine), and each
    round's own in `row.rounds` (the n-th run of each side make the n-th round)."""
    res = combine([t.result for t in app])
    used = cpu_used(app)
    row.cpu_split = cpu_split({}, used)
    row.cpu_us = cpu_per_request({}, used, res.requests)
    row.machine_cores, row.others_cores = shares(
        MachineCpu(0.0, 0.0), MachineCpu(sum(t.machine.busy for t in app),
                                         sum(t.machine.database for t in app)),
        sum(used.values()), res)
    row.rps, row.p50_ms, row.p99_ms = round(res.rps, 1), round(res.p50_ms, 2), \
        round(res.p99_ms, 2)
    row.errors = res.error_count
    row.error_detail = res.error_detail()
    if not base:
        return
    bres = combine([t.result for t in base])
    row.base_cpu_us = cpu_per_request({}, cpu_used(base), bres.requests)
    row.cpu_ratio = round(row.base_cpu_us / row.cpu_us, 3) if row.cpu_us else 0.0
    row.base_rps, row.base_p50_ms, row.base_p99_ms = round(bres.rps, 1), \
        round(bres.p50_ms, 2), round(bres.p99_ms, 2)
    row.ratio = round(ratio(res, bres), 3)
    row.rounds = [{"seconds": round(mine.result.seconds, 2),
                   "rps": round(mine.result.rps, 1), "base_rps": round(theirs.result.rps, 1),
                   "ratio": round(ratio(mine.result, theirs.result), 3),
                   "cpu_us": cpu_per_request({}, mine.cpu, mine.result.requests),
                   "base_cpu_us": cpu_per_request({}, theirs.cpu, theirs.result.requests)}
                  for mine, theirs in zip(app, base, strict=False)]


def cpu_used(turns: list[Turn]) -> dict[int, float]:
    """CPU seconds each worker used over all the runs."""
    used: dict[int, float] = {}
    for t in turns:
        for pid, seconds in t.cpu.items():
            used[pid] = used.get(pid, 0.0) + seconds
    return used


class Bench:
    def __init__(self, args: argparse.Namespace, wrk: str, workdir: Path) -> None:
        self.args, self.wrk_path, self.workdir = args, wrk, workdir
        self.rows: list[Row] = []
        self.servers: list[dict[str, Any]] = []
        self.checks: dict[str, Any] = {}
        self.pg_database: str | None = None  # the database run_db measures (PostgreSQL)

    def drive(self, port: int, page: Page, headers: dict[str, str], post: WrkArgs,
              seconds: float, connections: int | None = None) -> Any:
        script = "rsvp.lua" if post else "report.lua"
        return run_wrk(self.wrk_path, f"http://127.0.0.1:{port}{page.path}", seconds=seconds,
                       connections=connections or self.args.connections,
                       threads=1 if connections == 1 else self.args.threads,
                       headers=headers, script=script, args=post)

    def measure(self, kind: str, url: str, workers: int, page: Page, app: Server, base: Server,
                visitor: Visitor, targets: RsvpTargets, etag: dict[str, str]) -> Row:
        a = self.args
        app.wait_idle()  # what the previous page left queued must not slow this one
        base.wait_idle()
        key = f"{kind}-w{workers}-{page.name}"
        headers = {"Cookie": visitor.organizer_cookie if page.signed_in else visitor.cookie,
                   "X-Bench-Key": key, **page.headers}
        if page.name == "feed-304":
            if "feed" not in etag:  # measured without "feed": ask for the validator first
                etag["feed"] = fetch(app.port, "GET", page.path, headers).header("etag")
            headers["If-None-Match"] = etag["feed"]
        body: bytes | None = None
        post: WrkArgs = ()
        if page.method == "POST":
            post, body = rsvp_posts(app.port, visitor, targets)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        first = fetch(app.port, page.method, page.path, headers, body)
        row = Row(db=kind, workers=workers, page=page.name, path=page.path, status=first.status,
                  bytes=len(first.body), cold_ms=round(first.ms, 1),
                  load1=round(os.getloadavg()[0], 2))
        if first.status != page.status:
            row.note = f"expected {page.status}: {first.body[:120]!r}"
            return row
        if page.name == "feed":
            etag["feed"] = first.header("etag")
        record(first, self.workdir / f"{key}.pickle")
        if post:
            return self.measure_posts(row, url, page, app, base, headers, (post, body), targets)
        warm_up(app.port, page.method, page.path, headers, None, workers)
        if a.warmup > 0:
            self.drive(app.port, page, headers, post, a.warmup)
        app.wait_idle()
        # Both sides cold and warm before the first round, so the rounds measure warm servers.
        base_first = fetch(base.port, page.method, page.path, headers)
        row.base_cold_ms = round(base_first.ms, 1)
        if base_first.status != first.status:
            row.note = f"baseline answered {base_first.status}"
            return row
        warm_up(base.port, page.method, page.path, headers, None, workers)
        if a.warmup > 0:
            self.drive(base.port, page, headers, post, a.warmup)
        turns: dict[str, list[Turn]] = {APP: [], BASELINE: []}
        seconds = split_seconds(a.duration, a.rounds)
        for n, side in enumerate(order(len(seconds))):
            turns[side].append(self.turn(app if side == APP else base, page, headers, post,
                                         seconds[n // 2], app, base))
        fill(row, turns[APP], turns[BASELINE])
        if page.single_client:
            app.wait_idle()
            base.wait_idle()
            one = self.drive(app.port, page, headers, post, a.duration, connections=1)
            row.c1_rps, row.c1_p50_ms, row.c1_p99_ms = round(one.rps, 1), \
                round(one.p50_ms, 2), round(one.p99_ms, 2)
        return row

    def measure_posts(self, row: Row, url: str, page: Page, app: Server, base: Server,
                      headers: dict[str, str], post: tuple[WrkArgs, bytes | None],
                      targets: RsvpTargets) -> Row:
        """RSVP posts: one run on each side, not rounds. The posts' figures are counted in
        the database over wrk's one run, and a second run would post again from the same
        client addresses (into the throttle) to events whose seats the first has taken."""
        a = self.args
        args, body = post
        app.wait_idle()
        cpu_before, posts_before = app.cpu_seconds(), rsvp_count(url, targets)
        mine = self.turn(app, page, headers, args, a.duration, app, base)
        app.wait_idle()  # the posts wrk left queued are answered (and counted) too
        res = mine.result
        figures = rsvp_figures(url, targets, a.rsvp_capacity, res.started_at, res.seconds)
        posts = rsvp_count(url, targets) - posts_before
        figures.app_cpu_ms_per_post = round(
            1000 * (app.cpu_seconds() - cpu_before) / posts, 2) if posts else 0.0
        row.rsvp = asdict(figures)
        base_first = fetch(base.port, page.method, page.path, headers, body)
        row.base_cold_ms = round(base_first.ms, 1)
        if base_first.status != row.status:
            fill(row, [mine], [])
            row.note = f"baseline answered {base_first.status}"
            return row
        fill(row, [mine], [self.turn(base, page, headers, args, a.duration, app, base)])
        return row

    def turn(self, server: Server, page: Page, headers: dict[str, str], post: WrkArgs,
             seconds: float, app: Server, base: Server) -> Turn:
        """One wrk run against `server` (the app or the baseline), once neither still serves
        what the previous run left queued, with the CPU its workers and the machine used."""
        app.wait_idle()
        base.wait_idle()
        before, machine = server.cpu_by_worker(), machine_cpu(self.pg_database)
        res = self.drive(server.port, page, headers, post, seconds)
        machine_after, after = machine_cpu(self.pg_database), server.cpu_by_worker()
        return Turn(res, {pid: after[pid] - before.get(pid, 0.0) for pid in after},
                    MachineCpu(machine_after.busy - machine.busy,
                               machine_after.database - machine.database))

    def dataset(self, kind: str) -> dataset.Dataset:
        a = self.args
        size = dataset.Size(a.events, a.rsvps if a.rsvps is not None else 10 * a.events)
        ds = dataset.ensure(kind, size, base_pg_url=a.pg_url, regenerate=a.regenerate)
        print(f"{kind}: {'reused' if ds.reused else 'generated'} dataset "
              f"({size.events:,} events, {size.rsvps:,} RSVPs"
              f"{'' if ds.reused else f', {ds.seconds:.1f} s'})", flush=True)
        self.checks.setdefault("datasets", {})[kind] = {
            "url": ds.url, "reused": ds.reused, "generate_s": round(ds.seconds, 1),
            **asdict(size)}
        return ds

    def run_db(self, kind: str, ds: dataset.Dataset) -> None:
        a = self.args
        self.pg_database = None if kind == "sqlite" else urlsplit(ds.url).path.lstrip("/")
        rsvp_events = prepare(ds.url, a.workers, a.rsvp_capacity, a.rsvp_events - 1)
        first_events = prepare(ds.url, a.workers, a.rsvp_capacity, a.rsvp_events - 1,
                               label="-first") if FIRST_POSTS in a.only else rsvp_events
        env = {"DATABASE_URL": ds.url, "SECRET_KEY": BENCH_SECRET, "SMTP_HOST": "",
               "LOGIN_MAX_FAILURES": "1000",
               "BENCH_BASELINE_DIR": str(self.workdir)}
        for workers in a.workers:
            app = Server("events_app.web.app:app", workers, env,
                         self.workdir / f"app-{kind}-{workers}.log")
            base = Server("bench.baseline_app:app", workers, env,
                          self.workdir / f"baseline-{kind}-{workers}.log")
            visitor = Visitor()
            etag: dict[str, str] = {}
            try:
                app.start(self.workdir)
                base.start(self.workdir)
                for page in pages(rsvp_events[workers].contested_slug,
                                  first_events[workers].contested_slug):
                    if page.name not in a.only:
                        continue
                    if page.signed_in and not visitor.organizer_cookie:
                        sign_in(app.port, visitor)
                    targets = first_events if page.name == FIRST_POSTS else rsvp_events
                    row = self.measure(kind, ds.url, workers, page, app, base, visitor,
                                       targets[workers], etag)
                    self.rows.append(row)
                    print(format_row(row), flush=True)
                self.servers.append({"db": kind, "workers": workers,
                                     "app": app.memory_mb(), "baseline": base.memory_mb()})
            finally:
                app.stop()
                base.stop()
        report = dataset.check(ds.url)
        self.checks.setdefault("consistency", {})[kind] = {
            "events": report.events, "rsvps": report.rsvps,
            "oversold_events": report.oversold_events}
        if report.oversold_events:
            print(f"{kind}: OVERSOLD events (id, capacity, seats): {report.oversold_events}")


def cpu_per_request(before: dict[int, float], after: dict[int, float], requests: int) -> float:
    """The servers' CPU (every worker's, user + system) per request wrk completed, in µs."""
    used = sum(after[pid] - before.get(pid, 0.0) for pid in after)
    return round(1e6 * used / requests, 1) if requests else 0.0


def shares(before: MachineCpu, after: MachineCpu, app_seconds: float, res: WrkResult
           ) -> tuple[float, float]:
    """(cores the machine used, cores used by others) over wrk's run. wrk's own CPU is not
    read from /proc (it has exited): its user and system time come from the rusage of the
    finished child."""
    seconds = res.seconds or 1.0
    busy = after.busy - before.busy
    others = busy - (after.database - before.database) - app_seconds - res.cpu_seconds
    return round(busy / seconds, 2), round(max(0.0, others) / seconds, 2)


def cpu_split(before: dict[int, float], after: dict[int, float]) -> str:
    used = [after[pid] - before.get(pid, 0.0) for pid in sorted(after)]
    total = sum(used)
    return "/".join(f"{100 * u / total:.0f}" for u in used) if total > 0 else ""


# --- output --------------------------------------------------------------------------------------

HEADER = (f"{'db':<10} {'w':>1} {'page':<14} {'st':>3} {'KiB':>7} {'req/s':>8} {'base':>8} "
          f"{'ratio':>6} {'cpu-us':>7} {'cpu-r':>6} {'p50ms':>7} {'p99ms':>7} {'b-p99':>6} "
          f"{'coldms':>8} {'b-cold':>6} {'err':>4} {'split':>6}  note")


def format_row(r: Row) -> str:
    note = r.note
    if not note and r.status and r.rps == 0:
        note = "no response finished within the run: try a longer --duration"
    if r.rsvp:
        f = r.rsvp
        note = (f"{f['confirmed_per_s']} confirmed/s over {f['events']} events; contested "
                f"event: {f['confirmed']} "
                f"confirmed, {f['waitlisted']} waitlisted, {f['seats_confirmed']}/"
                f"{f['capacity']} seats, {f['oversold_seats']} oversold; app CPU "
                f"{f['app_cpu_ms_per_post']} ms/post") + \
            (f"; {note}" if note else "")
    if r.rsvp or r.others_cores >= 0.25:
        note += ("; " if note else "") + (f"machine {r.machine_cores:.2f} cores busy, "
                                          f"{r.others_cores:.2f} by others")
    spread = [x["ratio"] for x in r.rounds if x["ratio"]]
    if len(spread) > 1 and max(spread) > 1.2 * min(spread):
        # The rounds disagree: the machine's load moved under the page's measurement.
        note += ("; " if note else "") + "rounds' ratios " + "/".join(f"{x:.2f}" for x in spread)
    if r.error_detail:
        note += ("; " if note else "") + "errors: " + ", ".join(
            f"{kind} x{n}" for kind, n in r.error_detail.items())
    if r.c1_rps:
        note = (f"1 connection: {r.c1_rps:.0f} req/s, p50 {r.c1_p50_ms:.1f} / p99 "
                f"{r.c1_p99_ms:.1f} ms") + (f"; {note}" if note else "")
    return (f"{r.db:<10} {r.workers:>1} {r.page:<14} {r.status:>3} {r.bytes / 1024:>7.1f} "
            f"{r.rps:>8.0f} {r.base_rps:>8.0f} {r.ratio:>6.3f} {r.cpu_us:>7.1f} "
            f"{r.cpu_ratio:>6.3f} {r.p50_ms:>7.1f} "
            f"{r.p99_ms:>7.1f} {r.base_p99_ms:>6.1f} {r.cold_ms:>8.1f} {r.base_cold_ms:>6.1f} "
            f"{r.errors:>4} {r.cpu_split:>6}  {note}")


def print_footer(bench: Bench) -> None:
    """Below the table (whose rows were printed as they were measured)."""
    print()
    for srv in bench.servers:
        peaks = ", ".join(f"{w['peak_mb']:.0f}" for w in srv["app"])
        now = ", ".join(f"{w['rss_mb']:.0f}" for w in srv["app"])
        base = ", ".join(f"{w['peak_mb']:.0f}" for w in srv["baseline"])
        # The peak of a worker that served a sign-in includes argon2's 64 MiB for the
        # password check (services/auth.py), given back right after: hence both figures.
        print(f"RSS per worker, {srv['db']}, {srv['workers']} worker(s): app peak {peaks} MB, "
              f"after the run {now} MB (baseline peak {base} MB)")
    for kind, c in bench.checks.get("consistency", {}).items():
        print(f"{kind}: {len(c['oversold_events'])} oversold events after the run "
              f"({c['events']:,} events, {c['rsvps']:,} RSVPs)")


def git_commit() -> str:
    out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    return out.stdout.strip()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=100_000, help="events in the calendar")
    p.add_argument("--rsvps", type=int, help="RSVPs (default: 10 per event)")
    p.add_argument("--db", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    p.add_argument("--workers", default="1,2", help="uvicorn worker counts, comma-separated")
    p.add_argument("--duration", type=float, default=5, help="seconds of wrk per measurement")
    p.add_argument("--rounds", type=int, default=2,
                   help="rounds per page: the app and the baseline measured in turns, each "
                   "round --duration/rounds seconds of each (RSVP posts: one run each)")
    p.add_argument("--warmup", type=float, default=1, help="seconds of wrk before measuring")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=1, help="wrk threads")
    p.add_argument("--rsvp-capacity", type=int, default=100,
                   help="seats of the contested event one in --rsvp-events RSVP posts go to "
                   "(the others go to events without a limit)")
    p.add_argument("--rsvp-events", type=int, default=8,
                   help="events the RSVP posts go round: the contested one and the rest open")
    p.add_argument("--only", default=",".join(DEFAULT_PAGES),
                   help=f"pages to measure, comma-separated, of: {','.join(PAGE_NAMES)} "
                   f"(all but {FIRST_POSTS} by default)")
    p.add_argument("--pg-url", default=dataset.DEFAULT_PG_URL,
                   help="PostgreSQL server (its database is only used to create the bench one)")
    p.add_argument("--regenerate", action="store_true", help="rebuild the dataset(s)")
    p.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = p.parse_args(argv)
    if bad := [d for d in args.db.split(",") if d not in ("sqlite", "postgresql")]:
        p.error(f"unknown database(s): {', '.join(bad)} (sqlite, postgresql)")
    args.workers = [int(w) for w in args.workers.split(",") if w]
    args.only = [n for n in args.only.split(",") if n]
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.rsvp_events < 1:
        p.error("--rsvp-events must be at least 1 (the contested event)")
    unknown = [n for n in args.only if n not in PAGE_NAMES]
    if unknown:
        p.error(f"unknown page(s): {', '.join(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = wrk_binary()
    started = datetime.now(UTC)
    meta = {"started": started.isoformat(timespec="seconds"), "commit": git_commit(),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "load_at_start": os.getloadavg(),
            "options": {k: (str(v) if isinstance(v, Path) else v)
                        for k, v in vars(args).items()}}
    print(f"bench: {args.events:,} events; {', '.join(args.db.split(','))}; workers "
          f"{args.workers}; wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s; "
          f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="events-bench-") as tmp:
        bench = Bench(args, wrk, Path(tmp))
        try:
            datasets = {kind: bench.dataset(kind) for kind in args.db.split(",")}
            print(f"\n{HEADER}", flush=True)
            for kind, ds in datasets.items():
                bench.run_db(kind, ds)
        finally:
            meta["load_at_end"] = os.getloadavg()
            meta["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
            print_footer(bench)
            args.out.mkdir(parents=True, exist_ok=True)
            out = args.out / f"bench-{started.strftime('%Y%m%d-%H%M%S')}.json"
            out.write_text(json.dumps({"meta": meta, "rows": [asdict(r) for r in bench.rows],
                                       "servers": bench.servers, **bench.checks},
                                      indent=1, default=str))
            print(f"\nwritten: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    oversold = any(c["oversold_events"] for c in bench.checks.get("consistency", {}).values())
    oversold = oversold or any(r.rsvp and r.rsvp["oversold_seats"] for r in bench.rows)
    return 1 if oversold else 0


if __name__ == "__main__":
    sys.exit(main())
