"""The event's own words in the reader's language, in what leaves the site (issue 15): the
e-mails (the RSVP's language), the iCalendar feeds and .ics files (the URL's or the
recipient's language), the Atom feed and API v1 (the request's). Each field is the
translation where the organizers gave one, else the site default's, and fallback text is
marked with its language: lang= in HTML, LANGUAGE= in iCalendar, xml:lang in Atom, the
`languages` object in the API. A default-language reader sees exactly what they saw before
translations existed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import icalendar
import pytest

from events_app import i18n, settings, urls
from events_app.db import read_session, write_session
from events_app.models import Event, utcnow
from events_app.services import (
    attendee_mail,
    event_admin,
    event_text,
    ical,
    messages,
    personal_feeds,
    reminders,
    series_rsvp,
)
from events_app.services import rsvp as svc
from tests.factories import make_event, make_rsvp
from tests.ical_readers import expansions
from tests.organizer_support import cheap_passwords, make_organizer  # noqa: F401 - fixture
from tests.rsvp_helpers import outbox, req
from tests.series_public_helpers import make_series

# Within the feeds' window, so the same event serves every test.
START = (utcnow() + timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
TITLE, TITLE_ES = "Budget town hall", "Asamblea sobre el presupuesto"
DESCRIPTION, DESCRIPTION_ES = "Bring **your** questions.", "Traiga **sus** preguntas."


def _translate(event_id: int, **fields: str) -> None:
    """The organizers give the event's Spanish text (as the event form saves it)."""
    with write_session() as session:
        event = session.get(Event, event_id)
        assert event is not None
        event_text.save_translations(session, event, {"es": fields})


def _event(**fields) -> Event:
    return make_event(title=TITLE, summary="Where the money goes", description=DESCRIPTION,
                      starts_at=START, ends_at=START + timedelta(hours=2), **fields)


def _mail(kind: str, to: str):
    (found,) = [m for m in outbox(kind) if m.to_addr == to]
    return found


def _ics_property(ics: str, name: str) -> icalendar.prop.vText:
    (vevent,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    return vevent[name]


# --- E-mails ------------------------------------------------------------------------------------

def test_a_spanish_rsvp_gets_the_spanish_title_and_description(db_url: str) -> None:
    event = _event()
    _translate(event.id, title=TITLE_ES, description=DESCRIPTION_ES)
    with i18n.using("es"):
        svc.submit_rsvp(event.id, req("ana@example.org"))
    with i18n.using("en"):
        svc.submit_rsvp(event.id, req("ben@example.org"))

    ana = _mail("confirmation", "ana@example.org")
    assert ana.subject == f"Asistencia confirmada: {TITLE_ES}"
    assert TITLE_ES in ana.body_text and "Traiga sus preguntas." in ana.body_text
    assert TITLE not in ana.body_text and "Bring" not in ana.body_text
    assert "<strong>sus</strong>" in ana.body_html and TITLE not in ana.body_html
    assert 'lang="en"' not in ana.body_html  # nothing fell back: nothing marked
    summary = _ics_property(ana.ics, "SUMMARY")
    assert str(summary) == TITLE_ES and "LANGUAGE" not in summary.params
    assert "Traiga **sus** preguntas." in str(_ics_property(ana.ics, "DESCRIPTION"))

    ben = _mail("confirmation", "ben@example.org")
    assert ben.subject == f"You're going: {TITLE}"
    assert TITLE_ES not in ben.body_text + ben.body_html + ben.ics
    assert "Bring your questions." in ben.body_text


def test_each_field_falls_back_on_its_own_and_is_marked(db_url: str) -> None:
    """A Spanish title without a Spanish description: the English description, marked
    lang="en" in the HTML part and LANGUAGE=en in the .ics (with the English summary it is
    all English words); the Spanish title unmarked."""
    event = _event()
    _translate(event.id, title=TITLE_ES)
    with i18n.using("es"):
        svc.submit_rsvp(event.id, req("ana@example.org"))
    ana = _mail("confirmation", "ana@example.org")
    assert ana.subject == f"Asistencia confirmada: {TITLE_ES}"
    assert '<div lang="en">' in ana.body_html
    html_description = ana.body_html.split('<div lang="en">', 1)[1]
    assert html_description.lstrip().startswith("<p>Bring <strong>your</strong> questions.")
    assert f'<span lang="en">{TITLE_ES}' not in ana.body_html
    assert "Bring your questions." in ana.body_text  # plain text: no marks
    assert "LANGUAGE" not in _ics_property(ana.ics, "SUMMARY").params
    assert _ics_property(ana.ics, "DESCRIPTION").params["LANGUAGE"] == "en"


def test_an_untranslated_title_is_marked_english_in_a_spanish_mail(db_url: str) -> None:
    event = _event()
    with i18n.using("es"):
        svc.submit_rsvp(event.id, req("ana@example.org"))
    ana = _mail("confirmation", "ana@example.org")
    assert ana.subject == f"Asistencia confirmada: {TITLE}"
    assert f'<a href="http://testserver/events/{event.slug}" style="color:#0b5cad"><span ' \
           f'lang="en">{TITLE}</span></a>' in ana.body_html
    assert ana.body_html.count(f'<span lang="en">{TITLE}</span>') == 2  # and in a sentence
    assert "<span" not in ana.body_text
    assert _ics_property(ana.ics, "SUMMARY").params["LANGUAGE"] == "en"


@pytest.fixture
def owner(db_url: str, cheap_passwords):  # noqa: F811 - the fixture, used
    return make_organizer("owner@example.org", "Olga Owner")


def test_every_message_about_the_event_uses_the_rsvps_language(owner) -> None:
    """Waitlist, promotion, change, cancellation and its undoing, reminder, the organizer's
    message: each in the recipient's language, title and attached .ics included, from the
    same event for a Spanish and an English attendee."""
    event = _event(owner_id=owner.id, capacity=2, waitlist_enabled=True)
    _translate(event.id, title=TITLE_ES, description=DESCRIPTION_ES)
    ana = make_rsvp(event, "Ana", "ana@example.org", language="es")
    make_rsvp(event, "Ben", "ben@example.org", language="en")
    with i18n.using("es"):
        svc.submit_rsvp(event.id, req("cruz@example.org", name="Cruz"))  # waitlisted
    assert _mail("waitlisted", "cruz@example.org").subject == \
        f"Está en la lista de espera: {TITLE_ES}"

    with write_session() as session:
        loaded = session.get(Event, event.id)
        attendee_mail.notify_event_changed(
            session, loaded, {"venue_name": ("Old Hall", "City Hall")},
            now=START - timedelta(days=1))
    with i18n.using("en"):
        event_admin.cancel_event(owner, event.slug, "The hall flooded.")
        event_admin.uncancel_event(owner, event.slug)
    reminders.queue_reminders(now=START - timedelta(hours=3), lead=timedelta(hours=24))
    attendee_mail.message_attendees(owner, event.slug, "Bring water", "Hi all.")
    svc.cancel_rsvp(ana.token)  # Ana's seat goes to Cruz, waitlisted in Spanish
    kinds = ["event_changed", "event_cancelled", "reminder", "organizer_message"]
    for kind in kinds:
        spanish, english = _mail(kind, "ana@example.org"), _mail(kind, "ben@example.org")
        assert TITLE_ES in spanish.subject and TITLE_ES in spanish.body_text, kind
        assert TITLE_ES in spanish.body_html and TITLE not in spanish.body_html, kind
        assert TITLE in english.subject and TITLE_ES not in english.body_html, kind
        if spanish.ics:
            assert str(_ics_property(spanish.ics, "SUMMARY")).endswith(TITLE_ES), kind
            assert TITLE_ES not in english.ics, kind
    promoted = _mail("promoted", "cruz@example.org")
    assert TITLE_ES in promoted.subject and TITLE_ES in promoted.body_html
    assert str(_ics_property(promoted.ics, "SUMMARY")) == TITLE_ES
    assert _mail("organizer_message", "ana@example.org").subject == f"{TITLE_ES}: Bring water"
    assert TITLE_ES in _mail("event_uncancelled", "ana@example.org").subject


def test_the_series_summary_names_the_series_in_spanish(db_url: str) -> None:
    _series, events = make_series(dates=2)
    for e in events:
        _translate(e.id, title="Reunión de la red de respuesta rápida")
    with i18n.using("es"):
        series_rsvp.submit_all(events[0].id, req("pat@example.org"))
    mail = _mail("series_summary", "pat@example.org")
    assert mail.subject.endswith(": Reunión de la red de respuesta rápida")
    assert "Rapid-response" not in mail.body_text + mail.body_html


@pytest.mark.parametrize("write", [
    lambda e, r: messages.confirmation(e, r), lambda e, r: messages.waitlisted(e, r, 2),
    lambda e, r: messages.promoted(e, r), lambda e, r: messages.already_rsvped(e, r, None),
    lambda e, r: messages.cancelled(e, r, had_seat=True), lambda e, r: messages.reminder(e, r),
    lambda e, r: messages.event_cancelled(e, r, "Sorry."),
    lambda e, r: messages.event_uncancelled(e, r),
    lambda e, r: messages.event_changed(e, r, messages.EventChange(
        time=None, place=("City Hall", "Union Station"))),
    lambda e, r: messages.organizer_message(e, r, "Bring water", "Hi."),
], ids=["confirmation", "waitlisted", "promoted", "already", "cancelled", "reminder",
        "event_cancelled", "event_uncancelled", "event_changed", "organizer_message"])
def test_messages_read_the_text_of_an_event_loaded_elsewhere(db_url: str, write) -> None:
    """An event whose session has closed (as the factories hand them back) is read afresh."""
    event = _event()
    _translate(event.id, title=TITLE_ES)
    content = write(event, make_rsvp(event, language="es"))
    assert TITLE_ES in content.subject and TITLE_ES in content.text
    assert TITLE_ES in content.html and f'lang="en">{TITLE}' not in content.html
    if content.ics:
        assert TITLE_ES in str(_ics_property(content.ics, "SUMMARY"))


# --- iCalendar --------------------------------------------------------------------------------

def _summaries(raw: bytes) -> dict[str, set[str]]:
    """{reader: the SUMMARY of every occurrence it shows} for the four readers."""
    return {reader: {o[4] for o in found} for reader, found in expansions(raw).items()}


def test_a_spanish_feed_shows_spanish_titles_and_marks_english_ones(client) -> None:
    translated = _event(slug="budget")
    _translate(translated.id, title=TITLE_ES, summary="Adónde va el dinero",
               description=DESCRIPTION_ES)
    make_event(title="Know your rights", slug="rights", description="Bring ID.")
    spanish = client.get("/calendar.ics?lang=es").content
    unfolded = spanish.decode().replace("\r\n ", "")
    assert f"\r\nSUMMARY:{TITLE_ES}\r\n" in unfolded
    assert "\r\nSUMMARY;LANGUAGE=en:Know your rights\r\n" in unfolded
    assert "\r\nDESCRIPTION:Adónde va el dinero\\n\\nTraiga **sus** preguntas." in unfolded
    assert "\r\nDESCRIPTION;LANGUAGE=en:A test event\\n\\nBring ID.\\n\\nPágina del evento" \
        in unfolded
    for reader, titles in _summaries(spanish).items():
        assert titles == {TITLE_ES, "Know your rights"}, reader
    english = client.get("/calendar.ics").content
    assert b"LANGUAGE=" not in english and TITLE_ES.encode() not in english
    for reader, titles in _summaries(english).items():
        assert titles == {TITLE, "Know your rights"}, reader


def test_the_default_language_output_is_what_it_was(client) -> None:
    """Byte for byte: the default-language text of an event equals the row's own (the
    rendering before translations existed), feed and download alike."""
    event = _event(slug="budget")
    _translate(event.id, title=TITLE_ES)
    with read_session() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        text = event_text.text_for(session, loaded, "en")
    assert ical.event_ics(loaded, text=text) == ical.event_ics(loaded)
    assert client.get("/events/budget.ics").content == ical.event_ics(loaded)
    assert ical.vevent_ical(ical.FeedEntry(loaded, text=text)) in client.get(
        "/calendar.ics").content


def test_editing_a_translation_refreshes_the_feeds(client) -> None:
    event = _event(slug="budget")
    _translate(event.id, title=TITLE_ES)
    first = client.get("/calendar.ics?lang=es")
    download = client.get("/events/budget.ics?lang=es")
    assert TITLE_ES.encode() in first.content and TITLE_ES.encode() in download.content
    _translate(event.id, title="Asamblea del presupuesto 2031")
    again = client.get("/calendar.ics?lang=es", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200 and again.headers["etag"] != first.headers["etag"]
    assert b"SUMMARY:Asamblea del presupuesto 2031\r\n" in again.content
    assert b"Asamblea del presupuesto 2031" in client.get("/events/budget.ics?lang=es").content


def test_a_series_date_with_its_own_spanish_title_is_an_override_in_spanish_only(client) -> None:
    series, events = make_series(dates=3)
    for e in events:
        _translate(e.id, title="Reunión de la red")
    _translate(events[1].id, title="Reunión de la red: edición especial")
    english = client.get("/calendar.ics").content
    assert b"RRULE:" in english and b"RECURRENCE-ID" not in english
    spanish = client.get("/calendar.ics?lang=es").content
    assert spanish.count(b"RECURRENCE-ID") == 1 and spanish.count(b"RRULE:") == 1
    for reader, found in expansions(spanish).items():
        titles = [o[4] for o in found if o[0] == series.uid]
        assert titles == ["Reunión de la red", "Reunión de la red: edición especial",
                          "Reunión de la red"], reader
    for reader, found in expansions(english).items():
        assert {o[4] for o in found} == {"Rapid-response network meeting"}, reader


def test_a_personal_feed_in_spanish_has_the_spanish_titles(client) -> None:
    event = _event()
    _translate(event.id, title=TITLE_ES)
    make_rsvp(event, email="pat@example.org", language="es")
    with write_session() as session:
        token = personal_feeds.token_for(session, "pat@example.org")
    spanish = client.get(urls.my_feed_url(token, "es").removeprefix(settings.BASE_URL)).content
    assert f"SUMMARY:{TITLE_ES}\r\n".encode() in spanish
    english = client.get(urls.my_feed_url(token, "en").removeprefix(settings.BASE_URL)).content
    assert f"SUMMARY:{TITLE}\r\n".encode() in english
    assert b"LANGUAGE=" not in english


# --- API v1 -----------------------------------------------------------------------------------

def test_the_api_gives_each_text_in_the_requests_language_and_says_which(client) -> None:
    event = _event(slug="budget")
    _translate(event.id, title=TITLE_ES, description=DESCRIPTION_ES)
    for how in ({"params": {"lang": "es"}}, {"headers": {"Accept-Language": "es"}}):
        listed = client.get("/api/v1/events", **how).json()["events"]
        assert [(e["title"], e["summary"], e["languages"]) for e in listed] == [
            (TITLE_ES, "Where the money goes", {"title": "es", "summary": "en"})]
        one = client.get("/api/v1/events/budget", **how)
        assert one.headers["content-language"] == "es"
        body = one.json()
        assert (body["title"], body["description"]) == (TITLE_ES, DESCRIPTION_ES)
        assert body["languages"] == {"title": "es", "summary": "en", "description": "es"}
    client.cookies.clear()  # ?lang=es was remembered
    english = client.get("/api/v1/events/budget", headers={"Accept-Language": "en"}).json()
    assert (english["title"], english["description"]) == (TITLE, DESCRIPTION)
    assert english["languages"] == {"title": "en", "summary": "en", "description": "en"}


def test_the_api_cache_is_per_language_and_follows_translation_edits(client) -> None:
    event = _event(slug="budget")

    def titles(language: str) -> list[str]:
        answer = client.get("/api/v1/events", headers={"Accept-Language": language})
        return [e["title"] for e in answer.json()["events"]]

    assert titles("es") == [TITLE] and titles("en") == [TITLE]
    _translate(event.id, title=TITLE_ES)
    assert titles("es") == [TITLE_ES]
    assert titles("en") == [TITLE]
    assert titles("es") == [TITLE_ES]


def test_the_openapi_document_describes_the_languages(client) -> None:
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    detail = schemas["EventDetail"]["properties"]["languages"]
    assert detail["$ref"].endswith("/DetailLanguages")
    assert "fallback" in detail["description"]
    assert set(schemas["DetailLanguages"]["required"]) == {"title", "summary", "description"}
    assert set(schemas["SummaryLanguages"]["required"]) == {"title", "summary"}
    assert schemas["EventSummary"]["properties"]["languages"]["$ref"].endswith(
        "/SummaryLanguages")


# --- Atom --------------------------------------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"
XHTML = "{http://www.w3.org/1999/xhtml}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _entries(client, qs: str = "") -> dict[str, ET.Element]:
    answer = client.get("/events.atom" + qs)
    assert answer.status_code == 200
    root = ET.fromstring(answer.content)
    return {e.find(f"{ATOM}link[@rel='alternate']").get("href").split("?")[0].rsplit("/", 1)[1]:
            e for e in root.iter(f"{ATOM}entry")}


def test_atom_entries_in_the_feeds_language_with_fallbacks_marked(client) -> None:
    budget = _event(slug="budget")
    _translate(budget.id, title=TITLE_ES, summary="Adónde va el dinero",
               description=DESCRIPTION_ES)
    make_event(title="Know your rights", slug="rights", summary="Your rights at work",
               description="Bring ID.\n\nBring a friend.")
    spanish = _entries(client, "?lang=es")
    title = spanish["budget"].find(f"{ATOM}title")
    assert title.text == TITLE_ES and title.get(XML_LANG) is None
    summary = spanish["budget"].find(f"{ATOM}summary")
    assert summary.get("type") == "text" and summary.text.endswith(" — Adónde va el dinero")
    content = ET.tostring(spanish["budget"].find(f"{ATOM}content"), encoding="unicode")
    assert "Traiga **sus** preguntas." in content and "xml:lang" not in content

    title = spanish["rights"].find(f"{ATOM}title")
    assert (title.text, title.get(XML_LANG)) == ("Know your rights", "en")
    summary = spanish["rights"].find(f"{ATOM}summary")
    assert summary.get("type") == "xhtml" and summary.get(XML_LANG) is None
    (span,) = summary.iter(f"{XHTML}span")
    assert (span.text, span.get(XML_LANG)) == ("Your rights at work", "en")
    content = spanish["rights"].find(f"{ATOM}content")
    marked = [(e.tag.removeprefix(XHTML), e.get(XML_LANG)) for e in content.iter()
              if e.get(XML_LANG)]
    assert marked == [("p", "en"), ("div", "en")]

    english = _entries(client)
    assert english["budget"].find(f"{ATOM}title").text == TITLE
    assert english["rights"].find(f"{ATOM}summary").get("type") == "text"
    assert b"xml:lang=\"en\"" not in client.get("/events.atom").content.split(b">", 2)[2]


def test_atom_follows_a_translation_edit(client) -> None:
    budget = _event(slug="budget", status="cancelled", cancelled_at=utcnow())
    _translate(budget.id, title=TITLE_ES)
    assert _entries(client, "?lang=es")["budget"].find(f"{ATOM}title").text == \
        f"Evento cancelado: {TITLE_ES}"
    _translate(budget.id, title="Asamblea 2031")
    assert _entries(client, "?lang=es")["budget"].find(f"{ATOM}title").text == \
        "Evento cancelado: Asamblea 2031"
