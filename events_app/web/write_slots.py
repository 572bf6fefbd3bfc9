"""RSVP writes off the event loop, a few at a time per process.

Starlette's run_in_threadpool shares anyio's default limiter (40 threads). Under an RSVP rush
that lets dozens of write transactions run at once in one process: they queue on the event's
row lock and on the GIL, and each post then costs more CPU than it does alone (bench.run,
runs alternated: 5.89 / 4.56 ms of app CPU per post with 40 threads, 4.95 / 4.15 ms with 4,
and about a quarter more posts a second; settings.RSVP_WRITE_THREADS). Writes run here on a
pool of their own with settings.RSVP_WRITE_THREADS threads; the rest wait in its queue (the
caller waits on the event loop, which costs nothing), and reads (pages, feeds) keep the
default pool to themselves.

A standard-library pool rather than anyio's to_thread with a limiter of its own: the same
slots for a fraction of the hand-over (anyio's queue.Queue and limiter cost ~4% of a post's
GIL time under wrk, py-spy --gil). The caller's context variables (the request's language)
go with the call, as with to_thread. One pool per process, shared by every event loop in it
(the server has one; tests start several); a new one if the setting changes (tests).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from events_app import settings

T = TypeVar("T")

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    size = settings.RSVP_WRITE_THREADS
    found = _pools.get(size)
    if found is None:
        with _pools_lock:
            found = _pools.get(size)
            if found is None:
                found = _pools[size] = ThreadPoolExecutor(size, thread_name_prefix="rsvp-write")
    return found


async def run_write(func: Callable[..., T], *args: Any) -> T:
    """`func(*args)` in a worker thread once a write slot is free. A write that has started
    runs to its end even if the caller is cancelled meanwhile (a shut-down server's last
    requests); one still waiting for a slot is dropped with it."""
    run = partial(contextvars.copy_context().run, func, *args)
    return await asyncio.get_running_loop().run_in_executor(_pool(), run)
