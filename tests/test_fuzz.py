"""Property-based attack on every form and query parameter of every route (Hypothesis).

The suite signs in as an admin, walks the site like a browser (tests/fuzz_support.py finds the
routes, forms, fields and real links), then lets Hypothesis fill the forms and query strings
with arbitrary text, numbers in every script, Unicode, dates at the ends of the calendar and
values that are far too long, keeping the other fields valid so each request reaches deep into
its handler. Every request carries a valid CSRF token. The properties:

- no answer is a 5xx, and errors are friendly pages (or JSON under /api/), as in
  test_robustness.judge;
- a refused request (4xx, or a form shown again with a field error) changes no stored row.

A request that was accepted and changed rows is followed by putting every row back, so each
example starts from the same data and failures replay. CI runs a derandomized profile (the
`ci` profile in conftest.py); set HYPOTHESIS_PROFILE=deep for a longer local hunt.
"""

from __future__ import annotations

import re
import string
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select
from starlette.testclient import TestClient

from events_app.db import read_session, write_session
from events_app.models import Organizer, Outbox, utcnow
from events_app.services import account_links, organizers, series
from events_app.services.event_form import parse_event_form
from events_app.services.series_rules import Rule
from events_app.web import csrf
from events_app.web.app import create_app
from tests.factories import make_event, make_rsvp
from tests.fuzz_support import (
    AppRoute,
    FormField,
    FormSpec,
    RouteKey,
    StoredState,
    app_routes,
    local_path,
    parse_page,
    paths_in_text,
    route_for,
    split_query,
)
from tests.organizer_support import PASSWORD, cheap_passwords, login, make_organizer  # noqa: F401
from tests.rsvp_helpers import csrf_from, post_rsvp
from tests.series_public_helpers import make_series
from tests.test_robustness import judge, snapshot

pytestmark = pytest.mark.usefixtures("cheap_passwords")

ADMIN_EMAIL = "fuzz-admin@example.org"
PAGES_PER_ROUTE = 6  # enough to see an event in each state, few enough to stay quick

# --- values ------------------------------------------------------------------------------------

# Digits people do not type into a number field, though str.isdigit() or int() accept them.
OTHER_DIGITS = st.characters(categories=("Nd", "No", "Nl"), exclude_characters=string.digits)
NUMBER_EDGES = ["0", "-1", "+1", "1.5", "1e309", "nan", "-inf", "0x10", "1_000", "9" * 20, "²",
                "③", "٣", "３", "1²", "\u0661\u0662", "٣٨.٦", " 7 ", "-0", "2147483648"]
DATE_EDGES = ["0001-01-01", "9999-12-31", "0000-00-00", "1969-12-31", "1970-01-01",
              "2026-02-29", "2026-13-01", "٢٠٢٦-٠١-٠١", "10000-01-01", "9999-12-31T23:59",
              "0001-01-01T00:00", "1969-12-31T23:59", "24:00", "23:59:60", "00:00", "23:59"]
TEXT_EDGES = [
    "", " ", "\x00", "a\x00b", "\r\n", "%ff", "\ufffd", "\u202eevil", "\ufeff",
    "<script>alert(1)</script>", "' OR 1=1 --", "{{7*7}}", "a@b", "ann@example.org, x@evil.org",
    "ann@example.org\r\nBcc: all@example.org", "https://", "javascript:alert(1)",
]
texts = st.text(st.characters(codec="utf-8"), max_size=40)  # any Unicode that can be sent
numbers = st.one_of(
    st.sampled_from(NUMBER_EDGES),
    st.integers().map(str),
    st.integers(-3, 10**7).map(str),
    st.floats().map(str),
    st.text(OTHER_DIGITS, min_size=1, max_size=6),
    st.tuples(st.integers(0, 99), st.text(OTHER_DIGITS, min_size=1, max_size=2)).map(
        lambda t: f"{t[0]}{t[1]}"),
)
dates = st.one_of(
    st.sampled_from(DATE_EDGES),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),
    st.times().map(lambda t: t.isoformat(timespec="minutes")),
)


def too_long(sizes: list[int]) -> st.SearchStrategy[str]:
    return st.sampled_from(sizes).flatmap(
        lambda n: st.sampled_from(["x", "é", "9", "😀"]).map(lambda ch: ch * n))


anything = st.one_of(st.sampled_from(TEXT_EDGES), texts, numbers, dates,
                     too_long([201, 1001, 5000, 20_001]))
# A URL stays under what servers accept in a request line (uvicorn: 16 KiB of headers).
hostile_in_url = st.one_of(st.sampled_from(TEXT_EDGES), texts, numbers, dates,
                           too_long([201, 1001]))
DATE_KINDS = {"date", "time", "datetime-local", "month", "week"}


def hostile(f: FormField, in_url: bool = False) -> st.SearchStrategy[str]:
    """Anything at all, weighted towards what breaks the field's own kind of value: numbers
    for a field the page fills with digits (page, guests, capacity), dates for a date field."""
    rest = hostile_in_url if in_url else anything
    offered = [c for c in f.choices if c]
    if f.kind == "number" or (offered and all(c.isascii() and c.isdigit() for c in offered)):
        return st.one_of(st.sampled_from(NUMBER_EDGES), numbers, rest)
    if f.kind in DATE_KINDS:
        return st.one_of(st.sampled_from(DATE_EDGES), dates, rest)
    return rest


# What a person would type into an empty field of each input type (so that the *other*
# fields of a form are valid and the hostile one is what the handler has to deal with).
_SOON = utcnow() + timedelta(days=30)
PLAUSIBLE = {
    "email": ["fuzz@example.org", ADMIN_EMAIL],
    "password": [PASSWORD],
    "tel": ["+1 314 555 0100"],
    "url": ["https://example.org/live"],
    "date": [_SOON.date().isoformat()],
    "time": ["09:00", "18:30"],
    "datetime-local": [_SOON.strftime("%Y-%m-%dT09:00")],
    "number": ["1", "4"],
}


def valid_value(f: Any) -> st.SearchStrategy[str | None]:
    """A value the page itself offers for the field (None: leave a checkbox unticked)."""
    offered = [c for c in f.choices if c]
    if f.kind == "checkbox":
        return st.sampled_from([*offered, None])
    if f.kind in ("select", "submit") and f.choices:
        return st.sampled_from(f.choices)
    if offered:
        return st.sampled_from(offered)
    typed = PLAUSIBLE.get(f.kind, ["Fuzz Tester"])
    return st.sampled_from(typed if f.required else ["", *typed])


@st.composite
def form_body(draw: Any, form: FormSpec) -> list[tuple[str, str]]:
    """The form's fields: most as the page offers them, a few hostile, missing or repeated."""
    names = [n for n in form.fields if n != csrf.FIELD_NAME]
    hit = draw(st.sets(st.sampled_from(names), min_size=1, max_size=min(3, len(names)))) \
        if names else set()
    pairs: list[tuple[str, str]] = []
    for name in names:
        f = form.fields[name]
        if name not in hit:
            value = draw(valid_value(f))
            if value is not None:
                pairs.append((name, value))
            continue
        how = draw(st.sampled_from(["hostile"] * 4 + ["missing", "twice"]))
        if how == "hostile":
            pairs.append((name, draw(hostile(f))))
        elif how == "twice":
            pairs += [(name, draw(valid_value(f)) or ""), (name, draw(hostile(f)))]
    if draw(st.integers(0, 9)) == 0:
        pairs.append((draw(st.text(st.characters(codec="utf-8"), min_size=1, max_size=12)),
                      draw(anything)))
    return pairs


# --- the site under attack ---------------------------------------------------------------------


class Problem(AssertionError):
    """A property broken by one request (raised, so Hypothesis shrinks the example)."""


@dataclass
class Site:
    client: Any
    routes: list[AppRoute]
    forms: dict[RouteKey, list[FormSpec]] = field(default_factory=lambda: defaultdict(list))
    paths: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # Query parameters each GET route is seen with (in links and GET forms), as fields.
    query_fields: dict[str, dict[str, FormField]] = field(
        default_factory=lambda: defaultdict(dict))
    token: str = ""  # the signed-in session's CSRF token
    state: StoredState | None = None  # the seeded rows, to put back
    clean: dict | None = None  # the rows as they are before the next request

    def query_field(self, route: AppRoute, name: str, kind: str = "text") -> FormField:
        return self.query_fields[route.path].setdefault(name, FormField(name, kind))

    def sign_in(self) -> None:
        """Sign the admin in; signing in is itself a write (last sign-in time), so the rows
        a refused request must leave alone are read again afterwards."""
        response = login(self.client, ADMIN_EMAIL)
        if response.status_code != 303 and self.state is not None:
            # Fuzzed sign-ins may have throttled the account, or a form changed its password
            # without changing rows we compare: start again from the seeded rows.
            self.state.restore()
            response = login(self.client, ADMIN_EMAIL)
        assert response.status_code == 303, "the fuzz admin could not sign in"
        self.token = csrf_from(self.client.get("/organizer/").text)
        self.clean = snapshot()

    def signed_in(self) -> bool:
        return self.client.get("/organizer/", follow_redirects=False).status_code == 200

    def reset(self) -> None:
        """Every row as seeded, and the admin signed in."""
        assert self.state is not None
        self.state.restore()
        self.clean = snapshot()
        if not self.signed_in():
            self.sign_in()

    def send(self, method: str, path: str, pairs: list[tuple[str, str]] | None = None) -> Any:
        """One request; raises Problem if it breaks a property; puts changed rows back."""
        kwargs: dict[str, Any] = {"follow_redirects": False}
        if method == "POST":
            # Always the session's valid token, so the body reaches the handler.
            body = [(csrf.FIELD_NAME, self.token),
                    *((k, v) for k, v in pairs or [] if k != csrf.FIELD_NAME)]
            kwargs["content"] = urlencode(body).encode()
            kwargs["headers"] = {"content-type": "application/x-www-form-urlencoded"}
        shown = f"{method} {path[:150]} {pairs!r:.300}"
        try:
            response = self.client.request(method, path, **kwargs)
        except Exception as exc:  # the TestClient re-raises what the app raised
            raise Problem(f"{shown} raised {type(exc).__name__}: {exc}") from exc
        problem = judge(method, path, response)
        if problem:
            raise Problem(f"{problem}\n  sent: {shown}\n  got: {response.text[:300]!r}")
        after = snapshot()
        if after != self.clean:
            if refused(response):
                raise Problem(f"{shown} -> {response.status_code} was refused but changed "
                              f"stored rows: {changed_rows(self.clean, after)}")
            self.reset()
        elif "/organizer/login" in response.headers.get("location", ""):
            self.sign_in()  # signed out (the logout form) or sent to sign in: sign back in
        return response


def refused(response: Any) -> bool:
    """A 4xx, or a page showing a form again with a message next to a field."""
    if response.status_code >= 400:
        return True
    return response.status_code == 200 and (
        'class="field-error"' in response.text or 'aria-invalid="true"' in response.text)


def changed_rows(before: dict | None, after: dict) -> dict[str, Any]:
    before = before or {}
    return {t: {"before": sorted(set(before.get(t, [])) - set(rows)),
                "after": sorted(set(rows) - set(before.get(t, [])))}
            for t, rows in after.items() if before.get(t) != rows}


# --- seeding and discovery -----------------------------------------------------------------------


TWO_STEP_EMAIL = "fuzz-two-step@example.org"


def seed(client: Any) -> None:
    """A fixed small world: two organizers, events in each state, RSVPs in each status."""
    admin = make_organizer(ADMIN_EMAIL, "Ada Admin", admin=True)
    other = make_organizer("fuzz-organizer@example.org", "Oren Organizer")
    now = utcnow().replace(microsecond=0)
    hall = make_event(slug="town-hall", title="Town hall", capacity=3, max_guests=2,
                      owner_id=admin.id, starts_at=now + timedelta(days=7))
    make_event(slug="draft-briefing", title="Policy briefing", status="draft",
               owner_id=other.id, starts_at=now + timedelta(days=14))
    make_event(slug="airport-vigil", title="Airport vigil", all_day=True, owner_id=admin.id,
               timezone="Europe/Madrid", starts_at=now + timedelta(days=3),
               ends_at=now + timedelta(days=4), capacity=None)
    make_event(slug="past-training", title="Know your rights", owner_id=admin.id,
               starts_at=now - timedelta(days=30))
    make_event(slug="cancelled-march", title="March", status="cancelled", owner_id=admin.id,
               cancel_message="Rain", starts_at=now + timedelta(days=10))
    # A short weekly series: its page and forms (skip, change the rule, publish, duplicate).
    start = (now + timedelta(days=5)).astimezone(ZoneInfo("America/Chicago"))
    series.new_series(admin, parse_event_form({
        "title": "Weekly call", "category": "call", "timezone": "America/Chicago",
        "start_date": start.date().isoformat(), "start_time": "18:00", "max_guests": "0"}),
        Rule("weekly", count=3), publish=True)
    # Two-factor sign-in on: the code step's form exists only between password and code.
    two_step = make_organizer(TWO_STEP_EMAIL, "Tess Two-Step")
    with write_session() as session:
        row = session.get(Organizer, two_step.id)
        row.totp_secret, row.totp_enabled_at = pyotp.random_base32(), now
    r = post_rsvp(client, "town-hall", name="Ann Lee", email="ann@example.org", guests="1")
    assert r.status_code in (200, 303), r.status_code
    make_rsvp(hall, "Walt Wait", "walt@example.org", status="waitlisted")
    make_rsvp(hall, "Carl Cancel", "carl@example.org", status="cancelled")
    make_rsvp(hall, "Bea Here", "bea@example.org", checked_in_at=now)
    # A series taking RSVPs to every date: its summary e-mail links the person's series page.
    _series, dates = make_series(dates=2, capacity=3, max_guests=2, owner_id=admin.id)
    r = post_rsvp(client, dates[0].slug, name="Sam Series", email="sam@example.org", dates="all")
    assert r.status_code == 200, r.status_code
    # The one-time links organizers get by e-mail (discovered from the outbox).
    with write_session() as session:
        organizers.invite_organizer(session, email="fuzz-invited@example.org", name="Ivy")
    account_links.request_reset("fuzz-organizer@example.org", "192.0.2.7")


def discover(site: Site, anonymous: Any) -> None:
    """Walk the site from its front doors, its links and the e-mails it queued."""
    with read_session() as session:
        mail = [f"{m.body_text}\n{m.body_html}" for m in session.exec(select(Outbox))]
    queue = ["/", "/events", "/organizer/", "/organizer/login", "/api/events",
             *(p for text in mail for p in paths_in_text(text))]
    seen: set[str] = set()
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        bare, query = split_query(path)
        found = route_for(site.routes, bare, "GET")
        if found is None or len(site.paths[found[0].path]) >= PAGES_PER_ROUTE:
            continue
        route = found[0]
        if bare not in site.paths[route.path]:
            site.paths[route.path].append(bare)
        for name, value in query:
            known = site.query_field(route, name).choices
            known += [value] if value not in known else []
        # The sign-in page is only shown to someone signed out.
        client = anonymous if route.path == "/organizer/login" else site.client
        response = client.get(path, follow_redirects=False)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        queue += learn_page(site, bare, response.text)
    with TestClient(create_app()) as second_step:
        assert login(second_step, TWO_STEP_EMAIL).status_code == 303
        page = second_step.get("/organizer/login/code", follow_redirects=False)
        assert page.status_code == 200, "the two-factor code step did not open"
        learn_page(site, "/organizer/login/code", page.text)


def learn_page(site: Site, page_path: str, html: str) -> list[str]:
    """Record the page's forms; return the site paths its links lead to."""
    forms, links = parse_page(page_path, html)
    for form in forms:
        found = route_for(site.routes, form.action, form.method)
        if found is None:
            continue
        route, _ = found
        if form.method == "GET":
            for name, f in form.fields.items():
                known = site.query_field(route, name, f.kind)
                known.kind = f.kind
                known.choices += [c for c in f.choices if c not in known.choices]
            if form.action not in site.paths[route.path]:
                site.paths[route.path].append(form.action)
            continue
        known = site.forms[RouteKey(route.path, form.method)]
        if len(known) < PAGES_PER_ROUTE and all(
                (k.action, k.fields.keys()) != (form.action, form.fields.keys()) for k in known):
            known.append(form)
    return [p for href in links if (p := local_path(href, page_path))]


def follow_up_forms(site: Site) -> None:
    """Forms shown only after a first post (e.g. "remove Ann?" asks to confirm): submit each
    known form once as the page offers it, and learn the forms of the page that comes back."""
    for key in list(site.forms):
        for form in list(site.forms[key]):
            response = site.send(form.method, form.action, form.defaults())
            if response.status_code == 200 and "text/html" in response.headers["content-type"]:
                learn_page(site, form.action, response.text)


@pytest.fixture
def site(client) -> Iterator[Site]:
    seed(client)
    routes = app_routes(client.app.routes)
    s = Site(client=client, routes=routes)
    s.sign_in()
    with TestClient(create_app()) as anonymous:
        discover(s, anonymous)
    for route in s.routes:
        if "GET" in route.methods and not s.paths.get(route.path):
            path = fallback_path(s, route)
            s.paths[route.path] += [path] if path else []
    s.state = StoredState()
    s.clean = snapshot()
    follow_up_forms(s)
    yield s


def fallback_path(site: Site, route: AppRoute) -> str | None:
    """A concrete path for a route no page links to (the JSON API's event URLs): the real
    values seen for the same parameter names on other routes; None if some are unknown."""
    values: dict[str, str] = {}
    for other in site.routes:
        for path in site.paths.get(other.path, []):
            values.update((k, v) for k, v in (other.match(path) or {}).items()
                          if k in route.params)
    if set(route.params) - values.keys():
        return None
    return PARAM_RE.sub(lambda m: quote(values[m.group(1)]), route.path)


PARAM_RE = re.compile(r"\{(\w+)(?::\w+)?\}")


# --- the properties ----------------------------------------------------------------------------


def test_discovery_reaches_every_route_and_form(site: Site) -> None:
    """Every GET route was reached from a page, link or e-mail (or, for the JSON API, has real
    values for its parameters), and every POST route has a form on some page: so the
    properties below really cover the whole route table."""
    unreached = [str(k) for r in site.routes for k in r.route_keys()
                 if k.method == "GET" and not site.paths.get(r.path)]
    formless = [str(k) for r in site.routes for k in r.route_keys()
                if k.method == "POST" and not site.forms.get(k)]
    assert unreached == [] and formless == [], (unreached, formless)
    assert any("confirm" in f.fields for fs in site.forms.values() for f in fs), \
        "the follow-up pages (remove, confirm over capacity) were not learned"


def test_no_form_post_is_a_5xx_or_a_half_write(site: Site) -> None:
    # One Hypothesis run per route, so each gets the profile's examples (a busy route with many
    # forms does not starve a small one), and more for forms with many fields.
    for key in sorted((k for k in site.forms if k.method == "POST"), key=str):
        forms = site.forms[key]
        most_fields = max(len(f.fields) for f in forms)

        @settings(max_examples=settings.default.max_examples * (1 + most_fields // 8))
        @given(st.data())
        def attack(data: st.DataObject) -> None:
            form = data.draw(st.sampled_from(forms), label="form")
            site.send("POST", form.action, data.draw(form_body(form), label="fields"))

        attack()


def test_no_query_string_is_a_5xx_or_a_write(site: Site) -> None:
    for route in (r for r in site.routes if "GET" in r.methods):
        paths = site.paths[route.path]
        known = site.query_fields[route.path]
        names = sorted({*known, "page"})

        @given(st.data())
        def attack(data: st.DataObject) -> None:
            path = data.draw(st.sampled_from(paths), label="path")
            chosen = data.draw(st.lists(st.sampled_from(names), max_size=4), label="names")
            pairs = []
            for name in chosen:
                f = known.get(name) or FormField(name, "number")  # ?page= on every route
                offered = [c for c in f.choices if c]
                value = hostile(f, in_url=True)
                if offered:
                    value = st.one_of(value, st.sampled_from(offered))
                pairs.append((name, data.draw(value, label=name)))
            query = urlencode(pairs)
            site.send("GET", f"{path}?{query}" if query else path)

        attack()
