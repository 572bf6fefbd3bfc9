"""web/token_pages.py: the shared copy of a page with a form gets each visitor's token, and
its gzip member, joined from pieces compressed once, decodes to exactly that page."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime

import pytest

from events_app.services.feeds import RenderedFeed
from events_app.web import token_pages
from events_app.web.token_pages import STAND_IN

TOKEN = "ab12" * 16


def _page(body: str) -> RenderedFeed:
    raw = body.encode()
    return RenderedFeed(raw, f'"{zlib.crc32(raw)}-{len(raw)}"', datetime.now(UTC))


@pytest.mark.parametrize("body", [
    f"<form><input name=csrf_token value={STAND_IN}></form>" + "<p>Town hall</p>" * 400,
    f"{STAND_IN}" + "x" * 3000 + STAND_IN + "y" * 10 + STAND_IN,  # at both ends, repeated
    "<p>no form on this page</p>" * 100,
    "",
])
def test_gzip_member_decodes_to_the_page_with_the_token(body: str) -> None:
    token_pages.clear()
    page = _page(body)
    expected = body.replace(STAND_IN, TOKEN).encode()
    for _ in range(2):  # compressed pieces made, then reused
        plain, member = token_pages.gzipped_with_token(page, TOKEN)
        assert plain == expected == token_pages.with_token(page.body, TOKEN)
        assert gzip.decompress(member) == expected
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)  # strict: nothing after the member
        assert decoder.decompress(member) == expected and decoder.eof
        assert decoder.unused_data == b""


def test_each_visitor_gets_only_their_own_token() -> None:
    page = _page(f"<input value={STAND_IN}>" + "z" * 2000)
    first = gzip.decompress(token_pages.gzipped_with_token(page, TOKEN)[1])
    second = gzip.decompress(token_pages.gzipped_with_token(page, "cd34" * 16)[1])
    assert TOKEN.encode() in first and TOKEN.encode() not in second
    assert STAND_IN.encode() not in first + second
