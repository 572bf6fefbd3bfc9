"""Every page is valid HTML and every stylesheet valid CSS, by the W3C Nu HTML Checker.

The pages come from a real uvicorn server, as a visitor and a signed-in admin see them: each
GET route of the app's route table (so a page added later is checked without anyone listing
it here), plus the states only a form or a failure reaches: forms re-rendered with errors,
confirmation steps, 400/404/405/500, and the HTML part of every kind of e-mail attendees get.
All of them go to the checker in one run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from sqlmodel import col, select

from events_app import settings
from events_app.db import read_session, write_session
from events_app.models import Event, EventStatus, Outbox, Rsvp, RsvpStatus, Series, utcnow
from events_app.services import account_links, calendar_month, organizers
from events_app.services.reminders import queue_reminders
from events_app.services.seed import seed
from events_app.web.app import create_app
from tests import nu_checker
from tests.conftest import LiveServer, start_server
from tests.factories import make_event, make_rsvp
from tests.failing_app import BOOM_PATH
from tests.organizer_support import (
    PASSWORD,
    cheap_passwords,  # noqa: F401 - fixture
    csrf_token,
    login,
    mailed_link,
    make_organizer,
)
from tests.route_table import get_routes
from tests.rsvp_helpers import csrf_from, feed_token, manage_link

pytestmark = pytest.mark.usefixtures("cheap_passwords")

ADMIN = "ada@example.org"

# How a GET route's path parameters are filled, by parameter name (values from `Site`). A route
# with a parameter not named here fails test_every_get_route_can_be_requested: add it here.
PARAMS = {
    "slug": lambda site: site.slug,
    "token": lambda site: site.token,
    "feed_token": lambda site: site.feed_token,
    "rsvp_id": lambda site: site.waitlisted_id,
    "organizer_id": lambda site: site.organizer_id,
    "event_id": lambda site: site.event_id,
    # The month view and day list of the event every page is about (ten days ahead).
    "month": lambda site: f"{calendar_month.today() + timedelta(days=10):%Y-%m}",
    "day": lambda site: (calendar_month.today() + timedelta(days=10)).isoformat(),
    "invite_token": lambda site: site.invite_token,
    "reset_token": lambda site: site.reset_token,
}


@dataclass
class Site:
    """A running server with an event in every state a page can show."""

    server: LiveServer
    slug: str = ""
    event_id: int = 0
    token: str = ""
    feed_token: str = ""
    waitlisted_id: int = 0
    organizer_id: int = 0
    invite_token: str = ""
    reset_token: str = ""
    cancelled_slug: str = ""
    past_slug: str = ""
    pages: dict[str, httpx2.Response] = field(default_factory=dict)


def _client(site: Site) -> httpx2.Client:
    return httpx2.Client(base_url=site.server.url, follow_redirects=True, timeout=60)


def _form(client: httpx2.Client, path: str, data: dict[str, Any],
          page: str | None = None) -> httpx2.Response:
    """POST a form as a browser would: the CSRF token from the page the form is on."""
    token = csrf_from(client.get(page).text) if page else csrf_token(client)
    return client.post(path, data={"csrf_token": token, **data})


def _event_form(**changes: str) -> dict[str, str]:
    day = (calendar_month.today() + timedelta(days=10)).isoformat()  # the day PARAMS show
    values = {
        "title": "Town hall: airport detentions & your rights", "summary": "Questions answered",
        # Markdown (issue 13 item 7): the rendered paragraphs, list and links must be valid too.
        "description": "What happened at the **airport**.\n\nWhat to do next:\n\n"
                       "- read https://example.org/rights\n- call [the hotline](tel:1)\n"
                       "- <b>stay</b> calm & share",
        "category": "town-hall", "host_name": "Councillor Ruiz",
        "timezone": "America/Chicago", "start_date": day, "start_time": "18:00",
        "end_date": day, "end_time": "20:00", "venue_name": "Union Hall",
        "street_address": "12 Main St", "city": "St. Louis", "region": "MO",
        "postal_code": "63101", "latitude": "38.6270", "longitude": "-90.1994",
        "online_url": "https://example.org/stream", "capacity": "3", "max_guests": "2",
        "rsvp_deadline": "", "waitlist_enabled": "on", "cohosts": "olga@example.org",
        "then": "publish",
    }
    values.update(changes)
    return values


def _expect(site: Site, name: str, response: httpx2.Response, status: int = 200,
            hint: str = "", contains: str = "") -> None:
    problems = re.findall(r'class="(?:field-error|banner banner-error)"[^>]*>([^<]*)<',
                          response.text)
    assert response.status_code == status, \
        f"{name}: {response.request.method} {response.url} answered {response.status_code}, " \
        f"expected {status}; messages on the page: {problems}. {hint}"
    assert contains in response.text, f"{name}: {response.url} does not show {contains!r}"
    site.pages[name] = response


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    nu_checker.java_command()  # skip (or fail in CI) before any work if the checker cannot run
    with write_session() as session:
        seed(session)
    make_organizer(ADMIN, "Ada Admin", admin=True)
    olga = make_organizer("olga@example.org", "Olga Organizer")
    with write_session() as session:
        organizers.invite_organizer(session, email="nia@example.org", name="Nia")
    invite_token = mailed_link("nia@example.org", "invitation").rsplit("/", 1)[-1]
    account_links.request_reset(olga.email, "192.0.2.1")
    reset_token = mailed_link(olga.email, "password_reset").rsplit("/", 1)[-1]
    cancelled = make_event(title="Briefing on the new ordinance", status=EventStatus.CANCELLED,
                           cancel_message="The room is closed; we will announce a new date.")
    past = make_event(title="Know-your-rights training", starts_at=utcnow().replace(
        microsecond=0) - timedelta(days=20))
    server = start_server(db_url, tmp_path, app="tests.failing_app:app")
    try:
        yield Site(server=server, organizer_id=olga.id or 0, cancelled_slug=cancelled.slug,
                   past_slug=past.slug, invite_token=invite_token, reset_token=reset_token)
    finally:
        server.stop()


def _build(site: Site) -> None:
    """Make the event every page is about through the real forms, visiting each error state."""
    with _client(site) as admin, _client(site) as ann, _client(site) as bob:
        _expect(site, "login", ann.get("/organizer/login"))
        _expect(site, "login-error", _form(ann, "/organizer/login", {
            "email": ADMIN, "password": "wrong password"}), 422)
        assert login(admin, ADMIN).status_code == 303
        new = "/organizer/events/new"
        _expect(site, "event-form-errors", _form(admin, new, _event_form(
            title="", end_time="17:00", latitude="north", capacity="0",
            online_url="not a link", cohosts="nobody@example.org"), new), 422)
        created = _form(admin, new, _event_form(), new)
        _expect(site, "event-created", created)
        site.slug = str(created.url).rsplit("/", 2)[-2]
        edit = f"/organizer/events/{site.slug}/edit"
        _expect(site, "event-edit-errors", _form(admin, edit, _event_form(start_date="soon"),
                                                 edit), 422)
        _expect(site, "event-form-series-preview", _form(admin, new, _event_form(
            repeat="weekly", ends="count", count="4", step="preview"), new),
            contains='id="preview-dates"')
        _expect(site, "event-form-series-errors", _form(admin, new, _event_form(
            repeat="monthly", interval="0", ends="until", until=""), new), 422)

        event_page = f"/events/{site.slug}"
        rsvp = f"/events/{site.slug}/rsvp"
        _expect(site, "rsvp-form-errors", _form(ann, rsvp, {
            "name": "", "email": "ann@", "guests": "9", "phone": "", "comment": "",
            "website": ""}, event_page), 422)
        going = _form(ann, rsvp, {"name": "Ann Lee", "email": "ann@example.org", "guests": "1",
                                  "phone": "", "comment": "Bringing my sister", "website": ""},
                      event_page)
        _expect(site, "rsvp-received", going, contains="Check your e-mail")
        # 1 spot left: a party of 2 is asked to come with fewer guests or wait whole.
        _expect(site, "rsvp-party-choice", _form(bob, rsvp, {
            "name": "Bo", "email": "bo@example.org", "guests": "1", "phone": "",
            "comment": "", "website": ""}, event_page), 409, contains='name="party"')
        # The manage link only travels by e-mail: open it as Ann would.
        site.token = manage_link("ann@example.org").rsplit("/", 1)[-1]
        _expect(site, "rsvp-manage-new", ann.get(f"/rsvp/{site.token}"))
        _expect(site, "rsvp-received-again", _form(bob, rsvp, {
            "name": "Ann", "email": "ann@example.org", "guests": "0", "phone": "",
            "comment": "", "website": ""}, event_page), contains="Check your e-mail")
        manage = f"/rsvp/{site.token}"
        _expect(site, "rsvp-manage-errors", _form(ann, manage, {
            "action": "guests", "guests": "lots"}, manage), 422)
        # A new personal-calendar link (e-mailed; the old one stops working).
        _expect(site, "rsvp-calendar-rotated", _form(ann, manage, {"action": "calendar"},
                                                     manage))
        site.feed_token = feed_token("ann@example.org")

        with read_session() as s:
            event = s.exec(select(Event).where(Event.slug == site.slug)).one()
        site.event_id = event.id or 0
        make_rsvp(event, "Cy Checked-In", "cy@example.org", checked_in_at=utcnow())  # full
        make_rsvp(event, "Dee Cancelled", "dee@example.org", status=RsvpStatus.CANCELLED.value)
        waiting = _form(bob, rsvp, {"name": "Bob Waiting", "email": "bob@example.org",
                                    "guests": "0", "phone": "", "comment": "", "website": ""},
                        event_page)
        _expect(site, "rsvp-waitlist-received", waiting, contains="Check your e-mail")
        bob_manage = manage_link("bob@example.org")
        _expect(site, "rsvp-manage-waitlisted", bob.get(bob_manage),
                contains="on the waitlist")
        _expect(site, "rsvp-manage-cancel-confirm", _form(bob, bob_manage, {
            "action": "cancel"}, bob_manage), contains="Cancel your RSVP?")
    with read_session() as s:
        site.waitlisted_id = s.exec(select(Rsvp.id).where(Rsvp.email == "bob@example.org")).one()


def _visit(site: Site) -> None:
    """Every GET route as the visitor or admin would open it, then the remaining states."""
    app = create_app()
    with _client(site) as visitor, _client(site) as admin:
        assert login(admin, ADMIN).status_code == 303
        for name, route in get_routes():
            params = {p: PARAMS[p](site) for p in route.param_convertors}
            path = app.url_path_for(name, **params)
            client = admin if path.startswith("/organizer") else visitor
            _expect(site, f"route-{name}", client.get(path),
                    hint="Every GET route is opened with the PARAMS values: make them fit it.")

        for name, path in {
            "events-past": "/events?when=past",
            "events-none-found": "/events?q=no+such+event+anywhere",
            "events-past-matches": "/events?q=Bergstrom",
            "events-filtered": "/events?online=1&city=St.+Louis&category=town-hall",
            "month-filtered": f"/events/month/{PARAMS['month'](site)}?category=town-hall",
            "month-empty": "/events/month/1970-01",
            "event-cancelled": f"/events/{site.cancelled_slug}",
            "event-past": f"/events/{site.past_slug}",
            "event-full": f"/events/{site.slug}",
            "rsvp-manage-updated": f"/rsvp/{site.token}?m=updated",
        }.items():
            _expect(site, name, visitor.get(path))
        _expect(site, "not-found", visitor.get("/no/such/page"), 404)
        _expect(site, "bad-request", visitor.get("/events?from=soon&to=2026-02-30"), 400)
        _expect(site, "rsvp-unknown-token", visitor.get("/rsvp/not-a-real-token"), 404)
        # A seeded series taking RSVPs to every date (issue 14): the form's answer, the
        # person's page for the whole series and its confirmation step.
        with read_session() as s:
            first = s.exec(select(Event).join(Series, col(Series.id) == col(Event.series_id))
                           .where(col(Series.rsvp_all), Event.status == "published")
                           .order_by(col(Event.starts_at))).first()
        assert first is not None, "the seed has a series taking RSVPs to every date"
        _expect(site, "rsvp-all-dates", _form(visitor, f"/events/{first.slug}/rsvp", {
            "name": "Rae", "email": "rae@example.org", "guests": "0", "phone": "",
            "comment": "", "website": "", "dates": "all"}, f"/events/{first.slug}"),
            contains="every upcoming date")
        series_page = manage_link("rae@example.org") + "/series"
        _expect(site, "rsvp-series", visitor.get(series_page), contains="Your RSVPs")
        _expect(site, "rsvp-series-cancel-confirm", _form(
            visitor, series_page, {"action": "cancel_all"}, series_page), contains="Cancel all")
        _expect(site, "method-not-allowed", visitor.post("/events"), 405)
        _expect(site, "server-error", visitor.get(BOOM_PATH), 500)
        logged_out = httpx2.Client(base_url=site.server.url, follow_redirects=True)
        with logged_out:
            _expect(site, "login-signed-out", logged_out.get("/organizer/login?logged_out=1"))
            # Invitation and reset links, and "forgot password", in each of their states.
            welcome = f"/organizer/welcome/{site.invite_token}"
            _expect(site, "invitation-page", logged_out.get(welcome), contains="Welcome, Nia")
            _expect(site, "invitation-errors", _form(logged_out, welcome, {
                "new_password": "short", "confirm_password": "short"}, welcome), 422)
            _expect(site, "reset-link-invalid", logged_out.get(
                f"/organizer/reset/{site.invite_token}"), 410)
            forgot = "/organizer/forgot-password"
            _expect(site, "forgot-errors", _form(logged_out, forgot, {"email": ""}, forgot), 422)
            _expect(site, "forgot-sent", _form(logged_out, forgot, {"email": ADMIN}, forgot),
                    contains="is on its way")
            reset = mailed_link(ADMIN, "password_reset")
            _expect(site, "reset-page", logged_out.get(reset), contains="Choose a new password")

        base = f"/organizer/events/{site.slug}"
        attendees = f"{base}/attendees"
        with read_session() as s:  # a date of one of the seed's series, still to come
            occurrence = s.exec(select(Event.slug).where(
                col(Event.series_id).is_not(None), col(Event.starts_at) > utcnow())
                .order_by(col(Event.starts_at))).first()
        assert occurrence, "the seed has no series"
        series_base = f"/organizer/events/{occurrence}"
        for name, path in {
            "series-page": f"{series_base}/series",
            "series-rule": f"{series_base}/series/repeat",
            "series-date-edit": f"{series_base}/edit",
            "series-date-cancel": f"{series_base}/cancel",
            "attendees-search": f"{attendees}?q=ann",
            "attendees-waitlist": f"{attendees}?status=waitlisted",
            "cancel-cancelled-event": f"/organizer/events/{site.cancelled_slug}/cancel",
            "edit-cancelled-event": f"/organizer/events/{site.cancelled_slug}/edit",
            "dashboard-page-2": "/organizer/?page=2&past_page=2",
            "dashboard-search": "/organizer/?q=rally",
            "dashboard-search-nothing": "/organizer/?q=no+such+event",
        }.items():
            _expect(site, name, admin.get(path))
        party = f"{attendees}/{site.waitlisted_id}"
        _expect(site, "force-confirm-over-capacity", _form(admin, f"{party}/confirm", {},
                                                           attendees), contains="anyway?")
        _expect(site, "remove-confirmation", _form(admin, f"{party}/remove", {}, attendees),
                contains="RSVP?</h1>")
        _expect(site, "email-errors", _form(admin, f"{base}/email", {
            "subject": "", "body": ""}, f"{base}/email"), 422)
        draft = {"audience": "confirmed", "subject": "Doors", "body": "Hi all,\n\nDoors at 6."}
        _expect(site, "email-preview", _form(admin, f"{base}/email", {
            **draft, "step": "preview"}, f"{base}/email"), contains="Check your message")
        _expect(site, "email-test-sent", _form(admin, f"{base}/email", {
            **draft, "step": "test"}, f"{base}/email"), contains="A test copy")
        _expect(site, "organizers-errors", _form(admin, "/organizer/organizers", {
            "name": "", "email": "not-an-address"}, "/organizer/organizers"), 422)
        _expect(site, "account-errors", _form(admin, "/organizer/account", {
            "current_password": PASSWORD, "new_password": "a long new password",
            "confirm_password": "something else"}, "/organizer/account"), 422)


def _send_every_email(site: Site) -> None:
    """The actions that e-mail attendees; last, as they change the event the pages show."""
    base = f"/organizer/events/{site.slug}"
    attendees = f"{base}/attendees"
    with read_session() as s:
        ann = s.exec(select(Rsvp).where(Rsvp.token == site.token)).one()
    with _client(site) as admin:
        assert login(admin, ADMIN).status_code == 303
        for name, path, data, form_page in [
            ("attendees-emailed", f"{base}/email",
             {"subject": "Bring water", "body": "It will be hot.\n\nSee you.", "step": "send"},
             f"{base}/email"),
            ("event-moved", f"{base}/edit",
             _event_form(start_time="18:30", notify_attendees="on"), f"{base}/edit"),
            ("attendee-removed", f"{attendees}/{ann.id}/remove",
             {"confirm": "1", "notify": "1"}, attendees),
        ]:
            _expect(site, name, _form(admin, path, data, form_page))
        assert queue_reminders(lead=timedelta(days=365)) > 0
        _expect(site, "event-cancelled-by-organizer", _form(admin, f"{base}/cancel", {
            "message": "The hall flooded; a new date follows."}, f"{base}/cancel"))
        _expect(site, "event-cancelled-edit", admin.get(f"{base}/edit"))  # offers "Undo"
        _expect(site, "event-uncancelled", _form(admin, f"{base}/uncancel", {}, f"{base}/edit"),
                contains="is back on")


def _emails() -> dict[str, str]:
    """file name -> the HTML part of every e-mail queued, one per kind of message."""
    with read_session() as s:
        rows = s.exec(select(Outbox).where(Outbox.body_html != "").order_by(Outbox.id)).all()
    return {f"mail-{row.kind}.html": row.body_html for row in rows}


def _stylesheets(site: Site) -> set[str]:
    links = set()
    for response in site.pages.values():
        links.update(re.findall(r'<link rel="stylesheet" href="([^"]+)"', response.text))
    return links


def test_every_page_is_valid_html_and_every_stylesheet_valid_css(site: Site,
                                                                 tmp_path: Path) -> None:
    _build(site)
    _visit(site)
    _send_every_email(site)
    out = tmp_path / "checked"
    out.mkdir()
    files = []
    for name, response in site.pages.items():
        if response.headers["content-type"].startswith("text/html"):
            files.append(out / f"{name}.html")
            files[-1].write_bytes(response.content)
    assert len(files) >= 30, sorted(site.pages)
    emails = _emails()
    templates = {p.stem for p in (settings.TEMPLATES_DIR / "mail").glob("[!_]*.html")}
    assert {name[len("mail-"):-len(".html")] for name in emails} == templates, \
        "every HTML e-mail template is rendered (an e-mail kind without an action here?)"
    for name, html in emails.items():
        files.append(out / name)
        files[-1].write_text(html)
    sheets = _stylesheets(site)
    assert sheets, "no stylesheet linked from any page"
    with httpx2.Client(base_url=site.server.url) as c:
        for href in sorted(sheets):
            css = c.get(href)
            assert css.status_code == 200 and "text/css" in css.headers["content-type"], href
            files.append(out / Path(urlsplit(href).path).name)
            files[-1].write_bytes(css.content)

    findings = nu_checker.check(files)
    errors = [m for m in findings if m.kind in ("error", "non-document-error")]
    assert not errors, f"{len(errors)} error(s) from the Nu HTML checker:\n" + \
        "\n".join(map(str, errors))
    warnings = [m for m in findings if m.kind == "warning"]
    assert not warnings, f"{len(warnings)} warning(s) from the Nu HTML checker:\n" + \
        "\n".join(map(str, warnings))


def test_every_get_route_can_be_requested() -> None:
    """Each GET route's parameters can be filled, so the validity test opens every page."""
    unknown = {name: sorted(set(route.param_convertors) - set(PARAMS))
               for name, route in get_routes()}
    unknown = {name: params for name, params in unknown.items() if params}
    assert not unknown, f"routes with parameters PARAMS cannot fill: {unknown}"
    names = {name for name, _ in get_routes()}
    assert {"home", "event_detail", "rsvp_manage", "organizer:dashboard",
            "organizer:attendees"} <= names  # the walk reaches the app's pages
