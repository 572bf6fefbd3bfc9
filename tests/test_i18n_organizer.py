"""The organizer workspace in Spanish (issue 15, "an organizer can work entirely in Spanish"):
the dashboard, the event form (with its errors and the "Repeats" fieldset), a series' page and
rule page, the attendee list, writing to attendees, cancelling, removing and confirming over
capacity, their flash messages and the CSV download show not one English sentence of the
catalog texts these pages own; the same crawl in English finds them (so the check proves
something). Also: a date already under way reads as such on the series page, not as a date
"changed on its own" (an edit of every date marks started dates detached)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from events_app.db import read_session, write_session
from events_app.models import Event, RsvpStatus, Series, utcnow
from tests.factories import make_event, make_rsvp
from tests.i18n_support import EN, ES, english_pieces, page_text
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    login,
    make_organizer,
    post,
)
from tests.test_series_workspace import _form

pytestmark = pytest.mark.usefixtures("cheap_passwords")


# The files whose texts this part of issue 15 translated.
OURS = ("templates/organizer/dashboard.html", "templates/organizer/_dashboard_lists.html",
        "templates/organizer/_event_table.html", "templates/organizer/_attendee_list.html",
        "templates/organizer/event_form.html", "templates/organizer/_repeats.html",
        "templates/organizer/series.html", "templates/organizer/series_rule.html",
        "templates/organizer/cancel.html", "templates/organizer/remove.html",
        "templates/organizer/force_confirm.html", "templates/organizer/email.html",
        "templates/organizer/email_preview.html", "templates/organizer/attendees.html",
        "templates/organizer/_attendee_row.html",
        "templates/organizer/_macros.html", "templates/organizer/base.html",
        "events_app/web/organizer/events.py", "events_app/web/organizer/series.py",
        "events_app/web/organizer/attendees.py", "events_app/web/organizer/repeats.py",
        "events_app/services/event_form.py", "events_app/services/attendee_csv.py",
        "events_app/services/attendees.py", "events_app/services/attendee_mail.py")
SENTENCES = english_pieces(OURS)


_read = page_text


def _english_in(text: str) -> list[str]:
    return sorted(s for s in SENTENCES if s in text)


def _crawl(client: Any, headers: dict[str, str]) -> dict[str, str]:
    """Every workspace page this part translated, as an organizer reaches them (HTML pages
    read as text; the CSV as it is)."""
    client.headers.update(headers)
    owner = make_organizer("owner@example.org", "Olga Owner")
    assert login(client, "owner@example.org").status_code == 303
    pages: dict[str, str] = {}

    def get(path: str) -> str:
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        return _read(page.text)

    def send(path: str, data: dict[str, Any], expect: int = 200) -> str:
        page = post(client, path, data)
        assert page.status_code == expect, (path, page.status_code)
        return _read(page.text) if expect != 303 else get(page.headers["location"])

    single = make_event(title="Know your rights", capacity=2, max_guests=3, owner_id=owner.id)
    make_rsvp(single, name="Ann Attendee", email="ann@example.org", guests=1)
    waiting = make_rsvp(single, name="Wes Waiting", email="wes@example.org", guests=1,
                        status=RsvpStatus.WAITLISTED.value)
    pages["dashboard"] = get("/organizer/")
    pages["new event"] = get("/organizer/events/new")
    pages["new event, errors"] = send("/organizer/events/new",
                                      {**_form(title="", start_time="", latitude="41"),
                                       "then": "draft"}, expect=422)
    pages["new event, lat only"] = send("/organizer/events/new",
                                        {**_form(latitude="41", repeat="none"), "then": "draft"},
                                        expect=422)
    pages["new event, preview"] = send("/organizer/events/new",
                                       {**_form(), "step": "preview"})
    pages["series created"] = send("/organizer/events/new", {**_form(), "then": "publish"},
                                   expect=303)
    with read_session() as s:
        dates = list(s.exec(select(Event).where(col(Event.series_id).is_not(None))
                            .order_by(col(Event.starts_at))).all())
    first = dates[0].slug
    pages["series"] = get(f"/organizer/events/{first}/series")
    pages["rule"] = get(f"/organizer/events/{first}/series/repeat")
    pages["rule, preview"] = send(f"/organizer/events/{first}/series/repeat",
                                  {**_form(), "step": "preview"})
    pages["occurrence edit"] = get(f"/organizer/events/{first}/edit")
    pages["occurrence saved"] = send(f"/organizer/events/{first}/edit",
                                     {**_form(title="Network meeting"), "scope": "all"},
                                     expect=303)
    pages["skipped"] = send(f"/organizer/events/{dates[1].slug}/series/skip",
                            {"skip": [dates[1].starts_at.astimezone(dates[1].tz).date()
                                      .isoformat()]}, expect=303)
    pages["cancel a date"] = get(f"/organizer/events/{dates[2].slug}/cancel")
    pages["date cancelled"] = send(f"/organizer/events/{dates[2].slug}/cancel",
                                   {"scope": "one", "message": ""}, expect=303)
    pages["convert"] = get(f"/organizer/events/{single.slug}/repeat")
    pages["edit"] = get(f"/organizer/events/{single.slug}/edit")
    pages["saved"] = send(f"/organizer/events/{single.slug}/edit",
                          {**_form(title="Know your rights", capacity="2", repeat="none"),
                           "notify_attendees": "on"}, expect=303)
    pages["attendees"] = get(f"/organizer/events/{single.slug}/attendees")
    pages["attendees, none found"] = get(
        f"/organizer/events/{single.slug}/attendees?q=nobody&status=here&sort=guests&dir=desc")
    base = f"/organizer/events/{single.slug}/attendees/{waiting.id}"
    pages["force confirm?"] = send(f"{base}/confirm", {})
    pages["remove?"] = send(f"{base}/remove", {})
    pages["removed"] = send(f"{base}/remove", {"confirm": "1", "notify": "1"}, expect=303)
    email = f"/organizer/events/{single.slug}/email"
    pages["e-mail"] = get(email)
    pages["e-mail, errors"] = send(email, {"audience": "confirmed", "subject": "",
                                           "body": "", "step": "preview"}, expect=422)
    pages["e-mail, preview"] = send(email, {"audience": "confirmed", "subject": "Doors",
                                            "body": "Doors open at 6.", "step": "preview"})
    pages["e-mail, sent"] = send(email, {"audience": "confirmed", "subject": "Doors",
                                         "body": "Doors open at 6.", "step": "send"},
                                 expect=303)
    pages["cancel"] = get(f"/organizer/events/{single.slug}/cancel")
    pages["cancelled"] = send(f"/organizer/events/{single.slug}/cancel",
                              {"message": "Rain"}, expect=303)
    csv = client.get(f"/organizer/events/{single.slug}/attendees.csv")
    assert csv.status_code == 200
    pages["csv"] = csv.text
    return pages


def test_spanish_workspace_holds_no_english_sentence(client: Any) -> None:
    spanish = _crawl(client, ES)
    english_left = {name: _english_in(text) for name, text in spanish.items()}
    assert {name: found for name, found in english_left.items() if found} == {}
    assert "Nuevo evento" in spanish["dashboard"]
    assert "Este campo es obligatorio." in spanish["new event, errors"]
    assert "Corrija el problema indicado abajo." in spanish["new event, errors"]
    assert "Indique la latitud y la longitud, o ninguna de las dos." in \
        spanish["new event, lat only"]
    assert "Las próximas fechas:" in spanish["new event, preview"]
    assert "se creó y se publicó" in spanish["series created"]
    assert "Próximas fechas" in spanish["series"]
    assert "Guardado para todas las fechas de la serie." in spanish["occurrence saved"]
    assert "Omitidas:" in spanish["skipped"]
    assert "Registrar llegada" in spanish["attendees"]
    assert "Nadie coincide con esta búsqueda." in spanish["attendees, none found"]
    assert "Este campo es obligatorio." in spanish["e-mail, errors"]
    assert "Su mensaje va en camino a 1 asistente" in spanish["e-mail, sent"]
    assert "Se canceló la confirmación de asistencia de Wes Waiting." in spanish["removed"]
    assert spanish["csv"].splitlines()[0].startswith("Evento,Fecha del evento,Nombre,")
    assert "Confirmada" in spanish["csv"]
    # "Confirmed" as an RSVP's status (Confirmada) and as a count of people (Confirmados).
    assert "Ann Attendee" in spanish["attendees"] and "Confirmada" in spanish["attendees"]
    assert "Confirmados" in spanish["attendees"]  # the "Show" filter
    assert "Cancelada" in spanish["removed"]  # Wes's RSVP (an event would be "Cancelado")


def test_english_workspace_is_unchanged(client: Any) -> None:
    """The same crawl in English meets the catalog's English texts (the check above would
    find them) and the words the other workspace tests rely on."""
    english = _crawl(client, EN)
    found = set().union(*(_english_in(text) for text in english.values()))
    assert len(found) > 100
    assert "This field is required." in english["new event, errors"]
    assert "Enter both latitude and longitude, or neither." in english["new event, lat only"]
    assert "Saved for every date of the series." in english["occurrence saved"]
    assert english["csv"].splitlines()[0].startswith("Event,Event date,Name,")
    assert "Your message is on its way to 1 attendee (everyone confirmed)." in \
        english["e-mail, sent"]


def test_a_date_under_way_reads_as_such_not_as_edited(client: Any) -> None:
    """An edit of every date keeps a started date as it was and marks it detached
    (services/series._keep_past); the series page says it is under way, while a date
    really edited on its own still says so."""
    make_organizer("owner@example.org", "Olga Owner")
    assert login(client, "owner@example.org").status_code == 303
    assert post(client, "/organizer/events/new",
                {**_form(), "then": "publish"}).status_code == 303
    now = utcnow()
    with write_session() as s:
        (found,) = s.exec(select(Series)).all()
        rows = list(s.exec(select(Event).where(Event.series_id == found.id)
                           .order_by(col(Event.starts_at))).all())
        started, edited = rows[0], rows[1]
        started.starts_at, started.ends_at = now - timedelta(minutes=30), now + timedelta(hours=1)
        started.detached = edited.detached = True
        s.add_all([started, edited])
        started_slug, edited_slug = started.slug, edited.slug
    page = client.get(f"/organizer/events/{edited_slug}/series").text

    def row(slug: str) -> str:
        match = re.search(rf'<tr data-slug="{re.escape(slug)}">(.*?)</tr>', page, re.S)
        assert match, slug
        return match.group(1)

    assert "Under way" in row(started_slug)
    assert "Changed on its own" not in row(started_slug)
    assert "Changed on its own" in row(edited_slug)
