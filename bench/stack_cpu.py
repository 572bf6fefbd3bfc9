"""In-process CPU and Python calls per request spent in the middleware stack alone.

Every request the fast path does not answer (RSVP posts, organizer pages, first renders)
goes through the whole stack: compression, security headers, trusted hosts, language, CORS,
CSRF, session cookies, and Starlette's own error and exception layers. To see what the stack
itself costs, this adds trivial routes (a constant body, no database, no template) in front
of the real app's routes and times them next to bare Starlette serving the same routes; the
difference is the stack's. cProfile's call count per request is the load-independent check.
Figures only: nothing asserts a speed.

Usage: .venv/bin/python -m bench.stack_cpu [--requests 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import tempfile
import time
from typing import Any

os.environ.setdefault("SECRET_KEY", "bench-only-secret-" + "x" * 20)

_HTML = "<!doctype html><title>x</title><p>" + "stack " * 120 + "</p>"

# (name, method, path, request headers)
CASES: list[tuple[str, str, str, dict[str, str]]] = [
    ("text", "GET", "/__stack/text", {}),
    ("html", "GET", "/__stack/html", {}),
    ("html-gzip", "GET", "/__stack/html", {"Accept-Encoding": "gzip, deflate, br",
                                          "Accept-Language": "en-US,en;q=0.9"}),
    ("html-cookies", "GET", "/__stack/html", {
        "Accept-Encoding": "gzip", "Accept-Language": "es",
        "Cookie": "csrftoken=" + "n" * 43 + "; lang=es"}),
    ("api-json", "GET", "/api/__stack", {"Accept-Encoding": "gzip", "Origin": "https://a.b"}),
    ("redirect-post", "POST", "/__stack/post", {"Accept-Encoding": "gzip",
                                               "Cookie": "csrftoken=" + "n" * 43}),
]


def _routes() -> list[Any]:
    from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
    from starlette.routing import Route

    async def text(request: Any) -> Response:
        return PlainTextResponse("ok")

    async def html(request: Any) -> Response:
        return Response(_HTML, media_type="text/html")

    async def api(request: Any) -> Response:
        return JSONResponse({"ok": True})

    async def post(request: Any) -> Response:
        return RedirectResponse("/events", status_code=303)

    return [Route("/__stack/text", text), Route("/__stack/html", html),
            Route("/api/__stack", api), Route("/__stack/post", post, methods=["POST"])]


def _apps() -> tuple[Any, Any]:
    from starlette.applications import Starlette

    from events_app.web.app import create_app

    app = create_app()
    app.router.routes[0:0] = _routes()
    return app, Starlette(routes=_routes())


def _run(loop: Any, app: Any, method: str, path: str, headers: dict[str, str], n: int
         ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """`n` requests in a row on `loop` (bench/http_cpu.py's driver); the last one's answer."""
    from bench.http_cpu import call

    async def many() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        answer = await call(app, path, headers, method)
        for _ in range(n - 1):
            answer = await call(app, path, headers, method)
        return answer

    return loop.run_until_complete(many())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many")
    parser.add_argument("--show-headers", action="store_true")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="stack-cpu-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder}/events.db")
    from events_app.migrate import upgrade

    upgrade(os.environ["DATABASE_URL"])
    app, bare = _apps()
    loop = asyncio.new_event_loop()
    print(f"{'case':<14} {'status':>6} {'app us':>8} {'bare us':>8} {'stack us':>9} "
          f"{'calls/req':>9}")
    for name, method, path, headers in CASES:
        status, got_headers, _ = _run(loop, app, method, path, headers, 50)  # warm
        _run(loop, bare, method, path, headers, 50)
        timings = []
        for which in (app, bare):
            best = float("inf")
            for _ in range(args.rounds):
                start = time.process_time()
                _run(loop, which, method, path, headers, args.requests)
                best = min(best, (time.process_time() - start) / args.requests * 1e6)
            timings.append(best)
        profile = cProfile.Profile()
        profile.enable()
        _run(loop, app, method, path, headers, 100)
        profile.disable()
        calls = pstats.Stats(profile).total_calls / 100  # type: ignore[attr-defined]
        print(f"{name:<14} {status:>6} {timings[0]:>8.1f} {timings[1]:>8.1f} "
              f"{timings[0] - timings[1]:>9.1f} {calls:>9.0f}")
        if args.show_headers:
            for key, value in got_headers:
                print(f"    {key.decode()}: {value.decode()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
