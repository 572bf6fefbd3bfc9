"""Benchmark: requests per second of the public pages on one uvicorn worker (SQLite, demo data).

Prints figures; it asserts nothing. Usage: .venv/bin/python bench/pages.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load(port: int, path: str, seconds: float, threads: int) -> tuple[int, int]:
    done = [0]
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        n = e = 0
        while time.monotonic() < stop:
            conn.request("GET", path, headers={"Cookie": "csrftoken=" + "b" * 43})
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                n += 1
            else:
                e += 1
        conn.close()
        with lock:
            done[0] += n
            errors[0] += e

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return done[0], errors[0]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
               "SECRET_KEY": "bench", "RSVP_RATE_LIMIT": "1000000"}
        cli = [sys.executable, "-m", "events_app.cli"]
        subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([*cli, "seed"], env=env, check=True, capture_output=True)
        port = 8765
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "events_app.web.app:app", "--port", str(port),
             "--log-level", "warning", "--no-access-log"], env=env, cwd=ROOT)
        try:
            time.sleep(2.5)
            print(f"one uvicorn worker, SQLite, demo data; {args.threads} client threads, "
                  f"{args.seconds:.0f}s per page")
            for path in ("/events", "/events?category=meeting", "/events?when=past",
                         "/events/daca-letter-signing-call", "/api/v1/events",
                         "/api/v1/events?category=meeting", "/events.atom",
                         "/embed/upcoming", "/static/app.css"):
                load(port, path, 0.5, args.threads)  # warm-up
                ok, bad = load(port, path, args.seconds, args.threads)
                print(f"{path:45s} {ok / args.seconds:8.0f} req/s  ({bad} non-200)")
        finally:
            server.terminate()
            server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
