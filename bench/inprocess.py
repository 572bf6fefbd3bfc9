"""What the in-process benches (rsvp_cpu, organizer_cpu, organizer_cold) share to see inside a
request: every statement timed, the thread pools' work run inline for cProfile, and the
profile printed."""

from __future__ import annotations

import cProfile
import pstats
import time
from concurrent.futures import Executor, Future
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine


def time_statements(engine: Engine) -> list[tuple[float, str]]:
    """From now on, each statement `engine` runs is appended to the list returned: (seconds,
    SQL). The caller clears it between the requests it reports on."""
    timings: list[tuple[float, str]] = []

    @sa_event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, *_: Any) -> None:
        conn.info["started"] = time.perf_counter()

    @sa_event.listens_for(engine, "after_cursor_execute")
    def _done(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        timings.append((time.perf_counter() - conn.info.pop("started"), statement))

    return timings


class _Inline(Executor):
    """An executor that runs each call at once on the caller's thread."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        done: Future = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting caller
            done.set_exception(exc)
        return done


def run_threads_inline() -> None:
    """cProfile sees one thread: run on the event loop's thread what the app hands to
    threads, both Starlette's (anyio's to_thread: reads, pages) and the RSVP writes' own pool
    (web/write_slots.py). For sequential requests only: nothing then runs at once."""
    import anyio.to_thread

    from events_app.web import write_slots

    async def inline(func: Any, *args: Any, **_: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]
    inline_pool = _Inline()
    write_slots._pool = lambda: inline_pool  # type: ignore[assignment]


def print_profile(profiler: cProfile.Profile, path: str, cumulative: int) -> None:
    """Save the profile to `path` and print its top functions, by cumulative time and by
    their own time."""
    profiler.dump_stats(path)
    pstats.Stats(path).sort_stats("cumulative").print_stats(cumulative)
    pstats.Stats(path).sort_stats("tottime").print_stats(30)
