"""Conditional GET for everything polled by machines: feeds, the JSON API, the Atom feed.

One rule for validators, so an iCal subscriber, a feed reader and an API client all get a
body-less 304 on the same terms: the ETag decides when sent, else Last-Modified, which is only
announced once it has settled (feeds.settled_last_modified), so two versions of a body
never share a date.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import Response

from events_app.services.feeds import RenderedFeed, settled_last_modified


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2): W/"x" matches "x"; "*" matches anything."""
    candidates = [t.strip() for t in header.split(",")]
    return any(t == "*" or t.removeprefix("W/") == etag for t in candidates)


def not_modified(if_none_match: str | None, if_modified_since: str | None, feed: RenderedFeed,
                 last_modified: datetime | None) -> bool:
    if if_none_match is not None:
        # When both are sent the ETag decides (RFC 9110 13.2.2): it is the precise validator.
        return _etag_matches(if_none_match, feed.etag)
    if if_modified_since and last_modified is not None:
        try:
            since: datetime = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False  # an unparseable date is ignored, as RFC 9110 asks
        if since.tzinfo is None:
            return False
        return last_modified <= since
    return False


RawHeaders = list[tuple[bytes, bytes]]


def answer(method: str, if_none_match: str | None, if_modified_since: str | None,
           feed: RenderedFeed, media_type: str, cache_control: str,
           extra_headers: dict[str, str] | None = None, now: datetime | None = None
           ) -> tuple[int, RawHeaders, bytes]:
    """(status, headers, body): the body with its validators, a 304 when the client has it,
    or headers only on HEAD; the headers as Starlette's Response would write them. `now`:
    the time whose settled Last-Modified counts (the caller's, when it keeps the answer)."""
    last_modified = settled_last_modified(feed, now)
    headers = {"etag": feed.etag, "cache-control": cache_control,
               **{k.lower(): v for k, v in (extra_headers or {}).items()}}
    if last_modified is not None:
        headers["last-modified"] = format_datetime(last_modified, usegmt=True)
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if not_modified(if_none_match, if_modified_since, feed, last_modified):
        return 304, raw, b""
    # Same headers on HEAD as on GET, including the length of the body a GET would get.
    raw.append((b"content-length", str(len(feed.body)).encode("latin-1")))
    raw.append((b"content-type", _content_type(media_type).encode("latin-1")))
    return 200, raw, b"" if method == "HEAD" else feed.body


def unconditional(feed: RenderedFeed, media_type: str,
                  extra_headers: dict[str, str] | None = None
                  ) -> tuple[int, RawHeaders, bytes]:
    """(status, headers, body) of a cached resource sent without validators (no ETag, no
    Last-Modified, no Cache-Control, never a 304), as Starlette's
    `Response(feed.body, headers=extra_headers, media_type=media_type)` writes it, for the
    fast path (web/fast_path.py): the deprecated /api/events, whose answers never had any."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1"))
           for k, v in (extra_headers or {}).items()]
    raw.append((b"content-length", str(len(feed.body)).encode("latin-1")))
    raw.append((b"content-type", _content_type(media_type).encode("latin-1")))
    return 200, raw, feed.body  # on HEAD too: Starlette's Response sends it, the server drops it


def _content_type(media_type: str) -> str:
    """As Starlette's Response writes it (text/ types get a charset)."""
    if media_type.startswith("text/") and "charset=" not in media_type.lower():
        return f"{media_type}; charset=utf-8"
    return media_type


def validated_response(request: Request, feed: RenderedFeed, media_type: str,
                       cache_control: str, extra_headers: dict[str, str] | None = None
                       ) -> Response:
    """`answer` as a Response."""
    status, raw, body = answer(request.method, request.headers.get("if-none-match"),
                               request.headers.get("if-modified-since"), feed, media_type,
                               cache_control, extra_headers)
    response = Response(body, status_code=status)
    response.raw_headers = raw
    return response
