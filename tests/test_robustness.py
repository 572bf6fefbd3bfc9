"""Every public route, walked with hostile input: never a 5xx, always a friendly answer.

The walk is driven by the app's own route table, so a public route added later is covered
without touching this file. Path parameters get a real value (so the handler runs past its
lookup) and a set of hostile ones; every route also gets hostile query strings, headers and
methods, and every POST route hostile bodies. A failed request must leave the stored data as
it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel
from starlette.routing import Mount, Route

from events_app.db import read_session
from events_app.web.app import create_app
from tests.factories import make_event
from tests.rsvp_helpers import feed_token, post_rsvp, rsvps, token_for

LONG = "x" * 5000
# Percent-encoded, so they reach the app as the raw bytes a hostile client would send.
HOSTILE_SEGMENTS = [
    "no-such-thing", "%ff%fe", "%00", "a%00b", "%c0%af", LONG, "..%2f..%2fetc%2fpasswd",
    "%2e%2e", "%20", "%E2%80%AE", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "1%27%20OR%20%271",
]
HOSTILE_QUERIES = [
    "page=-1", "page=0", "page=99999999999999999999", "page=abc", "page=1.5", "page=%ff",
    "page=1&page=2", "page=", "page=%00", "page=%EF%BC%91",  # a full-width digit one
    "from=2026-02-30", "from=99999-01-01", "from=0000-00-00", "from=2026-1-1", "to=yesterday",
    "from=2026-05-01&to=2026-04-01", "from=%ff%fe", "to=%00",
    "when=future", "when=%00", "when=past&when=upcoming",
    f"q={LONG}", "q=%00", "q=%ff%fe", "q=%25%5F%5C", "q=a%00b",
    "category=%00", "category=%ff", "city=%00", f"city={LONG}", "&".join(["category=protest"] * 60),
    "&".join(f"city=c{i}" for i in range(60)), "m=%00", "m=new%ff",
    "%ff=%fe", "=&&=&", "a" * 3000 + "=1",
]
HOSTILE_HEADERS: list[dict[str, str]] = [
    {"If-None-Match": "\"" + "x" * 4000 + "\""},
    {"If-None-Match": "*, W/, \"\""},
    {"If-Modified-Since": "not a date"},
    {"If-Modified-Since": "Mon, 32 Foo 2026 99:99:99 GMT"},
    {"If-Modified-Since": "0"},
    {"Cookie": "csrftoken=" + "%ff" * 40},
    {"Cookie": "csrftoken=\"unterminated; other=1"},
    {"Accept": "application/json"},
    {"Host": "evil.example"},
]
WRONG_METHODS = ("PUT", "DELETE", "PATCH")
# Rate-limit bookkeeping records every RSVP attempt, refused or not, on purpose: it is the
# record of what was tried. Everything else must be untouched by a refused request.
UNSTORED_TABLES = {"throttle_bucket"}


@dataclass
class Walk:
    """What the walk saw: every request made, and every one that broke a rule."""

    client: Any
    requests: int = 0
    problems: list[str] = field(default_factory=list)
    routes_seen: set[str] = field(default_factory=set)

    def send(self, method: str, url: str, *, route: str, stored_must_hold: bool = False,
             **kwargs: Any) -> Any:
        self.requests += 1
        self.routes_seen.add(route)
        before = snapshot() if stored_must_hold or method not in ("GET", "HEAD") else None
        try:
            response = self.client.request(method, url, follow_redirects=False, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the TestClient re-raises what the app raised
            first_line = str(exc).splitlines()[0] if str(exc) else ""
            self.problems.append(f"{method} {url[:120]} raised {type(exc).__name__}: "
                                 f"{first_line[:200]}")
            return None
        problem = judge(method, url, response)
        if problem:
            self.problems.append(problem)
        if before is not None and response.status_code >= 400 and snapshot() != before:
            self.problems.append(f"{method} {url[:120]} -> {response.status_code} changed "
                                 "stored data")
        return response


def judge(method: str, url: str, response: Any) -> str | None:
    """The rule for one answer: no 5xx; an error is a friendly page, or JSON under /api/."""
    status = response.status_code
    where = f"{method} {url[:120]} -> {status}"
    if status >= 500:
        return f"{where}: server error"
    if status < 400:
        return None
    ctype = response.headers.get("content-type", "")
    path = url.split("?", 1)[0]
    if path.startswith("/api/"):
        if not ctype.startswith("application/json"):
            return f"{where}: API error is {ctype!r}, not JSON"
        if method != "HEAD" and not isinstance(response.json().get("error"), str):
            return f"{where}: API error body has no message: {response.text[:200]}"
        return None
    if not ctype.startswith("text/html"):
        return f"{where}: error page is {ctype!r}, not HTML"
    if method == "HEAD":
        return None
    body = response.text
    if "<h1" not in body or 'class="site-header"' not in body:
        return f"{where}: error is not a friendly page: {body[:200]!r}"
    if "Traceback" in body or "sqlalchemy" in body.lower():
        return f"{where}: error page leaks internals"
    return None


def snapshot() -> dict[str, list[tuple]]:
    """Every stored row of every table (bar rate-limit bookkeeping), in a stable order."""
    assert {t.name for t in SQLModel.metadata.sorted_tables} >= UNSTORED_TABLES
    rows: dict[str, list[tuple]] = {}
    with read_session() as session:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in UNSTORED_TABLES:
                continue
            result = session.execute(text(f'SELECT * FROM "{table.name}"'))
            rows[table.name] = sorted((tuple(map(repr, r)) for r in result), key=repr)
    return rows


def public_routes() -> list[Route]:
    routes = []
    for route in create_app().routes:
        if isinstance(route, Mount) or route.path.startswith("/organizer"):
            continue  # static files; the organizer workspace sits behind login
        assert isinstance(route, Route), route
        routes.append(route)
    return routes


PARAM_RE = re.compile(r"\{(\w+)(?::\w+)?\}")


def concrete_paths(route: Route, real: dict[str, str]) -> Iterator[str]:
    """The route's path with real values, then with each hostile value in each parameter."""
    names = PARAM_RE.findall(route.path)

    def fill(values: dict[str, str]) -> str:
        return PARAM_RE.sub(lambda m: values[m.group(1)], route.path)

    base = {name: real.get(name, "no-such-thing") for name in names}
    yield fill(base)
    for name in names:
        for hostile in HOSTILE_SEGMENTS:
            yield fill({**base, name: hostile})


@pytest.fixture
def walk(client) -> Walk:
    return Walk(client)


@pytest.fixture
def real_values(client) -> dict[str, str]:
    """A published event and an RSVP to it, so routes with parameters run past the lookup."""
    event = make_event(slug="town-hall", title="Town hall", capacity=50, max_guests=2)
    response = post_rsvp(client, "town-hall")
    assert response.status_code == 200
    (rsvp,) = rsvps(event.id).values()
    # The one GET that writes, by design: the first opening of the e-mailed manage link marks
    # the RSVP verified (rsvp.verify_link). Done here, so every GET below must change nothing.
    assert client.get(f"/rsvp/{rsvp.token}").status_code == 200
    return {"slug": "town-hall", "token": rsvp.token, "feed_token": feed_token(rsvp.email)}


def test_get_routes_survive_hostile_paths_queries_and_headers(walk, real_values) -> None:
    routes = [r for r in public_routes() if "GET" in (r.methods or ())]
    before = snapshot()
    for route in routes:
        for path in concrete_paths(route, real_values):
            walk.send("GET", path, route=route.path)
            walk.send("HEAD", path, route=route.path)
        real_path = next(concrete_paths(route, real_values))
        for query in HOSTILE_QUERIES:
            walk.send("GET", f"{real_path}?{query}", route=route.path)
        for headers in HOSTILE_HEADERS:
            walk.send("GET", real_path, route=route.path, headers=headers)
    # Paths no route owns, and tricks aimed at the static files and the router.
    for path in ("/no/such/page", "/api/no-such", "/events/", "/events//x", "//events",
                 "/events/town-hall/", "/events/town-hall.ics.ics", "/static/..%2fpyproject.toml",
                 "/static/%2e%2e/events_app/settings.py", "/static/../../etc/passwd",
                 "/static/%00", "/api/events/%ff/", "/rsvp/", "/rsvp//calendar.ics"):
        walk.send("GET", path, route="(unrouted)")
    assert walk.problems == [], "\n".join(walk.problems)
    assert snapshot() == before, "a GET changed stored data"
    assert {r.path for r in routes} <= walk.routes_seen
    assert walk.requests > 500  # the walk really walked


def test_wrong_methods_get_a_friendly_405(walk, real_values) -> None:
    routes = public_routes()
    # GET and POST /rsvp/{token} are two routes: a method is wrong only if no route takes it.
    allowed: dict[str, set[str]] = {}
    for route in routes:
        allowed.setdefault(route.path, set()).update(route.methods or ())
    for path_template, methods in allowed.items():
        route = next(r for r in routes if r.path == path_template)
        path = next(concrete_paths(route, real_values))
        for method in {*WRONG_METHODS, "POST", "GET"} - methods:
            response = walk.send(method, path, route=route.path, stored_must_hold=True)
            if response is not None:
                assert response.status_code == 405, (method, path, response.status_code)
    assert walk.problems == [], "\n".join(walk.problems)


def _post_routes() -> list[Route]:
    return [r for r in public_routes() if "POST" in (r.methods or ())]


def test_posts_without_a_valid_csrf_token_are_refused_and_store_nothing(
        walk, real_values, client) -> None:
    client.get("/organizer/login")  # a csrftoken cookie: the token is what's missing
    forged = {"name": "Mallory", "email": "mallory@example.org", "guests": "0",
              "action": "cancel"}
    for route in _post_routes():
        path = next(concrete_paths(route, real_values))
        for data in (forged, {**forged, "csrf_token": ""}, {**forged, "csrf_token": "0" * 64},
                     {**forged, "csrf_token": "%ff"}, {**forged, "csrf_token": LONG}):
            response = walk.send("POST", path, route=route.path, data=data)
            if response is not None:
                assert response.status_code == 403, (path, data.get("csrf_token"))
        response = walk.send("POST", path, route=route.path, data=forged,
                             headers={"X-CSRF-Token": "forged"})
        if response is not None:
            assert response.status_code == 403
    assert walk.problems == [], "\n".join(walk.problems)


def _garbage_bodies(token: str) -> list[tuple[str, dict[str, str], bytes]]:
    """(label, headers, body) for bodies a browser would never send."""
    boundary = "XyZ"
    huge_part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\n"
                 + "y" * (2 * 1024 * 1024) + f"\r\n--{boundary}--\r\n").encode()
    many_fields = "&".join(f"f{i}=1" for i in range(5000)) + f"&csrf_token={token}"
    file_part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
                 f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"name\"; "
                 f"filename=\"x.exe\"\r\nContent-Type: application/octet-stream\r\n\r\nMZ\x00"
                 f"\r\n--{boundary}--\r\n").encode()
    return [
        ("truncated multipart", {"content-type": f"multipart/form-data; boundary={boundary}"},
         f"--{boundary}\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nabc".encode()),
        ("multipart without boundary", {"content-type": "multipart/form-data"}, b"abc"),
        ("random bytes as multipart", {"content-type": f"multipart/form-data; boundary={boundary}"},
         bytes(range(256)) * 20),
        ("oversized multipart part",
         {"content-type": f"multipart/form-data; boundary={boundary}"}, huge_part),
        ("a file upload", {"content-type": f"multipart/form-data; boundary={boundary}"},
         file_part),
        ("too many fields", {"content-type": "application/x-www-form-urlencoded"},
         many_fields.encode()),
        ("bad percent-encoding", {"content-type": "application/x-www-form-urlencoded"},
         f"name=%ff%fe&email=%zz&guests=%&csrf_token={token}".encode()),
        # Unescaped non-ASCII bytes: Starlette reads them as latin-1; the e-mail check then
        # refuses the address, so this too is a 422 with the form shown again.
        ("raw latin-1 bytes", {"content-type": "application/x-www-form-urlencoded"},
         b"name=J\xfcrgen&email=j\xfc@x&csrf_token=" + token.encode()),
        ("JSON body", {"content-type": "application/json"},
         b'{"name": "x", "csrf_token": "' + token.encode() + b'"}'),
        ("no content type", {}, b"\x00\x01\x02"),
        ("a NUL-laden body", {"content-type": "application/x-www-form-urlencoded"},
         b"\x00" * 1000),
    ]


def test_garbage_bodies_are_refused_and_store_nothing(walk, real_values, client) -> None:
    page = client.get("/events/town-hall")
    token = token_for(client, page.text)
    for route in _post_routes():
        for path in concrete_paths(route, real_values):
            for label, headers, body in _garbage_bodies(token):
                response = walk.send("POST", path, route=route.path, headers=headers,
                                     content=body, stored_must_hold=True)
                if response is not None:
                    assert 400 <= response.status_code < 500, (label, path)
    assert walk.problems == [], "\n".join(walk.problems)


HOSTILE_FIELDS: list[dict[str, str]] = [
    {"name": "\x00"}, {"name": "A\x00B"}, {"name": "x" * 100_000}, {"name": "\u202eevil"},
    {"email": "a\x00@example.org"}, {"email": "x" * 100_000 + "@example.org"},
    {"email": "a@b@example.org"}, {"email": "ann@example.org\r\nBcc: all@example.org"},
    {"email": "ann@" + "a" * 300 + ".org"},
    {"phone": "\x00\x00\x00\x00\x00"}, {"phone": "9" * 10_000},
    {"guests": "-1"}, {"guests": "99999999999999999999999"}, {"guests": "1e3"},
    {"guests": "\u0661"}, {"guests": "2.0"}, {"guests": "nan"}, {"guests": "\x00"},
    {"comment": "\x00"}, {"comment": "c" * 100_000},
    {"action": "guests", "guests": "-5"}, {"action": "guests", "guests": "%ff"},
    {"action": "guests", "guests": "99999999999999999999"}, {"action": "delete"},
    {"action": "\x00"}, {"action": "cancel\x00"},
]


def test_hostile_field_values_with_a_valid_token_are_refused_and_store_nothing(
        walk, real_values, client) -> None:
    page = client.get("/events/town-hall")
    token = token_for(client, page.text)
    base = {"name": "Ann Lee", "email": "hostile@example.org", "phone": "", "guests": "0",
            "comment": "", "website": "", "csrf_token": token}
    for route in _post_routes():
        real_path = next(concrete_paths(route, real_values))
        for path in concrete_paths(route, real_values):
            # The real target gets every field; unknown targets must fail before reading them.
            fields_to_try = HOSTILE_FIELDS if path == real_path else HOSTILE_FIELDS[:2]
            for fields in fields_to_try:
                walk.send("POST", path, route=route.path, data={**base, **fields},
                          stored_must_hold=True)
            # Every field twice, the second value invalid: refused, nothing breaks.
            walk.send("POST", path, route=route.path, stored_must_hold=True,
                      content=f"csrf_token={token}&guests=1&guests=-1&action=cancel"
                              "&action=guests&name=A&name=B&email=x%40example.org".encode(),
                      headers={"content-type": "application/x-www-form-urlencoded"})
    assert walk.problems == [], "\n".join(walk.problems)


@pytest.mark.parametrize("send_length", [True, False], ids=["content-length", "chunked"])
def test_an_oversized_form_is_refused_with_413_before_parsing(
        walk, real_values, client, send_length) -> None:
    page = client.get("/events/town-hall")
    token = token_for(client, page.text)
    body = f"csrf_token={token}&name=Ann&email=big%40example.org&comment=".encode()
    body += b"c" * (2 * 1024 * 1024)
    content: Any = body if send_length else iter([body[:1000], body[1000:]])
    for route in _post_routes():
        path = next(concrete_paths(route, real_values))
        response = walk.send("POST", path, route=route.path, content=content,
                             headers={"content-type": "application/x-www-form-urlencoded"},
                             stored_must_hold=True)
        assert response is not None and response.status_code == 413
        assert "far more data" in response.text
        assert len(response.content) < 50_000  # the megabytes are not echoed back
        content = body if send_length else iter([body[:1000], body[1000:]])
    assert walk.problems == [], "\n".join(walk.problems)
