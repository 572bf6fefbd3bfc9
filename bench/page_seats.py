"""Public page renders during an RSVP rush, measured in-process: RSVPs posted to one event,
and after each post a new visitor reads a few public pages, some of which show that event
and some of which do not.

Every RSVP changes the site-wide seats version; what matters is which cached pages are
rendered again for it (each render is ~10-20 ms of a worker's CPU on the bench dataset) and
which are kept (services/listing_cache.py, services/shown_seats.py). Prints, per page, the
renders per RSVP post (1.0: rendered after every post; 0: kept), and the app's CPU per round
of one post and its reads. Runs the real ASGI app (bench/rsvp_cpu.py's driver) on a fresh
database of its own.

Usage: .venv/bin/python -m bench.page_seats [--db postgresql|sqlite] [--posts 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from urllib.parse import urlencode

os.environ.setdefault("SECRET_KEY", "bench-only-secret-" + "x" * 20)
os.environ["SMTP_HOST"] = ""

from bench.rsvp_cpu import (  # noqa: E402
    POSTS_PER_CLIENT,
    Client,
    form_session,
    on_fresh_database,
)


async def _run(args: argparse.Namespace, url: str) -> dict[str, object]:
    from bench.run import prepare
    from events_app import settings
    from events_app.services import listing_cache
    from events_app.web.app import create_app

    targets = prepare(url, [1], capacity=args.posts * 4)[1]
    app = create_app()
    client = Client(app, settings.ALLOWED_HOSTS[0])
    contested, other = targets.contested_slug, targets.open_slugs[0]
    month = time.strftime("%Y-%m", time.gmtime(time.time() + 14 * 86400))
    pages = {  # name: (path, whether it shows the contested event's spots left)
        "detail, other event": f"/events/{other}",
        "API JSON, other event": f"/api/v1/events/{other}",
        "detail, the event": f"/events/{contested}",
        "list (shows the event)": "/events",
        "month grid": f"/events/month/{month}",
        "Atom": "/events.atom",
    }
    headers, token = await form_session(client, contested)
    renders = dict.fromkeys(pages, 0)
    statuses: dict[int, int] = {}
    for path in pages.values():  # each rendered once before the rush
        await client.call("GET", path, {})
    cpu_before = time.process_time()
    for i in range(args.posts):
        body = urlencode({"name": f"Bench Person {i}", "email": f"p{i}@bench.example.org",
                          "guests": "0", "csrf_token": token, "website": ""}).encode()
        address = f"10.9.{i // POSTS_PER_CLIENT // 256 % 256}.{i // POSTS_PER_CLIENT % 256}"
        code, _ = await client.call("POST", f"/events/{contested}/rsvp", headers, body, address)
        statuses[code] = statuses.get(code, 0) + 1
        for name, path in pages.items():
            before = listing_cache.cache.renders
            code, _ = await client.call("GET", path, {})
            if code != 200:
                raise RuntimeError(f"{path}: {code}")
            renders[name] += listing_cache.cache.renders - before
    cpu = time.process_time() - cpu_before
    return {"posts": statuses,
            "renders per post": {name: round(n / args.posts, 2) for name, n in renders.items()},
            "app CPU per post and its reads (ms)": round(1000 * cpu / args.posts, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="sqlite")
    parser.add_argument("--posts", type=int, default=100)
    args = parser.parse_args()
    figures = on_fresh_database(args.db, lambda url: _run(args, url))
    print(f"{args.db}:")
    for name, value in figures.items():
        print(f"  {name}: {value}")


if __name__ == "__main__":
    sys.exit(main())
