"""Process memory: glibc's malloc arenas, capped for a server of many threads.

glibc gives each thread that meets contention its own malloc arena (up to 8 per core), and
memory freed in one arena is not reused by the others. Handlers run in a thread pool of up to
40 threads, so a worker's RSS grew by tens of MB of freed-but-held memory spread over arenas:
at 20,000 events, 586 distinct pages fetched 16 at a time left a worker at 176 MB, and at
154 MB with two arenas (what MALLOC_ARENA_MAX=2 does, set here from inside the process so no
deployment has to remember it). Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


def limit_malloc_arenas(count: int = 2) -> bool:
    """Cap the arenas before the thread pool starts; True when glibc took it."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, count))
