"""web/query_keys.py: a resource's cache key worked out once per (raw query string,
language), bounded, and never kept for a query the parser refuses."""

from __future__ import annotations

import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request

from events_app import i18n
from events_app.web import query_keys
from events_app.web.query_keys import QueryKeys


def _request(query: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/x", "headers": [],
                    "query_string": query.encode()})


class _Parser:
    """A key function that refuses `bad=1` and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request: Request) -> str:
        self.calls += 1
        if request.query_params.get("bad"):
            raise HTTPException(400, i18n.gettext("Upcoming events"))
        return f"key:{sorted(request.query_params.multi_items())}"


def test_a_repeated_query_is_parsed_once_per_language() -> None:
    parser = _Parser()
    keys = QueryKeys(parser)
    first = keys(_request("b=2&a=1"))
    assert keys(_request("b=2&a=1")) == first and parser.calls == 1
    assert keys(_request("a=1&b=2")) == first and parser.calls == 2  # another spelling
    with i18n.using("es"):
        assert keys(_request("b=2&a=1")) == first and parser.calls == 3
        keys(_request("b=2&a=1"))
    assert parser.calls == 3


def test_a_refused_query_raises_every_time_in_the_readers_language() -> None:
    parser = _Parser()
    keys = QueryKeys(parser)
    for language, detail in (("en", "Upcoming events"), ("es", "Próximos eventos"),
                             ("en", "Upcoming events")):
        with i18n.using(language), pytest.raises(HTTPException) as refused:
            keys(_request("bad=1"))
        assert (refused.value.status_code, refused.value.detail) == (400, detail)
    assert parser.calls == 3


def test_kept_keys_are_bounded_in_number_and_length() -> None:
    parser = _Parser()
    keys = QueryKeys(parser)
    long = "a=" + "x" * query_keys.MAX_QUERY_BYTES
    keys(_request(long))
    keys(_request(long))
    assert parser.calls == 2  # too long to keep: parsed every time, still answered
    for n in range(query_keys.MAX_ENTRIES + 1):
        keys(_request(f"n={n}"))
    assert len(keys._keys) <= query_keys.MAX_ENTRIES
