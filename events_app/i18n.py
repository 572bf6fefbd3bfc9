"""The language a text is written in: which languages exist, which one a request gets, and
the translated words and Babel locale data for it.

The people this calendar serves often read Spanish first, so every text shown to them goes
through `gettext` here (templates through Jinja2's i18n extension, web/templating.py). The
language is per request, held in a context variable (set by web/language.py from `?lang=`,
the cookie, Accept-Language or settings.DEFAULT_LANGUAGE, in that order): worker threads
inherit it, and code outside a request (the CLI, tests) gets the site default.

Catalogs are the `.po` files under events_app/locale/<lang>/LC_MESSAGES/, compiled in memory
when this module is imported, so there is no binary `.mo` to build or commit and a changed
translation is live after a restart. Adding a language is adding its catalog (README).
"""

from __future__ import annotations

import gettext as _gettext
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from events_app import settings
from events_app.util.memo import ClientMemo

SOURCE_LANGUAGE = "en"  # the language of the msgids in the code and templates
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _languages() -> tuple[str, ...]:
    """The source language, then every language with a catalog (sorted: a stable switcher)."""
    found = sorted(p.name for p in LOCALE_DIR.iterdir() if catalog_path(p.name).is_file()) \
        if LOCALE_DIR.is_dir() else []
    return (SOURCE_LANGUAGE, *(code for code in found if code != SOURCE_LANGUAGE))


LANGUAGES: tuple[str, ...] = _languages()

if settings.DEFAULT_LANGUAGE not in LANGUAGES:
    raise ValueError(f"DEFAULT_LANGUAGE={settings.DEFAULT_LANGUAGE!r} has no catalog; "
                     f"choose one of {', '.join(LANGUAGES)}")


def _compile(language: str) -> _gettext.NullTranslations:
    """The catalog as gettext reads it. Fuzzy and empty entries are left out (write_mo's
    default), so an unfinished translation shows the English text, never a wrong guess."""
    if language == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    mo = BytesIO()
    write_mo(mo, catalog)
    mo.seek(0)
    return _gettext.GNUTranslations(mo)


_TRANSLATIONS: dict[str, _gettext.NullTranslations] = {code: _compile(code) for code in LANGUAGES}

_current: ContextVar[str | None] = ContextVar("language", default=None)


def current() -> str:
    """The language of the request being answered (the site default outside a request)."""
    return _current.get() or settings.DEFAULT_LANGUAGE


def activate(language: str) -> None:
    """Make `language` the current one for the rest of this request (its task and the
    threads it starts): a request is its own task, so nothing carries over to the next."""
    if language not in _TRANSLATIONS:
        raise ValueError(f"unknown language {language!r}")
    _current.set(language)


@contextmanager
def using(language: str) -> Iterator[None]:
    """Texts in `language` inside the block (an e-mail in the recipient's language)."""
    token = enter(language)
    try:
        yield
    finally:
        leave(token)


def enter(language: str) -> Token[str | None]:
    """`using` without the context manager, for the fast path (web/fast_path.py), where
    contextlib's generator was ~1 us of a ~13 us answer: current until `leave(token)`."""
    if language not in _TRANSLATIONS:
        raise ValueError(f"unknown language {language!r}")
    return _current.set(language)


def leave(token: Token[str | None]) -> None:
    _current.reset(token)


def gettext(message: str) -> str:
    return _TRANSLATIONS[current()].gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _TRANSLATIONS[current()].ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """A text whose translation depends on where it is used (`context` tells translators)."""
    return _TRANSLATIONS[current()].pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return _TRANSLATIONS[current()].npgettext(context, singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the conventional name extraction looks for
    """Marks a text for the catalog where it is defined (a module-level table); it is
    translated where it is shown, with gettext(), in the reader's language."""
    return message


@cache
def babel_locale(language: str) -> Locale:
    return Locale.parse(language)


for _code in LANGUAGES:  # CLDR data read at start-up, not by a visitor's first request
    babel_locale(_code).days  # noqa: B018 - the lookup loads the locale's data


def locale() -> Locale:
    """The Babel locale of the current language (dates, numbers, plural rules)."""
    return babel_locale(current())


@cache
def language_name(language: str) -> str:
    """A language's name in itself ('English', 'Español'): what a reader looks for in a
    switcher, whatever language the page is in."""
    name = babel_locale(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


_TAG = re.compile(r"[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*|\*")


def match(tag: str | None) -> str | None:
    """The language we have for a language tag ('es-MX' -> 'es'), or None."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in _TRANSLATIONS else None


def preferred(accept_language: str) -> list[str]:
    """The tags of an Accept-Language header, most wanted first (RFC 9110 12.5.4): q=0 means
    "not this one"; malformed entries are skipped rather than refusing the request."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        if not _TAG.fullmatch(tag):
            continue
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0:
            ranked.append((-weight, index, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(choice: str | None, remembered: str | None, accept_language: str | None) -> str:
    """The language for a request: an explicit choice (`?lang=`), then the one remembered in
    the cookie, then the browser's preferences, then the site default. Unknown values at one
    step fall through to the next."""
    for explicit in (choice, remembered):
        if (found := match(explicit)) is not None:
            return found
    return _browser_language(accept_language or "") or settings.DEFAULT_LANGUAGE


# Accept-Language value -> the first of its tags we have (None: none of them). A browser sends
# the same header on every request, and parsing it was a third of the Python calls of an API
# 304 from a browser (web/fast_path.py): the answer depends on the value alone (the catalogs
# are fixed at start-up), so it is kept for the few values a site sees. At most _BROWSER_MAX
# (emptied when full); a value longer than _BROWSER_BYTES is parsed every time, never kept.
_BROWSER_MAX = 256
_browser: ClientMemo[str, str | None] = ClientMemo(_BROWSER_MAX)
_BROWSER_BYTES = 256


def _browser_language(accept_language: str) -> str | None:
    try:
        return _browser[accept_language]
    except KeyError:
        pass
    found = next((lang for tag in preferred(accept_language)
                  if (lang := match(tag)) is not None), None)
    if len(accept_language) <= _BROWSER_BYTES:
        _browser.keep(accept_language, found)
    return found
