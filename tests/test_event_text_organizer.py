"""The organizer side of event text in other languages: the "Spanish version" fieldset of the
event form (saved with the event, shown again, validated like the main fields, cleared), its
audit entry, and every way a series or a copy carries the translations along."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from events_app import i18n, settings
from events_app.db import read_session
from events_app.models import AuditLog, Event, EventText, Series, utcnow
from events_app.services import audit_detail, event_admin, event_text, series
from events_app.services.event_form import form_values, parse_event_form
from events_app.services.series import Scope
from events_app.services.series_rules import Rule
from events_app.util.forms import FormError
from tests.factories import make_event
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    csrf_token,
    field_error,
    input_value,
    login,
    make_organizer,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_passwords")
CHICAGO = ZoneInfo("America/Chicago")
ES = {"title_es": "Reunión de la red", "summary_es": "Respuesta rápida",
      "description_es": "Traiga **su** identificación."}


def _form(**overrides: str) -> dict[str, str]:
    values = {
        "title": "Network meeting", "summary": "Rapid response", "description": "",
        "category": "meeting", "timezone": "America/Chicago",
        "start_date": "2027-02-09", "start_time": "19:00",  # a Tuesday
        "end_date": "2027-02-09", "end_time": "20:30",
        "venue_name": "Central Library", "city": "St. Louis", "max_guests": "2",
        "waitlist_enabled": "on",
    }
    values.update(overrides)
    return values


@pytest.fixture
def ada() -> Any:
    return make_organizer("ada@example.org", "Ada Organizer")


def _texts(event_id: int | None) -> dict[str, dict[str, str]]:
    with read_session() as s:
        return event_text.texts_of_events(s, [s.get(Event, event_id)]).get(event_id or 0, {})


def _rows(series_id: int | None) -> list[Event]:
    with read_session() as s:
        return list(s.exec(select(Event).where(Event.series_id == series_id)
                           .order_by(col(Event.starts_at))))


def _es_titles(series_id: int | None) -> list[str]:
    with read_session() as s:
        rows = _rows(series_id)
        found = event_text.texts_for(s, rows, "es")
    return [found[e.id].title if found[e.id].title_lang == "es" else "" for e in rows]


def _data(event: Event, **changes: str) -> Any:
    with read_session() as s:
        row = s.get(Event, event.id)
        values = form_values(row, [], event_text.translations_of(s, row))
    values.update(changes)
    return parse_event_form(values)


# --- the form -------------------------------------------------------------------------------

def test_form_round_trip_create_show_edit_clear(db_url: str, client: Any, ada: Any) -> None:
    login(client, "ada@example.org")
    token = csrf_token(client, "/organizer/events/new")
    page = client.get("/organizer/events/new").text
    assert "Spanish version (optional)" in page and 'name="title_es"' in page
    r = post(client, "/organizer/events/new", _form(**ES, then="publish"), token=token)
    assert r.status_code == 303, r.text
    with read_session() as s:
        event = s.exec(select(Event)).one()
    assert _texts(event.id) == {"es": {"title": ES["title_es"], "summary": ES["summary_es"],
                                       "description": ES["description_es"]}}
    edit = client.get(f"/organizer/events/{event.slug}/edit").text
    assert input_value(edit, "title_es") == ES["title_es"]
    assert 'lang="es"' in edit and "Traiga **su** identificación.</textarea>" in edit

    values = {**_form(), "title_es": "Asamblea", "summary_es": "", "description_es": ""}
    r = post(client, f"/organizer/events/{event.slug}/edit", values, token=token)
    assert r.status_code == 303
    assert _texts(event.id) == {"es": {"title": "Asamblea", "summary": "", "description": ""}}
    with read_session() as s:
        detail = s.exec(select(AuditLog.detail).where(AuditLog.action == "event.update")
                        ).all()[-1]
    # Stored as data (services/audit_detail.py), read in the reader's language.
    assert "Title (es): Reunión de la red -> Asamblea" in audit_detail.in_words(detail)
    with i18n.using("es"):
        assert "Título (es): Reunión de la red -> Asamblea" in audit_detail.in_words(detail)

    r = post(client, f"/organizer/events/{event.slug}/edit",
             {**_form(), "title_es": "", "summary_es": "", "description_es": ""}, token=token)
    assert r.status_code == 303
    with read_session() as s:
        assert s.exec(select(EventText)).all() == []


def test_errors_re_render_the_form_with_the_translation_kept(db_url: str, client: Any,
                                                             ada: Any) -> None:
    login(client, "ada@example.org")
    token = csrf_token(client, "/organizer/events/new")
    too_long = "x" * 201
    r = post(client, "/organizer/events/new",
             _form(title_es=too_long, summary_es="Una línea\notra", description_es="Bien",
                   start_time=""), token=token)
    assert r.status_code == 422
    assert "200" in (field_error(r.text, "title_es") or "")
    assert field_error(r.text, "summary_es") is not None
    assert field_error(r.text, "start_time") is not None  # the main fields' errors at once
    assert input_value(r.text, "title_es") == too_long
    assert ">Bien</textarea>" in r.text
    with read_session() as s:
        assert s.exec(select(Event)).all() == []
    # only the translation wrong: still refused, nothing saved
    r = post(client, "/organizer/events/new", _form(title_es=too_long), token=token)
    assert r.status_code == 422 and field_error(r.text, "title_es")
    with read_session() as s:
        assert s.exec(select(Event)).all() == []


def test_form_in_spanish_names_the_language_in_spanish(db_url: str, client: Any,
                                                       ada: Any) -> None:
    login(client, "ada@example.org")
    page = client.get("/organizer/events/new?lang=es").text
    assert "Versión en español (opcional)" in page


def test_a_form_without_the_fieldset_leaves_translations_alone(db_url: str, ada: Any) -> None:
    event = event_admin.new_event(ada, parse_event_form(_form(**ES)))
    with read_session() as s:
        values = form_values(s.get(Event, event.id))  # no translations: fields absent
    for key in ES:
        values.pop(key, None)
    event_admin.edit(ada, event.slug, parse_event_form({**values, "city": "Clayton"}))
    assert _texts(event.id)["es"]["title"] == ES["title_es"]


def test_duplicate_copies_the_translations(db_url: str, ada: Any) -> None:
    event = event_admin.new_event(ada, parse_event_form(_form(**ES)))
    copy = event_admin.copy(ada, event.slug)
    assert _texts(copy.id) == _texts(event.id) != {}


def test_a_translation_change_bumps_updated_at(db_url: str, ada: Any) -> None:
    event = event_admin.new_event(ada, parse_event_form(_form(**ES)))
    with read_session() as s:
        before = s.get(Event, event.id).updated_at
    event_admin.edit(ada, event.slug, _data(event, summary_es="Otro resumen"))
    with read_session() as s:
        assert s.get(Event, event.id).updated_at > before


# --- series ---------------------------------------------------------------------------------

BIWEEKLY = Rule("weekly", interval=2, weekdays=(1,), until=date(2027, 6, 1))  # 9 dates


def _new_series(actor: Any, rule: Rule = BIWEEKLY, **form: str) -> Series:
    return series.new_series(actor, parse_event_form(_form(**ES, **form)), rule, publish=True)


def test_new_series_gives_every_date_the_translation(db_url: str, ada: Any) -> None:
    made = _new_series(ada)
    assert _es_titles(made.id) == [ES["title_es"]] * 9


def test_edit_all_carries_translations_but_keeps_a_dates_own(db_url: str, ada: Any) -> None:
    made = _new_series(ada)
    rows = _rows(made.id)
    series.edit(ada, rows[1].slug, _data(rows[1], title_es="Reunión especial"), Scope.ONE)
    series.edit(ada, rows[4].slug, _data(rows[4], title_es="Asamblea de la red",
                                          summary_es="Nuevo resumen"), Scope.ALL)
    assert _es_titles(made.id) == ["Asamblea de la red", "Reunión especial"] + \
        ["Asamblea de la red"] * 7
    # the detached date kept its own title but takes the summary it had the same as the series
    assert {_texts(e.id)["es"]["summary"] for e in _rows(made.id)} == {"Nuevo resumen"}


def test_edit_following_splits_and_carries_translations(db_url: str, ada: Any) -> None:
    made = _new_series(ada)
    rows = _rows(made.id)
    series.edit(ada, rows[4].slug, _data(rows[4], title_es="Desde marzo"), Scope.FOLLOWING)
    assert _es_titles(made.id) == [ES["title_es"]] * 4
    with read_session() as s:
        later = s.exec(select(Series).where(Series.id != made.id)).one()
    assert _es_titles(later.id) == ["Desde marzo"] * 5


def test_extend_duplicate_and_convert_carry_translations(db_url: str, ada: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    start = (utcnow() + timedelta(days=1)).astimezone(CHICAGO).date().isoformat()
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 20)
    made = _new_series(ada, Rule("weekly", count=6), start_date=start, end_date=start)
    assert len(_rows(made.id)) == 3
    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 60)
    assert series.extend_all() == 3
    assert _es_titles(made.id) == [ES["title_es"]] * 6

    copy = series.duplicate(ada, made.id or 0)
    assert _es_titles(copy.id) == [ES["title_es"]] * len(_rows(copy.id)) and _rows(copy.id)

    monkeypatch.setattr(settings, "SERIES_HORIZON_DAYS", 400)
    single = event_admin.new_event(ada, parse_event_form(_form(
        **ES, start_date="2027-02-10", end_date="2027-02-10")))
    converted = series.convert(ada, single.slug, Rule("weekly", count=3))
    assert _es_titles(converted.id) == [ES["title_es"]] * 3


def test_series_edit_with_a_bad_translation_is_refused_whole(db_url: str, ada: Any) -> None:
    made = _new_series(ada)
    rows = _rows(made.id)
    with pytest.raises(FormError) as refused:
        _data(rows[0], title_es="x" * 201)
    assert "title_es" in refused.value.errors
    assert _es_titles(made.id) == [ES["title_es"]] * 9


def test_make_event_has_no_translation(db_url: str) -> None:
    event = make_event()
    assert _texts(event.id) == {}
