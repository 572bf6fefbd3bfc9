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
from tests.i18n_support import english_pieces, page_text
from tests.ical_readers import expansions
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    login,
    make_organizer,
    post,
)
from tests.rsvp_helpers import MANAGE_RE, csrf_from, outbox

pytestmark = pytest.mark.usefixtures("cheap_passwords")

ES = {"Accept-Language": "es-MX,es;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
CHICAGO = ZoneInfo("America/Chicago")
ENGLISH = english_pieces(("",))  # every catalog text, wherever it is used

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

def _english_in(text: str) -> list[str]:
    """The catalog's English texts in `text`, as whole words."""
    return sorted(p for p in ENGLISH if p in text
                  and re.search(rf"(?<!\w){re.escape(p)}(?!\w)", text))


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

    def assert_no_english(self) -> None:
        left = {name: found for name, text in self.met.items() if (found := _english_in(text))}
        assert not left, "English met:\n" + "\n".join(f"{k}: {v}" for k, v in left.items())


def _follow(reader: Reader, client: Any, name: str, answer: Any) -> str:
    """Follow a form's redirect and read the page it lands on (its flash message)."""
    assert answer.status_code == 303, (name, answer.status_code, answer.text[:2000])
    return reader.page(name, client.get(answer.headers["location"]))


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
    html = ana.page("RSVP refused", refused, status=refused.status_code)
    assert refused.status_code in (200, 400, 422)
    assert 'value="Ana López"' in html and 'value="ana.lopez@"' in html
    assert "¿Hay estacionamiento?" in html
    error = re.search(r'<p class="field-error" id="rsvp-email-error">([^<]+)</p>', html)
    assert error and not _english_in(error.group(1)), html
    assert "correo" in error.group(1).lower() or "dirección" in error.group(1).lower()
    received = client.post(f"/events/{workshop}/rsvp",
                           data={**data, "email": "ana.lopez@example.org"},
                           follow_redirects=False)
    ana.page("RSVP received", received)

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
    manage = MANAGE_RE.search(confirmation.body_text)
    assert manage, confirmation.body_text
    page = ana.page("manage", client.get(manage.group(1)))
    assert "Taller sobre sus derechos" in page
    changed = client.post(manage.group(1), data={"csrf_token": csrf_from(page),
                                                 "action": "guests", "guests": "0"},
                          follow_redirects=False)
    if changed.status_code == 303:
        page = _follow(ana, client, "manage, guests changed", changed)
    else:
        page = ana.page("manage, guests changed", changed)
    ask = client.post(manage.group(1), data={"csrf_token": csrf_from(page),
                                             "action": "cancel"}, follow_redirects=False)
    page = ana.page("manage, cancel?", ask)
    done = client.post(manage.group(1), data={"csrf_token": csrf_from(page),
                                              "action": "cancel_confirmed"},
                       follow_redirects=False)
    if done.status_code == 303:
        _follow(ana, client, "manage, cancelled", done)
    else:
        ana.page("manage, cancelled", done)
    for kind in {m.kind for m in outbox() if m.to_addr == "ana.lopez@example.org"}:
        for i, mail in enumerate(_mails(kind, "ana.lopez@example.org")):
            ana.mail(f"{kind} #{i}", mail)

    # She subscribes to the calendar from the list: the link keeps her language.
    links = re.findall(r'href="((?:webcal|https?)://[^"]*?/calendar\.ics[^"]*)"', listing)
    assert links, "no subscribe link"
    for link in links:
        assert parse_qs(urlsplit(unescape(link)).query).get("lang") == ["es"], link
    url = urlsplit(unescape(links[0]))
    feed = client.get(f"{url.path}?{url.query}", headers={})  # a calendar app: no cookie
    assert feed.status_code == 200
    ana.ics("calendar feed", feed.text)
    cal = _calendar(feed.content)
    assert not _english_in(str(cal["X-WR-CALNAME"]))
    assert "X-WR-CALDESC" not in cal or not _english_in(str(cal["X-WR-CALDESC"]))
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

    ana.assert_no_english()

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
