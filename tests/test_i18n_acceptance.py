"""Acceptance test of issue 15 ("Done when"), on SQLite and PostgreSQL, through HTTP only, as
the real people would: "A Spanish-speaking visitor can find an event, RSVP, get a
confirmation e-mail, manage the RSVP and subscribe to the calendar without meeting a word of
English they didn't choose; an organizer can work entirely in Spanish".

Every page, e-mail (subject, text and HTML parts, its calendar attachment) and feed the
journeys touch is read as a person meets it (tests/i18n_support.page_text) and must hold none
of the catalog's English texts (english_pieces). The event's own text is the organizer's: an
event given in English only may show its English title to a Spanish reader, but only where
the page marks it lang="en" (page_text leaves such text out, and the test checks that the
title is on the page all the same).

Dates are worked out here from the calendar (never from the code under test) for whatever
day the suite runs: the events fall on the Saturdays either side of the next US fall-back
(first Sunday of November), so one is on daylight time (CDT) and one on standard time (CST),
and the expected words are written out from small tables of Spanish and English day and
month abbreviations.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
from starlette.testclient import TestClient

from events_app.services import mail as mail_service
from tests.i18n_support import english_pieces, page_text, translated_pieces
from tests.ical_readers import expansions
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    login,
    make_organizer,
    post,
)
from tests.rsvp_helpers import MANAGE_RE, csrf_from, outbox
from tests.test_series_acceptance import _edit_form

pytestmark = pytest.mark.usefixtures("cheap_passwords")

ES = {"Accept-Language": "es-MX,es;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
CHICAGO = ZoneInfo("America/Chicago")
ENGLISH = english_pieces(("",))  # every catalog text, wherever it is used
SPANISH = translated_pieces(("",))

# How each language writes a day ("EEE d MMM y"), from the calendar, not from the code.
ES_DAYS = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")
ES_MONTHS = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov",
             "dic")
EN_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec")


def _fall_back() -> date:
    """The next US fall-back (first Sunday of November) at least ten days ahead."""
    year = datetime.now(UTC).year
    while True:
        first = date(year, 11, 1)
        sunday = first + timedelta(days=(6 - first.weekday()) % 7)
        if sunday - timedelta(days=10) >= datetime.now(UTC).date():
            return sunday
        year += 1


FALL_BACK = _fall_back()
BEFORE = FALL_BACK - timedelta(days=1)  # the Saturday before: daylight time, CDT
AFTER = FALL_BACK + timedelta(days=6)  # the Saturday after: standard time, CST


def _es_day(day: date) -> str:
    return f"{ES_DAYS[day.weekday()]} {day.day} {ES_MONTHS[day.month - 1]} {day.year}"


def _en_day(day: date) -> str:
    return f"{EN_DAYS[day.weekday()]} {day.day} {EN_MONTHS[day.month - 1]} {day.year}"


WORKSHOP = {  # English and Spanish, the week after the fall-back
    "title": "Know-your-rights workshop", "summary": "What to do if immigration knocks",
    "description": "Bring your questions. Lawyers answer them one by one.",
    "title_es": "Taller sobre sus derechos",
    "summary_es": "Qué hacer si inmigración toca a su puerta",
    "description_es": "Traiga sus preguntas. Abogadas las responden una por una.",
    "start_date": AFTER.isoformat(), "end_date": AFTER.isoformat(),
}
HEARING = {  # English only (not translated), the week before the fall-back
    "title": "City budget hearing", "summary": "Public comment on the budget",
    "description": "Sign up at the door to speak.",
    "start_date": BEFORE.isoformat(), "end_date": BEFORE.isoformat(),
}


def _form(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "", "summary": "", "description": "", "category": "training",
        "timezone": "America/Chicago", "start_time": "14:00", "end_time": "16:00",
        "venue_name": "Biblioteca Central", "city": "Chicago", "capacity": "20",
        "max_guests": "2", "waitlist_enabled": "on", "repeat": "none",
        "title_es": "", "summary_es": "", "description_es": "",
    }
    values.update(overrides)
    return values


# --- reading what people meet ----------------------------------------------------------------

def _found(pieces: set[str], text: str) -> list[str]:
    """The pieces in `text` as whole words (a lone 'Meeting' inside 'Meetings' is not one)."""
    return sorted(p for p in pieces if p in text
                  and re.search(rf"(?<!\w){re.escape(p)}(?!\w)", text))


def _english_in(text: str) -> list[str]:
    """The catalog's English texts in `text`."""
    return _found(ENGLISH, text)


class Reader:
    """Everything one person met, by name, for the "no English" check at the end."""

    def __init__(self) -> None:
        self.met: dict[str, str] = {}

    def page(self, name: str, response: Any, status: int = 200) -> str:
        assert response.status_code == status, (name, response.status_code,
                                                response.text[:2000])
        html = response.text
        if response.headers.get("content-type", "").startswith("text/html"):
            assert re.search(r'<html lang="es"', html), (name, html[:300])
            assert response.headers.get("content-language") == "es", name
        self.met[name] = page_text(html)
        return html

    def ics(self, name: str, raw: str) -> None:
        """An .ics's texts as a calendar app shows them (unfolded, unescaped)."""
        body = raw.replace("\r\n ", "")
        body = re.sub(r"\\([,;\\])", r"\1", body).replace("\\n", " ").replace("\\N", " ")
        self.met[name] = " ".join(body.split())

    def mail(self, name: str, mail: Any, language: str = "es") -> EmailMessage:
        """A queued e-mail as it is sent: its language said, its subject, text and HTML
        parts and its .ics met."""
        assert mail.language == language, (name, mail.language)
        built = mail_service.build_message(mail)
        assert built["Content-Language"] == language
        self.met[f"{name}: subject"] = mail.subject
        self.met[f"{name}: text"] = " ".join(mail.body_text.split())
        if mail.body_html:
            assert re.search(rf'<html lang="{language}"', mail.body_html), name
            self.met[f"{name}: html"] = page_text(mail.body_html)
        if mail.ics:
            self.ics(f"{name}: .ics", mail.ics)
        return built

    def assert_no_english(self, at_least: int = 40) -> None:
        # The check can see: what was met is Spanish, in many of the catalog's texts.
        seen = set().union(*(_found(SPANISH, text) for text in self.met.values()))
        assert len(seen) >= at_least, sorted(seen)
        left = {name: found for name, text in self.met.items() if (found := _english_in(text))}
        assert not left, "English met:\n" + "\n".join(f"{k}: {v}" for k, v in left.items())


def _follow(reader: Reader, client: Any, name: str, answer: Any) -> str:
    """Follow a form's redirect and read the page it lands on (its flash message)."""
    assert answer.status_code == 303, (name, answer.status_code, answer.text[:2000])
    return reader.page(name, client.get(answer.headers["location"]))



def _subscribe(reader: Reader, app: Any, name: str, links: list[str]) -> Any:
    """Every subscribe link on a page keeps the reader's Spanish; the first one's feed is
    fetched and read."""
    for link in links:
        assert parse_qs(urlsplit(unescape(link)).query).get("lang") == ["es"], link
    url = urlsplit(unescape(links[0]))
    feed = app.get(f"{url.path}?{url.query}")
    assert feed.status_code == 200
    reader.ics(name, feed.text)
    return feed

def _create(client: Any, reader: Reader, fields: dict[str, Any]) -> str:
    """The organizer publishes an event through the form; its slug, from the public list."""
    answer = post(client, "/organizer/events/new", {**_form(**fields), "then": "publish"})
    _follow(reader, client, f"published {fields['title']}", answer)
    page = client.get("/events?when=upcoming", headers=EN).text
    found = re.search(r'<a href="(?:https?://[^/"]+)?/events/([^"]+)">\s*'
                      + re.escape(fields["title"]), page)
    assert found, page
    return found.group(1)


def _mails(kind: str, to: str) -> list[Any]:
    return [m for m in outbox(kind) if m.to_addr == to]


def _calendar(raw: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(raw)


def _summaries(cal: icalendar.Calendar) -> dict[str, tuple[str, str | None]]:
    """SUMMARY per UID, with its LANGUAGE parameter (None: the calendar's language)."""
    found = {}
    for ev in cal.walk("VEVENT"):
        summary = ev["SUMMARY"]
        found[str(ev["UID"])] = (str(summary), summary.params.get("LANGUAGE"))
    return found


# --- the visitor ---------------------------------------------------------------------------

def test_a_spanish_speaking_visitor_meets_no_english(client: TestClient, db_url: str) -> None:
    make_organizer("olga@example.org", "Olga Organizadora")
    client.headers.update(ES)
    assert login(client, "olga@example.org").status_code == 303
    staff = Reader()
    workshop = _create(client, staff, WORKSHOP)
    hearing = _create(client, staff, HEARING)
    client.cookies.clear()

    # Her browser asks for Mexican Spanish; no cookie, no choice made.
    ana = Reader()
    listing = ana.page("list", client.get("/events"))
    assert "Taller sobre sus derechos" in listing and WORKSHOP["summary_es"] in listing
    assert "Know-your-rights" not in listing
    # The hearing was given in English only: its title is there, marked as English.
    assert re.search(r'lang="en"[^>]*>\s*(<[^>]+>\s*)*City budget hearing', listing), listing
    assert "City budget hearing" not in ana.met["list"]
    assert f"{_es_day(AFTER)[:-5]}, 14:00 CST" in unescape(listing)
    assert f"{_es_day(BEFORE)[:-5]}, 14:00 CDT" in unescape(listing)

    # Searching a Spanish word of the Spanish title finds it, and only it.
    found = ana.page("search", client.get("/events?q=derechos"))
    assert f"/events/{workshop}\"" in found and f"/events/{hearing}\"" not in found
    # The month view shows it under its Spanish title.
    month = ana.page("month", client.get(f"/events/month/{AFTER:%Y-%m}"))
    assert f"/events/{workshop}\"" in month and "Taller sobre sus derechos" in month

    # The event page, in Spanish, its date as Spanish writes it, in the event's own zone.
    detail = ana.page("event", client.get(f"/events/{workshop}"))
    assert "<h1" in detail and "Taller sobre sus derechos" in detail
    assert WORKSHOP["description_es"].split(".")[0] in detail
    assert f"{_es_day(AFTER)}, 14:00 – 16:00 CST" in unescape(detail)
    assert "Confirmar asistencia" in detail

    # She RSVPs; a mistyped address first: the form comes back with her input and the
    # problem in Spanish.
    token = csrf_from(detail)
    data = {"name": "Ana López", "email": "ana.lopez@", "phone": "", "guests": "1",
            "comment": "¿Hay estacionamiento?", "website": "", "csrf_token": token}
    refused = client.post(f"/events/{workshop}/rsvp", data=data, follow_redirects=False)
    html = ana.page("RSVP refused", refused, status=422)
    assert 'value="Ana López"' in html and 'value="ana.lopez@"' in html
    assert "¿Hay estacionamiento?" in html
    error = re.search(r'<p class="field-error" id="rsvp-email-error">([^<]+)</p>', html)
    assert error and not _english_in(error.group(1)), html
    assert "correo" in error.group(1).lower() or "dirección" in error.group(1).lower()
    received = client.post(f"/events/{workshop}/rsvp",
                           data={**data, "email": "ana.lopez@example.org"},
                           follow_redirects=False)
    assert "Taller sobre sus derechos" in ana.page("RSVP received", received)

    # The confirmation e-mail: Spanish throughout, the event's Spanish text and date.
    (confirmation,) = _mails("confirmation", "ana.lopez@example.org")
    built = ana.mail("confirmation", confirmation)
    assert "Taller sobre sus derechos" in confirmation.subject
    for part in (confirmation.body_text, unescape(confirmation.body_html)):
        assert f"{_es_day(AFTER)}, 14:00" in part and "CST" in part
        assert "Taller sobre sus derechos" in part
    attached = [p for p in built.walk() if p.get_content_type() == "text/calendar"]
    assert attached, "no calendar attached"
    invite = _calendar(confirmation.ics.encode())
    ((summary, lang),) = _summaries(invite).values()
    assert summary == "Taller sobre sus derechos" and lang in (None, "es")
    (vevent,) = invite.walk("VEVENT")
    assert "Traiga sus preguntas" in str(vevent["DESCRIPTION"])
    assert vevent.decoded("DTSTART") == datetime.combine(AFTER, time(14), CHICAGO)

    # Her page to manage the RSVP: one guest fewer, then she cancels.
    calendar_app = TestClient(client.app)  # polls her feeds: no cookie, no language asked
    manage = MANAGE_RE.search(confirmation.body_text)
    assert manage, confirmation.body_text
    page = ana.page("manage", client.get(manage.group(1)))
    assert "Taller sobre sus derechos" in page
    changed = client.post(manage.group(1), data={"csrf_token": csrf_from(page),
                                                 "action": "guests", "guests": "0"},
                          follow_redirects=False)
    page = _follow(ana, client, "manage, guests changed", changed)
    # Her own calendar of what she RSVPs to, from the e-mail's link: Spanish too.
    mine = re.search(r"https?://[^/\s]+(/my/[A-Za-z0-9_-]+)", confirmation.body_text)
    assert mine, confirmation.body_text
    my_page = ana.page("my events", client.get(mine.group(1)))
    assert "Taller sobre sus derechos" in my_page
    own = re.findall(r'href="((?:webcal|https?)://[^"]*?/my/[^"]*calendar\.ics[^"]*)"', my_page)
    assert own, my_page
    own_feed = _subscribe(ana, calendar_app, "my calendar", own)
    assert [s for s, _lang in _summaries(_calendar(own_feed.content)).values()] == \
        ["Taller sobre sus derechos"]

    ask = client.post(manage.group(1), data={"csrf_token": csrf_from(page),
                                             "action": "cancel"}, follow_redirects=False)
    page = ana.page("manage, cancel?", ask)
    done = client.post(manage.group(1), data={"csrf_token": csrf_from(page),
                                              "action": "cancel_confirmed"},
                       follow_redirects=False)
    _follow(ana, client, "manage, cancelled", done)
    kinds = {m.kind for m in outbox() if m.to_addr == "ana.lopez@example.org"}
    assert {"confirmation", "cancelled"} <= kinds, kinds
    for kind in kinds:
        for i, mail in enumerate(_mails(kind, "ana.lopez@example.org")):
            ana.mail(f"{kind} #{i}", mail)

    # She subscribes to the calendar from the list: the link keeps her language.
    links = re.findall(r'href="((?:webcal|https?)://[^"]*?/calendar\.ics[^"]*)"', listing)
    assert links, "no subscribe link"
    feed = _subscribe(ana, calendar_app, "calendar feed", links)
    url = urlsplit(unescape(links[0]))
    cal = _calendar(feed.content)
    # Its name is the site's name (a name, the same in every language); its description is
    # Spanish, and so is the name of a feed filtered to a category.
    english_feed = _calendar(calendar_app.get(url.path).content)
    assert str(cal["X-WR-CALDESC"]) != str(english_feed["X-WR-CALDESC"])
    assert not _english_in(str(cal["X-WR-CALNAME"]) + " " + str(cal["X-WR-CALDESC"]))
    names = {lang: str(_calendar(calendar_app.get(
        f"/calendar.ics?category=training&lang={lang}").content)["X-WR-CALNAME"])
        for lang in ("es", "en")}
    assert names["es"] != names["en"], names
    summaries = {s for s, _lang in _summaries(cal).values()}
    assert "Taller sobre sus derechos" in summaries
    by_title = {s: lang for s, lang in _summaries(cal).values()}
    assert by_title["City budget hearing"] == "en"  # the untranslated title says its language
    assert by_title["Taller sobre sus derechos"] in (None, "es")
    for ev in cal.walk("VEVENT"):
        if str(ev["SUMMARY"]) == "Taller sobre sus derechos":
            assert "Traiga sus preguntas" in str(ev["DESCRIPTION"])
    for reader, occurrences in expansions(feed.content).items():
        assert {o[4] for o in occurrences} >= {"Taller sobre sus derechos",
                                               "City budget hearing"}, reader

    # The list's Atom feed, for her feed reader: Spanish too, the English-only title marked.
    atom = re.search(r'href="([^"]*/events\.atom[^"]*)"', listing)
    assert atom and "lang=es" in unescape(atom.group(1)), atom
    atom_url = urlsplit(unescape(atom.group(1)))
    entries = calendar_app.get(f"{atom_url.path}?{atom_url.query}")
    assert entries.status_code == 200
    assert "Taller sobre sus derechos" in entries.text
    assert re.search(r'<title[^>]*xml:lang="en"[^>]*>City budget hearing', entries.text)
    ana.met["atom feed"] = page_text(entries.text)
    # A mistyped address: the "not found" page is Spanish too.
    ana.page("not found", client.get("/events/taller-que-no-existe"), status=404)

    ana.assert_no_english()
    assert "lang" not in client.cookies  # all of it by her browser's Accept-Language alone

    # Someone on a shared English computer picks Spanish with the switcher: remembered.
    shared = TestClient(client.app)
    shared.headers.update(EN)
    home = shared.get("/events").text
    switch = re.search(r'<a lang="es" hreflang="es"[^>]*href="([^"]+)"', home)
    assert switch, home
    beto = Reader()
    chosen = shared.get(unescape(switch.group(1)))
    beto.page("switched to Spanish", chosen)
    assert "lang=es" in chosen.headers.get("set-cookie", "")
    for name, path in (("list", "/events"), ("event", f"/events/{workshop}"),
                       ("month", f"/events/month/{AFTER:%Y-%m}")):
        beto.page(f"{name}, by the cookie", shared.get(path))
    beto.assert_no_english()


# --- the organizer ---------------------------------------------------------------------------

def _visitor(client: TestClient, headers: dict[str, str]) -> TestClient:
    """Another person's browser on the same site (own cookies, own language)."""
    other = TestClient(client.app)
    other.headers.update(headers)
    return other


def _rsvp(browser: TestClient, slug: str, name: str, email: str) -> None:
    page = browser.get(f"/events/{slug}").text
    answer = browser.post(f"/events/{slug}/rsvp", data={
        "name": name, "email": email, "phone": "", "guests": "0", "comment": "",
        "website": "", "csrf_token": csrf_from(page)}, follow_redirects=False)
    assert answer.status_code == 200, answer.text[:2000]


def _csv_header(client: TestClient, slug: str, headers: dict[str, str]) -> list[str]:
    answer = client.get(f"/organizer/events/{slug}/attendees.csv", headers=headers)
    assert answer.status_code == 200
    return next(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


def test_an_organizer_works_entirely_in_spanish(client: TestClient, db_url: str) -> None:
    make_organizer("olga@example.org", "Olga Organizadora", admin=True)  # reads the log too
    client.headers.update(ES)
    olga = Reader()
    olga.page("sign-in", client.get("/organizer/login"))
    signed_in = login(client, "olga@example.org")
    _follow(olga, client, "dashboard", signed_in)

    # A new event with its English and Spanish text; a forgotten title first.
    form = olga.page("new event", client.get("/organizer/events/new"))
    assert "Versión en español (opcional)" in unescape(form)
    refused = post(client, "/organizer/events/new", {**_form(**{**WORKSHOP, "title": ""}),
                                                     "then": "publish"})
    html = olga.page("new event refused", refused, status=422)
    assert re.search(r'<p class="field-error" id="f-title-error">[^<]+</p>', html), html
    assert 'value="Taller sobre sus derechos"' in html  # the Spanish fieldset kept its input
    slug = _create(client, olga, WORKSHOP)

    # She edits the Spanish title.
    olga.page("edit", client.get(f"/organizer/events/{slug}/edit"))
    values = _edit_form(client, slug)
    assert values["title_es"] == "Taller sobre sus derechos"
    assert values["description_es"] == WORKSHOP["description_es"]
    values["title_es"] = "Taller: conozca sus derechos"
    _follow(olga, client, "edited", post(client, f"/organizer/events/{slug}/edit", values))
    assert "Taller: conozca sus derechos" in client.get(f"/events/{slug}").text

    # Two people RSVP, each in their own language.
    _rsvp(_visitor(client, ES), slug, "Ana López", "ana@example.org")
    _rsvp(_visitor(client, EN), slug, "Ed Jones", "ed@example.org")

    # The attendee list; Ana checks in at the door.
    attendees = olga.page("attendees", client.get(f"/organizer/events/{slug}/attendees"))
    assert "Ana López" in attendees and "Ed Jones" in attendees
    row = re.search(r'<tr id="rsvp-(\d+)"(?:(?!</tr>).)*Ana López', attendees, re.S)
    assert row, attendees
    _follow(olga, client, "checked in", post(
        client, f"/organizer/events/{slug}/attendees/{row.group(1)}/check-in", {"here": "1"}))

    # The CSV export's column names are Spanish (English for an English reader).
    spanish, english = (_csv_header(client, slug, ES), _csv_header(client, slug, EN))
    assert len(spanish) == len(english) and spanish != english
    olga.met["attendees.csv"] = " ".join(spanish)
    same = {es for es, en in zip(spanish, english, strict=True) if es == en}
    assert not same - {"ID"}, f"CSV columns left in English: {same}"

    # She e-mails the attendees: her words, each person's frame in their own language.
    olga.page("e-mail attendees", client.get(f"/organizer/events/{slug}/email"))
    message = {"audience": "confirmed", "subject": "Cambio de sala",
               "body": "Nos vemos en la sala 2, en el primer piso."}
    preview = post(client, f"/organizer/events/{slug}/email", {**message, "step": "preview"})
    olga.page("e-mail preview", preview)
    _follow(olga, client, "e-mail sent", post(client, f"/organizer/events/{slug}/email",
                                              {**message, "step": "send"}))
    (to_ana,) = _mails("organizer_message", "ana@example.org")
    olga.mail("message to Ana", to_ana)
    assert "Cambio de sala" in to_ana.subject and "sala 2" in to_ana.body_text
    (to_ed,) = _mails("organizer_message", "ed@example.org")
    assert to_ed.language == "en" and "Cambio de sala" in to_ed.subject
    assert mail_service.build_message(to_ed)["Content-Language"] == "en"

    # She cancels the event: Ana is told in Spanish, Ed in English.
    olga.page("cancel?", client.get(f"/organizer/events/{slug}/cancel"))
    _follow(olga, client, "cancelled", post(client, f"/organizer/events/{slug}/cancel",
                                            {"message": "Se suspende por la tormenta."}))
    (ana_told,) = _mails("event_cancelled", "ana@example.org")
    olga.mail("cancellation to Ana", ana_told)
    assert "Taller: conozca sus derechos" in ana_told.subject
    assert "Se suspende por la tormenta." in ana_told.body_text
    ((summary, _lang),) = _summaries(_calendar(ana_told.ics.encode())).values()
    assert "Taller: conozca sus derechos" in summary
    (ed_told,) = _mails("event_cancelled", "ed@example.org")
    assert ed_told.language == "en"
    assert mail_service.build_message(ed_told)["Content-Language"] == "en"
    assert "Know-your-rights workshop" in ed_told.subject
    ((summary, _lang),) = _summaries(_calendar(ed_told.ics.encode())).values()
    assert "Know-your-rights workshop" in summary and "Taller" not in summary
    for part in (ed_told.subject, ed_told.body_text, page_text(ed_told.body_html)):
        assert not _found(SPANISH, part), part

    # The log of what was done, and the dashboard at the end of the day.
    log = olga.page("audit log", client.get("/organizer/audit"))
    assert "Registro de actividad" in log
    assert "Taller: conozca sus derechos" in unescape(log)  # the Spanish title's change
    olga.page("dashboard, at the end", client.get("/organizer/"))
    olga.assert_no_english()


# --- dates across the fall-back, in both languages ---------------------------------------------

def test_dates_across_the_fall_back_in_both_languages(client: TestClient, db_url: str) -> None:
    """The Saturday before the clocks go back is on CDT, the one after on CST: the same 2 PM
    on the event's clock, written each language's way, and an hour apart in UTC."""
    make_organizer("olga@example.org", "Olga Organizadora")
    client.headers.update(ES)
    assert login(client, "olga@example.org").status_code == 303
    staff = Reader()
    before, after = _create(client, staff, HEARING), _create(client, staff, WORKSHOP)
    client.cookies.clear()

    expected = {
        "es": {before: (_es_day(BEFORE), "14:00 – 16:00 CDT"),
               after: (_es_day(AFTER), "14:00 – 16:00 CST")},
        "en": {before: (_en_day(BEFORE), "2:00 PM – 4:00 PM CDT"),
               after: (_en_day(AFTER), "2:00 PM – 4:00 PM CST")},
    }
    for language, headers in (("es", ES), ("en", EN)):
        listing = unescape(client.get("/events", headers=headers).text)
        for slug, (day, hours) in expected[language].items():
            page = unescape(client.get(f"/events/{slug}", headers=headers).text)
            assert re.search(rf'<html lang="{language}"', page)
            assert f"{day}, {hours}" in _spaces(page), (language, slug)
            card_day = day.rsplit(" ", 1)[0]  # the list leaves out the year
            start = hours.split(" – ")[0] + " " + hours.rsplit(" ", 1)[1]
            assert f"{card_day}, {start}" in _spaces(listing), (language, slug)

    # The confirmation e-mails say the same, each in its reader's language; the Spanish one
    # for the English-only hearing marks its title as English in the HTML part.
    _rsvp(_visitor(client, ES), before, "Ana López", "ana@example.org")
    _rsvp(_visitor(client, EN), after, "Ed Jones", "ed@example.org")
    (to_ana,) = _mails("confirmation", "ana@example.org")
    ana = Reader()
    ana.mail("confirmation", to_ana)
    assert f"{_es_day(BEFORE)}, 14:00 – 16:00 CDT" in _spaces(to_ana.body_text)
    assert f"{_es_day(BEFORE)}, 14:00 – 16:00 CDT" in _spaces(unescape(to_ana.body_html))
    body = to_ana.body_html.split("<body", 1)[1]  # (a <title> holds no markup, like a page's)
    assert body.count("City budget hearing") == body.count('<span lang="en">City budget hearing')
    assert body.count("City budget hearing") >= 1
    ana.assert_no_english(at_least=10)
    (to_ed,) = _mails("confirmation", "ed@example.org")
    assert to_ed.language == "en" and "Know-your-rights workshop" in to_ed.subject
    assert f"{_en_day(AFTER)}, 2:00 PM – 4:00 PM CST" in _spaces(to_ed.body_text)
    assert not _found(SPANISH, to_ed.body_text)

    # The calendar files put both on 2 PM Chicago time, an hour apart in UTC; every reader
    # agrees.
    utc = {before: datetime.combine(BEFORE, time(19), UTC),
           after: datetime.combine(AFTER, time(20), UTC)}
    for language in ("es", "en"):
        for slug, at in utc.items():
            raw = client.get(f"/events/{slug}.ics?lang={language}").content
            for reader, found in expansions(raw).items():
                ((_uid, start, _end, _status, _summary),) = found
                assert start == f"{at:%Y-%m-%dT%H:%M:%SZ}", (reader, language, slug)
            (vevent,) = _calendar(raw).walk("VEVENT")
            assert vevent.decoded("DTSTART") == at.astimezone(CHICAGO)
            assert vevent["DTSTART"].params["TZID"] == "America/Chicago"


def _spaces(text: str) -> str:
    """Babel may write a narrow or no-break space before AM/PM; readers see a space."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_a_spanish_visitor_rsvps_to_every_date_of_a_series(client: TestClient,
                                                            db_url: str) -> None:
    """The same for a series: her RSVP to every date, the summary e-mail and the page with
    all her RSVPs in it, all in Spanish with the series' Spanish title."""
    make_organizer("olga@example.org", "Olga Organizadora")
    client.headers.update(ES)
    assert login(client, "olga@example.org").status_code == 303
    staff = Reader()
    weekly = {**WORKSHOP, "start_date": BEFORE.isoformat(), "end_date": BEFORE.isoformat(),
              "repeat": "weekly", "interval": "1", "weekday": [str(BEFORE.weekday())],
              "monthly_by": "day", "ends": "count", "count": "3", "until": "",
              "rsvp_all": "on"}
    slug = _create(client, staff, weekly)
    client.cookies.clear()

    ana = Reader()
    page = ana.page("a date", client.get(f"/events/{slug}"))
    answer = client.post(f"/events/{slug}/rsvp", data={
        "name": "Ana López", "email": "ana@example.org", "phone": "", "guests": "0",
        "comment": "", "website": "", "dates": "all", "csrf_token": csrf_from(page)},
        follow_redirects=False)
    assert "Taller sobre sus derechos" in ana.page("RSVP to every date received", answer)
    (summary,) = _mails("series_summary", "ana@example.org")
    ana.mail("series summary", summary)
    assert "Taller sobre sus derechos" in summary.subject
    # Three Saturdays at 2 PM Chicago time, across the fall-back: CDT, then CST twice.
    for day, zone in ((BEFORE, "CDT"), (AFTER, "CST"), (AFTER + timedelta(days=7), "CST")):
        assert f"- {_es_day(day)}, 14:00 – 16:00 {zone}: confirmada" in summary.body_text
    link = re.search(r"https?://[^/\s]+(/rsvp/[A-Za-z0-9_-]{43}/series)\b", summary.body_text)
    assert link, summary.body_text
    mine = ana.page("my RSVPs in the series", client.get(link.group(1)))
    assert re.search(r'<h1 id="series-title">[^<]*<span>Taller sobre sus derechos</span>', mine)
    assert mine.count('data-status="confirmed"') == 3
    ana.assert_no_english()
