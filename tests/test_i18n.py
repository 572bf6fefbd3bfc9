"""Languages (events_app/i18n.py, web/language.py): the catalogs are complete and current, a
request gets the language it asks for in the documented order, and the translated pages
(base, errors, list, filters, month, day) speak it throughout, each language cached apart."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import Route
from starlette.testclient import TestClient

from events_app import i18n, settings
from events_app.web.app import create_app
from tests.factories import make_event

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != i18n.SOURCE_LANGUAGE]


# --- The catalogs ----------------------------------------------------------------------------

def _extracted() -> set[tuple[str | None, str]]:
    """What `make messages` extracts (babel.cfg; Babel's default keywords include N_)."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map):
        msgid = message[0] if isinstance(message, tuple) else message
        found.add((context, msgid))
    return found


def _catalog(language: str):
    with i18n.catalog_path(language).open("rb") as po:
        return read_po(po, locale=language)


def test_spanish_is_a_catalog_and_english_the_source() -> None:
    assert i18n.LANGUAGES[0] == "en" and "es" in i18n.LANGUAGES


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_is_complete_and_current(language: str) -> None:
    """Fails until `make messages` has been run and every new or changed text translated."""
    extracted = _extracted()
    assert extracted, "nothing extracted: babel.cfg does not find the sources"
    catalog = _catalog(language)
    entries = {(m.context, m.id[0] if isinstance(m.id, tuple) else m.id): m
               for m in catalog if m.id}
    missing = sorted(key[1] for key in extracted - entries.keys())
    assert not missing, f"not in {language}.po (run `make messages` and translate): {missing}"
    stale = sorted(key[1] for key in entries.keys() - extracted)
    assert not stale, f"{language}.po has texts the code no longer uses (make messages): {stale}"
    fuzzy = sorted(key[1] for key, m in entries.items() if m.fuzzy)
    assert not fuzzy, f"fuzzy (review, then remove the flag): {fuzzy}"
    empty = sorted(key[1] for key, m in entries.items()
                   if not all(m.string if isinstance(m.string, tuple) else (m.string,)))
    assert not empty, f"untranslated: {empty}"
    problems = placeholder_problems(catalog)
    assert not problems, problems


_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def placeholder_problems(catalog) -> list[str]:
    """Translations that lose or invent a %(name)s (a date, a count, a link would vanish or
    the page fail), and what Babel's own checks find (plural forms, format kinds)."""
    problems = [f"{m.id}: {errors}" for m, errors in catalog.check()]
    for m in catalog:
        if not m.id:
            continue
        if isinstance(m.id, tuple):  # the plural form's translation holds the plural's names
            source, translation = m.id[-1], m.string[-1]
        else:
            source, translation = m.id, m.string
        if set(_PLACEHOLDER.findall(source)) != set(_PLACEHOLDER.findall(translation)):
            problems.append(f"{source!r} -> {translation!r}")
    return problems


def test_placeholder_check_catches_a_lost_placeholder(tmp_path) -> None:
    """The test above can fail: a translation dropping its month is reported."""
    good = i18n.catalog_path("es").read_text()
    broken = good.replace('msgstr "Eventos de %(month)s"', 'msgstr "Eventos del mes"')
    assert broken != good
    path = tmp_path / "messages.po"
    path.write_text(broken)
    with path.open("rb") as po:
        catalog = read_po(po, locale="es")
    assert placeholder_problems(catalog) == ["'Events in %(month)s' -> 'Eventos del mes'"]


# --- Negotiation -----------------------------------------------------------------------------

def test_preferred_orders_accept_language_by_weight() -> None:
    assert i18n.preferred("en;q=0.5, es-MX, fr;q=0.8") == ["es-MX", "fr", "en"]
    assert i18n.preferred("es;q=0, en") == ["en"]  # q=0: not this one
    assert i18n.preferred("!!, es;q=abc, en") == ["en"]  # malformed entries are skipped
    assert i18n.preferred("") == []


def test_negotiation_order(monkeypatch: pytest.MonkeyPatch) -> None:
    assert i18n.negotiate("es", "en", "en") == "es"  # an explicit choice first
    assert i18n.negotiate(None, "es", "en-US") == "es"  # then the remembered one
    assert i18n.negotiate("xx", None, "fr, es-419;q=0.9, en;q=0.1") == "es"  # then the browser
    assert i18n.negotiate(None, "klingon", "de") == settings.DEFAULT_LANGUAGE
    monkeypatch.setattr(settings, "DEFAULT_LANGUAGE", "es")
    assert i18n.negotiate(None, None, None) == "es"  # then the site default
    assert i18n.negotiate(None, None, "*") == "es"
    assert i18n.negotiate(None, None, "EN-gb") == "en"


def test_negotiation_keeps_browser_answers_but_not_the_default(monkeypatch) -> None:
    """A browser's Accept-Language is matched once and kept; a header naming no language we
    have still falls to whatever the site default is at the time."""
    for _ in range(2):
        assert i18n.negotiate(None, None, "fr, es-419;q=0.9, en;q=0.1") == "es"
        assert i18n.negotiate("en", None, "fr, es-419;q=0.9, en;q=0.1") == "en"
        assert i18n.negotiate(None, None, "de, fr;q=0.5") == settings.DEFAULT_LANGUAGE == "en"
    monkeypatch.setattr(settings, "DEFAULT_LANGUAGE", "es")
    assert i18n.negotiate(None, None, "de, fr;q=0.5") == "es"
    long = ", ".join(["de"] * 200 + ["es"])  # too long to keep: matched every time
    assert i18n.negotiate(None, None, long) == i18n.negotiate(None, None, long) == "es"


def test_gettext_follows_the_current_language() -> None:
    assert i18n.gettext("Upcoming events") == "Upcoming events"
    with i18n.using("es"):
        assert i18n.current() == "es"
        assert i18n.gettext("Upcoming events") == "Próximos eventos"
        assert i18n.ngettext("%(num)d hour", "%(num)d hours", 3) % {"num": 3} == "3 horas"
        assert i18n.pgettext("date pattern", "h:mm a") == "H:mm"
    assert i18n.current() == settings.DEFAULT_LANGUAGE
    with pytest.raises(ValueError), i18n.using("xx"):
        pass


def test_language_names_are_written_in_themselves() -> None:
    assert [i18n.language_name(code) for code in ("en", "es")] == ["English", "Español"]


# --- Pages -----------------------------------------------------------------------------------

def lang_attr(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html)[1]


def lang_cookies(response) -> list[str]:
    return [c for c in response.headers.get_list("set-cookie") if c.startswith("lang=")]


def test_accept_language_cookie_and_choice_in_that_order(client) -> None:
    page = client.get("/events", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert lang_attr(page.text) == "es" and "Próximos eventos" in page.text
    assert page.headers["content-language"] == "es"
    assert "accept-language" in page.headers["vary"].lower()
    assert not lang_cookies(page)  # nothing chosen, nothing remembered

    chosen = client.get("/events?lang=es", headers={"Accept-Language": "en"})
    assert lang_attr(chosen.text) == "es"
    assert lang_cookies(chosen) == ["lang=es; Path=/; Max-Age=34560000; SameSite=Lax"]
    # The cookie (kept by the client) now wins over the browser's preference...
    later = client.get("/events/month/2027-03", headers={"Accept-Language": "en"})
    assert lang_attr(later.text) == "es" and "Marzo de 2027" in later.text
    # ...and a new choice over the cookie.
    back = client.get("/events?lang=en")
    assert lang_attr(back.text) == "en" and "Upcoming events" in back.text
    assert lang_cookies(back) == ["lang=en; Path=/; Max-Age=34560000; SameSite=Lax"]
    assert lang_attr(client.get("/events").text) == "en"


def test_site_default_when_nothing_is_asked(client, monkeypatch: pytest.MonkeyPatch) -> None:
    assert lang_attr(client.get("/events").text) == "en"
    monkeypatch.setattr(settings, "DEFAULT_LANGUAGE", "es")
    assert lang_attr(client.get("/events").text) == "es"
    assert lang_attr(client.get("/events", headers={"Accept-Language": "en"}).text) == "en"


def test_unknown_choice_is_ignored_not_refused(client) -> None:
    page = client.get("/events?lang=xx", headers={"Accept-Language": "es"})
    assert page.status_code == 200 and lang_attr(page.text) == "es"
    assert not lang_cookies(page)
    odd = client.get("/events?lang=%FF%00&lang=es",
                     headers={"Accept-Language": b"\xe9;q=x,,;", "Cookie": 'lang="e\\"s'})
    assert odd.status_code == 200 and lang_attr(odd.text) == "en"  # the first lang= counts


def _alternates(html: str) -> dict[str, str]:
    return dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', html))


@pytest.mark.parametrize(("path", "kept"), [
    ("/events?category=protest&when=past", "when=past&category=protest"),
    ("/events/month/2027-03?q=rights&utm_source=x", "q=rights"),
    ("/events/day/2027-03-14?online=1", "online=1"),
    ("/no/such/page?q=x", ""),
])
def test_every_page_has_hreflang_and_a_switcher(client, path: str, kept: str) -> None:
    """The alternates keep what the page means (its filters), not the request's stray
    parameters: cached pages are shared between visitors."""
    page = client.get(path, headers={"Accept-Language": "es"})
    base = f"{settings.BASE_URL}{path.split('?')[0]}"
    query = f"{kept}&" if kept else ""
    assert _alternates(page.text) == {
        "en": f"{base}?{query}lang=en".replace("&", "&amp;"),
        "es": f"{base}?{query}lang=es".replace("&", "&amp;"),
        "x-default": f"{base}?{kept}".rstrip("?").replace("&", "&amp;"),
    }
    switcher = re.search(r'<nav class="language-switch" aria-label="Idioma">(.*?)</nav>',
                         page.text, re.S)[1]
    links = re.findall(r'<a lang="(\w+)" hreflang="\1"( aria-current="true")? href="([^"]+)">'
                       r'([^<]+)</a>', switcher)
    assert [(code, current, name) for code, current, _href, name in links] == [
        ("en", "", "English"), ("es", ' aria-current="true"', "Español")]
    assert [settings.BASE_URL + href for *_, href, _name in links] == \
        [_alternates(page.text)["en"], _alternates(page.text)["es"]]
    # Following the switcher's link keeps the page and its filters, in the other language.
    english = client.get(_alternates(page.text)["en"].replace("&amp;", "&"))
    assert english.status_code == page.status_code and lang_attr(english.text) == "en"


def test_cached_pages_are_kept_per_language(client) -> None:
    make_event(title="Know your rights", starts_at=datetime(2027, 3, 14, 19, tzinfo=UTC))
    for _ in range(2):  # the second round is served from the cache
        es = client.get("/events/day/2027-03-14", headers={"Accept-Language": "es"})
        en = client.get("/events/day/2027-03-14", headers={"Accept-Language": "en"})
        assert "Domingo, 14 de marzo de 2027" in es.text and "1 evento" in es.text
        assert "dom 14 mar, 14:00 CDT" in es.text  # the card's time, Babel's Spanish
        assert "Sunday 14 March 2027" in en.text and "1 event" in en.text
        assert "Sun 14 Mar, 2:00 PM CDT" in en.text


def test_month_view_in_spanish(client) -> None:
    make_event(title="Vigil", starts_at=datetime(2027, 3, 9, 23, tzinfo=UTC))
    page = client.get("/events/month/2027-03?lang=es").text
    assert "<h1>Marzo de 2027</h1>" in page
    headings = re.findall(r'<th scope="col"><span aria-hidden="true">([^<]+)</span>'
                          r'<span class="visually-hidden">([^<]+)</span>', page)
    assert headings[0] == ("dom", "domingo") and headings[6] == ("sáb", "sábado")
    assert "1 evento en marzo de 2027" in page
    assert "Febrero de 2027" in page and "Abril de 2027" in page  # the neighbours' links
    assert "de marzo" in page and "Eventos de marzo de 2027 · " in page


def test_error_pages_in_spanish(client) -> None:
    missing = client.get("/no/such/page", headers={"Accept-Language": "es"})
    assert missing.status_code == 404 and "Página no encontrada" in missing.text
    assert "No encontramos esa página" in missing.text
    wrong = client.post("/events", headers={"Accept-Language": "es"})
    assert wrong.status_code == 405 and "Acción no permitida" in wrong.text


def boom(request):
    raise RuntimeError("secret detail")


def test_500_page_in_the_visitors_language() -> None:
    app = create_app()
    app.router.routes.insert(0, Route("/boom", boom))
    with TestClient(app, raise_server_exceptions=False) as c:
        page = c.get("/boom?lang=es")
        assert page.status_code == 500 and lang_attr(page.text) == "es"
        assert "Algo salió mal de nuestro lado" in page.text and "secret" not in page.text


# --- No words of the other language ------------------------------------------------------------

class _Texts(HTMLParser):
    """Visible text nodes and the attributes people read (labels, placeholders, titles)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "placeholder", "title", "alt") and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def _texts(html: str) -> set[str]:
    parser = _Texts()
    parser.feed(html)
    return set(parser.texts)


def _plain_pairs(language: str) -> list[tuple[str, str]]:
    """(English, translation) of every catalog text that is whole words, no placeholders or
    markup, and differs between the two languages (a pattern or 'Error' proves nothing)."""
    pairs = []
    for m in _catalog(language):
        if not m.id or m.context or isinstance(m.id, tuple) or "%" in m.id or "<" in m.id:
            continue
        if m.string and m.string != m.id:
            pairs.append((m.id, m.string))
    return pairs


@pytest.mark.parametrize("path", ["/events", "/events?when=past", "/events?city=Nowhere",
                                  "/events/month/2027-03", "/events/day/2027-03-14",
                                  "/no/such/page"])
def test_translated_pages_hold_no_words_of_the_other_language(client, path: str) -> None:
    make_event(title="Vigil", starts_at=datetime(2027, 3, 14, 19, tzinfo=UTC), city="St. Louis")
    pairs = _plain_pairs("es")
    english = _texts(client.get(path, headers={"Accept-Language": "en"}).text)
    spanish = _texts(client.get(path, headers={"Accept-Language": "es"}).text)
    # The page really shows catalog texts (else the test below proves nothing)...
    assert any(en in english for en, _es in pairs) and any(es in spanish for _en, es in pairs)
    # ...and none of the other language's.
    assert not [en for en, _es in pairs if en in spanish]
    assert not [es for _en, es in pairs if es in english]


def test_a_default_language_without_a_catalog_is_refused(tmp_path: Path) -> None:
    env = {**os.environ, "DEFAULT_LANGUAGE": "fr", "SECRET_KEY": "x"}
    out = subprocess.run([sys.executable, "-c", "import events_app.i18n"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, check=False)
    assert out.returncode != 0 and "DEFAULT_LANGUAGE='fr' has no catalog" in out.stderr
    env["DEFAULT_LANGUAGE"] = "es"
    out = subprocess.run([sys.executable, "-c", "from events_app import i18n; "
                          "print(i18n.current(), i18n.gettext('Upcoming events'))"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "es Próximos eventos"


@given(st.text(max_size=200), st.text(max_size=40), st.text(max_size=40))
def test_any_header_cookie_or_choice_gets_a_language(header: str, cookie: str,
                                                     choice: str) -> None:
    """Whatever a client sends, negotiation answers with a language we have, never an error."""
    assert i18n.negotiate(choice, cookie, header) in i18n.LANGUAGES
