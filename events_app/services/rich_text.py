"""Event descriptions: the one place their Markdown becomes HTML (pages, e-mails) or readable
plain text (e-mails' text part, link previews).

Descriptions are written by organizers but read by everyone, in browsers and mail clients, so
the HTML is made twice safe: markdown-it-py parses CommonMark with raw HTML off (a `<script>`
typed into a description comes out as text) and refuses `javascript:`-style links; then nh3
(the ammonia sanitizer) keeps only an allow-list of tags and attributes, only http/https/mailto/tel
links, and puts `rel="nofollow noopener"` on every link. Images and headings are not offered:
an image would load from a stranger's server in every reader's browser and mail client, and a
heading would break the page's outline. Feeds and the API keep the Markdown source as it was
typed (plain text that reads well as it is).
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li", "a", "code", "pre",
                          "blockquote", "hr"})
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
LINK_REL = "nofollow noopener"

# "breaks": a single line break stays a line break, as people who never heard of Markdown
# expect (an address typed over three lines); "linkify": a pasted bare URL becomes a link.
_md = (MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": True})
       .enable("linkify")
       .disable(["image", "heading", "lheading"]))


def _absolute_link(url: str) -> bool:
    """Only links that work from any page and any mail client: absolute, of a scheme above.
    Anything else (relative, javascript:, data:, ...) stays text instead of becoming a link,
    so the sanitizer never has to leave an <a> without its href."""
    scheme, colon, _ = url.strip().partition(":")
    return bool(colon) and scheme.lower() in URL_SCHEMES


_md.validateLink = _absolute_link  # type: ignore[method-assign]


@lru_cache(maxsize=512)
def _html(source: str) -> str:
    return nh3.clean(_md.render(source), tags=set(ALLOWED_TAGS),
                     attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel=LINK_REL)


def to_html(source: str | None) -> Markup:
    """Sanitized HTML for a description (empty for none); safe to put in any page or e-mail."""
    # nh3 has cleaned it: the one place markup from outside is trusted.
    return Markup(_html(source)) if source and source.strip() else Markup("")  # noqa: S704


def _inline_text(children: list[Token]) -> str:
    """An inline run as text: emphasis marks dropped, a link as "text (url)" unless its text
    is the URL itself."""
    out: list[str] = []
    href = ""
    start = 0
    for token in children:
        if token.type == "link_open":
            href, start = str(token.attrGet("href") or ""), len(out)
        elif token.type == "link_close":
            label = "".join(out[start:])
            if href and label not in (href, href.removeprefix("mailto:"),
                                      href.removeprefix("http://"),
                                      href.removeprefix("https://")):
                out.append(f" ({href})")
            href = ""
        elif token.type in ("text", "code_inline"):
            out.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            out.append("\n")
    return "".join(out)


@lru_cache(maxsize=512)
def to_text(source: str) -> str:
    """A description as plain text for a text/plain e-mail part: paragraphs separated by an
    empty line, list items with "-" or their number, links as "text (url)"."""
    blocks: list[tuple[str, bool]] = []  # (text, is a list item)
    lists: list[list[int]] = []  # per open list: [next number] (0 for bullets)
    prefix = ""
    for token in _md.parse(source or ""):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            if not lists:
                blocks.append(("", False))  # a new list starts a new block
            lists.append([int(token.attrGet("start") or 1)
                          if token.type == "ordered_list_open" else 0])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "list_item_open":
            number = lists[-1][0]
            prefix = "  " * (len(lists) - 1) + (f"{number}. " if number else "- ")
            if number:
                lists[-1][0] += 1
        elif token.type == "inline":
            text = _inline_text(token.children or [])
            blocks.append((prefix + text, bool(lists)))
            prefix = ""
        elif token.type in ("code_block", "fence"):
            blocks.append((token.content.rstrip("\n"), False))
        elif token.type == "hr":
            blocks.append(("---", False))
    out = ""
    previous_item = False
    for text, item in blocks:
        if not text.strip():
            previous_item = False
            continue
        out += ("\n" if item and previous_item else "\n\n") if out else ""
        out += text
        previous_item = item
    return out
