"""Cache keys of polled URLs, worked out once per (raw query string, language).

Feed readers, calendar apps, API clients and embedding sites ask for the same few URLs over
and over, and on a cache hit or a 304 parsing the query string into a filter (and checking
it) was the biggest single cost left in web/fast_path.py. A resource's cache key is a function
of its raw query string and the request's language alone (the language goes into the key, or
into an error message the parser raises), so each resource keeps that function's answers for
the pairs it has seen: a repeat parses nothing.

Bounded, since a client chooses the query strings: at most MAX_ENTRIES pairs per resource
(emptied when full), and a query string longer than MAX_QUERY_BYTES is parsed every time and
never kept. A query the parser refuses raises as before and is never kept, so the full stack
answers it (its 4xx, in the request's language) every time.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

from events_app import i18n
from events_app.util.memo import ClientMemo

MAX_ENTRIES = 256
MAX_QUERY_BYTES = 512


class QueryKeys:
    """`key_of(request)`, kept per (raw query string, i18n.current()). `key_of` must depend on
    nothing else of the request (not its path, headers or cookies, nor the clock)."""

    def __init__(self, key_of: Callable[[Request], str]) -> None:
        self.key_of = key_of
        self._keys: ClientMemo[tuple[bytes, str], str] = ClientMemo(MAX_ENTRIES)

    def __call__(self, request: Request) -> str:
        query: bytes = request.scope.get("query_string", b"")
        memo = (query, i18n.current())
        key = self._keys.get(memo)
        if key is None:
            key = self.key_of(request)  # raises on a refused query: nothing kept
            if len(query) <= MAX_QUERY_BYTES:
                self._keys.keep(memo, key)
        return key
