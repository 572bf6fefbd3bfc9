"""What the translation crawls (tests/test_i18n_*.py) share: which English sentences a page in
another language must not show, and a page's words as a reader meets them."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from babel.messages.pofile import read_po

from events_app import i18n

_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
_TAG = re.compile(r"<[^>]+>")
# Attributes a reader meets: read out by screen readers, shown as hints or link previews, or
# said by a script (static/*.js take their words from data- attributes the page writes).
_READ_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt", "data-label", "data-past",
                    "data-copied", "data-copy-failed")


# A Spanish-speaking reader's browser and an English one, as the crawls send them.
ES = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


def english_pieces(sources: tuple[str, ...], language: str = "es") -> set[str]:
    """The English pieces of the catalog texts found in `sources` (path prefixes): each text
    with its markup removed, cut at its placeholders, keeping pieces of two words or more (a
    lone 'Edit' or 'Date' could be part of a name) that the translation does not keep as they
    are (names such as 'Google Authenticator' stay)."""
    return _pieces(sources, language, english=True)


def translated_pieces(sources: tuple[str, ...], language: str = "es") -> set[str]:
    """The other way round: the pieces of the translations of the catalog texts found in
    `sources`, cut the same way, that the English text does not also have (an English page
    must show none of them)."""
    return _pieces(sources, language, english=False)


def _pieces(sources: tuple[str, ...], language: str, english: bool) -> set[str]:
    with i18n.catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    pieces: set[str] = set()
    for m in catalog:
        if not m.id or not any(loc.startswith(sources) for loc, _line in m.locations):
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        shown, other = (ids, strings) if english else (strings, ids)
        other_text = " ".join(other)
        for text in shown:
            for piece in _PLACEHOLDER.split(_TAG.sub(" ", text)):
                piece = " ".join(piece.split()).strip(" ,.:;()“”«»¿¡")
                if len(piece.split()) >= 2 and piece not in other_text:
                    pieces.add(piece)
    return pieces


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}


class _Texts(HTMLParser):
    """Text nodes (visually hidden ones too: screen readers say them) and read-out
    attributes, link previews' <meta content> included; no scripts, styles or typed input.

    Text marked as being in another language than the page's (`lang="en"` inside
    `<html lang="es">`, or xml:lang in an Atom feed: an event's text shown in the language it
    was written in, the English OpenAPI descriptions) is left out: it is declared, and read
    out, as that language."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0
        self._page_lang = ""
        self._other: tuple[str, int] | None = None  # (tag, depth) of an element in another lang

    def _foreign(self, tag: str, attrs: dict[str, str | None]) -> bool:
        """Whether this element is in another language than the page (the element itself and,
        unless it is void, everything in it)."""
        if self._other is not None:
            if tag == self._other[0]:
                self._other = (tag, self._other[1] + 1)
            return True
        lang = (attrs.get("lang") or attrs.get("xml:lang") or "").split("-")[0].lower()
        if tag == "html":
            self._page_lang = lang
            return False
        if not lang or not self._page_lang or lang == self._page_lang:
            return False
        if tag not in _VOID:
            self._other = (tag, 1)
        return True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "textarea"):
            self._skip += 1
        if self._foreign(tag, dict(attrs)):
            return
        for name, value in attrs:
            if value and (name in _READ_ATTRIBUTES or (name == "content" and tag == "meta")):
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "textarea"):
            self._skip -= 1
        if self._other is not None and tag == self._other[0]:
            depth = self._other[1] - 1
            self._other = (tag, depth) if depth else None

    def handle_data(self, data: str) -> None:
        if not self._skip and self._other is None:
            self.texts.append(data)


def page_text(html: str) -> str:
    """The page's words as a reader meets them, white space folded."""
    parser = _Texts()
    parser.feed(html)
    return " ".join(" ".join(parser.texts).split())
