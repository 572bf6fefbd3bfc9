"""The organizer dashboard and the 5,000-RSVP attendee page, timed in-process on the bench
dataset (bench/dataset.py, generated or reused): wall and CPU time per request through the
real ASGI app, signed in as the bench organizer and as the admin (who sees every event);
each page freshly rendered (as after a write to the events), kept (opened again, nothing
changed), and opened again after an RSVP to another event (one far in the past, on neither
dashboard's first pages: the kept page stays valid, services/data_version.seats_of).

The target (issue 11) is under 100 ms a page. Under wrk these pages queue behind each other
on a shared machine; one request at a time, in-process, shows what each render costs.

Usage: .venv/bin/python -m bench.organizer_cpu [--db postgresql|sqlite] [--events 100000]
       [--repeat 7] [--profile FILE]  (cProfile of the measured requests, inline)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import re
import secrets
import statistics
import time
from urllib.parse import urlencode

os.environ.setdefault("SECRET_KEY", "bench-only-secret-" + "x" * 20)
os.environ["SMTP_HOST"] = ""

from bench import dataset, inprocess  # noqa: E402
from bench.rsvp_cpu import Client  # noqa: E402

_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _sign_in(client: Client, email: str) -> dict[str, str]:
    from events_app.web.sessions import COOKIE_NAME

    nonce = secrets.token_urlsafe(32)
    cookie = f"csrftoken={nonce}"
    status, page = await client.call("GET", "/organizer/login", {"Cookie": cookie})
    token = _CSRF_FIELD.search(page.decode())
    if status != 200 or token is None:
        raise RuntimeError(f"login page: {status}")
    body = urlencode({"email": email, "password": dataset.PASSWORD,
                      "csrf_token": token.group(1), "next": "/organizer/"}).encode()
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    scope_headers: list[tuple[bytes, bytes]] = []
    status, _ = await client.call("POST", "/organizer/login", headers, body,
                                  response_headers=scope_headers)
    found = [v.decode() for k, v in scope_headers if k == b"set-cookie"
             and v.decode().startswith(f"{COOKIE_NAME}=")]
    if status != 303 or not found:
        raise RuntimeError(f"login failed: {status}")
    session = found[0].split(";", 1)[0]
    signed_in = {"Cookie": f"{cookie}; {session}"}
    await client.call("GET", "/organizer/", signed_in)  # shows (and drops) the welcome
    return signed_in


def _rsvp_far_away() -> int:
    """An RSVP of the calendar's oldest event with any: on no dashboard's first page."""
    from sqlmodel import col, select

    from events_app.db import read_session
    from events_app.models import Event, Rsvp

    with read_session() as session:
        return session.exec(select(Rsvp.id).join(Event, col(Event.id) == Rsvp.event_id)
                            .order_by(col(Event.starts_at)).limit(1)).one()


def _touch(rsvp_id: int) -> None:
    """A write to that RSVP, as the app makes one (through a Session, its event known)."""
    from events_app.db import write_session
    from events_app.models import Rsvp, utcnow

    with write_session() as session:
        found = session.get(Rsvp, rsvp_id)
        if found is not None:
            found.updated_at = utcnow()


async def _run(args: argparse.Namespace, url: str) -> None:
    from events_app import db, settings
    from events_app.web.app import create_app

    db.set_engine(db.make_engine(url))
    app = create_app()
    client = Client(app, settings.ALLOWED_HOSTS[0])
    door = f"/organizer/events/{dataset.DOOR_LIST_SLUG}/attendees"
    profiler = cProfile.Profile() if args.profile else None
    timings = inprocess.time_statements(db.get_engine()) if args.sql else []
    if profiler:
        inprocess.run_threads_inline()
    from events_app.web.organizer import kept_html

    elsewhere = _rsvp_far_away()

    def before(mode: str) -> None:
        if mode == "fresh":  # as after a write to the events: nothing kept (kept_html.py)
            kept_html.forget()
        elif mode == "RSVP elsewhere":
            _touch(elsewhere)

    for who, email in (("organizer", dataset.ORGANIZER_EMAIL), ("admin", dataset.ADMIN_EMAIL)):
        headers = await _sign_in(client, email)
        for name, path, mode in ((name, path, mode) for name, path in (
                ("dashboard", "/organizer/"), ("attendees", door),
                ("attendees by RSVP time", f"{door}?sort=rsvp"))
                for mode in ("fresh", "kept", "RSVP elsewhere")):
            status, body = await client.call("GET", path, headers)  # warm
            if args.sql:
                before(mode)
                timings.clear()
                await client.call("GET", path, headers)
                for seconds, statement in timings:
                    print(f"    {1000 * seconds:7.1f} ms  {' '.join(statement.split())[:150]}")
            walls, cpus = [], []
            for _ in range(args.repeat):
                before(mode)
                cpu, wall = time.process_time(), time.perf_counter()
                if profiler:
                    profiler.enable()
                status, body = await client.call("GET", path, headers)
                if profiler:
                    profiler.disable()
                cpus.append(time.process_time() - cpu)
                walls.append(time.perf_counter() - wall)
            label = f"{name}, {mode}"
            print(f"{who:<9} {label:<38} {status} {len(body):>8} B  wall min "
                  f"{1000 * min(walls):6.1f} ms, median {1000 * statistics.median(walls):6.1f}"
                  f" ms; CPU min {1000 * min(cpus):6.1f} ms", flush=True)
    if profiler:
        inprocess.print_profile(profiler, args.profile, 60)
    db.get_engine().dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--profile")
    parser.add_argument("--sql", action="store_true", help="time each statement once")
    args = parser.parse_args()
    ds = dataset.ensure(args.db, dataset.Size(args.events, 10 * args.events))
    asyncio.run(_run(args, ds.url))


if __name__ == "__main__":
    main()
