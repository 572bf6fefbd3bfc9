"""Public pages in the reader's language with per-field fallback (services/event_text.py):
list cards, day and month views, the event page with its link previews, JSON-LD and share
texts, the embed box and "your events". A field shown in another language than the page's
carries lang="<its language>"; nothing is marked in the page's own language. One query
loads a page's texts."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from events_app import settings
from events_app.db import write_session
from events_app.models import Event
from events_app.services import event_text, personal_feeds
from tests.factories import make_event, make_rsvp, queries_run

ES = {"Accept-Language": "es-MX,es;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


def _translate(event: Event, **texts: str) -> None:
    with write_session() as session:
        row = session.get(Event, event.id)
        event_text.save_translations(session, row, {"es": texts})


def _link_attrs(html: str, text: str) -> str:
    """The attributes of the link whose text is `text` (its lang="..." if any)."""
    found = re.search(r'<a ([^>]*)>' + re.escape(text) + '</a>', html)
    assert found, text
    return found.group(1)


def _pair() -> tuple[Event, Event]:
    """A fully translated event and one with a Spanish title only (summary falls back)."""
    start = datetime.now(ZoneInfo(settings.DEFAULT_TIMEZONE)).replace(
        hour=12, minute=0, second=0, microsecond=0) + timedelta(days=3)
    both = make_event(title="Know your rights", summary="A workshop",
                      description="Bring **ID**.", starts_at=start)
    part = make_event(title="Town hall", summary="Meet the mayor",
                      description="Long *text*.", starts_at=start + timedelta(hours=1))
    _translate(both, title="Conozca sus derechos", summary="Un taller",
               description="Traiga **identificación**.")
    _translate(part, title="Reunión municipal")
    return both, part


def test_list_in_spanish_marks_english_fallbacks_only(client: Any) -> None:
    both, part = _pair()
    alone = make_event(title="English only", summary="Not translated")
    html = client.get("/events", headers=ES).text
    assert _link_attrs(html, "Conozca sus derechos").endswith(f'/events/{both.slug}"')
    assert '<p class="event-summary">Un taller</p>' in html
    assert _link_attrs(html, "Reunión municipal").endswith(f'/events/{part.slug}"')
    assert '<p class="event-summary" lang="en">Meet the mayor</p>' in html
    assert _link_attrs(html, "English only").endswith(f'/events/{alone.slug}" lang="en"')
    assert "Know your rights" not in html


def test_list_in_english_shows_the_event_text_unmarked(client: Any) -> None:
    both, _part = _pair()
    html = client.get("/events", headers=EN).text
    assert _link_attrs(html, "Know your rights").endswith(f'/events/{both.slug}"')
    assert "Conozca" not in html
    assert "lang" not in _link_attrs(html, "Know your rights")


def test_list_page_loads_texts_in_one_query(client: Any) -> None:
    _pair()
    for _ in range(4):
        make_event()
    with queries_run() as seen:
        client.get("/events?lang=es&q=", headers=ES)
        client.get("/events", headers=ES)
    assert len([q for q in seen if "FROM event_text" in q]) <= 1  # one miss, then cached
    with queries_run() as seen:
        client.get("/events", headers=EN)
    assert not [q for q in seen if "FROM event_text" in q]


def test_detail_page_meta_jsonld_and_share_in_spanish(client: Any) -> None:
    both, part = _pair()
    html = client.get(f"/events/{both.slug}", headers=ES).text
    assert '<h1 id="event-title">Conozca sus derechos</h1>' in html
    assert '<p class="lead">Un taller</p>' in html
    assert "<strong>identificación</strong>" in html
    assert "<title>Conozca sus derechos" in html
    assert '<meta property="og:title" content="Conozca sus derechos">' in html
    assert 'content="Conozca sus derechos">' in html.split('twitter:title', 1)[1][:60]
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html,
                                re.S).group(1))
    assert data["name"] == "Conozca sus derechos" and data["inLanguage"] == "es"
    assert data["description"] == "Un taller"
    assert 'data-share-title="Conozca sus derechos"' in html
    assert "subject=Conozca%20sus%20derechos" in html

    html = client.get(f"/events/{part.slug}", headers=ES).text
    assert '<h1 id="event-title">Reunión municipal</h1>' in html
    assert '<p class="lead" lang="en">Meet the mayor</p>' in html
    assert 'aria-label="Acerca de este evento" lang="en">' in html or \
        re.search(r'<section class="description rich-text" aria-label="[^"]+" lang="en">', html)

    english = client.get(f"/events/{both.slug}", headers=EN).text
    assert '<h1 id="event-title">Know your rights</h1>' in english
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', english,
                                re.S).group(1))
    assert data["name"] == "Know your rights" and data["inLanguage"] == "en"


def test_day_and_month_views_in_spanish(client: Any) -> None:
    both, part = _pair()
    day = both.starts_at.astimezone(ZoneInfo(settings.DEFAULT_TIMEZONE)).date()
    html = client.get(f"/events/day/{day.isoformat()}", headers=ES).text
    assert ">Conozca sus derechos</a>" in html
    assert '<p class="event-summary" lang="en">Meet the mayor</p>' in html
    alone = make_event(title="English only", starts_at=both.starts_at + timedelta(hours=2))
    html = client.get(f"/events/month/{day:%Y-%m}", headers=ES).text
    assert '<span class="cal-title"><span>Conozca sus derechos</span>' in html
    assert '<span class="cal-title"><span>Reunión municipal</span>' in html
    assert '<span class="cal-title"><span lang="en">English only</span>' in html
    assert alone.title in html


def test_embed_box_in_spanish(client: Any) -> None:
    both, _part = _pair()
    make_event(title="English only")
    html = client.get("/embed/upcoming", headers=ES).text
    assert 'target="_top">Conozca sus derechos</a>' in html
    assert 'target="_top" lang="en">English only</a>' in html
    assert 'target="_top">Know your rights</a>' in client.get("/embed/upcoming",
                                                              headers=EN).text


def test_your_events_page_in_spanish(client: Any) -> None:
    both, part = _pair()
    make_rsvp(both, email="ana@example.org")
    make_rsvp(part, email="ana@example.org")
    with write_session() as session:
        token = personal_feeds.token_for(session, "ana@example.org")
    html = client.get(f"/my/{token}", headers=ES).text
    assert "lang" not in _link_attrs(html, "Conozca sus derechos")
    assert "lang" not in _link_attrs(html, "Reunión municipal")
    assert "Know your rights" not in html


def test_a_changed_translation_shows_on_cached_pages(client: Any) -> None:
    both, _part = _pair()
    assert "Conozca sus derechos" in client.get("/events", headers=ES).text
    assert "Conozca sus derechos" in client.get(f"/events/{both.slug}", headers=ES).text
    _translate(both, title="Sus derechos", summary="Un taller")
    assert "Sus derechos</a>" in client.get("/events", headers=ES).text
    assert '<h1 id="event-title">Sus derechos</h1>' in client.get(
        f"/events/{both.slug}", headers=ES).text
    _translate(both)  # removed: back to English, marked
    assert '<h1 id="event-title" lang="en">Know your rights</h1>' in client.get(
        f"/events/{both.slug}", headers=ES).text


def test_search_finds_an_event_by_its_spanish_text_on_any_page(client: Any) -> None:
    from events_app.db import read_session
    from events_app.services import events as event_service

    both, part = _pair()
    make_event(title="Unrelated")

    def found(q: str) -> list[int | None]:
        with read_session() as session:
            return [e.id for e in event_service.list_events(
                session, event_service.EventQuery(q=q)).items]

    assert found("CONOZCA sus") == [both.id]
    assert found("un taller") == [both.id]
    assert found("identificación") == [both.id]
    assert found("municipal") == [part.id]
    assert found("Town hall") == [part.id]  # its own text still
    assert found("al") != []  # under three characters: checked on every row
    assert set(found("e")) >= {both.id, part.id}
    assert "Conozca sus derechos" in client.get("/events?q=derechos", headers=ES).text
    assert "Know your rights" in client.get("/events?q=derechos", headers=EN).text
    _translate(part)  # its translation removed: no longer found by it
    assert found("municipal") == []


def test_the_demo_shows_spanish_text_with_english_fallbacks(client: Any) -> None:
    """`make run`'s demo: several events (and both series, every date) have Spanish text,
    some only a title, so a Spanish reader sees both kinds."""
    from sqlmodel import select

    from events_app.db import read_session
    from events_app.models import EventText, Series
    from events_app.services import seed

    with write_session() as session:
        seed.seed(session)
    with write_session() as session:  # a second run adds nothing
        assert seed.seed(session) == 0
    with read_session() as session:
        rows = session.exec(select(EventText)).all()
        town_hall = session.exec(select(Event).where(
            Event.slug == "denver-immigration-town-hall")).one()
        austin = session.exec(select(Event).where(
            Event.slug == "austin-public-safety-immigration-town-hall")).one()
        series_ids = set(session.exec(select(Series.id)).all())
        dates = session.exec(select(Event).where(Event.series_id.in_(series_ids))).all()
    assert {r.language for r in rows} == {"es"}
    assert {r.event_id for r in rows} >= {e.id for e in dates}
    html = client.get(f"/events/{town_hall.slug}", headers=ES).text
    assert '<h1 id="event-title">Asamblea pública sobre inmigración en Denver</h1>' in html
    html = client.get(f"/events/{austin.slug}", headers=ES).text
    assert '<h1 id="event-title">Asamblea sobre seguridad pública e inmigración en Austin</h1>' \
        in html
    assert '<p class="lead" lang="en">' in html


def test_manage_page_names_the_event_in_spanish(client: Any) -> None:
    both, part = _pair()
    mine = make_rsvp(both, email="ana@example.org")
    theirs = make_rsvp(part, email="ana@example.org")
    html = client.get(f"/rsvp/{mine.token}", headers=ES).text
    assert "lang" not in _link_attrs(html, "Conozca sus derechos")
    assert "<title>" in html and "Conozca sus derechos" in html.split("</title>")[0]
    html = client.get(f"/rsvp/{theirs.token}", headers=EN).text
    assert "lang" not in _link_attrs(html, "Town hall")
