"""Signing in and the account pages in Spanish (issue 15): the sign-in steps, forgotten and
new passwords, two-factor enrolment, one's account, the organizers' admin page and the audit
log speak the reader's language, with not one English sentence of the catalog left, and the
audit log tells its entries in Spanish words with Spanish dates. The English pages are the
ones the other account tests check, unchanged."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pyotp
import pytest
from sqlmodel import select

from events_app import i18n
from events_app.db import read_session, write_session
from events_app.models import Event, Organizer
from events_app.services import audit
from events_app.services.series_rules import Rule, describe, describe_end, parse_form
from tests.factories import make_event
from tests.i18n_support import EN, ES, english_pieces, page_text
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    login,
    mailed_link,
    make_organizer,
    post,
)
from tests.rsvp_helpers import csrf_from

pytestmark = pytest.mark.usefixtures("cheap_passwords")


# The files whose texts this part of issue 15 translated.
OURS = ("templates/organizer/login.html", "templates/organizer/login_code.html",
        "templates/organizer/forgot.html", "templates/organizer/set_password.html",
        "templates/organizer/two_factor.html", "templates/organizer/account.html",
        "templates/organizer/organizers.html", "templates/organizer/audit.html",
        "events_app/web/auth.py", "events_app/web/organizer/account_links.py",
        "events_app/web/organizer/admin.py", "events_app/web/organizer/two_factor.py",
        "events_app/services/auth.py", "events_app/services/two_factor.py",
        "events_app/services/organizers.py", "events_app/services/audit.py")
SENTENCES = english_pieces(OURS)


_read = page_text


def _ours(html: str) -> str:
    """The page's title and main part: the navigation around it belongs to
    templates/organizer/base.html, whose texts another part of issue 15 translates."""
    title = re.search(r"(?s)<title>.*?</title>", html)
    main = re.search(r"(?s)<main\b.*?</main>", html)
    assert title and main
    return title.group(0) + main.group(0)


def _english_in(html: str) -> list[str]:
    text = _read(_ours(html))
    return sorted(s for s in SENTENCES if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", text))


def _account(email: str) -> Organizer:
    with read_session() as s:
        return s.exec(select(Organizer).where(Organizer.email == email)).one()


def _record_history(admin: Organizer) -> None:
    """Audit entries of every shape the sentences have (events, RSVP mail, series, site)."""
    event = make_event(title="Know your rights")
    with write_session() as s:
        actor, about = s.get(Organizer, admin.id), s.get(Event, event.id)
        for action, detail in [
            ("event.create", ""), ("event.publish", ""),
            ("event.email_attendees", "3 recipient(s) (waitlisted): Doors at 6"),
            ("series.skip", "series abc: skipped 2027-02-23, 2027-03-09"),
            ("series.split", "series abc: dates from 2027-03-09 on"),
            ("series.extend", "series abc: 2 date(s) added"),
            ("series.create", "Repeats every second Tuesday, 3 times: 3 date(s), series abc"),
            ("series.edit", "series abc: scope all"),
        ]:
            audit.record(s, actor, action, about, detail)
        audit.record(s, None, "site.two_factor_required", actor, "required")


def _crawl(client, headers: dict[str, str]) -> dict[str, str]:
    """Every page this part translated, in one language, as an organizer reaches them."""
    client.headers.update(headers)
    pages: dict[str, str] = {}
    admin = make_organizer("ada@example.org", "Ada", admin=True)
    make_organizer("bo@example.org", "Bo")

    def page(path: str, status: int = 200) -> str:
        answer = client.get(path)
        assert answer.status_code == status, (path, answer.status_code)
        return answer.text

    def send(path: str, data: dict[str, str], status: int, form_page: str = "") -> str:
        token = csrf_from(page(form_page or path, 410 if status == 410 else 200))
        answer = post(client, path, data, token)
        assert answer.status_code == status, (path, data, answer.status_code,
                                              answer.headers.get("location"))
        return answer.text

    # Signed out: sign-in, a wrong password, a forgotten one, a reset link used badly.
    pages["sign-in"] = page("/organizer/login")
    wrong = login(client, "ada@example.org", "not the password")
    assert wrong.status_code == 422
    pages["sign-in, wrong password"] = wrong.text
    pages["forgot"] = page("/organizer/forgot-password")
    pages["forgot, sent"] = send("/organizer/forgot-password", {"email": "bo@example.org"}, 200)
    link = mailed_link("bo@example.org", "password_reset")
    pages["reset"] = page(link)
    pages["reset, errors"] = send(link, {"new_password": "short", "confirm_password": "other"},
                                  422)
    pages["reset, too short"] = send(link, {"new_password": "short",
                                            "confirm_password": "short"}, 422)
    pages["reset link, spent"] = page(link.replace(link[-6:], "AAAAAA"), 410)

    # Signed in as the admin: two-factor enrolment, the account, organizers and audit pages.
    assert login(client, "ada@example.org").status_code == 303
    pages["two-factor, enrol"] = page("/organizer/account/two-factor")
    pages["two-factor, wrong code"] = send("/organizer/account/two-factor",
                                           {"action": "confirm", "code": "000000"}, 422)
    secret = _account("ada@example.org").totp_secret
    pages["two-factor, codes"] = send("/organizer/account/two-factor",
                                      {"action": "confirm", "code": pyotp.TOTP(secret).now()},
                                      200)
    pages["two-factor, on"] = page("/organizer/account/two-factor")
    pages["two-factor, wrong password"] = send("/organizer/account/two-factor",
                                               {"action": "recovery_codes",
                                                "password": "not it"}, 422)
    pages["account"] = page("/organizer/account")
    pages["account, errors"] = send("/organizer/account",
                                    {"current_password": "not it", "new_password": "short",
                                     "confirm_password": "short"}, 422)
    pages["organizers"] = page("/organizer/organizers")
    pages["organizers, errors"] = send("/organizer/organizers",
                                       {"name": "Bo again", "email": "bo@example.org"}, 422)
    added = client.post("/organizer/organizers",
                        data={"csrf_token": csrf_from(pages["organizers"]), "name": "Cy",
                              "email": "cy@example.org"})
    assert added.status_code == 200
    pages["organizers, added"] = added.text
    _record_history(admin)
    pages["audit"] = page("/organizer/audit")

    # The second sign-in step, with a wrong code, as a new visitor.
    client.cookies.clear()
    second = login(client, "ada@example.org")
    assert second.headers["location"].startswith("/organizer/login/code"), second.headers
    pages["sign-in code"] = page("/organizer/login/code")
    pages["sign-in code, wrong"] = send("/organizer/login/code", {"code": "000000"}, 422)
    return pages


def test_spanish_account_pages_hold_no_english_sentence(client) -> None:
    spanish = _crawl(client, ES)
    english_left = {name: _english_in(html) for name, html in spanish.items()}
    assert {name: found for name, found in english_left.items() if found} == {}
    assert all('<html lang="es"' in html for html in spanish.values())
    # The pages are the ones meant, each in the reader's own words.
    assert "Ese correo electrónico y esa contraseña no corresponden" in \
        spanish["sign-in, wrong password"]
    assert "se le está enviando un enlace" in spanish["forgot, sent"]
    assert "Las dos contraseñas no coinciden." in spanish["reset, errors"]
    assert "Use al menos 10 caracteres." in spanish["reset, too short"]
    assert "Este enlace ya no funciona" in spanish["reset link, spent"]
    assert "Ese código no coincide" in spanish["two-factor, wrong code"]
    assert "Sus códigos de recuperación" in spanish["two-factor, codes"]
    assert re.search(r"activada</strong> desde el \w+, \d+ de \w+ de \d{4}\. Tiene 10 códigos",
                     spanish["two-factor, on"])
    assert "Esa no es su contraseña actual." in spanish["account, errors"]
    assert "Ya hay un organizador con este correo electrónico." in spanish["organizers, errors"]
    assert "Se ha creado la cuenta de Cy" in spanish["organizers, added"]
    assert ">Administrador<" in spanish["organizers"].replace(" ", "")
    assert "Ese código no es correcto" in spanish["sign-in code, wrong"]
    log = _read(spanish["audit"])
    assert "Escribió a 3 personas en lista de espera de «Know your rights»: «Doors at 6»" in log
    assert ("Omitió estas fechas de la serie «Know your rights»: 23 de febrero de 2027 y "
            "9 de marzo de 2027") in log
    assert "sus fechas desde el 9 de marzo de 2027 pasaron a ser una serie nueva" in log
    assert "Añadió 2 fechas a la serie «Know your rights»" in log
    assert "Creó la serie «Know your rights»" in log
    assert "Hizo obligatoria la verificación en dos pasos" in log
    assert "Línea de comandos" in log
    assert "Creó la cuenta de organizador de Cy" in log


def test_english_account_pages_still_show_the_english_sentences(client) -> None:
    """The other half of the check above: the same crawl in English finds the catalog's
    English (so the Spanish crawl proves something), with the sentences as they were."""
    english = _crawl(client, EN)
    found = set().union(*(_english_in(html) for html in english.values()))
    assert len(found) > 80
    assert all('<html lang="en"' in html for html in english.values())
    log = _read(english["audit"])
    assert "E-mailed 3 waitlisted attendees of “Know your rights”: “Doors at 6”" in log
    assert ("Skipped February 23, 2027 and March 9, 2027 in the series “Know your rights”"
            in log)
    assert "Created the series “Know your rights”, repeating every second Tuesday, 3 times" \
        in log
    assert "Made two-factor sign-in required for every organizer" in log


def test_series_rule_organizer_texts_in_both_languages() -> None:
    start = datetime(2027, 3, 9, 19, tzinfo=ZoneInfo("America/Chicago"))
    until = Rule(freq="weekly", interval=2, weekdays=(1,), until=date(2027, 6, 1))
    with i18n.using("es"):
        assert describe_end(until) == "hasta el 1 de junio de 2027"
        assert describe_end(Rule(freq="daily", count=1)) == "una vez"
        assert describe_end(Rule(freq="daily", count=3)) == "3 veces"
        assert describe(until, start, with_end=True) == \
            "Se repite cada dos martes, hasta el 1 de junio de 2027"
        _rule, errors = parse_form({"repeat": "weekly", "interval": "99", "ends": "count",
                                    "count": "0"})
        assert errors == {"interval": "Escriba un número entero del 1 al 52 (semanas entre "
                                      "fechas).",
                          "count": "Escriba un número de fechas del 1 al 400."}
        _rule, errors = parse_form({"repeat": "daily", "until": "2027-01-01"}, start)
        assert errors == {"until": "La última fecha debe ser igual o posterior a la primera."}
    with i18n.using("en"):
        assert describe_end(until) == "until June 1, 2027"
        assert describe_end(Rule(freq="daily", count=3)) == "3 times"
        _rule, errors = parse_form({"repeat": "weekly", "interval": "99", "ends": "count",
                                    "count": "0"})
        assert errors["interval"] == "Enter a whole number from 1 to 52 (weeks between dates)."
