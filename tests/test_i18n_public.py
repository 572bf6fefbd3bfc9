"""The public side in Spanish (issue 15): the event page, the RSVP form and its messages, the
pages after it (received, manage, series, erased, the person's own events), the embed box and
the API's error messages speak the reader's language, with not one English sentence of the
catalog left; a series' rule reads as Spanish says it. The English pages are the ones the
other public tests check, unchanged."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from events_app import i18n
from events_app.services import rsvp as rsvp_service
from events_app.services.series_rules import Rule, describe
from tests.factories import make_event
from tests.i18n_support import EN, ES, english_pieces, page_text
from tests.rsvp_helpers import csrf_from, feed_token, manage_link, post_rsvp, req
from tests.series_public_helpers import make_series

SERIES_LINK_RE = re.compile(r"https?://[^/\s]+(/rsvp/[A-Za-z0-9_-]{43}/series)\b")

# The files whose texts this part of issue 15 translated.
OURS = ("templates/events/detail.html", "templates/events/_card.html",
        "templates/events/_add_to_calendar.html", "templates/events/_feed_buttons.html",
        "templates/events/_map_links.html", "templates/events/_meta.html",
        "templates/events/_share.html", "templates/events/_subscribe.html",
        "templates/rsvp/", "templates/embed/", "events_app/services/rsvp.py",
        "events_app/services/rsvp_input.py", "events_app/services/series_rsvp.py",
        "events_app/services/series_rules.py", "events_app/services/events.py",
        "events_app/util/forms.py", "events_app/util/numbers.py",
        "events_app/web/public.py", "events_app/web/api.py", "events_app/web/embed.py",
        "events_app/web/rsvp.py", "events_app/web/share.py")
SENTENCES = english_pieces(OURS)


_read = page_text


def _english_in(html: str) -> list[str]:
    text = _read(html)
    return sorted(s for s in SENTENCES if s in text)


def _crawl(client, headers: dict[str, str]) -> dict[str, str]:
    """Every public page this part translated, in one language, as a visitor reaches them."""
    pages: dict[str, str] = {}
    client.headers.update(headers)  # every request, the helpers' posts included
    single = make_event(title="Know your rights", capacity=10, max_guests=3,
                        venue_name="Union Hall", street_address="12 Main St", city="St. Louis",
                        online_url="https://example.org/stream", host_name="Rights Network",
                        description="Bring questions.")
    rsvp_service.submit_rsvp(single.id, req("sam@example.org", guests=1))
    _series, dates = make_series(dates=3, capacity=5, max_guests=2)

    def get(path: str) -> str:
        page = client.get(path, headers=headers)
        assert page.status_code == 200, (path, page.status_code)
        return page.text

    def post(path: str, expect: int = 200, **data: str) -> str:
        token = csrf_from(client.get(path, headers=headers).text)
        page = client.post(path, data={"csrf_token": token, **data}, headers=headers)
        assert page.status_code == expect, (path, data, page.status_code)
        return page.text

    pages["list"] = get("/events")
    pages["event"] = get(f"/events/{single.slug}")
    pages["occurrence"] = get(f"/events/{dates[0].slug}")
    bad = post_rsvp(client, single.slug, name=" ", email="not an address", phone="call me",
                    comment="x" * 2000)
    assert bad.status_code == 422
    pages["form with errors"] = bad.text
    too_many = post_rsvp(client, single.slug, email="big@example.org", guests="9")
    assert too_many.status_code == 422
    pages["too many guests"] = too_many.text
    pages["received"] = post_rsvp(client, single.slug, email="ann@example.org",
                                  guests="1").text
    manage = manage_link("ann@example.org")
    pages["manage"] = get(manage)
    pages["manage, guests changed"] = post(manage, action="guests", guests="2")
    pages["manage, cancel?"] = post(manage, action="cancel")
    pages["manage, erase?"] = post(manage, action="erase")
    pages["my events"] = get(f"/my/{feed_token('ann@example.org')}")
    pages["manage, cancelled"] = post(manage, action="cancel_confirmed")
    pages["erased"] = post(manage, action="erase_confirmed")
    pages["received, every date"] = post_rsvp(client, dates[0].slug, email="ann@example.org",
                                              dates="all").text
    series_link = next(m.group(1) for m in map(SERIES_LINK_RE.search, _mail_bodies())
                       if m)
    pages["series"] = get(series_link)
    pages["series, cancel all?"] = post(series_link, action="cancel_all")
    pages["series, cancelled"] = post(series_link, action="cancel_all_confirmed")
    pages["embed"] = get("/embed/upcoming")
    pages["embed builder"] = get("/embed")
    return pages


def _mail_bodies() -> list[str]:
    from tests.rsvp_helpers import outbox
    return [m.body_text for m in reversed(outbox())]


def test_spanish_public_pages_hold_no_english_sentence(client) -> None:
    spanish = _crawl(client, ES)
    english_left = {name: _english_in(html) for name, html in spanish.items()}
    assert {name: found for name, found in english_left.items() if found} == {}
    # The pages really are the ones meant: Spanish throughout, the reader's own words.
    assert all('<html lang="es"' in html for html in spanish.values())
    assert "Confirmar asistencia" in spanish["event"]
    assert '<meta property="og:locale" content="es_ES">' in spanish["event"]
    assert "Escriba su nombre." in spanish["form with errors"]
    assert "Esto no parece una dirección de correo electrónico" in spanish["form with errors"]
    assert "Una dirección de correo electrónico necesita una @ entre el nombre y el dominio." \
        in _read(spanish["form with errors"])
    assert "Corrija los 4 problemas indicados abajo" in spanish["form with errors"]
    assert "Puede traer como máximo 3 acompañantes." in spanish["too many guests"]
    assert "¡Gracias! Revise su correo electrónico" in spanish["received"]
    assert "usted y 1 acompañante" in spanish["manage"]
    assert "usted y 2 acompañantes" in spanish["manage, guests changed"]
    assert "Al cancelar, su plaza queda libre para otra persona" in spanish["manage, cancel?"] \
        or "Al cancelar, sus 3 plazas" in spanish["manage, cancel?"]
    assert "Sus datos se borraron" in spanish["erased"]
    assert "Se repite cada dos martes" in spanish["occurrence"]
    assert "Se repite cada dos martes" in spanish["list"]
    assert "Sus confirmaciones de asistencia" in spanish["series"]
    assert "Próximos eventos" in spanish["embed"]


def test_english_pages_still_show_the_english_sentences(client) -> None:
    """The other half of the check above: the same crawl in English finds the catalog's
    English (so the Spanish crawl proves something) and the same rule in English words."""
    english = _crawl(client, EN)
    found = set().union(*(_english_in(html) for html in english.values()))
    assert len(found) > 100
    assert "Repeats every second Tuesday" in english["occurrence"]
    assert "Please enter your name." in english["form with errors"]
    # email-validator's explanation, told in our words (util/email_problems.py).
    assert "This doesn't look like an e-mail address (like name@example.org). An e-mail " \
        "address needs an @ between the name and the domain." in _read(english["form with errors"])


@pytest.mark.parametrize(("headers", "words"), [
    (ES, "cada dos martes"), (EN, "every second Tuesday")])
def test_the_api_speaks_the_readers_language(client, headers, words) -> None:
    _series, dates = make_series(dates=2)
    event = client.get(f"/api/v1/events/{dates[0].slug}", headers=headers)
    assert words in event.text
    assert "Accept-Language" in event.headers["vary"]
    bad = client.get("/api/v1/events?when=someday", headers=headers)
    assert bad.status_code == 400
    assert bad.json()["error"] == ("'when' debe ser 'upcoming' o 'past'." if headers is ES
                                   else "'when' must be 'upcoming' or 'past'.")
    dates_swapped = client.get("/api/v1/events?from=2027-03-10&to=2027-03-01", headers=headers)
    assert dates_swapped.status_code == 400
    assert dates_swapped.json()["error"] == (
        "la fecha 'from' es posterior a la fecha 'to'" if headers is ES
        else "the 'from' date is after the 'to' date")
    page = client.get("/events?page=x", headers=headers)
    assert page.status_code == 400
    assert ("Número de página ('page'): Escriba un número entero del 1 al" if headers is ES
            else "Page number ('page'): Enter a whole number from 1 to") in _read(page.text)
    missing = client.get("/api/v1/events?page=99", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"].startswith("No existe la página 99" if headers is ES
                                              else "There is no page 99")


CHICAGO = ZoneInfo("America/Chicago")
TUESDAY = datetime(2027, 3, 9, 19, 0, tzinfo=CHICAGO)  # the second Tuesday of March 2027
SATURDAY = datetime(2027, 3, 13, 10, 0, tzinfo=CHICAGO)


@pytest.mark.parametrize(("rule", "start", "english", "spanish"), [
    (Rule("daily", count=5), TUESDAY, "Repeats daily", "Se repite todos los días"),
    (Rule("daily", interval=2, count=5), TUESDAY, "Repeats every second day",
     "Se repite cada dos días"),
    (Rule("daily", interval=10, count=5), TUESDAY, "Repeats every 10 days",
     "Se repite cada 10 días"),
    (Rule("weekly", weekdays=(0, 1, 2, 3, 4), count=5), TUESDAY, "Repeats every weekday",
     "Se repite de lunes a viernes"),
    (Rule("weekly", count=5), SATURDAY, "Repeats every Saturday",
     "Se repite todos los sábados"),
    # Every second week on a Tuesday: "cada dos martes" ...
    (Rule("weekly", interval=2, weekdays=(1,), count=5), TUESDAY,
     "Repeats every second Tuesday", "Se repite cada dos martes"),
    (Rule("weekly", interval=8, weekdays=(1,), count=5), TUESDAY,
     "Repeats every 8 weeks on Tuesday", "Se repite cada 8 semanas, los martes"),
    (Rule("weekly", weekdays=(0, 2), count=5), TUESDAY,
     "Repeats weekly on Monday and Wednesday",
     "Se repite todas las semanas, los lunes y miércoles"),
    (Rule("weekly", interval=3, weekdays=(0, 2, 5), count=5), TUESDAY,
     "Repeats every third week on Monday, Wednesday and Saturday",
     "Se repite cada tres semanas, los lunes, miércoles y sábados"),
    # ... the second Tuesday of each month is "el segundo martes de cada mes".
    (Rule("monthly", monthly_nth=2, monthly_weekday=1, count=5), TUESDAY,
     "Repeats monthly on the second Tuesday", "Se repite el segundo martes de cada mes"),
    (Rule("monthly", monthly_nth=-1, monthly_weekday=4, count=5), TUESDAY,
     "Repeats monthly on the last Friday", "Se repite el último viernes de cada mes"),
    (Rule("monthly", monthly_nth=1, monthly_weekday=5, count=5), SATURDAY,
     "Repeats monthly on the first Saturday", "Se repite el primer sábado de cada mes"),
    (Rule("monthly", monthly_day=31, count=5), TUESDAY, "Repeats monthly on the 31st",
     "Se repite el día 31 de cada mes"),
    (Rule("monthly", interval=2, monthly_day=22, count=5), TUESDAY,
     "Repeats every second month on the 22nd", "Se repite el día 22, cada dos meses"),
    (Rule("monthly", interval=7, monthly_nth=3, monthly_weekday=1, count=5), TUESDAY,
     "Repeats every 7 months on the third Tuesday",
     "Se repite el tercer martes, cada 7 meses"),
])
def test_a_rule_in_words_in_both_languages(rule, start, english, spanish) -> None:
    with i18n.using("en"):
        assert describe(rule, start) == english
    with i18n.using("es"):
        assert describe(rule, start) == spanish


@pytest.mark.parametrize(("count", "english", "spanish"), [
    (1, "1 spot left", "1 plaza libre"), (3, "3 spots left", "3 plazas libres")])
def test_spots_left_is_a_plural(client, count, english, spanish) -> None:
    event = make_event(capacity=count + 1)
    rsvp_service.submit_rsvp(event.id, req("sam@example.org"))
    assert english in _read(client.get("/events", headers=EN).text)
    assert spanish in _read(client.get("/events", headers=ES).text)
