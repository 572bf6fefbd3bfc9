"""Event text in several languages (services/event_text.py): per-field fallback marked with
its language, one query per page, translations saved, copied and deleted with their event."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import select

from events_app import settings
from events_app.db import read_session, write_session
from events_app.models import Event, EventText
from events_app.services import event_text
from tests.factories import make_event, queries_run

ES = {"title": "Reunión comunitaria", "summary": "Un resumen", "description": "Texto largo"}


def save(event: Event, texts: dict) -> bool:
    with write_session() as session:
        row = session.get(Event, event.id)
        assert row is not None
        return event_text.save_translations(session, row, texts)


def test_default_language_is_english_here() -> None:
    assert settings.DEFAULT_LANGUAGE == "en"
    assert event_text.translated_languages() == ("es",)


def test_full_translation_is_used_and_nothing_is_marked(db_url: str) -> None:
    event = make_event(title="Community meeting", summary="A summary", description="Long")
    assert save(event, {"es": ES})
    with read_session() as session:
        local = event_text.text_for(session, event, "es")
        english = event_text.text_for(session, event, "en")
    assert (local.title, local.summary, local.description) == tuple(ES.values())
    assert [local.fallback(f) for f in event_text.FIELDS] == [None, None, None]
    assert (english.title, english.summary, english.description) == (
        "Community meeting", "A summary", "Long")
    assert english.fallback("title") is None


def test_missing_fields_fall_back_each_on_its_own_marked_english(db_url: str) -> None:
    event = make_event(title="Community meeting", summary="A summary", description="Long")
    save(event, {"es": {"title": "Reunión comunitaria"}})
    with read_session() as session:
        local = event_text.text_for(session, event, "es")
    assert local.title == "Reunión comunitaria" and local.fallback("title") is None
    assert local.summary == "A summary" and local.fallback("summary") == "en"
    assert local.description == "Long" and local.description_lang == "en"


def test_untranslated_event_reads_english_marked(db_url: str) -> None:
    event = make_event(title="Only English")
    with read_session() as session:
        local = event_text.texts_for(session, [event], "es")[event.id]
    assert local.title == "Only English" and local.fallback("title") == "en"


def test_texts_for_a_page_is_one_query_and_none_in_english(db_url: str) -> None:
    events = [make_event() for _ in range(5)]
    save(events[1], {"es": ES})
    save(events[3], {"es": {"summary": "Sólo el resumen"}})
    with read_session() as session:
        with queries_run() as seen:
            found = event_text.texts_for(session, events, "es")
        assert len([q for q in seen if "event_text" in q]) == 1
        with queries_run() as seen:
            english = event_text.texts_for(session, events, "en")
        assert seen == []
    assert found[events[1].id].title == ES["title"]
    assert found[events[3].id].summary == "Sólo el resumen"
    assert found[events[3].id].title == events[3].title
    assert found[events[0].id].fallback("title") == "en"
    assert {e.id: english[e.id].title for e in events} == {e.id: e.title for e in events}


def test_many_events_are_read_in_batches_and_none_is_lost(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed may hold more events than an old SQLite takes bound parameters in one query."""
    monkeypatch.setattr(event_text, "ID_BATCH", 2)
    events = [make_event() for _ in range(5)]
    for n, event in enumerate(events):
        save(event, {"es": {"title": f"Título {n}"}})
    with read_session() as session:
        with queries_run() as seen:
            found = event_text.texts_for(session, events, "es")
        assert len([q for q in seen if "event_text" in q]) == 3
        every = event_text.texts_of_events(session, events)
    assert [found[e.id].title for e in events] == [f"Título {n}" for n in range(5)]
    assert [every[e.id]["es"]["title"] for e in events] == [f"Título {n}" for n in range(5)]


def test_saving_changes_bumps_updated_at_and_unchanged_reports_no_change(db_url: str) -> None:
    event = make_event()
    assert save(event, {"es": ES})
    with read_session() as session:
        first = session.get(Event, event.id).updated_at
    assert not save(event, {"es": ES})
    with read_session() as session:
        assert session.get(Event, event.id).updated_at == first
    assert save(event, {"es": {**ES, "summary": "Otro"}})
    with read_session() as session:
        assert session.get(Event, event.id).updated_at > first
        assert session.get(EventText, (event.id, "es")).summary == "Otro"


def test_clearing_every_field_deletes_the_row(db_url: str) -> None:
    event = make_event()
    save(event, {"es": ES})
    assert save(event, {"es": {"title": "", "summary": "", "description": ""}})
    with read_session() as session:
        assert session.exec(select(EventText)).all() == []
    assert not save(event, {"es": {}})


def test_only_translation_languages_are_accepted(db_url: str) -> None:
    event = make_event()
    for language in ("en", "fr"):
        with pytest.raises(ValueError):
            save(event, {language: ES})


def test_copy_gives_the_target_exactly_the_source_texts(db_url: str) -> None:
    source, target, bare = make_event(), make_event(), make_event()
    save(source, {"es": ES})
    save(target, {"es": {"title": "Viejo"}})
    with write_session() as session:
        src, dst, empty = (session.get(Event, e.id) for e in (source, target, bare))
        assert event_text.copy_translations(session, src, dst)
        assert not event_text.copy_translations(session, src, dst)
        assert event_text.copy_translations(session, empty, dst)  # none left
    with read_session() as session:
        assert event_text.translations_of(session, target) == {}
        assert event_text.text_for(session, source, "es").title == ES["title"]


def test_deleting_an_event_deletes_its_texts(db_url: str) -> None:
    """The foreign key cascades on both databases (SQLite: PRAGMA foreign_keys=ON)."""
    event, other = make_event(), make_event()
    save(event, {"es": ES})
    save(other, {"es": ES})
    with write_session() as session:
        session.delete(session.get(Event, event.id))
    with read_session() as session:
        assert [r.event_id for r in session.exec(select(EventText))] == [other.id]


def test_sqlite_search_table_follows_the_texts(db_url: str) -> None:
    """SQLite's FTS5 table holds one row per translated event, rewritten by triggers on
    insert, update, delete and the cascade from a deleted event."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL searches event_text through its trigram indexes")
    event = make_event()

    def indexed() -> list[tuple[int, str]]:
        with read_session() as session:
            return [tuple(r) for r in session.execute(text(
                "SELECT rowid, body FROM event_search_translation"))]

    save(event, {"es": ES})
    assert indexed() == [(event.id, "Reunión comunitaria\nUn resumen\nTexto largo")]
    save(event, {"es": {**ES, "title": "Asamblea"}})
    assert indexed() == [(event.id, "Asamblea\nUn resumen\nTexto largo")]
    save(event, {"es": {}})
    assert indexed() == []
    save(event, {"es": ES})
    with write_session() as session:
        session.delete(session.get(Event, event.id))
    assert indexed() == []


def test_migration_downgrades_and_upgrades_again(db_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from events_app.db import get_engine
    from events_app.migrate import alembic_config, downgrade, upgrade

    try:
        downgrade(db_url, "0014_owner_event_ids")
        assert "event_text" not in inspect(get_engine()).get_table_names()
    finally:
        upgrade(db_url)
    command.check(alembic_config(db_url))
    event = make_event()
    save(event, {"es": ES})
    with read_session() as session:
        assert event_text.text_for(session, event, "es").title == ES["title"]
