"""The organizer dashboard: who relates how to each event, and a layout that works on a
laptop (a readable table) and on a phone at the door (cards, nothing scrolls sideways)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event as sa_event
from starlette.testclient import TestClient

from events_app.db import get_engine, read_session, write_session
from events_app.models import EventHost, utcnow
from events_app.services import dashboard
from events_app.web.app import create_app
from tests.conftest import shipped_font_loaded
from tests.factories import make_event, make_rsvp
from tests.organizer_support import (
    PASSWORD,
    cheap_passwords,  # noqa: F401 - fixture
    login,
    make_organizer,
)

pytestmark = pytest.mark.usefixtures("cheap_passwords")

LONG_TITLE = "Quarterly regional policy briefing on housing, transit and infrastructure funding"


class Cast:
    """An owner, a co-host, an admin, and their events (one owned by nobody: demo data)."""

    def __init__(self) -> None:
        self.owner = make_organizer("owner@example.org", "Olga Owner")
        self.cohost = make_organizer("cohost@example.org", "Carl Cohost")
        self.admin = make_organizer("admin@example.org", "Ada Admin", admin=True)
        self.shared = make_event(owner_id=self.owner.id, title="Shared town hall")
        with write_session() as s:
            s.add(EventHost(event_id=self.shared.id, organizer_id=self.cohost.id))
        self.admins_own = make_event(owner_id=self.admin.id, title="Admin's briefing")
        self.orphan = make_event(owner_id=None, title="Seeded rally")


@pytest.fixture
def cast(db_url: str) -> Cast:
    return Cast()


def _relations(html: str) -> dict[str, str]:
    """slug -> the relationship text shown under the event's title ("" when none)."""
    found = {}
    for slug, row in re.findall(r'<tr data-slug="([^"]+)">(.*?)</tr>', html, re.S):
        tag = re.search(r'<span class="relation">(.*?)</span>', row, re.S)
        found[slug] = re.sub(r"\s+", " ", tag.group(1)).strip() if tag else ""
    return found


def _dashboard_html(email: str) -> str:
    with TestClient(create_app()) as c:
        assert login(c, email).status_code == 303
        r = c.get("/organizer/")
        assert r.status_code == 200
        return r.text


def test_service_tells_owner_cohost_and_admin_apart(cast: Cast) -> None:
    def rows(who):
        with read_session() as s:
            section = dashboard.section(s, who, "upcoming")
        return {r.event.slug: (r.relation, r.owner_name) for r in section.rows}

    assert rows(cast.owner) == {cast.shared.slug: ("owner", "Olga Owner")}
    assert rows(cast.cohost) == {cast.shared.slug: ("cohost", "Olga Owner")}
    assert rows(cast.admin) == {
        cast.shared.slug: ("other", "Olga Owner"),
        cast.admins_own.slug: ("owner", "Ada Admin"),
        cast.orphan.slug: ("other", None),
    }


def test_rows_name_the_relationship_not_a_generic_tag(cast: Cast) -> None:
    # An organizer's own event needs no label: "My events" says it.
    assert _relations(_dashboard_html("owner@example.org")) == {cast.shared.slug: ""}
    assert _relations(_dashboard_html("cohost@example.org")) == {
        cast.shared.slug: "Co-host · owner: Olga Owner"}
    # Admins see everyone's events, so every row says whose it is.
    admin_html = _dashboard_html("admin@example.org")
    assert _relations(admin_html) == {
        cast.shared.slug: "Owner: Olga Owner",
        cast.admins_own.slug: "Owner: you",
        cast.orphan.slug: "No owner",
    }
    assert "co-host / admin" not in admin_html


@contextmanager
def _counting_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    engine = get_engine()
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)


def test_dashboard_queries_do_not_grow_with_the_number_of_events(db_url: str) -> None:
    """Seats are counted for the whole page in one grouped query, not one query per event."""
    owner = make_organizer("owner@example.org", "Olga Owner")

    def queries_for_page() -> tuple[int, dict[str, int]]:
        with _counting_queries() as statements, read_session() as s:
            section = dashboard.section(s, owner, "upcoming")
        return len(statements), {r.event.slug: r.seats.confirmed for r in section.rows}

    for i in range(2):
        make_rsvp(make_event(owner_id=owner.id), f"P{i}", f"p{i}@example.org", guests=i)
    few, seats = queries_for_page()
    assert sorted(seats.values()) == [1, 2]
    for i in range(2, 12):
        make_rsvp(make_event(owner_id=owner.id), f"P{i}", f"p{i}@example.org", guests=i)
    many, seats = queries_for_page()
    assert sorted(seats.values()) == list(range(1, 13))  # right counts for every row
    assert many == few


def test_upcoming_keeps_up_with_new_events_and_earlier_clocks(db_url: str) -> None:
    """The earliest unfinished start (the range the upcoming section reads) is kept between
    dashboards: an event added since, or an earlier `now`, must still show."""
    owner = make_organizer("owner@example.org", "Olga Owner")
    now = utcnow()

    def upcoming(at: datetime) -> list[str]:
        with read_session() as s:
            return [r.event.slug for r in dashboard.section(s, owner, "upcoming", now=at).rows]

    later = make_event(owner_id=owner.id, starts_at=now + timedelta(days=5))
    assert upcoming(now) == upcoming(now) == [later.slug]
    sooner = make_event(owner_id=owner.id, starts_at=now + timedelta(days=1))
    assert upcoming(now) == [sooner.slug, later.slug]
    over = make_event(owner_id=owner.id, starts_at=now - timedelta(days=3))
    assert upcoming(now) == [sooner.slug, later.slug]
    assert upcoming(now - timedelta(days=4)) == [over.slug, sooner.slug, later.slug]
    assert upcoming(now + timedelta(days=2)) == [later.slug]


def test_dashboard_sections_page_independently(db_url: str) -> None:
    owner = make_organizer("owner@example.org", "Olga Owner")
    for i in range(dashboard.PAGE_SIZE + 1):
        make_event(owner_id=owner.id, title=f"Upcoming {i}")
    with TestClient(create_app()) as c:
        login(c, "owner@example.org")
        first = c.get("/organizer/").text
        assert re.findall(r'<a rel="(\w+)" href="([^"]+)"', first) == [("next", "?page=2")]
        second = c.get("/organizer/?page=2").text
        assert len(_relations(second)) == 1 and "Page 2 of 2" in second
        assert re.findall(r'<a rel="(\w+)" href="([^"]+)"', second) == [("prev", "?page=1")]


# --- layout in a real browser ----------------------------------------------------------------

def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/organizer/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/organizer/")


LINES = """(sel) => {
  const el = document.querySelector(sel);
  const lh = parseFloat(getComputedStyle(el).lineHeight);
  return Math.round(el.getBoundingClientRect().height / lh);
}"""


@pytest.mark.browser
def test_dashboard_is_readable_on_a_laptop_and_cards_on_a_phone(db_url, live_server,
                                                                 new_page) -> None:
    owner = make_organizer("olga@example.org", "Olga Organizer")
    # 10 AM to noon in New York a week from now: a default start (now + 7 days) taken late in
    # the evening ran past midnight, and the end's own date made a third line.
    start = (utcnow() + timedelta(days=7)).replace(hour=15, minute=0, second=0, microsecond=0)
    event = make_event(owner_id=owner.id, title=LONG_TITLE, capacity=40, starts_at=start,
                       timezone="America/New_York")
    make_rsvp(event, "Bea", "bea@example.org", guests=1)
    row = f'tr[data-slug="{event.slug}"]'

    laptop = new_page(viewport={"width": 1280, "height": 800})
    _sign_in(laptop, live_server.url, "olga@example.org")
    assert shipped_font_loaded(laptop)  # lines are counted in the font every visitor gets
    # The table fits its container: no sideways scrolling on a laptop.
    assert laptop.evaluate(
        "(() => { const s = document.querySelector('.table-scroll');"
        " return s.scrollWidth <= s.clientWidth; })()")
    # A long title takes at most two lines, the date and times exactly two (day, then times).
    assert laptop.evaluate(LINES, f"{row} .event-link") <= 2
    assert laptop.evaluate(LINES, f"{row} .when time") == 2
    # Organizer pages are wider than the public site's 60rem column.
    assert laptop.evaluate("document.querySelector('main').clientWidth") > 60 * 16

    phone = new_page(viewport={"width": 390, "height": 844})
    _sign_in(phone, live_server.url, "olga@example.org")
    assert shipped_font_loaded(phone)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert phone.evaluate(f"getComputedStyle(document.querySelector('{row}')).display") == \
        "block"  # a card, not a squeezed table row
    card = phone.locator(row)
    assert "2 / 40" in card.locator(".seats").inner_text()
    attendees = card.get_by_role("link", name=f"Attendees of {LONG_TITLE}")
    box = attendees.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390


# --- search, today, heading ------------------------------------------------------------------

def test_search_finds_title_city_or_venue_among_manageable_events(cast: Cast) -> None:
    make_event(owner_id=cast.owner.id, title="Budget hearing", city="Springfield")
    make_event(owner_id=cast.admin.id, title="Springfield vigil")  # not the owner's
    with TestClient(create_app()) as c:
        login(c, "owner@example.org")
        html = c.get("/organizer/", params={"q": "SPRINGFIELD"}).text
        assert "Budget hearing" in html and "Springfield vigil" not in html
        assert "1 event match “SPRINGFIELD”." in html
        assert "Shared town hall" not in html
        assert 'value="SPRINGFIELD"' in html
        none = c.get("/organizer/", params={"q": "100%_"}).text  # LIKE characters are literal
        assert "No upcoming events match this search." in none
        assert c.get("/organizer/", params={"q": "x" * 201}).status_code == 400
    with read_session() as s:
        found = dashboard.section(s, cast.admin, "upcoming", q="springfield")
    assert sorted(r.event.title for r in found.rows) == ["Budget hearing", "Springfield vigil"]


def test_today_lists_todays_published_events_with_check_ins(db_url: str, monkeypatch) -> None:
    from datetime import UTC, datetime, timedelta

    from events_app import settings

    monkeypatch.setattr(settings, "DEFAULT_TIMEZONE", "America/Chicago")
    owner = make_organizer("owner@example.org", "Olga Owner")
    now = datetime(2027, 3, 10, 18, 0, tzinfo=UTC)  # noon in Chicago
    tonight = make_event(owner_id=owner.id, title="Tonight's vigil",
                         starts_at=now + timedelta(hours=6), ends_at=now + timedelta(hours=8))
    make_rsvp(tonight, "Ann", "ann@example.org", guests=2, checked_in_at=now,
              checked_in_seats=2)
    make_rsvp(tonight, "Ben", "ben@example.org")
    make_event(owner_id=owner.id, title="This morning, over",
               starts_at=now - timedelta(hours=4), ends_at=now - timedelta(hours=3))
    make_event(owner_id=owner.id, title="Tomorrow",
               starts_at=now + timedelta(hours=13), ends_at=now + timedelta(hours=14))
    make_event(owner_id=owner.id, title="Draft tonight", status="draft",
               starts_at=now + timedelta(hours=5), ends_at=now + timedelta(hours=6))
    ongoing = make_event(owner_id=owner.id, title="Sit-in since yesterday",
                         starts_at=now - timedelta(hours=20), ends_at=now + timedelta(hours=2))
    make_event(title="Someone else's tonight", starts_at=now + timedelta(hours=6),
               ends_at=now + timedelta(hours=7))
    with read_session() as s:
        rows = dashboard.today(s, owner, now).rows
    assert [r.row.event.title for r in rows] == [ongoing.title, tonight.title]
    assert (rows[1].checked_in_seats, rows[1].row.seats.confirmed) == (2, 4)


def test_heading_matches_the_menu(cast: Cast) -> None:
    admin_html = _dashboard_html("admin@example.org")
    assert re.search(r"<h1>All events</h1>", admin_html)
    assert re.search(r'aria-current="page">All events</a>', admin_html)
    owner_html = _dashboard_html("owner@example.org")
    assert re.search(r"<h1>My events</h1>", owner_html)
    assert re.search(r'aria-current="page">My events</a>', owner_html)
    assert "All events" not in owner_html


@pytest.mark.parametrize("path", ["/organizer/events/{slug}/edit",
                                  "/organizer/events/{slug}/cancel",
                                  "/organizer/events/{slug}/email",
                                  "/organizer/events/{slug}/attendees"])
def test_breadcrumbs_name_the_dashboard_as_the_menu_does(cast: Cast, path: str) -> None:
    for email, name in (("admin@example.org", "All events"), ("owner@example.org", "My events")):
        with TestClient(create_app()) as c:
            assert login(c, email).status_code == 303
            r = c.get(path.format(slug=cast.shared.slug))
        assert r.status_code == 200, (email, path)
        crumb = re.search(r'<p class="breadcrumb"><a href="[^"]*">([^<]*)</a>', r.text)
        assert crumb is not None and crumb.group(1) == name, (email, path)


def test_owned_and_cohosted_events_page_together_in_time_order(db_url: str) -> None:
    """The sections read owned and co-hosted events apart (each through its own index) and
    merge them: every page in start order, each event once, even one both owned and (by a
    stray row) co-hosted by the same organizer, and nobody else's events."""
    owner = make_organizer("owner@example.org", "Olga Owner")
    other = make_organizer("other@example.org", "Otto Other")
    now = utcnow().replace(microsecond=0)
    mine, theirs = [], []
    for i in range(2 * dashboard.PAGE_SIZE + 3):
        days = i + 1
        if i % 3:
            mine.append(make_event(owner_id=owner.id, starts_at=now + timedelta(days=days)))
        else:
            theirs.append(make_event(owner_id=other.id, starts_at=now + timedelta(days=days)))
        mine.append(make_event(owner_id=owner.id, starts_at=now - timedelta(days=days)))
    with write_session() as s:
        for event in theirs[::2]:
            s.add(EventHost(event_id=event.id, organizer_id=owner.id))
        s.add(EventHost(event_id=mine[0].id, organizer_id=owner.id))  # owner and co-host
    hosted = {e.id for e in theirs[::2]}
    managed = [e for e in [*mine, *theirs] if e.owner_id == owner.id or e.id in hosted]

    for when, newest_first in (("upcoming", False), ("past", True)):
        expected = sorted((e for e in managed if (e.starts_at > now) == (when == "upcoming")),
                          key=lambda e: (e.starts_at, e.id), reverse=newest_first)
        shown, page = [], 1
        with read_session() as s:
            while True:
                found = dashboard.section(s, owner, when, page, now=now)
                assert found.total == len(expected)
                shown += [r.event.id for r in found.rows]
                if page >= found.pages:
                    break
                page += 1
        assert shown == [e.id for e in expected]
