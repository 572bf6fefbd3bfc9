"""Cached pages that hold a form: one rendered copy for everyone, each visitor's CSRF token
put in as it is sent.

The event page carries the RSVP form, whose hidden token is the visitor's own (web/csrf.py),
yet the rest of the page is the same for every visitor. So the page is rendered once with
STAND_IN where the token goes (a random value no event text can contain) and cached like any
public page; each answer replaces the stand-in with the visitor's token.

Gzip. Compressing the 13 KB page afresh for each visitor at level 9 cost ~200 us of CPU,
more than everything else in a cache hit. The page around the stand-in never changes, so
its pieces are compressed once per cached body (kept by the body's ETag, bounded by bytes)
as independent deflate blocks, each ending on a byte boundary (a sync flush); an answer
joins them with the token as a stored (uncompressed) block and closes the gzip member with
the CRC and length of the whole page. Any gzip reader decodes exactly the page `with_token`
gives (tests/test_token_pages.py).
"""

from __future__ import annotations

import secrets
import struct
import zlib

from events_app.services.feeds import RenderedFeed
from events_app.util.lru import LruCache
from events_app.web.compression import COMPRESS_LEVEL

STAND_IN = f"csrf-{secrets.token_hex(16)}"
_STAND_IN = STAND_IN.encode()
# ID1 ID2, deflate, no flags, no mtime (a cached page has no one time), XFL "best", OS unknown.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
# A detail page compresses to ~4 KB: a few hundred of the most visited pages.
PIECES_CACHE_BYTES = 1024 * 1024
_pieces: LruCache[str, tuple[bytes, ...]] = LruCache(
    max_entries=1024, max_weight=PIECES_CACHE_BYTES,
    weigh=lambda pieces: sum(len(p) for p in pieces) + 200)


def stand_in(_request: object) -> str:
    """For the template's `csrf_token(request)` while rendering the shared copy."""
    return STAND_IN


def with_token(body: bytes, token: str) -> bytes:
    return body.replace(_STAND_IN, token.encode("ascii"))


def _deflated_pieces(body: bytes) -> tuple[bytes, ...]:
    """The raw deflate data of each piece of `body` between stand-ins: every piece but the
    last ends with a sync flush (byte-aligned, not final), the last closes the stream."""
    pieces = body.split(_STAND_IN)
    out = []
    for i, piece in enumerate(pieces):
        compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
        end = zlib.Z_FINISH if i == len(pieces) - 1 else zlib.Z_SYNC_FLUSH
        out.append(compressor.compress(piece) + compressor.flush(end))
    return tuple(out)


def _stored_block(data: bytes) -> bytes:
    """`data` as one non-final stored deflate block (RFC 1951 3.2.4), starting on a byte."""
    return b"\x00" + struct.pack("<HH", len(data), len(data) ^ 0xFFFF) + data


def gzipped_with_token(page: RenderedFeed, token: str) -> tuple[bytes, bytes]:
    """(the page with `token`, that page as a gzip member), compressing only the token."""
    pieces = _pieces.get(page.etag)
    if pieces is None:
        pieces = _deflated_pieces(page.body)
        _pieces.put(page.etag, pieces)
    plain = with_token(page.body, token)
    trailer = struct.pack("<II", zlib.crc32(plain), len(plain) & 0xFFFFFFFF)
    return plain, _GZIP_HEADER + _stored_block(token.encode("ascii")).join(pieces) + trailer


def clear() -> None:
    _pieces.clear()
