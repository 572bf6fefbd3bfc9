"""The list's search (services/event_search.py) and the longest-event bound
(services/spans.py) on both databases: the indexes behind them (migration 0007) change how
rows are found, never which."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

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
