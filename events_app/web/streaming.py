"""Bodies streamed from a generator that holds something until it ends (a database session).

Starlette streams a plain iterator through its thread pool and, when the client goes away,
cancels the stream mid-way. The generator is then left suspended where it last yielded, and
whatever it holds is let go only when the garbage collector reaches it: for the attendee CSV,
a pooled connection in an open transaction. A burst of abandoned downloads (wrk stopping
with 32 of them in flight) kept every connection of both workers' pools checked out until
then, and the requests after it waited out the pool's timeout and failed (bench.run, and
tests/test_stream_disconnect.py). `closing` closes the generator as soon as the stream ends,
however it ends, in the thread pool (closing it rolls back and returns the connection).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
import anyio.to_thread
from starlette.concurrency import iterate_in_threadpool


async def closing(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """`chunks` as StreamingResponse would stream it, closed (a generator: its `finally`
    blocks and `with` exits run) when the stream ends: done, failed, or cancelled because
    the client left."""
    try:
        async for chunk in iterate_in_threadpool(chunks):
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            with anyio.CancelScope(shield=True):  # a cancelled stream still closes it
                await anyio.to_thread.run_sync(close)
