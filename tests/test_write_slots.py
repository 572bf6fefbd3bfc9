"""RSVP writes run a few at a time per process (web/write_slots.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from events_app import i18n, settings
from events_app.web import write_slots

T = TypeVar("T")


def _in_own_thread(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run in a thread of its own: a loop other tests left running in this thread
    (browser tests) would refuse it, and each call here gets a fresh loop."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = asyncio.run(coro_fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def _run_many(n: int) -> tuple[int, list[int]]:
    """n writes started at once; the most that ran together, and their results in order."""
    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    def write(i: int) -> int:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        return i * i

    async def main() -> list[int]:
        return list(await asyncio.gather(*(write_slots.run_write(write, i) for i in range(n))))

    results = _in_own_thread(main)
    return state["most"], results


def test_writes_run_at_most_the_setting_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "RSVP_WRITE_THREADS", 3)
    most, results = _run_many(12)
    assert most == 3
    assert results == [i * i for i in range(12)]


def test_a_second_event_loop_works_as_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another loop (another test client, a restarted server) gets the same slots."""
    monkeypatch.setattr(settings, "RSVP_WRITE_THREADS", 2)
    assert _run_many(6)[0] == 2
    assert _run_many(6) == (2, [i * i for i in range(6)])


def test_a_write_s_exception_reaches_the_caller() -> None:
    def refuse() -> None:
        raise ValueError("no")

    async def main() -> None:
        await write_slots.run_write(refuse)

    with pytest.raises(ValueError, match="no"):
        _in_own_thread(main)


def test_the_request_s_context_goes_with_the_write() -> None:
    """The write sees the request's language (a context variable), as Starlette's thread
    pool would show it: messages built in the service speak the reader's language."""

    async def main() -> tuple[str, str]:
        i18n.activate("es")
        return await write_slots.run_write(i18n.current), i18n.current()

    assert _in_own_thread(main) == ("es", "es")
