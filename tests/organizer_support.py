"""Helpers for organizer tests: accounts, signing in through the real login form, RSVP rows.

Import the `cheap_passwords` fixture into a test module to make argon2 fast there: the
production parameters cost ~100 ms per hash, which would dominate a suite that signs in
hundreds of times. Verification reads the parameters from each hash, so nothing else changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlmodel import col, select
from starlette.routing import Route

from events_app.db import read_session, write_session
from events_app.models import Event, Organizer, Outbox
from events_app.services import auth, event_admin, locking, organizers
from events_app.services.event_form import form_values, parse_event_form
from events_app.web.organizer.routes import mount
from tests.rsvp_helpers import csrf_from

PASSWORD = "correct horse battery staple"


def organizer_routes() -> list[Route]:
    """The organizer table as the app serves it: each Route under the Mount's path and name
    (/organizer/..., organizer:<name>), so a test can match full request paths against it and
    build URLs with `route.url_path_for(route.name)`."""
    return [Route(mount.path + r.path, r.endpoint, methods=r.methods, name=f"{mount.name}:{r.name}")
            for r in mount.routes if isinstance(r, Route)]


@pytest.fixture
def cheap_passwords() -> Iterator[None]:
    previous = auth.use_hasher(PasswordHasher.from_parameters(CHEAPEST))
    yield
    auth.use_hasher(previous)


def make_organizer(email: str, name: str | None = None, admin: bool = False,
                   password: str = PASSWORD) -> Organizer:
    with write_session() as session:
        return organizers.create_organizer(session, email=email, name=name or email.split("@")[0],
                                           password=password, admin=admin)


def edit_event(actor: Organizer, event: Event, notify: bool = False,
               **changes: Any) -> event_admin.EventChanges:
    """Submit the edit form (service level) with the event's current values plus `changes`."""
    with read_session() as s:
        values = form_values(s.get(Event, event.id), event_admin.cohost_emails(s, event))
    values.update(changes)
    with write_session() as s:
        locked = locking.lock_event(s, event.id)
        return event_admin.update_event(s, actor, locked, parse_event_form(values),
                                        notify_attendees=notify)


def mailed_link(email: str, kind: str) -> str:
    """The site path of the one-time link in the newest `kind` e-mail ("invitation",
    "password_reset") queued to `email`, as its owner would open it."""
    with read_session() as s:
        body = s.exec(select(Outbox.body_text)
                      .where(Outbox.to_addr == email, Outbox.kind == kind)
                      .order_by(col(Outbox.id).desc())).first()
    assert body is not None, f"no {kind} e-mail to {email}"
    found = re.search(r"https?://\S+/organizer/(?:welcome|reset)/[A-Za-z0-9_-]+", body)
    assert found, body
    return urlsplit(found.group(0)).path


def csrf_token(client: Any, path: str = "/organizer/login") -> str:
    """The hidden CSRF field of a page (fetching it also sets the csrftoken cookie)."""
    return csrf_from(client.get(path).text)


def login(client: Any, email: str, password: str = PASSWORD, next_url: str = "") -> Any:
    token = csrf_token(client)
    data = {"csrf_token": token, "email": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/organizer/login", data=data, follow_redirects=False)


def post(client: Any, path: str, data: dict[str, Any] | None = None, token: str | None = None,
         **kwargs: Any) -> Any:
    """POST a form with a valid CSRF token (taken from the login page unless given)."""
    token = token or csrf_token(client)
    kwargs.setdefault("follow_redirects", False)
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


def field_error(html: str, field: str) -> str | None:
    """The message shown next to a form field, if any."""
    match = re.search(rf'<p class="field-error" id="f-{field}-error">([^<]*)</p>', html)
    return match.group(1) if match else None


def input_value(html: str, field: str) -> str | None:
    match = re.search(rf'<input id="f-{field}" name="{field}" type="[^"]+" value="([^"]*)"', html)
    return match.group(1) if match else None
