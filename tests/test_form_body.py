"""web/form_body.py gives exactly the fields Starlette's own parser gives for a url-encoded body."""

from __future__ import annotations

import random

import pytest
from starlette.requests import Request

from events_app.web import form_body

_HEADERS = [(b"content-type", form_body.CONTENT_TYPE)]


def _starlette(body: bytes, max_fields: int = 1000) -> list[tuple[str, object]]:
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def form() -> list[tuple[str, object]]:
        request = Request({"type": "http", "method": "POST", "headers": _HEADERS}, receive)
        return list((await request.form(max_fields=max_fields)).multi_items())

    # Nothing here waits on anything: one step runs it to the end, with no event loop (a
    # loop another test left running in this thread would refuse asyncio.run).
    coro = form()
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("Starlette's parser waited for something")


def _ours(body: bytes, max_fields: int = 1000) -> list[tuple[str, object]]:
    return list(form_body.parse(body, max_fields).multi_items())


@pytest.mark.parametrize("body", [
    b"", b"&", b"&&", b"=", b"==", b"a", b"a=", b"=b", b"a=b=c", b"a&b", b"a&=b", b"&a=1&&b=2&",
    b"name=Ana+Mar%C3%ADa&email=a%40b.org&guests=2&csrf_token=abc&website=",
    b"x=%ZZ&y=%E2%82&z=%", b"q=caf\xe9&r=\xff%FF", b"a=1;b=2", b"+=+&%2B=%2B", b"a=%26&b=%3D",
    b"dup=1&dup=2&dup=",
])
def test_same_fields_as_starlette(body: bytes) -> None:
    assert _ours(body) == _starlette(body)


def test_same_fields_as_starlette_on_random_bodies() -> None:
    pieces = [b"a", b"b", b"=", b"&", b"&&", b"%", b"%2", b"%41", b"%c3%a9", b"+", b";",
              b"\xe9", b"\xff", b" ", b"name", b"%26", b"%3D", b"%zz"]
    rng = random.Random(11)
    for _ in range(2000):
        body = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert _ours(body) == _starlette(body), body


def test_too_many_fields_is_refused_as_starlette_refuses_it() -> None:
    body = b"&".join(b"f%d=1" % i for i in range(4))
    assert len(_ours(body, max_fields=4)) == 4
    with pytest.raises(form_body.TooManyFields):
        form_body.parse(body + b"&extra=1", 4)
    with pytest.raises(Exception, match="Too many fields"):
        _starlette(body + b"&extra=1", max_fields=4)
    # Empty fields are not fields, for either.
    assert len(_ours(body + b"&&&", max_fields=4)) == 4


@pytest.mark.parametrize(("value", "ours"), [
    (b"application/x-www-form-urlencoded", True),
    (b"application/x-www-form-urlencoded; charset=utf-8", False),
    (b"Application/X-WWW-Form-Urlencoded", False),
    (b"multipart/form-data; boundary=x", False),
    (None, False),
])
def test_only_the_plain_urlencoded_type_is_split_here(value: bytes | None, ours: bool) -> None:
    headers = [(b"host", b"x")] + ([(b"content-type", value)] if value is not None else [])
    assert form_body.is_urlencoded(headers) is ours
