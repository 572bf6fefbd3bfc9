"""util/memory.py: the malloc settings are taken where the C library is glibc."""

from __future__ import annotations

import platform

import pytest

from events_app.util.memory import (
    give_back_free_memory,
    keep_large_blocks_mapped,
    limit_malloc_arenas,
)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc setting")
def test_glibc_takes_the_arena_cap() -> None:
    assert limit_malloc_arenas(2) is True


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc setting")
def test_glibc_takes_the_fixed_mmap_threshold() -> None:
    assert keep_large_blocks_mapped() is True


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc function")
def test_free_memory_is_given_back_at_most_once_per_interval() -> None:
    assert give_back_free_memory(interval=0) is True
    assert give_back_free_memory(interval=3600) is False  # just done: skipped
