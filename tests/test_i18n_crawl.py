"""Every page in both languages, in one crawl (issue 15: "every public and organizer page
rendered in Spanish contains no English UI strings ... and the reverse").

An organizer works on a calendar with something of everything (single events, a series, a
draft, a cancelled and a past event, RSVPs confirmed, waitlisted, cancelled and checked in, a
co-host, audit entries, a pending invitation and password reset), a visitor RSVPs, and then
every GET route of the app is fetched — public pages, feeds, the API, the person's own pages
and the whole organizer workspace — once in Spanish and once in English. The Spanish pages
hold none of the catalog's English texts (tests/i18n_support.english_pieces), the English
pages none of its Spanish ones.

The routes come from the app's own route table: a GET route that is neither crawled nor
excluded below with a reason fails the test, so a new page cannot be forgotten.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlmodel import col, select
from starlette.routing import Match

from events_app.db import read_session, write_session
from events_app.models import Event, Organizer, RsvpStatus, utcnow
from tests.factories import make_event, make_rsvp
from tests.i18n_support import EN, ES, english_pieces, page_text, translated_pieces
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    login,
    mailed_link,
    make_organizer,
    post,
)
from tests.route_table import get_routes
from tests.rsvp_helpers import feed_token, manage_link, outbox, post_rsvp
from tests.test_series_workspace import _form

pytestmark = pytest.mark.usefixtures("cheap_passwords")


# Every catalog text, wherever it is used: no page may show one in the other language.
ENGLISH = english_pieces(("",))
SPANISH = translated_pieces(("",))

# GET routes not crawled, and why.
EXCLUDED = {
    "embed_js": "the embed loader script, not a page: it shows nothing of its own (the "
                "snippets give the iframe its translated title)",
    "api_v1_openapi": "the OpenAPI document, the API's contract, is in English like its field "
                      "names; /api shows it with its own words translated and says so",
}



ROUTES = dict(get_routes())


def _route_of(path: str) -> str:
    """The name of the GET route that answers `path`."""
    scope = {"type": "http", "method": "GET", "path": urlsplit(path).path}
    found = [name for name, route in ROUTES.items() if route.matches(scope)[0] == Match.FULL]
    assert found, f"no GET route answers {path}"
    return found[0]


def _readable(body: str, content_type: str) -> str:
    """What a reader meets: an HTML page's or Atom's words; an .ics unfolded and unescaped
    (its texts as a calendar app shows them); JSON and CSV as they are."""
    if content_type.startswith("text/calendar"):
        body = body.replace("\r\n ", "")
        body = re.sub(r"\\([,;\\])", r"\1", body).replace("\\n", " ").replace("\\N", " ")
        return " ".join(body.split())
    if content_type.startswith(("text/html", "application/atom+xml")):
        return page_text(body)
    return " ".join(body.split())


def _found(pieces: set[str], text: str, allowed: Collection[str] = ()) -> list[str]:
    """The pieces in `text` as whole words (a lone 'Meeting' inside 'Meetings' is not one)."""
    return sorted(p for p in pieces if p in text and p not in allowed
                  and re.search(rf"(?<!\w){re.escape(p)}(?!\w)", text))


class Crawl:
    """A client in one language that keeps what every GET showed, by name and by route."""

    def __init__(self, client: Any, headers: dict[str, str], lang: str) -> None:
        self.client, self.lang = client, lang
        client.headers.update(headers)
        self.pages: dict[str, str] = {}
        self.routes_seen: set[str] = set()

    def get(self, name: str, path: str, status: int = 200) -> str:
        if urlsplit(path).path.endswith((".ics", ".atom")):  # feeds: the URL names the language
            path += ("&" if "?" in path else "?") + f"lang={self.lang}"
        answer = self.client.get(path, follow_redirects=False)
        assert answer.status_code == status, (name, path, answer.status_code,
                                              answer.headers.get("location"))
        text = _readable(answer.text, answer.headers.get("content-type", ""))
        self.pages[name] = text
        if status == 200:
            self.routes_seen.add(_route_of(path))
        return answer.text

    def after(self, name: str, answer: Any) -> None:
        """Follow a form's redirect and keep the page it lands on (its flash message)."""
        assert answer.status_code == 303, (name, answer.status_code, answer.text[:300])
        self.get(name, answer.headers["location"])


def _event(slug: str) -> Event:
    with read_session() as s:
        return s.exec(select(Event).where(Event.slug == slug)).one()


def _slug_of(title: str) -> str:
    with read_session() as s:
        return s.exec(select(Event.slug).where(Event.title == title)
                      .order_by(col(Event.id))).first()


def _crawl(client: Any, headers: dict[str, str], lang: str) -> Crawl:
    crawl = Crawl(client, headers, lang)
    get = crawl.get
    owner = make_organizer("owner@example.org", "Olga Owner", admin=True)
    make_organizer("cohost@example.org", "Carla Cohost")
    make_organizer("bo@example.org", "Bo Brown")
    tess = make_organizer("tess@example.org", "Tess Two-Step")
    with write_session() as s:  # Tess has two-factor sign-in on
        row = s.get(Organizer, tess.id)
        row.totp_secret, row.totp_enabled_at = pyotp.random_base32(), utcnow()

    # Signed out: the sign-in pages, a password reset and the second sign-in step.
    get("sign-in", "/organizer/login")
    get("forgot password", "/organizer/forgot-password")
    crawl.pages["forgot password, sent"] = page_text(post(
        client, "/organizer/forgot-password", {"email": "bo@example.org"}).text)
    get("reset password", mailed_link("bo@example.org", "password_reset"))
    assert login(client, "tess@example.org").status_code == 303
    get("sign-in code", "/organizer/login/code")
    client.cookies.clear()

    # The organizer builds the calendar through the workspace (audit entries, flashes).
    assert login(client, "owner@example.org").status_code == 303
    crawl.after("dashboard, single published", post(client, "/organizer/events/new", {
        **_form(title="Know your rights", repeat="none", capacity="2", max_guests="3",
                cohosts="cohost@example.org"), "then": "publish"}))
    single = _slug_of("Know your rights")
    crawl.after("series created", post(client, "/organizer/events/new", {
        **_form(ends="count", count="4", until=""), "then": "publish"}))
    dates = [_event(e) for e in _series_slugs()]
    crawl.after("series, RSVP to every date", post(
        client, f"/organizer/events/{dates[0].slug}/series/rsvp-all", {"rsvp_all": "1"}))
    crawl.after("draft saved", post(client, "/organizer/events/new", {
        **_form(title="Budget hearing", repeat="none"), "then": "draft"}))
    draft = _slug_of("Budget hearing")
    crawl.after("cancelled a single event", post(client, "/organizer/events/new", {
        **_form(title="Vigil downtown", repeat="none"), "then": "publish"}))
    vigil = _slug_of("Vigil downtown")
    crawl.after("event cancelled", post(client, f"/organizer/events/{vigil}/cancel",
                                        {"message": "Storm warning"}))
    crawl.after("refused: publish a cancelled event",
                post(client, f"/organizer/events/{vigil}/publish"))
    crawl.after("a date cancelled", post(client, f"/organizer/events/{dates[2].slug}/cancel",
                                         {"scope": "one", "message": ""}))
    past = make_event(title="Spring town hall", slug="spring-town-hall", owner_id=owner.id,
                      starts_at=utcnow().replace(microsecond=0) - timedelta(days=20))
    make_rsvp(past, name="Pam Past", email="pam@example.org",
              checked_in_at=past.starts_at + timedelta(minutes=5))
    # RSVPs of every kind on the single event: a visitor's own, then the organizer's list.
    event = _event(single)
    here = make_rsvp(event, name="Ann Attendee", email="ann@example.org", guests=1)
    make_rsvp(event, name="Wes Waiting", email="wes@example.org",
              status=RsvpStatus.WAITLISTED.value)
    make_rsvp(event, name="Cy Cancelled", email="cy@example.org",
              status=RsvpStatus.CANCELLED.value)
    crawl.after("checked in", post(
        client, f"/organizer/events/{single}/attendees/{here.id}/check-in", {"here": "1"}))
    crawl.after("organizer invited", post(client, "/organizer/organizers",
                                          {"name": "Nell New", "email": "nell@example.org"}))

    # The workspace, every page.
    get("dashboard", "/organizer/")
    get("dashboard, drafts", "/organizer/?status=draft")
    get("new event", "/organizer/events/new")
    get("edit single", f"/organizer/events/{single}/edit")
    get("edit draft", f"/organizer/events/{draft}/edit")
    get("edit a date", f"/organizer/events/{dates[0].slug}/edit")
    get("edit cancelled", f"/organizer/events/{vigil}/edit")
    get("cancel single?", f"/organizer/events/{single}/cancel")
    get("cancel a date?", f"/organizer/events/{dates[1].slug}/cancel")
    get("series", f"/organizer/events/{dates[0].slug}/series")
    get("series rule", f"/organizer/events/{dates[0].slug}/series/repeat")
    get("make it repeat", f"/organizer/events/{single}/repeat")
    get("attendees", f"/organizer/events/{single}/attendees")
    get("attendees, searched", f"/organizer/events/{single}/attendees?q=nobody&status=here")
    get("attendees, past", f"/organizer/events/{past.slug}/attendees")
    get("attendees csv", f"/organizer/events/{single}/attendees.csv")
    get("e-mail attendees", f"/organizer/events/{single}/email")
    get("organizers", "/organizer/organizers")
    get("audit log", "/organizer/audit")
    get("account", "/organizer/account")
    get("two-factor", "/organizer/account/two-factor")
    get("organizer 404", "/organizer/events/no-such-event/edit", status=404)
    get("organizer, bad page number", "/organizer/?page=abc", status=400)
    get("attendees, bad sort", f"/organizer/events/{single}/attendees?sort=zzz", status=400)

    # A visitor: the public pages, feeds and API, an RSVP and the pages it leads to.
    client.cookies.clear()
    assert post_rsvp(client, single, email="vi@example.org", guests="0").status_code == 200
    manage = manage_link("vi@example.org")
    assert post_rsvp(client, dates[0].slug, email="vi@example.org",
                     dates="all").status_code == 200
    get("home", "/")
    get("list", "/events")
    get("list, past", "/events?when=past")
    get("list, nothing found", "/events?q=nothing+matches+this")
    get("list, filtered", "/events?category=meeting&city=Chicago")
    first_day = dates[0].starts_at.astimezone(dates[0].tz).date()
    get("month", f"/events/month/{first_day:%Y-%m}")
    get("day", f"/events/day/{first_day.isoformat()}")
    get("event", f"/events/{single}")
    get("event, a date", f"/events/{dates[0].slug}")
    get("event, cancelled", f"/events/{vigil}")
    get("event, past", f"/events/{past.slug}")
    get("embed", "/embed/upcoming")
    get("embed builder", "/embed")
    get("api reference", "/api")
    get("api events", "/api/v1/events")
    get("api event", f"/api/v1/events/{dates[0].slug}")
    get("api categories", "/api/v1/categories")
    get("api cities", "/api/v1/cities")
    get("api, old list", "/api/events")
    get("api, old event", f"/api/events/{single}")
    get("calendar feed", "/calendar.ics")
    get("event .ics", f"/events/{vigil}.ics")
    get("atom", "/events.atom")
    get("manage RSVP", manage)
    get("series RSVP", _series_link("vi@example.org"))
    token = feed_token("vi@example.org")
    get("my events", f"/my/{token}")
    get("my calendar", f"/my/{token}/calendar.ics")
    get("welcome (invitation)", mailed_link("nell@example.org", "invitation"))
    get("page not found", "/no/such/page", status=404)
    get("month not found", "/events/month/9999-01", status=404)
    get("month unreadable", "/events/month/2027-13", status=404)
    get("list, bad page number", "/events?page=abc", status=400)
    get("list, bad date", "/events?from=bad", status=400)
    get("embed, bad theme", "/embed?theme=x", status=400)
    return crawl


def _series_slugs() -> list[str]:
    with read_session() as s:
        return list(s.exec(select(Event.slug).where(col(Event.series_id).is_not(None))
                           .order_by(col(Event.starts_at))).all())


SERIES_LINK_RE = re.compile(r"https?://[^/\s]+(/rsvp/[A-Za-z0-9_-]{43}/series)\b")


def _series_link(email: str) -> str:
    """The person's page for a whole series, from the summary e-mail they got."""
    for mail in reversed(outbox()):
        found = SERIES_LINK_RE.search(mail.body_text) if mail.to_addr == email else None
        if found:
            return found.group(1)
    raise AssertionError(f"no series link mailed to {email}")


def _none_left(found: dict[str, list[str]]) -> None:
    """Fails with one line per page: the page's name and the texts it should not show."""
    left = [f"{name}: {texts}" for name, texts in found.items() if texts]
    assert not left, "texts in the other language:\n" + "\n".join(left)


def _every_route_crawled(crawl: Crawl) -> None:
    assert not set(EXCLUDED) - set(ROUTES), "excluded routes the app no longer has"
    forgotten = set(ROUTES) - crawl.routes_seen - set(EXCLUDED)
    assert forgotten == set(), "GET routes neither crawled nor excluded (add them above)"


def test_spanish_pages_hold_no_english_catalog_text(client: Any) -> None:
    spanish = _crawl(client, ES, "es")
    _every_route_crawled(spanish)
    _none_left({name: _found(ENGLISH, text)
                for name, text in spanish.pages.items()})
    # The check can see: the pages are Spanish, in many catalog texts ...
    seen = set().union(*(_found(SPANISH, text) for text in spanish.pages.values()))
    assert len(seen) > 300, len(seen)
    # ... among them the texts this crawl found in English first.
    pages = spanish.pages
    assert "No encontramos ese evento entre los eventos que usted gestiona." in \
        pages["organizer 404"]
    assert "Ver detalles y confirmar asistencia" in pages["atom"]
    assert "Referencia de la API" in pages["api reference"]
    assert "Reunión" in pages["embed builder"] and '"category_label":"Reunión"' in \
        pages["api events"]
    assert "Enlace copiado." in pages["event"]  # static/share.js's words
    assert "Esta fecha ya pasó." in pages["new event"]  # static/event_form.js's


def test_english_pages_hold_no_spanish_catalog_text(client: Any) -> None:
    english = _crawl(client, EN, "en")
    _every_route_crawled(english)
    _none_left({name: _found(SPANISH, text) for name, text in english.pages.items()})
    # ... and the reverse check can see too: the same crawl meets the English texts.
    seen = set().union(*(_found(ENGLISH, text) for text in english.pages.values()))
    assert len(seen) > 300, len(seen)
