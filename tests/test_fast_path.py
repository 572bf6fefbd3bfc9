"""The fast path (web/fast_path.py): cache hits and 304s answered before the middleware stack
give exactly the status, headers and bytes the full stack gives, and anything it cannot
answer the same way goes to the full stack."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col
from starlette.applications import Starlette

from events_app import settings
from events_app.db import get_engine
from events_app.models import DataVersion, Event, utcnow
from events_app.services import calendar_month, data_version, feeds, listing_cache
from events_app.web import compression, csrf
from events_app.web.app import EventsApp, create_app
from tests.factories import backdate_data_version, make_event
from tests.rsvp_helpers import CSRF_RE, rsvps

RawHeaders = list[tuple[bytes, bytes]]
CACHED_PATHS = ["/calendar.ics", "/calendar.ics?category=meeting&city=st.%20louis&months=3",
                "/calendar.ics?category=meeting&lang=es",  # a feed's language is its URL's
                "/api/v1/events", "/api/v1/events?city=St.%20Louis&q=hall",
                "/api/v1/categories", "/api/v1/cities", "/events.atom?category=meeting",
                "/embed/upcoming?limit=3&theme=dark"]


def _scope(path: str, headers: dict[str, str], method: str = "GET") -> dict[str, Any]:
    raw_path, _, query = path.partition("?")
    headers = {"host": "testserver", **{k.lower(): v for k, v in headers.items()}}
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": raw_path,
            "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}


def _call(asgi: Any, scope: dict[str, Any]) -> tuple[int, RawHeaders, bytes]:
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"], out["headers"] = message["status"], list(message["headers"])
        else:
            out["body"] += message.get("body", b"")

    # A loop of its own in a thread of its own: whatever loop other tests left running here.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, asgi(dict(scope), receive, send)).result()
    return out["status"], out["headers"], out["body"]


def _full_stack(app: EventsApp) -> Any:
    """The same app without its fast path: Starlette's own __call__ (middleware, router)."""
    return lambda scope, receive, send: Starlette.__call__(app, scope, receive, send)


def _both(app: EventsApp, path: str, headers: dict[str, str], method: str = "GET"):
    """(full stack's response, fast path's response or None)."""
    scope = _scope(path, headers, method)
    return _call(_full_stack(app), scope), app.fast_path.answer(scope)


@pytest.fixture
def app(client, monkeypatch) -> EventsApp:  # the client fixture: a fresh database, empty caches
    """The app, with the clock held still for the listing cache (an entry is valid for one
    minute) and the data version re-read only on this process's own writes (which it sees at
    once anyway), so a slow machine never turns a comparison into a miss."""
    compression.clear_copies()
    minute = utcnow()
    monkeypatch.setattr(listing_cache, "utcnow", lambda: minute)
    monkeypatch.setattr(data_version, "CHECK_INTERVAL", 3600)
    return client.app


def _etag(headers: RawHeaders) -> str:
    return dict(headers)[b"etag"].decode()


@pytest.mark.parametrize("path", CACHED_PATHS)
def test_hits_and_304s_equal_the_full_stack(app, path: str) -> None:
    make_event(title="Town hall", category="meeting", city="St. Louis")
    make_event(title="Budget hearing", category="hearing", city="Chicago")
    first, _ = _both(app, path, {})  # renders into the cache
    assert first[0] == 200
    etag = _etag(first[1])
    _both(app, path, {"Accept-Encoding": "gzip"})  # the full stack makes the gzip copy
    gz_tag = etag[:-1] + '-gzip"'
    variants: list[tuple[dict[str, str], str]] = [
        ({}, "GET"), ({}, "HEAD"),
        ({"Accept-Encoding": "gzip, deflate"}, "GET"),
        ({"Accept-Encoding": "gzip"}, "HEAD"),
        ({"If-None-Match": etag}, "GET"),
        ({"If-None-Match": f'"stale", W/{etag}'}, "GET"),
        ({"If-None-Match": '"stale"'}, "GET"),
        ({"If-None-Match": etag}, "HEAD"),
        ({"If-None-Match": gz_tag, "Accept-Encoding": "gzip"}, "GET"),
        ({"If-None-Match": gz_tag}, "GET"),
        ({"If-None-Match": "*", "Accept-Encoding": "gzip"}, "GET"),
        ({"If-None-Match": '"stale-gzip"', "Accept-Encoding": "gzip"}, "GET"),
        ({"If-Modified-Since": format_datetime(utcnow() + timedelta(days=1), usegmt=True)},
         "GET"),
        ({"If-Modified-Since": "not a date"}, "GET"),
        ({"Host": "127.0.0.1:8000", "Cookie": "csrftoken=" + "x" * 30}, "GET"),
    ]
    for headers, method in variants * 2:  # the second time from the kept answers
        full, fast = _both(app, path, headers, method)
        assert fast is not None, (headers, method)
        assert fast == full, (headers, method)
    statuses = {_both(app, path, h, m)[0][0] for h, m in variants}
    assert statuses == {200, 304}


def test_settled_last_modified_and_if_modified_since_match(app) -> None:
    at = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    make_event(created_at=at, updated_at=at)
    backdate_data_version(at)
    full, _ = _both(app, "/calendar.ics", {})
    last_modified = dict(full[1])[b"last-modified"].decode()
    for since in (last_modified, format_datetime(at - timedelta(days=1), usegmt=True)):
        full, fast = _both(app, "/calendar.ics", {"If-Modified-Since": since})
        assert fast == full
    assert _both(app, "/calendar.ics", {"If-Modified-Since": last_modified})[1][0] == 304


def test_security_headers_with_https(app, monkeypatch) -> None:
    """HSTS (BASE_URL on https) is sent on the fast path as on the full stack."""
    monkeypatch.setattr(settings, "HTTPS", True)
    https_app = create_app()
    make_event()
    _both(https_app, "/api/v1/events", {})
    full, fast = _both(https_app, "/api/v1/events", {})
    assert fast == full
    assert dict(fast[1])[b"strict-transport-security"] == b"max-age=31536000"
    assert dict(fast[1])[b"x-content-type-options"] == b"nosniff"
    assert dict(fast[1])[b"referrer-policy"] == b"strict-origin-when-cross-origin"


def test_what_it_cannot_answer_the_same_goes_to_the_full_stack(app) -> None:
    make_event()
    _both(app, "/api/v1/events", {})
    _both(app, "/calendar.ics", {})
    assert _both(app, "/api/v1/events", {})[1] is not None
    # CORS adds headers for a cross-origin reader; an unknown Host is refused there.
    assert _both(app, "/api/v1/events", {"Origin": "https://elsewhere.example"})[1] is None
    refused, fast = _both(app, "/api/v1/events", {"Host": "evil.example"})
    assert (refused[0], fast) == (400, None)
    # Bad input gets the full stack's 400; other methods, paths and uncached filters too.
    bad, fast = _both(app, "/calendar.ics?months=nope", {})
    assert (bad[0], fast) == (400, None)
    assert app.fast_path.answer(_scope("/calendar.ics", {}, "POST")) is None
    assert app.fast_path.answer(_scope("/events", {})) is None
    assert app.fast_path.answer(_scope("/calendar.ics?city=Chicago", {})) is None
    # A gzip copy not made yet is made by the full stack (in its thread pool), then kept.
    compression.clear_copies()
    gzip_scope = _scope("/calendar.ics", {"Accept-Encoding": "gzip"})
    assert app.fast_path.answer(gzip_scope) is None
    _call(app, gzip_scope)
    assert app.fast_path.answer(gzip_scope) is not None


def test_a_write_is_never_answered_from_the_old_entry(app) -> None:
    make_event(title="First")
    old, _ = _both(app, "/calendar.ics", {})
    make_event(title="Second")
    full, fast = _both(app, "/calendar.ics", {"If-None-Match": _etag(old[1])})
    assert fast is None or fast[0] == 200
    assert full[0] == 200 and b"Second" in full[2]
    assert _both(app, "/calendar.ics", {})[1] == _call(
        _full_stack(app), _scope("/calendar.ics", {}))


def test_the_app_answers_from_the_fast_path(app, client) -> None:
    """Through the real app (not just FastPath.answer): no render happens for a hit."""
    make_event()
    first = client.get("/api/v1/events")
    renders = listing_cache.cache.renders
    again = client.get("/api/v1/events", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert listing_cache.cache.renders == renders
    assert feeds.public_cache.renders == 0


def test_gzip_copy_is_made_once_per_body_and_reused(client) -> None:
    compression.clear_copies()
    for i in range(30):  # a feed well over the compression minimum
        make_event(title=f"Event {i}")
    plain = client.get("/calendar.ics", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/calendar.ics", headers={"Accept-Encoding": "gzip"})
    copy = compression.cached_copy(plain.headers["etag"])
    assert copy is not None and gzip.decompress(copy) == plain.content
    assert zipped.content == plain.content  # httpx decodes: the same feed
    again = client.get("/calendar.ics", headers={"Accept-Encoding": "gzip"})
    assert again.headers["etag"] == zipped.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
    assert compression.cached_copy(plain.headers["etag"]) is copy


LEGACY_PATHS = ["/api/events", "/api/events?category=meeting&city=St.%20Louis"]


@pytest.mark.parametrize("path", LEGACY_PATHS)
def test_legacy_api_hits_equal_the_full_stack_without_validators(app, path: str) -> None:
    """The deprecated /api/events from the fast path: the full stack's status, headers and
    bytes (its deprecation headers, no ETag, Last-Modified or Cache-Control, never a 304),
    gzip from the one copy the full stack made, in each language."""
    for i in range(12):  # a list over the compression minimum
        make_event(title=f"Town hall {i}", category="meeting", city="St. Louis")
    assert app.fast_path.answer(_scope(path, {})) is None  # not rendered yet
    first, _ = _both(app, path, {})
    assert first[0] == 200 and len(first[2]) >= compression.MINIMUM_SIZE
    assert dict(first[1])[b"deprecation"] == b"true"
    assert not {b"etag", b"last-modified", b"cache-control"} & set(dict(first[1]))
    gz = {"Accept-Encoding": "gzip"}
    assert app.fast_path.answer(_scope(path, gz)) is None  # the full stack compresses once
    _both(app, path, gz)
    _both(app, path, {"Accept-Language": "es"})  # renders the Spanish entry
    variants: list[tuple[dict[str, str], str]] = [
        ({}, "GET"), ({}, "HEAD"), (gz, "GET"), (gz, "HEAD"),
        ({"If-None-Match": '"anything"'}, "GET"), ({"If-None-Match": "*", **gz}, "GET"),
        ({"If-Modified-Since": format_datetime(utcnow() + timedelta(days=1), usegmt=True)},
         "GET"),
        ({"Host": "127.0.0.1:8000", "Cookie": "csrftoken=" + "x" * 30}, "GET"),
        ({"Accept-Language": "es"}, "GET"), ({"Cookie": "lang=es", **gz}, "GET"),
    ]
    for headers, method in variants * 2:  # the second time from the kept answers
        full, fast = _both(app, path, headers, method)
        assert full[0] == 200, (headers, method)
        assert fast is not None, (headers, method)
        assert fast == full, (headers, method)
        assert b"set-cookie" not in dict(fast[1])
    zipped = _both(app, path, gz)[1]
    assert zipped is not None and gzip.decompress(zipped[2]) == first[2]
    assert (b"content-encoding", b"gzip") in zipped[1]
    # What only the full stack answers: a new language choice, a query it refuses.
    assert app.fast_path.answer(_scope(path + ("&" if "?" in path else "?") + "lang=es",
                                       {})) is None
    assert app.fast_path.answer(_scope("/api/events?page=abc", {})) is None


def test_legacy_api_hit_follows_a_write(app) -> None:
    make_event(slug="first", title="First")
    old, _ = _both(app, "/api/events", {})
    assert app.fast_path.answer(_scope("/api/events", {})) is not None
    make_event(slug="second", title="Second")
    assert app.fast_path.answer(_scope("/api/events", {})) is None  # rendered afresh
    full, _ = _both(app, "/api/events", {})
    assert [e["slug"] for e in json.loads(full[2])["events"]] == ["first", "second"]
    assert app.fast_path.answer(_scope("/api/events", {})) == full


@pytest.mark.parametrize("path", ["/embed/upcoming?limit=3", "/api/v1/categories"])
def test_each_language_is_answered_from_its_own_entry(app, path: str) -> None:
    """A reader of Spanish (Accept-Language or the remembered choice) gets the Spanish entry,
    with the headers the stack's LanguageMiddleware adds, never the English one."""
    make_event(title="Town hall", category="meeting", city="St. Louis")
    english, _ = _both(app, path, {})
    for headers in ({"Accept-Language": "es-MX,es;q=0.9"}, {"Cookie": "lang=es"}):
        assert _both(app, path, headers)[0][0] == 200  # renders the Spanish entry
        full, fast = _both(app, path, headers)
        assert fast is not None and fast == full, headers
        fast_headers = dict(fast[1])
        if path.startswith("/embed"):
            assert fast_headers[b"content-language"] == b"es"
            assert b"Accept-Language" in fast_headers[b"vary"]
            assert fast[2] != english[2]  # Spanish words and dates, not the English entry
    # A new choice (?lang=) sets the cookie: only the full stack does that.
    assert app.fast_path.answer(_scope(path + ("&" if "?" in path else "?") + "lang=es",
                                       {})) is None


# --- The event page: a cached page holding the visitor's CSRF token (TokenPage) ----------------

def _headers_without(headers: RawHeaders, *names: bytes) -> RawHeaders:
    return [(k, v) for k, v in headers if k not in names]


def _set_cookie_nonce(headers: RawHeaders) -> str | None:
    value = dict(headers).get(b"set-cookie")
    if value is None:
        return None
    assert value.startswith(b"csrftoken=")
    return value.decode().split(";", 1)[0].removeprefix("csrftoken=")


def _plain(response: tuple[int, RawHeaders, bytes]) -> bytes:
    return gzip.decompress(response[2]) if (b"content-encoding", b"gzip") in response[1] \
        else response[2]


def _form_token(body: bytes) -> str:
    return CSRF_RE.search(body.decode()).group(1)  # type: ignore[union-attr]


@pytest.mark.parametrize("language", ["en", "es"])
def test_event_page_hits_equal_the_full_stack_with_the_visitors_token(app, language) -> None:
    """A visitor with a cookie gets the full stack's bytes and headers (gzip decoded to the
    same page); a new visitor gets a cookie of its own and the token that cookie signs."""
    event = make_event(title="Town hall", capacity=20)
    path = f"/events/{event.slug}"
    cookie = "csrftoken=" + "v" * 43
    lang = {"Accept-Language": language}
    _both(app, path, lang)  # renders into the cache
    for headers, method in [({"Cookie": cookie}, "GET"), ({"Cookie": cookie}, "HEAD"),
                            ({"Cookie": f"lang={language}; {cookie}"}, "GET")]:
        full, fast = _both(app, path, {**lang, **headers}, method)
        assert fast is not None, headers
        assert fast == full, headers
    token = csrf.visitor_token("v" * 43)
    assert _form_token(fast[2]) == token
    full, fast = _both(app, path, {**lang, "Cookie": cookie, "Accept-Encoding": "gzip"})
    assert fast is not None and (b"content-encoding", b"gzip") in fast[1]
    assert _headers_without(fast[1], b"content-length") == \
        _headers_without(full[1], b"content-length")
    assert _plain(fast) == _plain(full)
    for headers in ({}, {"Accept-Encoding": "gzip"}):
        full, fast = _both(app, path, {**lang, **headers})
        assert fast is not None
        nonces = _set_cookie_nonce(full[1]), _set_cookie_nonce(fast[1])
        assert nonces[0] and nonces[1] and nonces[0] != nonces[1]
        assert _headers_without(fast[1], b"content-length", b"set-cookie") == \
            _headers_without(full[1], b"content-length", b"set-cookie")
        pages = [_plain(r) for r in (full, fast)]
        assert [_form_token(p) for p in pages] == [csrf.visitor_token(n) for n in nonces]
        assert pages[0].replace(_form_token(pages[0]).encode(), b"T") == \
            pages[1].replace(_form_token(pages[1]).encode(), b"T")
        assert dict(fast[1])[b"content-language"] == language.encode()


def test_event_page_token_from_the_fast_path_is_accepted_and_forgeries_are_not(
        app, client) -> None:
    """The cookie the fast path mints and the token in its page post the RSVP form; a post
    without that pair is refused and stores nothing."""
    event = make_event(capacity=20)
    path = f"/events/{event.slug}"
    client.get(path, headers={"Cookie": ""})  # renders into the cache
    status, headers, body = app.fast_path.answer(_scope(path, {}))  # type: ignore[misc]
    assert status == 200
    nonce, token = _set_cookie_nonce(headers), _form_token(body)
    assert nonce and token
    form = {"name": "Ann Lee", "email": "ann@example.org", "guests": "0", "website": ""}
    other = csrf.visitor_token("o" * 43)
    forged = [({"csrftoken": nonce}, {**form}),
              ({"csrftoken": nonce}, {**form, "csrf_token": other}),
              ({"csrftoken": "o" * 43}, {**form, "csrf_token": token}),
              ({}, {**form, "csrf_token": token})]
    for cookies, data in forged:
        client.cookies.clear()
        for name, value in cookies.items():
            client.cookies.set(name, value)
        refused = client.post(f"{path}/rsvp", data=data, follow_redirects=False)
        assert refused.status_code == 403, (cookies, data.get("csrf_token"))
    assert rsvps(event.id) == {}
    client.cookies.clear()
    client.cookies.set("csrftoken", nonce)
    accepted = client.post(f"{path}/rsvp", data={**form, "csrf_token": token},
                           follow_redirects=False)
    assert accepted.status_code == 200
    assert list(rsvps(event.id)) == ["ann@example.org"]


def test_event_page_hits_are_served_before_the_stack(app, client) -> None:
    """Through the real app: a hit renders nothing and still hands a new visitor its cookie;
    what the fast path cannot answer the same way goes to the full stack."""
    event = make_event()
    path = f"/events/{event.slug}"
    assert app.fast_path.answer(_scope(path, {})) is None  # not rendered yet
    client.get(path)
    renders = listing_cache.cache.renders
    client.cookies.clear()
    again = client.get(path)
    assert listing_cache.cache.renders == renders
    assert again.status_code == 200 and "csrftoken" in again.cookies
    assert app.fast_path.answer(_scope(path, {})) is not None
    assert app.fast_path.answer(_scope(path, {"Cookie": "organizer_sid=abc"})) is None
    assert app.fast_path.answer(_scope(f"{path}?lang=es", {})) is None  # a new choice
    assert app.fast_path.answer(_scope(path, {"Host": "evil.example"})) is None
    assert app.fast_path.answer(_scope(path, {}, "POST")) is None
    assert app.fast_path.answer(_scope("/events/no-such-event", {})) is None
    assert app.fast_path.answer(_scope(f"{path}/rsvp", {})) is None


# --- Pages without a POST form: the list, month and day pages (CachedPage, form=False) -------

def _form_less_pages() -> list[str]:
    today = calendar_month.today()
    return ["/", "/events", "/events?category=meeting&city=St.%20Louis", "/events?q=hall",
            f"/events/month/{today:%Y-%m}", f"/events/day/{today.isoformat()}?online=1"]


@pytest.mark.parametrize("language", ["en", "es"])
def test_pages_without_a_form_equal_the_full_stack_and_set_no_cookie(app, language) -> None:
    """A new visitor's list, month or day page carries no token, so neither the full stack
    nor the fast path sets a CSRF cookie; hits are the full stack's bytes and headers, gzip
    from the one copy the full stack made."""
    make_event(title="Town hall", category="meeting", city="St. Louis",
               starts_at=utcnow() + timedelta(hours=2))
    lang = {"Accept-Language": language}
    for path in _form_less_pages():
        assert app.fast_path.answer(_scope(path, lang)) is None  # not rendered yet
        first, _ = _both(app, path, lang)  # renders into the cache
        assert first[0] == 200, path
        assert b"set-cookie" not in dict(first[1]), path
        assert b"csrf" not in first[2].lower(), path
        gz = {**lang, "Accept-Encoding": "gzip"}
        assert app.fast_path.answer(_scope(path, gz)) is None  # the full stack compresses
        for headers, method in [({}, "GET"), ({}, "HEAD"), ({"Accept-Encoding": "gzip"}, "GET"),
                                ({"Cookie": "csrftoken=" + "x" * 30}, "GET"),
                                ({"Cookie": "organizer_sid=abc"}, "GET")]:
            full, fast = _both(app, path, {**lang, **headers}, method)
            assert fast is not None, (path, headers, method)
            assert fast == full, (path, headers, method)
            assert b"set-cookie" not in dict(fast[1])
        assert dict(fast[1])[b"content-language"] == language.encode()
    # What the route would redirect (blank filters) or refuse goes to the full stack.
    assert app.fast_path.answer(_scope("/events?city=&q=", lang)) is None
    assert app.fast_path.answer(_scope("/events?when=soon", lang)) is None
    assert app.fast_path.answer(_scope("/events?page=0", lang)) is None


def test_a_new_visitors_list_page_is_served_by_the_fast_path(app, client) -> None:
    """Through the real app: the second new visitor's list page renders nothing and sets no
    cookie; its gzip copy is the one kept by the cached entry's ETag, made once."""
    make_event(title="Town hall")
    first = client.get("/events")
    assert first.status_code == 200 and "set-cookie" not in first.headers
    assert not client.cookies
    renders = listing_cache.cache.renders
    zipped = client.get("/events", headers={"Accept-Encoding": "gzip"})
    assert zipped.content == first.content  # httpx decodes: the same page
    gz_scope = _scope("/events", {"Accept-Encoding": "gzip"})
    copy = app.fast_path.answer(gz_scope)[2]  # type: ignore[index]
    assert gzip.decompress(copy) == first.content
    assert app.fast_path.answer(gz_scope)[2] is copy  # type: ignore[index]
    for headers in ({}, {"Accept-Encoding": "gzip"}):
        again = client.get("/events", headers=headers)
        assert again.status_code == 200 and "set-cookie" not in again.headers
        assert again.content == first.content
    assert listing_cache.cache.renders == renders
    assert not client.cookies


# --- Feed polls: kept filter keys and kept answers -------------------------------------------

FEED_VARIANTS: list[tuple[dict[str, str], str]] = [
    ({}, "GET"), ({}, "HEAD"), ({"Accept-Encoding": "gzip"}, "GET"),
    ({"If-None-Match": "<etag>"}, "GET"),
    ({"If-None-Match": "<etag>", "Accept-Encoding": "gzip"}, "GET"),
    ({"If-None-Match": '"stale", <etag>, "other"'}, "GET"),  # several tags, one current
    ({"If-None-Match": "W/<etag>"}, "GET"),  # weak comparison: a weak tag matches
    ({"If-None-Match": '"stale", W/"other"'}, "GET"),
    ({"If-None-Match": "<gzip-etag>", "Accept-Encoding": "gzip"}, "GET"),
    ({"If-None-Match": "*"}, "HEAD"),
    ({"If-None-Match": '"stale"', "If-Modified-Since": "<far-future>"}, "GET"),  # ETag decides
    ({"If-Modified-Since": "<far-future>"}, "GET"),
]


def _filled(headers: dict[str, str], etag: str) -> dict[str, str]:
    future = format_datetime(utcnow() + timedelta(days=1), usegmt=True)
    return {k: v.replace("<gzip-etag>", etag[:-1] + '-gzip"').replace("<etag>", etag)
            .replace("<far-future>", future) for k, v in headers.items()}


def _feed_events() -> None:
    at = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    for n in range(12):  # a feed well over the compression minimum
        make_event(title=f"Town hall {n}", category="meeting", city="St. Louis",
                   created_at=at, updated_at=at)
    make_event(title="Budget hearing", category="hearing", city="Chicago",
               created_at=at, updated_at=at)
    backdate_data_version(at)  # a settled Last-Modified, so If-Modified-Since counts


@pytest.mark.parametrize("path", ["/calendar.ics", "/calendar.ics?city=St.%20Louis&months=6",
                                  "/calendar.ics?category=meeting&lang=es"])
def test_repeated_feed_polls_equal_the_full_stack_every_time(app, path: str) -> None:
    """Each poll answered again from what the first one worked out (the filter's key, the
    answer's headers) is still exactly the full stack's answer, for every kind of
    validator a calendar app sends."""
    _feed_events()
    first, _ = _both(app, path, {})
    etag = _etag(first[1])
    _both(app, path, {"Accept-Encoding": "gzip"})  # the full stack makes the gzip copy
    statuses = set()
    for _ in range(3):
        for headers, method in FEED_VARIANTS:
            full, fast = _both(app, path, _filled(headers, etag), method)
            assert fast is not None and fast == full, (headers, method)
            statuses.add(fast[0])
    assert statuses == {200, 304}
    assert feeds.public_cache.renders == 1


def test_query_strings_in_any_order_are_one_feed(app) -> None:
    """The parameters' order and spelling name the same entry: one render, one ETag, and a
    poller's tag from one spelling revalidates on another."""
    _feed_events()
    spellings = ["/calendar.ics?category=meeting&city=St.%20Louis&months=6",
                 "/calendar.ics?months=6&city=st.%20louis&category=Meeting",
                 "/calendar.ics?city=ST.+LOUIS&category=meeting&category=MEETING&months=6",
                 "/calendar.ics?category=meeting&city=St.%20Louis&months=6&utm=" + "x" * 600]
    etags = {_etag(_both(app, path, {})[0][1]) for path in spellings}
    assert len(etags) == 1 and feeds.public_cache.renders == 1
    for path in spellings * 2:
        full, fast = _both(app, path, {"If-None-Match": next(iter(etags))})
        assert fast is not None and fast == full and fast[0] == 304, path
    for _ in range(2):  # a query the parser refuses is the full stack's every time
        bad, fast = _both(app, "/calendar.ics?category=meeting&months=0", {})
        assert (bad[0], fast) == (400, None)
    other, _ = _both(app, "/calendar.ics?category=hearing&months=6", {})
    assert _etag(other[1]) != _etag(_both(app, spellings[0], {})[0][1])


def test_each_language_of_a_feed_is_its_own_entry(app) -> None:
    """`?lang=es` names the Spanish feed: its own bytes and ETag, and a tag of one language
    never gets a 304 from the other; the reader's headers do not choose a feed's language."""
    _feed_events()
    english, _ = _both(app, "/calendar.ics", {})
    spanish, _ = _both(app, "/calendar.ics?lang=es", {})
    assert b"Reuni" in spanish[2] and english[2] != spanish[2]
    en_tag, es_tag = _etag(english[1]), _etag(spanish[1])
    assert en_tag != es_tag
    for _ in range(2):
        for path, tag, status in [("/calendar.ics", en_tag, 304), ("/calendar.ics", es_tag, 200),
                                  ("/calendar.ics?lang=es", es_tag, 304),
                                  ("/calendar.ics?lang=es", en_tag, 200)]:
            for extra in ({}, {"Accept-Language": "es", "Cookie": "lang=es"}):
                full, fast = _both(app, path, {"If-None-Match": tag, **extra})
                assert fast is not None and fast == full and fast[0] == status, (path, extra)
    assert _both(app, "/calendar.ics", {"Accept-Language": "es"})[1][2] == english[2]


def test_a_changed_version_answers_200_with_the_new_feed(app) -> None:
    """A write in this process: the next poll with the old tag gets the new feed (the kept
    304 belongs to the old entry), and then the new tag gets the 304."""
    _feed_events()
    old, _ = _both(app, "/calendar.ics", {})
    old_tag = _etag(old[1])
    assert _both(app, "/calendar.ics", {"If-None-Match": old_tag})[1][0] == 304
    make_event(title="Added later")
    full, fast = _both(app, "/calendar.ics", {"If-None-Match": old_tag})
    assert full[0] == 200 and b"Added later" in full[2]
    for _ in range(2):
        full, fast = _both(app, "/calendar.ics", {"If-None-Match": old_tag})
        assert fast is not None and fast == full and fast[0] == 200
        new_tag = _etag(fast[1])
        assert new_tag != old_tag and b"Added later" in fast[2]
        full, fast = _both(app, "/calendar.ics", {"If-None-Match": new_tag})
        assert fast is not None and fast == full and fast[0] == 304


def _retitle_elsewhere(event_id: int, title: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process's edit: a bare connection (no Session event tells this process), then
    a wait past a shortened CHECK_INTERVAL, so this process's next version read is due."""
    with get_engine().begin() as connection:
        connection.execute(update(Event).where(col(Event.id) == event_id)
                           .values(title=title, updated_at=utcnow()))
        connection.execute(update(DataVersion).where(DataVersion.kind == data_version.EVENTS)
                           .values(token="written-elsewhere"))
    monkeypatch.setattr(data_version, "CHECK_INTERVAL", 0.2)
    time.sleep(0.3)


def test_a_write_elsewhere_ends_the_kept_304_within_the_check_interval(app, monkeypatch) -> None:
    """Another process's write (a bare connection: nothing tells this process): once the
    version read is due, the fast path leaves the poll to the full stack, which reads it and
    answers the new feed; the old tag gets no 304 after that."""
    _feed_events()
    event = make_event(title="Before the edit")
    old, _ = _both(app, "/calendar.ics", {})
    old_tag = _etag(old[1])
    scope = _scope("/calendar.ics", {"If-None-Match": old_tag})
    assert app.fast_path.answer(scope) is not None  # the kept 304
    _retitle_elsewhere(event.id, "After the edit", monkeypatch)
    assert app.fast_path.answer(scope) is None  # the version read is due: the full stack's
    status, _, body = _call(app, scope)
    assert status == 200 and b"After the edit" in body
    monkeypatch.setattr(data_version, "CHECK_INTERVAL", 3600)
    full, fast = _both(app, "/calendar.ics", {"If-None-Match": old_tag})
    assert fast is not None and fast == full and fast[0] == 200
    assert b"After the edit" in fast[2]


def test_a_kept_answer_follows_last_modified_settling_and_the_gzip_copy(app, monkeypatch) -> None:
    """Last-Modified appears once the change has settled: a poll kept before then is not
    answered without it after; a kept gzip answer whose copy was dropped goes to the full
    stack, which makes the copy again."""
    _feed_events()
    monkeypatch.setattr(feeds, "LAST_MODIFIED_SETTLE", timedelta(days=1))
    unsettled, _ = _both(app, "/calendar.ics", {})
    assert b"last-modified" not in dict(unsettled[1])
    assert _both(app, "/calendar.ics", {})[1] == unsettled
    monkeypatch.setattr(feeds, "LAST_MODIFIED_SETTLE", timedelta(seconds=60))
    full, fast = _both(app, "/calendar.ics", {})
    assert fast is not None and fast == full and b"last-modified" in dict(fast[1])
    gz = {"Accept-Encoding": "gzip"}
    _both(app, "/calendar.ics", gz)
    assert _both(app, "/calendar.ics", gz)[1] is not None  # kept
    compression.clear_copies()
    assert app.fast_path.answer(_scope("/calendar.ics", gz)) is None
    full = _call(app, _scope("/calendar.ics", gz))
    assert app.fast_path.answer(_scope("/calendar.ics", gz)) == full


# --- API list, Atom and embed polls: kept query keys (web/query_keys.py) ----------------------

# Per resource, spellings of one query: parameters in another order, defaults given or left
# out, unknown parameters, a query too long to be kept (parsed every time).
LISTING_SPELLINGS = {
    "/api/v1/events": ["?category=meeting&city=St.%20Louis",
                       "?city=St.%20Louis&when=upcoming&category=meeting&page=1",
                       "?city=St.+Louis&category=meeting&online=&utm=" + "x" * 600],
    "/events.atom": ["?category=meeting&city=St.%20Louis",
                     "?page=1&city=St.%20Louis&category=meeting",
                     "?category=meeting&city=St.+Louis&utm=" + "x" * 600],
    "/embed/upcoming": ["?category=meeting&city=St.%20Louis&limit=3&theme=dark",
                        "?theme=dark&limit=3&city=St.%20Louis&category=meeting&page=4",
                        "?limit=3&category=meeting&theme=dark&city=St.+Louis&utm=" + "x" * 600],
}
# Per resource, queries its parser refuses (a 400 from the full stack, every time).
REFUSED_QUERIES = {
    "/api/v1/events": ["?when=never", "?page=0", "?from=2026-02-30", "?online=2",
                       "?from=2026-03-02&to=2026-03-01", "?q=" + "x" * 201],
    "/events.atom": ["?when=never", "?page=x"],
    "/embed/upcoming": ["?limit=0", "?theme=blue", "?to=tomorrow"],
}


def _listing_events() -> None:
    make_event(title="Town hall", category="meeting", city="St. Louis")
    make_event(title="Budget hearing", category="hearing", city="Chicago")


@pytest.mark.parametrize("path", list(LISTING_SPELLINGS))
def test_listing_query_strings_in_any_order_are_one_entry(app, path: str) -> None:
    """Spellings of one query are one cache entry and revalidate each other, the first poll
    of a spelling and its repeats (answered from the kept key) alike."""
    _listing_events()
    first, _ = _both(app, path + LISTING_SPELLINGS[path][0], {})
    renders = listing_cache.cache.renders
    tag = _etag(first[1])
    for _ in range(3):
        for query in LISTING_SPELLINGS[path]:
            full, fast = _both(app, path + query, {})
            assert fast is not None and fast == full and fast[2] == first[2], query
            full, fast = _both(app, path + query, {"If-None-Match": tag})
            assert fast is not None and fast == full and fast[0] == 304, query
    assert listing_cache.cache.renders == renders
    other, _ = _both(app, path + "?category=hearing" + ("&limit=3&theme=dark"
                                                        if path.startswith("/embed") else ""), {})
    assert _etag(other[1]) != tag and other[2] != first[2]


@pytest.mark.parametrize("path", list(REFUSED_QUERIES))
def test_a_refused_listing_query_is_the_full_stacks_4xx_every_time(app, path: str) -> None:
    """A query the parser refuses is never kept: each time the fast path leaves it to the full
    stack, which answers its 400 in the reader's language (JSON on the API), and the same
    resource's good queries are still answered around it."""
    _listing_events()
    _both(app, path, {})
    for _ in range(3):
        for query in REFUSED_QUERIES[path]:
            messages = set()
            for headers in ({}, {"Accept-Language": "es"}):
                full, fast = _both(app, path + query, headers)
                assert (full[0], fast) == (400, None), (query, headers)
                if path.startswith("/api/"):
                    assert dict(full[1])[b"content-type"] == b"application/json"
                    body = json.loads(full[2])
                    assert body["status"] == 400 and body["error"]
                    messages.add(body["error"])
            if path.startswith("/api/") and not query.startswith("?q="):
                assert len(messages) == 2, query  # in English, then in Spanish
        assert _both(app, path, {})[1] is not None


def test_an_api_page_past_the_last_is_a_json_404_every_time(app) -> None:
    """A query that parses but names no page (its key is kept, no entry ever is): the full
    stack's 404 each time."""
    _listing_events()
    for _ in range(3):
        full, fast = _both(app, "/api/v1/events?page=7", {})
        assert (full[0], fast) == (404, None)
        assert json.loads(full[2])["status"] == 404


def test_each_language_of_the_api_list_is_its_own_entry(app) -> None:
    """The reader's language (Accept-Language, or the remembered choice) picks the entry for
    the same query string: Spanish bytes and ETag, and a tag of one language never gets a
    304 from the other's entry."""
    _listing_events()
    path = "/api/v1/events?category=meeting"
    english, _ = _both(app, path, {})
    spanish_headers = ({"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}, {"Cookie": "lang=es"},
                       {"Accept-Language": "en", "Cookie": "lang=es"})
    spanish, _ = _both(app, path, spanish_headers[0])
    assert spanish[2] != english[2] and b"Reuni" in spanish[2]
    en_tag, es_tag = _etag(english[1]), _etag(spanish[1])
    assert en_tag != es_tag
    for _ in range(2):
        for headers in ({}, {"Accept-Language": "en-US"}, *spanish_headers):
            is_spanish = headers in spanish_headers
            for tag in (en_tag, es_tag):
                full, fast = _both(app, path, {"If-None-Match": tag, **headers})
                assert fast is not None and fast == full, (headers, tag)
                assert fast[0] == (304 if (tag == es_tag) == is_spanish else 200), (headers, tag)
                if fast[0] == 200:
                    assert fast[2] == (spanish if is_spanish else english)[2]


@pytest.mark.parametrize("path", ["/api/v1/events?city=St.%20Louis",
                                  "/events.atom?city=St.%20Louis",
                                  "/embed/upcoming?city=St.%20Louis&limit=3"])
def test_a_listing_write_answers_200_at_once_here_and_within_the_check_interval_elsewhere(
        app, monkeypatch, path: str) -> None:
    """A write in this process: the next poll with the old tag gets the new listing. Another
    process's write (a bare connection): once the version read is due the fast path leaves
    the poll to the full stack, which answers the new listing; the old tag gets no 304."""
    event = make_event(title="Town hall", category="meeting", city="St. Louis")
    old, _ = _both(app, path, {})
    old_tag = _etag(old[1])
    assert _both(app, path, {"If-None-Match": old_tag})[1][0] == 304
    make_event(title="Added later", city="St. Louis")
    full, fast = _both(app, path, {"If-None-Match": old_tag})
    assert full[0] == 200 and b"Added later" in full[2]
    full, fast = _both(app, path, {"If-None-Match": old_tag})
    assert fast is not None and fast == full and fast[0] == 200
    new_tag = _etag(fast[1])
    scope = _scope(path, {"If-None-Match": new_tag})
    assert app.fast_path.answer(scope)[0] == 304  # type: ignore[index]
    _retitle_elsewhere(event.id, "Edited elsewhere", monkeypatch)
    assert app.fast_path.answer(scope) is None  # the version read is due: the full stack's
    status, _, body = _call(app, scope)
    assert status == 200 and b"Edited elsewhere" in body
    monkeypatch.setattr(data_version, "CHECK_INTERVAL", 3600)
    full, fast = _both(app, path, {"If-None-Match": new_tag})
    assert fast is not None and fast == full and fast[0] == 200
    assert b"Edited elsewhere" in fast[2]
