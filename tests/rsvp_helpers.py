"""Shared helpers for the RSVP tests: building requests, reading rows back, posting forms."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import col, select

from events_app.db import read_session
from events_app.models import Outbox, PersonalFeed, Rsvp
from events_app.services.rsvp_input import RsvpRequest
from events_app.web import csrf

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
MANAGE_RE = re.compile(r"https?://[^/\s]+(/rsvp/[A-Za-z0-9_-]{43})\b")


def req(email: str, guests: int = 0, name: str | None = None, **kw: Any) -> RsvpRequest:
    return RsvpRequest(name=name or email.split("@")[0].title(), email=email, guests=guests,
                       **kw)


def rsvps(event_id: int) -> dict[str, Rsvp]:
    with read_session() as s:
        rows = s.exec(select(Rsvp).where(Rsvp.event_id == event_id).order_by(col(Rsvp.id)))
        return {r.email: r for r in rows}


def statuses(event_id: int) -> dict[str, str]:
    return {email: r.status for email, r in rsvps(event_id).items()}


def outbox(kind: str | None = None) -> list[Outbox]:
    with read_session() as s:
        q = select(Outbox).order_by(col(Outbox.id))
        if kind:
            q = q.where(Outbox.kind == kind)
        return list(s.exec(q))


def feed_token(email: str) -> str:
    """The personal-feed token of an address (only ever sent to it by e-mail)."""
    with read_session() as s:
        return s.exec(select(PersonalFeed.token).where(PersonalFeed.email == email)).one()


def manage_link(email: str, kind: str | None = None) -> str:
    """The manage path from the latest e-mail to `email` (of `kind`), as its owner would
    find it: the page answering the form never shows it."""
    mails = [m for m in outbox(kind) if m.to_addr == email]
    assert mails, f"no e-mail to {email}"
    m = MANAGE_RE.search(mails[-1].body_text)
    assert m, mails[-1].body_text
    return m.group(1)


def csrf_from(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def token_for(client: Any, html: str) -> str:
    """The form's CSRF token; for a page showing no form (a full or closed event, where a
    form opened earlier may still be posted), the token that cookie's forms would carry. A
    page without a form sets no cookie: a client without one takes the cookie an earlier
    page with a form would have given it."""
    m = CSRF_RE.search(html)
    if m:
        return m.group(1)
    if csrf.COOKIE_NAME not in client.cookies:
        client.cookies.set(csrf.COOKIE_NAME, csrf.new_nonce())
    return csrf._sign(client.cookies[csrf.COOKIE_NAME])


def post_rsvp(client: Any, slug: str, **fields: Any) -> Any:
    """GET the event page (cookie + token), then POST the RSVP form like a browser would."""
    page = client.get(f"/events/{slug}")
    data = {"name": "Ann Lee", "email": "ann@example.org", "phone": "", "guests": "0",
            "comment": "", "website": "", "csrf_token": token_for(client, page.text)}
    data.update({k: str(v) for k, v in fields.items()})
    return client.post(f"/events/{slug}/rsvp", data=data, follow_redirects=False)
