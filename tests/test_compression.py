"""web/compression.py's rules on raw header lists, which the fast path applies itself: the
same result as Starlette's own header handling in GZipMiddleware."""

from __future__ import annotations

import pytest
from starlette.datastructures import MutableHeaders

from events_app.web import compression

RawHeaders = list[tuple[bytes, bytes]]

VARY_CASES: list[RawHeaders] = [
    [(b"content-type", b"application/json")],
    [(b"vary", b"Origin"), (b"content-type", b"application/json")],
    # Several Vary headers: every value is kept, joined into the first one's place.
    [(b"vary", b"Origin"), (b"etag", b'"x"'), (b"vary", b"Accept-Language, Cookie")],
    [(b"etag", b'"x"'), (b"vary", b"Origin"), (b"vary", b"Cookie"), (b"vary", b"Accept")],
]


def _starlette(raw: RawHeaders) -> RawHeaders:
    headers = MutableHeaders(raw=list(raw))
    headers.add_vary_header("Accept-Encoding")
    return headers.raw


@pytest.mark.parametrize("raw", VARY_CASES)
def test_add_vary_is_starlettes_add_vary_header(raw: RawHeaders) -> None:
    given = list(raw)
    assert compression.add_vary(raw) == _starlette(raw)
    assert raw == given  # a new list: the caller's is left as it was


def test_add_vary_keeps_every_value_of_several_vary_headers() -> None:
    raw = [(b"vary", b"Origin"), (b"etag", b'"x"'), (b"vary", b"Accept-Language, Cookie")]
    assert compression.add_vary(raw) == [
        (b"vary", b"Origin, Accept-Language, Cookie, Accept-Encoding"), (b"etag", b'"x"')]
