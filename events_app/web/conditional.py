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


def not_modified(request: Request, feed: RenderedFeed, last_modified: datetime | None) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        # When both are sent the ETag decides (RFC 9110 13.2.2): it is the precise validator.
        return _etag_matches(if_none_match, feed.etag)
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since and last_modified is not None:
        try:
            since: datetime = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False  # an unparseable date is ignored, as RFC 9110 asks
        if since.tzinfo is None:
            return False
        return last_modified <= since
    return False


def validated_response(request: Request, feed: RenderedFeed, media_type: str,
                       cache_control: str, extra_headers: dict[str, str] | None = None
                       ) -> Response:
    """The body with its validators, a 304 when the client has it, or headers only on HEAD."""
    last_modified = settled_last_modified(feed)
    headers = {"ETag": feed.etag, "Cache-Control": cache_control, **(extra_headers or {})}
    if last_modified is not None:
        headers["Last-Modified"] = format_datetime(last_modified, usegmt=True)
    if not_modified(request, feed, last_modified):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        # Same headers as GET, including the length of the body a GET would get.
        headers["Content-Length"] = str(len(feed.body))
        return Response(b"", headers=headers, media_type=media_type)
    return Response(feed.body, headers=headers, media_type=media_type)
