"""Reading ASGI's raw header lists ((name, value) byte pairs, names lower-case).

Several layers read one request or response header per request (the middleware stack, the
fast path, the form reader): asking the raw list directly spares building a Starlette
`Headers` and lower()ing the name each time, and this is the one place that says how.
"""

from __future__ import annotations

from collections.abc import Iterable


def first(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first value of header `name` (lower-case), what Starlette's `Headers.get`
    answers; None when there is none."""
    for key, value in headers:
        if key == name:
            return value
    return None
