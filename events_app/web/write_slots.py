"""RSVP writes off the event loop, a few at a time per process.

Starlette's run_in_threadpool shares anyio's default limiter (40 threads). Under an RSVP rush
that lets dozens of write transactions run at once in one process: they queue on the event's
row lock and on the GIL, and each post then costs more CPU than it does alone (bench.run,
runs alternated: 5.89 / 4.56 ms of app CPU per post with 40 threads, 4.95 / 4.15 ms with 4,
and about a quarter more posts a second; settings.RSVP_WRITE_THREADS). Writes here take one of
settings.RSVP_WRITE_THREADS slots; the rest wait on the event loop, which costs nothing, and
reads (pages, feeds) keep the default pool to themselves.

anyio's limiter belongs to one event loop, so each loop gets its own (the server has one;
tests start several).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from events_app import settings

T = TypeVar("T")

_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary())


def _limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    found = _limiters.get(loop)
    if found is None:
        found = _limiters[loop] = anyio.CapacityLimiter(settings.RSVP_WRITE_THREADS)
    return found


async def run_write(func: Callable[..., T], *args: Any) -> T:
    """`func(*args)` in a worker thread once a write slot is free."""
    return await anyio.to_thread.run_sync(partial(func, *args), limiter=_limiter())
