"""Feeds and .ics files in the reader's language (issue 15): a feed is in the language its
URL names (`?lang=`, else settings.DEFAULT_LANGUAGE), the subscribe and download links on a
page carry the page's language, an e-mailed .ics is in the RSVP's language, and English
output is exactly what it was before translation (English subscribers see no change)."""

from __future__ import annotations

import html
import re

import icalendar
import pytest

from events_app import i18n, settings, urls
from events_app.db import write_session
from events_app.models import EventStatus, RsvpStatus, utcnow
from events_app.services import feeds, ical, ical_series, messages, personal_feeds, series_rsvp
from events_app.services.ical import event_ics
from tests.factories import make_event, make_rsvp
from tests.rsvp_helpers import outbox, req
from tests.series_public_helpers import make_series

# The fixed texts of a feed and an .ics, in each language.
ENGLISH = ["Event page:", "RSVP:", "Cancelled:", "This event has been cancelled.",
           "Online: the join link", "(waitlist)", "You are on the waitlist", "My events",
           "Meeting", "Your RSVP was cancelled"]
SPANISH_FEED = ["Página del evento:", "Confirmar asistencia:", "Evento cancelado:",
                "Este evento se canceló.", "En línea: el enlace para unirse", "Reunión"]
# An online event whose join link is kept for confirmed attendees (public feeds say so).
ONLINE_ONLY = {"online_url": "https://meet.example/x", "join_link_private": True,
               "venue_name": "", "street_address": "", "city": "", "region": "",
               "postal_code": ""}


def _unfolded(body: bytes) -> str:
    return body.decode().replace("\r\n ", "")


def _texts(body: bytes) -> str:
    """Every property value as a reader shows it (unescaped, unfolded)."""
    cal = icalendar.Calendar.from_ical(body)
    return "\n".join(", ".join(v.cats) if isinstance(v, icalendar.vCategory) else str(v)
                     for c in cal.walk() for k, v in c.property_items()
                     if k not in ("BEGIN", "END"))


def _events() -> None:
    make_event(title="Town hall", category="meeting", **ONLINE_ONLY)
    make_event(title="Budget hearing", category="meeting", status=EventStatus.CANCELLED.value,
               cancelled_at=utcnow(), cancel_message="Moved to spring.")


def test_a_spanish_feed_has_the_spanish_texts_and_no_english_ones(client) -> None:
    _events()
    english = client.get("/calendar.ics")
    spanish = client.get("/calendar.ics?lang=es")
    assert spanish.status_code == 200
    texts = _texts(spanish.content)
    for word in SPANISH_FEED:
        assert word in texts, word
    for word in ENGLISH:
        assert word not in texts, word
    # Both languages from the same caches (VEVENTs, rendered feeds): no bytes mixed.
    assert client.get("/calendar.ics").content == english.content
    assert "Event page:" in _texts(english.content)
    assert client.get("/calendar.ics?lang=es").content == spanish.content


def test_a_filtered_spanish_feed_is_named_in_spanish(client) -> None:
    _events()
    body = client.get("/calendar.ics?category=meeting&lang=es").content
    cal = icalendar.Calendar.from_ical(body)
    assert str(cal["X-WR-CALNAME"]) == f"{settings.SITE_NAME} (Reunión)"
    english = icalendar.Calendar.from_ical(client.get("/calendar.ics?category=meeting").content)
    assert str(english["X-WR-CALNAME"]) == f"{settings.SITE_NAME} (Meeting)"


def test_the_url_alone_decides_a_feeds_language(client) -> None:
    """Calendar apps send no useful Accept-Language or cookie: a feed without ?lang= is in the
    site default whatever the request says, and sets no language cookie."""
    _events()
    default = client.get("/calendar.ics").content
    for headers in ({"Accept-Language": "es"}, {"Cookie": "lang=es"}):
        assert client.get("/calendar.ics", headers=headers).content == default
    assert client.get("/calendar.ics?lang=en").content == default
    assert client.get("/calendar.ics?lang=xx").content == default  # unknown: the default
    spanish = client.get("/calendar.ics?lang=es")
    assert "set-cookie" not in spanish.headers
    assert client.get("/calendar.ics?lang=es", headers={"Cookie": "lang=en"}).content \
        == spanish.content


def test_english_feed_texts_are_as_before(client) -> None:
    """The English texts, written out: translation changed none of the English bytes."""
    make_event(title="Town hall", slug="town-hall", **ONLINE_ONLY,
               status=EventStatus.CANCELLED.value, cancelled_at=utcnow(),
               cancel_message="Moved to spring.", summary="", description="")
    body = _unfolded(client.get("/calendar.ics").content)
    page = urls.event_url("town-hall")
    assert "SUMMARY:Cancelled: Town hall\r\n" in body
    assert ("DESCRIPTION:This event has been cancelled. Moved to spring.\\n\\nOnline: the "
            f"join link is sent to confirmed attendees.\\n\\nEvent page: {page}\r\n") in body
    assert "LOCATION:Online\r\n" in body
    assert "LOCATION:En línea\r\n" in _unfolded(client.get("/calendar.ics?lang=es").content)


def test_a_spanish_cancellation_ics_is_in_spanish(client) -> None:
    event = make_event(title="Town hall", category="meeting")
    with i18n.using("es"):
        rsvp = make_rsvp(event)
    assert rsvp.language == "es"
    content = messages.cancelled(event, rsvp, had_seat=True)
    texts = _texts(content.ics.encode())
    assert "METHOD:CANCEL" in content.ics
    for word in ("Evento cancelado: Town hall",
                 "Su confirmación de asistencia se canceló", "Página del evento:", "Reunión"):
        assert word in texts, word
    for word in ENGLISH:
        assert word not in texts, word
    # The English RSVP's file beside it is the English one.
    english = messages.cancelled(event, make_rsvp(event, email="en@example.org",
                                                  language="en"), had_seat=True)
    assert "Your RSVP was cancelled" in _texts(english.ics.encode())


def test_event_cancellation_ics_in_spanish(db_url) -> None:
    event = make_event(title="Town hall", status=EventStatus.CANCELLED.value,
                       cancelled_at=utcnow(), cancel_message="Se pasa a la primavera.")
    with i18n.using("es"):
        texts = _texts(event_ics(event))
    assert "Este evento se canceló. Se pasa a la primavera." in texts
    assert "Evento cancelado: Town hall" in texts
    assert "This event has been cancelled." not in texts
    assert "This event has been cancelled." in _texts(event_ics(event))  # default: English


def test_personal_feed_in_spanish(client) -> None:
    event = make_event(title="Town hall", capacity=1)
    make_rsvp(event, email="a@example.org")
    make_rsvp(event, email="pat@example.org", status=RsvpStatus.WAITLISTED.value)
    with i18n.using("es"):
        with write_session() as session:
            token = personal_feeds.token_for(session, "pat@example.org")
        url = personal_feeds.feed_url(token)
    assert url.endswith("/calendar.ics?lang=es")
    body = client.get(url.removeprefix(settings.BASE_URL)).content
    texts = _texts(body)
    assert "Town hall (lista de espera)" in texts
    assert "Está en la lista de espera de este evento." in texts
    assert "Mis eventos ·" in texts
    for word in ENGLISH:
        assert word not in texts, word
    english = _texts(client.get(urls.my_feed_url(token, "en").removeprefix(
        settings.BASE_URL)).content)
    assert "Town hall (waitlist)" in english and "My events ·" in english


def test_an_unknown_calendar_link_says_so_in_the_links_language(client) -> None:
    missing = client.get("/my/" + "x" * 43 + "/calendar.ics?lang=es")
    assert missing.status_code == 404
    assert "Este enlace de calendario no es válido" in missing.text
    assert "This calendar link is not valid" in client.get("/my/" + "x" * 43
                                                           + "/calendar.ics").text


@pytest.mark.parametrize(("lang", "suffix"), [("es", "?lang=es"), ("en", "")])
def test_subscribe_and_download_links_carry_the_pages_language(client, lang, suffix) -> None:
    event = make_event(title="Town hall", category="meeting", slug="town-hall")
    listing = client.get(f"/events?category=meeting&lang={lang}").text
    feeds = {html.unescape(u) for u in re.findall(r'value="([^"]*calendar\.ics[^"]*)"', listing)}
    expected = urls.absolute(urls.CALENDAR, "category=meeting" + suffix.replace("?", "&"))
    assert feeds == {expected}
    page = client.get(f"/events/{event.slug}?lang={lang}").text
    downloads = set(re.findall(r'href="([^"]*\.ics[^"]*)"', page))
    assert downloads == {f"http://testserver/events/town-hall.ics{suffix}"}


def test_the_series_summary_mail_in_spanish(db_url) -> None:
    _series, events = make_series(dates=2, capacity=1)
    make_rsvp(events[1], email="a@example.org")
    with i18n.using("es"):
        series_rsvp.submit_all(events[0].id, req("pat@example.org"))
    mail = next(m for m in outbox("series_summary") if m.to_addr == "pat@example.org")
    assert mail.subject.startswith("Sus confirmaciones de asistencia: ")
    for body in (mail.body_text, mail.body_html):
        assert "Estas son sus confirmaciones de asistencia para" in body
        assert "en la lista de espera" in body and "confirmada" in body
        for word in ("Here are your RSVPs", "on the waitlist", "confirmed for",
                     "See or change all", "This link is private"):
            assert word not in body, word


def test_a_series_in_spanish_whatever_was_cached_in_english(client) -> None:
    """A series' rows are compared by their rendered contents (services/ical_series.py): a
    row cached in English must not make a Spanish feed's master and overrides differ."""
    series, events = make_series(dates=3)

    def cold_caches() -> None:
        ical_series._contents.clear()
        ical.clear_vevent_cache()
        feeds.public_cache.clear()

    cold_caches()
    spanish = client.get("/calendar.ics?lang=es").content
    assert b"RRULE:" in spanish and b"RECURRENCE-ID" not in spanish
    cold_caches()
    ical_series._content(events[0], series.uid)  # one row's contents cached in English
    assert client.get("/calendar.ics?lang=es").content == spanish


def test_the_apis_ics_link_is_in_the_readers_language(client) -> None:
    make_event(title="Town hall", slug="town-hall")
    for language, suffix in (("es", "?lang=es"), ("en", "")):
        data = client.get("/api/v1/events", headers={"Accept-Language": language}).json()
        assert [e["urls"]["ics"] for e in data["events"]] == [
            urls.absolute("/events/town-hall.ics") + suffix]


def test_a_spanish_atom_feed_has_spanish_words_and_keeps_its_language(client) -> None:
    """The Atom feed's own words follow its URL's `lang`, as a calendar feed's do; its links
    (next page, the list, each event's page and .ics) keep that language, and the English
    feed's links carry none (its subscribers' URLs stay as they were)."""
    _events()
    make_event(title="Workshop", slug="workshop", venue_name="Union Hall")
    spanish = client.get("/events.atom?lang=es")
    assert spanish.status_code == 200
    assert "set-cookie" not in spanish.headers
    body = spanish.text
    assert 'xml:lang="es"' in body
    for words in ("Próximos eventos ·", "Evento cancelado: Budget hearing",
                  "Este evento se canceló.", "En línea: el enlace para unirse",
                  "Ver detalles y confirmar asistencia", "Cuándo:", "Dónde:"):
        assert words in body, words
    for words in ("Upcoming events", "Cancelled:", "This event has been cancelled",
                  "Details and RSVP", "When:", "Where:", "join link is sent"):
        assert words not in body, words
    links = set(re.findall(r'href="([^"]+)"', html.unescape(body)))
    assert f"{settings.BASE_URL}/events/workshop.ics?lang=es" in links
    assert f"{settings.BASE_URL}/events/workshop?lang=es" in links
    assert f"{settings.BASE_URL}/events.atom?lang=es" in links  # self
    assert f"{settings.BASE_URL}/events?lang=es" in links  # the list it mirrors
    # The URL alone decides: no Accept-Language or cookie turns the default feed Spanish.
    english = client.get("/events.atom").content
    for headers in ({"Accept-Language": "es"}, {"Cookie": "lang=es"}):
        assert client.get("/events.atom", headers=headers).content == english
    text = english.decode()
    assert 'xml:lang="en"' in text and "Details and RSVP" in text
    assert "Cancelled: Budget hearing" in text and "?lang=" not in text


@pytest.mark.parametrize(("lang", "suffix"), [("es", "?lang=es"), ("en", "")])
def test_links_to_the_atom_feed_carry_the_pages_language(client, lang, suffix) -> None:
    listing = client.get(f"/events?category=meeting&lang={lang}").text
    alternate = re.search(r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"',
                          listing)
    assert alternate and html.unescape(alternate.group(1)) == urls.absolute(
        urls.ATOM, "category=meeting" + suffix.replace("?", "&"))
    links = re.findall(r'<a href="[^"]*/events\.atom([^"]*)">', listing)
    assert links == [suffix]  # the footer's
