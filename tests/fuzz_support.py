"""What the property-based suite (test_fuzz.py) learns about the app before it attacks it.

Nothing here is a hand-kept list of routes or fields: the routes come from the app's own route
table, the forms and their fields from the HTML the app renders, and the real path values
(slugs, ids, tokens) from the links on those pages and in the e-mails the app queued. A route or
form field another change adds is therefore fuzzed without touching the suite.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sqlalchemy import Table, delete, insert, select
from sqlmodel import SQLModel
from starlette.routing import BaseRoute, Mount, Route, compile_path

from events_app.db import get_engine

# --- the route table -------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteKey:
    """One (path template, method) the app answers, e.g. ('/events/{slug:str}/rsvp', 'POST')."""

    path: str
    method: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class AppRoute:
    path: str  # the full template, mount prefixes included
    methods: frozenset[str]
    regex: re.Pattern[str]
    params: tuple[str, ...]

    def route_keys(self) -> Iterator[RouteKey]:
        for method in sorted(self.methods - {"HEAD"}):
            yield RouteKey(self.path, method)

    def match(self, path: str) -> dict[str, str] | None:
        m = self.regex.match(path)
        return m.groupdict() if m else None


def app_routes(routes: Iterable[BaseRoute], prefix: str = "") -> list[AppRoute]:
    """Every Route in the table, descending into Mounts that hold routes (not static files)."""
    found: list[AppRoute] = []
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                found += app_routes(route.routes, prefix + route.path)
            continue
        if isinstance(route, Route):
            full = prefix + route.path
            regex, _, convertors = compile_path(full)
            found.append(AppRoute(full, frozenset(route.methods or {"GET"}), regex,
                                  tuple(convertors)))
    return found


def route_for(routes: list[AppRoute], path: str, method: str) -> tuple[AppRoute, dict] | None:
    """The route a request would reach, first match wins (as in Starlette's router)."""
    for route in routes:
        params = route.match(path)
        if params is not None and method in route.methods:
            return route, params
    return None


# --- forms in the rendered HTML --------------------------------------------------------------

TEXT_TYPES = {"text", "email", "tel", "password", "search", "url", "date", "time",
              "datetime-local", "number", "hidden", "month", "week"}


@dataclass
class FormField:
    name: str
    kind: str  # the input type, or "select" / "textarea" / "checkbox" / "submit"
    choices: list[str] = field(default_factory=list)  # values the page offers, default first
    sent_by_default: bool = True  # False for a checkbox that is not ticked
    required: bool = False  # the page marks it required (so an empty value is refused)


@dataclass
class FormSpec:
    """A form as the page renders it: where it posts and what it sends."""

    method: str
    action: str  # a path, resolved against the page it was found on
    fields: dict[str, FormField] = field(default_factory=dict)

    def add(self, name: str, kind: str, value: str | None) -> None:
        spec = self.fields.setdefault(name, FormField(name, kind))
        if value is not None and value not in spec.choices:
            spec.choices.append(value)

    def defaults(self) -> list[tuple[str, str]]:
        """What a browser sends when the first submit button is pressed without edits."""
        pairs = []
        for f in self.fields.values():
            if f.sent_by_default and f.kind != "submit":
                pairs.append((f.name, f.choices[0] if f.choices else ""))
        submits = [f for f in self.fields.values() if f.kind == "submit"]
        if submits:
            pairs.append((submits[0].name, submits[0].choices[0]))
        return pairs


class _FormParser(HTMLParser):
    def __init__(self, page_path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[FormSpec] = []
        self.links: list[str] = []
        self._form: FormSpec | None = None
        self._select: str | None = None
        self._option: dict[str, Any] | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._required: set[str] = set()

    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attr_list}
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "form":
            action = attrs.get("action") or self.page_path
            self._form = FormSpec(attrs.get("method", "get").upper(),
                                  urlsplit(action).path or self.page_path)
            self.forms.append(self._form)
            # A form posting to a URL with a query keeps that query: fields of their own.
            for k, v in parse_qsl(urlsplit(action).query, keep_blank_values=True):
                self._form.add(k, "hidden", v)
            return
        form, name = self._form, attrs.get("name")
        if form is None:
            return
        if name and tag in ("input", "select", "textarea") and "required" in attrs:
            self._required.add(name)
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                fresh = name not in form.fields
                form.add(name, "checkbox", attrs.get("value", "on"))
                if fresh:
                    form.fields[name].sent_by_default = "checked" in attrs
            elif kind in ("submit", "image"):
                form.add(name, "submit", attrs.get("value", ""))
            elif kind != "file":
                form.add(name, kind if kind in TEXT_TYPES else "text", attrs.get("value", ""))
        elif tag == "button" and name:
            form.add(name, "submit", attrs.get("value", ""))
        elif tag == "select" and name:
            self._select = name
            form.add(name, "select", None)
        elif tag == "option" and self._select:
            self._option = {"value": attrs.get("value"), "text": [],
                            "selected": "selected" in attrs}
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["text"].append(data)
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None and self._form and self._select:
            opt = self._option
            value = opt["value"] if opt["value"] is not None else "".join(opt["text"]).strip()
            choices = self._form.fields[self._select].choices
            if opt["selected"]:
                choices.insert(0, value)
            elif value not in choices:
                choices.append(value)
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form:
            name, text = self._textarea
            self._form.add(name, "textarea", "".join(text))
            self._textarea = None
        elif tag == "form" and self._form is not None:
            for name in self._required & self._form.fields.keys():
                self._form.fields[name].required = True
            self._form, self._required = None, set()


def parse_page(page_path: str, html: str) -> tuple[list[FormSpec], list[str]]:
    """The forms and link targets of one page."""
    parser = _FormParser(page_path)
    parser.feed(html)
    return parser.forms, parser.links


URL_RE = re.compile(r"https?://[^/\s\"'<>]+(/[^\s\"'<>)]*)")


def paths_in_text(text: str) -> list[str]:
    """Site paths (with query) named by absolute URLs in a text, e.g. links in an e-mail."""
    return [m.group(1) for m in URL_RE.finditer(text)]


def local_path(href: str, base_path: str) -> str | None:
    """The site path (with query) an href points to, or None for another site / a fragment."""
    parts = urlsplit(href)
    if parts.scheme and parts.scheme not in ("http", "https", "webcal"):
        return None
    if parts.netloc and parts.netloc not in ("testserver", "127.0.0.1"):
        return None
    path = parts.path
    if not path:
        path = base_path
    elif not path.startswith("/"):
        path = base_path.rsplit("/", 1)[0] + "/" + path
    return path + (f"?{parts.query}" if parts.query else "")


def split_query(path: str) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(path)
    return unquote(parts.path), parse_qsl(parts.query, keep_blank_values=True)


# --- the stored rows, kept and put back --------------------------------------------------------


class StoredState:
    """Every row of every table, copied once and written back after a request changed them.

    Copying rows (not re-running the seed) restores ids and random tokens exactly, so the
    paths the suite discovered keep pointing at the same rows on SQLite and PostgreSQL.
    """

    def __init__(self) -> None:
        self.tables: list[Table] = list(SQLModel.metadata.sorted_tables)
        with get_engine().connect() as conn:
            self.rows = {t.name: [dict(r._mapping) for r in conn.execute(select(t))]
                         for t in self.tables}

    def restore(self) -> None:
        with get_engine().begin() as conn:
            for table in reversed(self.tables):
                conn.execute(delete(table))
            for table in self.tables:
                if self.rows[table.name]:
                    conn.execute(insert(table), self.rows[table.name])
