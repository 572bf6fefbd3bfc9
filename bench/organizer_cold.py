"""The organizer pages' first (cold) requests in a fresh worker, timed in-process on the bench
dataset: the app is created and warmed up as a served worker is (web/warm_up.py), the bench
organizer's session is made as if they had signed in through another worker (so nothing of
the organizer pages ran here before), then each page is opened once cold and a few times
more. With --profile, the cold requests are profiled (cProfile, inline: no thread pool);
with --sql, each statement of the cold requests is timed.

bench.run's "cold" column is the first request of a page after the pages before it, on
whichever worker the new connection lands: a worker that served the sign-in has the
dashboard kept already, the other has not. This script measures the worker that has not.

Usage: .venv/bin/python -m bench.organizer_cold [--db postgresql|sqlite] [--events 100000]
       [--profile FILE] [--sql] [--no-warm]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import time

os.environ.setdefault("SECRET_KEY", "bench-only-secret-" + "x" * 20)
os.environ["SMTP_HOST"] = ""

from bench import dataset, inprocess  # noqa: E402
from bench.rsvp_cpu import Client  # noqa: E402


def _session_cookie(email: str) -> dict[str, str]:
    """A signed-in session of `email`, made through the service (as another worker's sign-in
    would have), and the cookies a browser would then send."""
    from sqlmodel import select

    from events_app.db import read_session
    from events_app.models import Organizer, SessionStage
    from events_app.services import login_sessions
    from events_app.web.sessions import COOKIE_NAME

    with read_session() as session:
        organizer = session.exec(select(Organizer).where(Organizer.email == email)).one()
    token, _row = login_sessions.replace(None, organizer, SessionStage.SIGNED_IN)
    return {"Cookie": f"csrftoken=bench-cold-nonce; {COOKIE_NAME}={token}"}


async def _run(args: argparse.Namespace, url: str) -> None:
    from events_app import db, settings
    from events_app.web import warm_up
    from events_app.web.app import create_app

    db.set_engine(db.make_engine(url))
    app = create_app()
    client = Client(app, settings.ALLOWED_HOSTS[0])
    started = time.perf_counter()
    if not args.no_warm:
        await warm_up.warm_up(app)
    print(f"start-up warm-up {1000 * (time.perf_counter() - started):.0f} ms")
    timings = inprocess.time_statements(db.get_engine()) if args.sql else []
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        inprocess.run_threads_inline()
    headers = _session_cookie(dataset.ORGANIZER_EMAIL)
    door = f"/organizer/events/{dataset.DOOR_LIST_SLUG}/attendees"
    for name, path in (("dashboard", "/organizer/"), ("attendees", door)):
        for attempt in range(args.repeat + 1):
            timings.clear()
            if profiler and attempt == 0:
                profiler.enable()
            cpu, wall = time.process_time(), time.perf_counter()
            status, body = await client.call("GET", path, headers)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if profiler and attempt == 0:
                profiler.disable()
            label = "cold" if attempt == 0 else f"again {attempt}"
            print(f"{name:<10} {label:<8} {status} {len(body):>7} B  wall {1000 * wall:6.1f} ms"
                  f"  CPU {1000 * cpu:6.1f} ms", flush=True)
            for seconds, statement in timings if attempt == 0 else ():
                print(f"    {1000 * seconds:7.2f} ms  {' '.join(statement.split())[:140]}")
    if profiler:
        inprocess.print_profile(profiler, args.profile, 70)
    db.get_engine().dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile")
    parser.add_argument("--sql", action="store_true", help="time each cold statement")
    parser.add_argument("--no-warm", action="store_true", help="skip the start-up warm-up")
    args = parser.parse_args()
    ds = dataset.ensure(args.db, dataset.Size(args.events, 10 * args.events))
    asyncio.run(_run(args, ds.url))


if __name__ == "__main__":
    main()
