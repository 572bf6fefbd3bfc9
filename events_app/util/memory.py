"""Process memory: glibc's malloc arenas, capped for a server of many threads.

glibc gives each thread that meets contention its own malloc arena (up to 8 per core), and
memory freed in one arena is not reused by the others. Handlers run in a thread pool of up to
40 threads, so a worker's RSS grew by tens of MB of freed-but-held memory spread over arenas:
at 20,000 events, 586 distinct pages fetched 16 at a time left a worker at 176 MB, and at
154 MB with two arenas (what MALLOC_ARENA_MAX=2 does, set here from inside the process so no
deployment has to remember it). Elsewhere than glibc this does nothing.

Large blocks. glibc serves blocks from 128 KiB up with mmap, returned to the system when
freed, but raises that threshold (up to 32 MiB) each time such a block is freed: after the
first cold feed render, the big buffers of every later render (a feed's bytes, a page's
rows) come from the heap, whose freed middle is never given back. A fixed threshold keeps them
mmapped. bench/rss.py at 100,000 events (600 distinct pages, English and Spanish, 16 at a
time): peak 169.8 MB -> 161.8 MB, RSS after the run 167.3 -> 157.5 MB.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time

M_ARENA_MAX = -8  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, kept fixed


def _libc_function(name: str):  # noqa: ANN202 - a ctypes function, or None
    found = ctypes.util.find_library("c")
    if found is None:
        return None
    try:
        return getattr(ctypes.CDLL(found), name)
    except (OSError, AttributeError):
        return None


def _mallopt(param: int, value: int) -> bool:
    mallopt = _libc_function("mallopt")
    return bool(mallopt(param, value)) if mallopt is not None else False


def limit_malloc_arenas(count: int = 2) -> bool:
    """Cap the arenas before the thread pool starts; True when glibc took it."""
    return _mallopt(M_ARENA_MAX, count)


def keep_large_blocks_mapped(threshold: int = MMAP_THRESHOLD) -> bool:
    """Serve blocks of `threshold` bytes and more with mmap, always (no dynamic raise), so
    their memory goes back to the system when freed; True when glibc took it."""
    return _mallopt(M_MMAP_THRESHOLD, threshold)


# Freed memory in the middle of the heap. A render's rows, objects and text are freed when it
# ends, but glibc returns to the system only the free memory at the top of the heap; what
# other live blocks (cache entries stored meanwhile) sit above stays counted in RSS. Asking
# glibc to give back every free page (malloc_trim) after renders keeps a worker near what it
# really holds. It costs ~1 ms over a worker's heap, so at most once per interval.
TRIM_INTERVAL = 1.0  # seconds
_malloc_trim = _libc_function("malloc_trim")
_trim_lock = threading.Lock()
_last_trim = 0.0


def give_back_free_memory(interval: float = TRIM_INTERVAL) -> bool:
    """Return free heap pages to the system, unless that was done less than `interval`
    seconds ago (or another thread is doing it now); True when it ran."""
    global _last_trim
    if _malloc_trim is None or time.monotonic() - _last_trim < interval:
        return False
    if not _trim_lock.acquire(blocking=False):
        return False
    try:
        _malloc_trim(0)
        _last_trim = time.monotonic()
        return True
    finally:
        _trim_lock.release()
