"""The list's search (services/event_search.py) and the longest-event bound
(services/spans.py) on both databases: the indexes behind them (migration 0007) change how
rows are found, never which."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from events_app.db import read_session, write_session
from events_app.models import Event, utcnow
from events_app.services import events, spans
from tests.factories import make_event


def _titles(**query) -> list[str]:
    with read_session() as session:
        return [e.title for e in events.list_events(session, events.EventQuery(**query)).items]


def test_search_finds_text_in_any_column_ignoring_case(db_url) -> None:
    make_event(title="Airport VIGIL", starts_at=utcnow() + timedelta(days=1))
    make_event(title="Budget hearing", description="Bring a candle to the vigil.",
               starts_at=utcnow() + timedelta(days=2))
    make_event(title="Phone bank", host_name="Vigilance committee",
               starts_at=utcnow() + timedelta(days=3))
    make_event(title="Legal clinic", venue_name="Vig Hall", starts_at=utcnow() + timedelta(days=4))
    assert _titles(q="vigil") == ["Airport VIGIL", "Budget hearing", "Phone bank"]
    assert _titles(q="  Vig ") == ["Airport VIGIL", "Budget hearing", "Phone bank",
                                   "Legal clinic"]
    assert _titles(q="vi") == ["Airport VIGIL", "Budget hearing", "Phone bank", "Legal clinic"]


def test_search_needs_the_text_in_one_piece_and_literally(db_url) -> None:
    # Every trigram of "gil vi" is in this event, but not the text itself.
    make_event(title="vigil", summary="gil v", description="il vi")
    make_event(title='Rally "50%_off" day; a\\b')
    assert _titles(q="gil vi") == []
    assert _titles(q="il vi") == ["vigil"]
    assert _titles(q='"50%_off"') == ['Rally "50%_off" day; a\\b']
    assert _titles(q="50%") == ['Rally "50%_off" day; a\\b']
    assert _titles(q="0_o") == []  # '_' is literal too
    assert _titles(q="a\\b") == ['Rally "50%_off" day; a\\b']


def test_search_follows_edits_and_deletions(db_url) -> None:
    event = make_event(title="Town hall")
    make_event(title="Other town hall")
    with write_session() as session:
        stored = session.exec(select(Event).where(Event.id == event.id)).one()
        stored.title = "Budget forum"
        session.add(stored)
    assert _titles(q="budget") == ["Budget forum"]
    assert _titles(q="town hall") == ["Other town hall"]
    with write_session() as session:
        session.delete(session.exec(select(Event).where(Event.id == event.id)).one())
    assert _titles(q="budget") == []


def test_an_event_that_began_long_ago_and_is_still_on_stays_listed(db_url) -> None:
    now = utcnow()
    make_event(title="Soon", starts_at=now + timedelta(days=1))
    make_event(title="Exhibition", starts_at=now - timedelta(days=400),
               ends_at=now + timedelta(days=5))
    make_event(title="Over", starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=2))
    assert _titles() == ["Exhibition", "Soon"]
    assert _titles(when="past") == ["Over"]
    with read_session() as session:
        assert spans.longest_event(session) >= timedelta(days=405)
        assert spans.earliest_start(session, now) <= now - timedelta(days=405)


def test_the_longest_event_is_zero_in_an_empty_calendar(db_url) -> None:
    with read_session() as session:
        assert timedelta(0) <= spans.longest_event(session) < timedelta(seconds=2)


def test_a_search_counts_every_match_and_pages_them_in_the_lists_order(db_url) -> None:
    """A search's total and page come from one reading of the matches (events.list_events):
    the same events, total and order as any other filter, a page past the end included."""
    now = utcnow().replace(microsecond=0)
    for n in (3, 1, 2, 5, 4):
        make_event(title=f"Vigil {n}", starts_at=now + timedelta(days=n))
    make_event(title="Vigil 3b", starts_at=now + timedelta(days=3))  # same start: by id
    make_event(title="Rally", starts_at=now + timedelta(days=1))
    make_event(title="Draft vigil", status="draft", starts_at=now + timedelta(days=1))
    make_event(title="Cancelled vigil", status="cancelled", starts_at=now + timedelta(days=6))
    for n in (2, 1):
        make_event(title=f"Old vigil {n}", starts_at=now - timedelta(days=n),
                   ends_at=now - timedelta(days=n) + timedelta(hours=1))

    def page(n: int, **query) -> tuple[int, list[str]]:
        with read_session() as session:
            found = events.list_events(session, events.EventQuery(q="vigil", page=n, **query),
                                       page_size=3)
        return found.total, [e.title for e in found.items]

    assert page(1) == (7, ["Vigil 1", "Vigil 2", "Vigil 3"])
    assert page(2) == (7, ["Vigil 3b", "Vigil 4", "Vigil 5"])
    assert page(3) == (7, ["Cancelled vigil"])
    assert page(4) == (7, [])  # past the end: the total still comes
    assert page(1, when="past") == (2, ["Old vigil 1", "Old vigil 2"])
    assert page(1, cities=("nowhere",)) == (0, [])


def test_postgresql_searches_text_and_translations_through_one_bitmap_or(db_url) -> None:
    """The search's condition sits on the list query's own row (services/event_search.py):
    event_text's matches come as an array the primary key index takes, beside the six
    trigram indexes, so the rows are fetched once and the list's other conditions are
    checked on them; no join over every upcoming event's id."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite narrows a search through its FTS5 tables")
    from sqlalchemy import func, text

    with read_session() as session:
        query = events.EventQuery(q="vigil")
        count = select(func.count()).select_from(Event).where(*query.view_conditions(session))
        sql = str(count.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
        session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: plan as if big
        plan = "\n".join(r[0] for r in session.execute(text("EXPLAIN " + sql)))
    assert "BitmapOr" in plan, plan
    for index in ("ix_event_title_trgm", "ix_event_host_name_trgm"):
        assert f"Bitmap Index Scan on {index}" in plan, plan
    assert "Index Cond: (id = ANY" in plan, plan  # the translations' ids, through an index
    assert "Join" not in plan, plan


def test_the_city_choices_follow_the_events(db_url) -> None:
    """events.known_cities runs a statement built once: its answer is still read each time."""
    def cities() -> list[str]:
        with read_session() as session:
            return events.known_cities(session)

    make_event(city="Denver")
    make_event(city="Austin", status="draft")
    assert cities() == ["Denver"]
    make_event(city="Chicago")
    assert cities() == ["Chicago", "Denver"]


def test_a_list_filtered_by_city_and_category_is_counted_from_one_index(db_url) -> None:
    """The count of a list filtered by a city and a category comes from the (lower(city),
    lower(category), starts_at, id, status, ends_at) index of migration 0018, which holds
    every column the count checks, rather than from reading each of the city's rows."""
    from sqlalchemy import func, text

    make_event(city="Chicago", category="protest")
    with read_session() as session:
        query = events.EventQuery(categories=("Protest",), cities=("chicago",))
        conds = [col(Event.status).in_(events.VISIBLE_STATUSES),
                 col(Event.ends_at) >= utcnow(), *query.view_conditions(session)]
        count = select(func.count()).select_from(Event).where(*conds)
        sql = str(count.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
        if db_url.startswith("sqlite"):
            plan = "\n".join(str(r[3]) for r in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
        else:
            session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: plan as if big
            plan = "\n".join(r[0] for r in session.execute(text("EXPLAIN " + sql)))
        assert session.execute(count).scalar_one() == 1
    assert "ix_event_place_starts_at" in plan, plan
