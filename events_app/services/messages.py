"""The texts of the e-mails attendees get, rendered from templates/mail/ (plain text + HTML).

Only wording lives here; which message goes to whom, and when, is decided by the RSVP rules
(services/rsvp.py) and the reminder job (services/reminders.py).

Each e-mail is written in its recipient's language, not the language of whoever caused it
(an organizer cancelling in English still tells a Spanish-speaking attendee in Spanish): the
RSVP's `language` (the page they RSVP'd on) or the organizer account's. The whole message,
subject, dates (Babel, timefmt.py) and attachment included, is rendered with that language
current (i18n.using); a language whose catalog is gone falls back to the site default.

The event's own words (title, summary, description) are in that language too where the
organizers gave them (services/event_text.py), each field falling back to the site default's
on its own; the HTML part marks fallback text with its language (`<span lang="en">`), as the
pages do, and the subject and the attached .ics use the same text. Senders pass nothing for
it: `local_text` reads it through the session the event was loaded in.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Concatenate, ParamSpec

import jinja2
from markupsafe import Markup, escape
from sqlalchemy.orm import object_session

from events_app import i18n, settings, timefmt, urls
from events_app.db import read_session
from events_app.i18n import gettext, ngettext
from events_app.models import SEQUENCE_FIELDS, Event, Rsvp, RsvpStatus, address_line
from events_app.services import event_text, rich_text
from events_app.services.event_text import LocalText
from events_app.util.lru import LruCache

SUBJECT_MAX = 300

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(settings.TEMPLATES_DIR / "mail")),
    # HTML parts are escaped (names and comments are visitor input); plain text is not HTML.
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    extensions=["jinja2.ext.i18n"],  # {{ _("...") }}: the catalogs' texts (events_app/i18n.py)
)
# As for pages (web/templating.py): looked up per call in the current language, which is the
# recipient's while a message renders; "newstyle" formats and (in HTML) escapes variables.
_env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext,
    npgettext=i18n.npgettext,
)
_env.globals["current_language"] = i18n.current  # <html lang> of the HTML part
# Descriptions read as on the event page: sanitized HTML, readable text in the text part.
_env.filters.update(rich_text=rich_text.to_html, plain_text=rich_text.to_text)


@dataclass(frozen=True)
class MailContent:
    subject: str
    text: str
    html: str
    ics: str = ""
    language: str = ""  # what it is written in (the outbox's Content-Language); set by _render*


@dataclass(frozen=True)
class EventChange:
    """What attendees are told about an edit: the (was, now) texts of the time and the place,
    each None when its text reads the same (e.g. only the map pin moved, which the feeds carry
    but is not worth an e-mail). `values` keeps the edit's (was, now) field values, so each
    recipient reads the texts in their own language (`in_current_language`)."""

    time: tuple[str, str] | None
    place: tuple[str, str] | None
    values: tuple[dict[str, Any], dict[str, Any]] | None = field(
        default=None, repr=False, compare=False)

    def __bool__(self) -> bool:
        return bool(self.time or self.place)

    def in_current_language(self) -> EventChange:
        """The same change in the language now current (one built from texts stays as is)."""
        return self if self.values is None else _told(*self.values)


def _when(v: dict[str, Any]) -> str:
    return timefmt.format_range(v["starts_at"], v["ends_at"], v["timezone"], v["all_day"])


def _where(v: dict[str, Any]) -> str:
    address = address_line(v["street_address"], v["city"], v["region"], v["postal_code"])
    # Told to waitlisted people too: a link kept for confirmed attendees is only "online".
    online = gettext("online") if v["online_url"] and v.get("join_link_private") \
        else v["online_url"]
    return ", ".join(p for p in (v["venue_name"], address, online) if p) or gettext("not set")


def event_change(event: Event, changes: dict[str, tuple[Any, Any]]) -> EventChange:
    """Describe an edit already applied to `event`, from `changes` ({field: (old, new)})."""
    now = {k: getattr(event, k) for k in SEQUENCE_FIELDS | {"join_link_private"}}
    was = {**now, **{k: old for k, (old, _) in changes.items() if k in now}}
    return _told(was, now)


def _told(was: dict[str, Any], now: dict[str, Any]) -> EventChange:
    time = (_when(was), _when(now))
    place = (_where(was), _where(now))
    return EventChange(time=time if time[0] != time[1] else None,
                       place=place if place[0] != place[1] else None, values=(was, now))


def clean_subject(subject: str) -> str:
    """One line, bounded: a line break in a header would be rejected (or worse, injected)."""
    return " ".join(subject.split())[:SUBJECT_MAX]


def manage_url(rsvp: Rsvp) -> str:
    return urls.rsvp_manage_url(rsvp.token)


def event_url(event: Event) -> str:
    return urls.event_url(event.slug)


def party_label(guests: int) -> str:
    """'just you', 'you and 1 guest', 'you and 3 guests'."""
    if guests == 0:
        return gettext("just you")
    return ngettext("you and %(num)d guest", "you and %(num)d guests", guests) % {"num": guests}


def language_or_default(language: str | None) -> str:
    """A stored language we still have a catalog for, else the site default (a language
    removed since the row was written must not stop its e-mails)."""
    return i18n.match(language) or settings.DEFAULT_LANGUAGE


P = ParamSpec("P")


def local_text(event: Event, language: str) -> LocalText:
    """The event's words in `language`, read through the session the event was loaded in
    (the sender's, so its own uncommitted edits count); an event whose session is gone is
    read afresh (one built in memory has no translations: no query)."""
    session = object_session(event)
    if session is not None:
        return event_text.text_for(session, event, language)
    with read_session() as fresh:
        return event_text.text_for(fresh, event, language)


def _in_rsvp_language(
        write: Callable[Concatenate[Event, Rsvp, P], MailContent],
) -> Callable[Concatenate[Event, Rsvp, P], MailContent]:
    """An RSVP's message, subject and all, written in the language the person RSVP'd in,
    with the event's words in it (passed to `write` as `text`)."""
    @functools.wraps(write)
    def in_language(event: Event, rsvp: Rsvp, *args: P.args, **kwargs: P.kwargs) -> MailContent:
        language = language_or_default(rsvp.language)
        with i18n.using(language):
            kwargs["text"] = local_text(event, language)
            return write(event, rsvp, *args, **kwargs)
    return in_language


def marked(value: str, language: str | None) -> Markup | str:
    """Text for the HTML part: wrapped in <span lang> when it is in another language than
    the message (a fallback), so a screen reader reads it with the right voice."""
    if language is None:
        return value
    return Markup('<span lang="%s">%s</span>') % (language, value)


# The confirmation's .ics per event version: every RSVP to an event attaches the same file,
# and rendering it (VTIMEZONEs and all) was a fifth of an RSVP's CPU time, spent while the
# event's row is locked. Keyed by a digest of every column of the row (as ical's VEVENT
# cache is) and the settings the file shows, so any edit renders afresh; the output is
# deterministic for the same data (DTSTAMP comes from the row), so a hit is the same bytes.
_event_ics_cache: LruCache[bytes, str] = LruCache(max_entries=256)


def _event_key(event: Event, text: LocalText | None = None) -> bytes:
    """A digest of every column of the event's row, its words in the message's language, the
    language now current and the settings a message shows: any edit (a translation's
    included), or another language, gives another key."""
    values = (settings.SITE_NAME, settings.DEFAULT_TIMEZONE, settings.BASE_URL, i18n.current(),
              text, *event.model_dump().values())
    return hashlib.blake2b(repr(values).encode(), digest_size=20).digest()


def _event_ics(event: Event, text: LocalText, key: bytes) -> str:
    """The attachment of the messages that confirm a seat (so it may carry a private join
    link); `key` is `_event_key(event, text)`, which the message's kept rendering uses too
    (worked out once per message: it digests every column of the row)."""
    # Imported here: feeds owns the calendar format, and most messages carry no attachment.
    from events_app.services.ical import event_ics

    cached = _event_ics_cache.get(key)
    if cached is None:
        cached = event_ics(event, confirmed_reader=True, text=text).decode("utf-8")
        _event_ics_cache.put(key, cached)
    return cached


def _update_ics(event: Event, rsvp: Rsvp, text: LocalText, method: str,
                withdrawn: bool = False) -> str:
    """An invitation update (REQUEST) or cancellation (CANCEL) for the entry this person
    added from their confirmation's .ics."""
    from events_app.services.ical import attendee_ics

    return attendee_ics(event, method, rsvp.email, rsvp.name, withdrawn,
                        text=text).decode("utf-8")


def _render(template: str, subject: str, ctx: dict[str, Any], ics: str = "",
            event_key: bytes | None = None) -> MailContent:
    """The message, from a rendering kept per event version where one fits (see
    `_PersonalParts`), else rendered whole. `ctx` holds the event and its `text` (LocalText):
    templates read the event's words as `title` and `description` (in the HTML part, fallback
    text marked with its language). `event_key`: `_event_key` of both, when the caller has
    it already (for the attachment)."""
    key, personal = _personal_key(template, subject, ctx, event_key)
    if key is None:
        return _render_whole(template, subject, ctx, ics)
    parts = _personal_parts.get(key)
    if parts is not None:
        return parts.filled(personal, ics)
    content = _render_whole(template, subject, ctx, ics)
    parts = _PersonalParts.made(template, subject, ctx, ics, personal, content)
    if parts is not None:
        _personal_parts.put(key, parts)
    return content


def _render_whole(template: str, subject: str, ctx: dict[str, Any],
                  ics: str = "") -> MailContent:
    event: Event = ctx["event"]
    text: LocalText = ctx["text"]
    full = {
        "site_name": settings.SITE_NAME,
        "base_url": urls.absolute(""),
        "subject": clean_subject(subject),
        "when": timefmt.format_range(event.starts_at, event.ends_at, event.timezone,
                                     event.all_day),
        "event_url": event_url(event),
        **ctx,
    }
    # A join link kept for confirmed attendees goes only to an address holding a seat now.
    rsvp_ctx = ctx.get("rsvp")
    full.setdefault("join_url", event.join_url_for(
        rsvp_ctx is not None and rsvp_ctx.status == RsvpStatus.CONFIRMED))
    if "rsvp" in ctx:
        if "manage_url" not in full:
            full["manage_url"] = manage_url(ctx["rsvp"])
        # The "my events" page (personal_feeds.page_url); only the messages that confirm a
        # place carry it, and only to the address itself.
        full.setdefault("calendar_page", "")
        full.setdefault("party", party_label(ctx["rsvp"].guests))
    words = {"title": text.title, "description": text.description, "description_lang": None}
    html_words = {"title": marked(text.title, text.fallback("title")),
                  "description": text.description,
                  "description_lang": text.fallback("description")}
    return MailContent(
        subject=full["subject"],
        text=_env.get_template(f"{template}.txt").render({**full, **words}),
        html=_env.get_template(f"{template}.html").render({**full, **html_words}),
        ics=ics,
        language=i18n.current(),
    )


# --- The per-person parts of an RSVP's message ----------------------------------------------
# Every RSVP post queues its e-mail in the transaction that holds the event's row lock, and
# rendering both parts whole was a fifth of a post's CPU. Messages to the people of one event
# differ only in the name, the manage link and the "my events" link, so a message is rendered
# once per event version, language, kind and party with a marker for each of those, and each
# person's message puts their values in (escaped in the HTML part, as the template escapes
# them). The result is the same text, byte for byte, as rendering it whole: a rendering is
# kept only if filling in the first person's values gives exactly their message rendered
# whole, and a template that reads anything else of the RSVP is never kept (the marked
# RSVP below has nothing else to read, so such a render fails and is not cached).

_MARK = "m" + secrets.token_hex(12)  # nothing a template escapes, formats or alters
_PERSONAL = ("name", "manage_url", "calendar_page")
_MARKERS = {field: f"{_MARK}{i}x" for i, field in enumerate(_PERSONAL)}
_MARKER_RE = re.compile("|".join(re.escape(m) for m in _MARKERS.values()))
_FIELD_OF = {marker: field for field, marker in _MARKERS.items()}
_SCALARS = (str, int, bool, type(None))
# Templates found reading more of an RSVP than the marked one offers, or doing more with a
# personal value than printing it: always rendered whole.
_unmarkable: set[str] = set()


@dataclass(frozen=True)
class _MarkedRsvp:
    """An RSVP as a kept rendering sees it: its name is a marker, and only what the key
    (`_personal_key`) holds besides is there to read."""

    name: str
    guests: int
    seats: int
    status: str


@dataclass(frozen=True)
class _PersonalParts:
    subject: str
    text: str
    html: str

    @classmethod
    def made(cls, template: str, subject: str, ctx: dict[str, Any], ics: str,
             personal: dict[str, str], whole: MailContent) -> _PersonalParts | None:
        """The marked rendering, if filling it in with `personal` gives `whole` exactly."""
        rsvp = ctx["rsvp"]
        marked = {**ctx, "rsvp": _MarkedRsvp(_MARKERS["name"], rsvp.guests, rsvp.seats,
                                             rsvp.status)}
        for field_ in ("manage_url", "calendar_page"):
            if personal[field_]:  # an empty one reads as "not there": rendered as it is
                marked[field_] = _MARKERS[field_]
        try:
            content = _render_whole(template, subject, marked, ics)
        except jinja2.UndefinedError:
            _unmarkable.add(template)
            return None
        parts = cls(content.subject, content.text, content.html)
        if parts.filled(personal, ics) != whole:
            # The template does more with a personal value than print it (its length, a
            # letter of it): rendered whole from now on, not marked in vain on every message.
            _unmarkable.add(template)
            return None
        return parts

    def filled(self, personal: dict[str, str], ics: str) -> MailContent:
        def text(found: re.Match[str]) -> str:
            return personal[_FIELD_OF[found.group()]]

        def html(found: re.Match[str]) -> str:
            return str(escape(personal[_FIELD_OF[found.group()]]))

        return MailContent(subject=_MARKER_RE.sub(text, self.subject),
                           text=_MARKER_RE.sub(text, self.text),
                           html=_MARKER_RE.sub(html, self.html), ics=ics,
                           language=i18n.current())  # part of the key (_event_key)


# A few KB each; one per event version, language, kind and party size in use.
_personal_parts: LruCache[tuple[Any, ...], _PersonalParts] = LruCache(
    512, max_weight=2 << 20,
    weigh=lambda p: len(p.subject) + len(p.text) + len(p.html))


def _personal_key(template: str, subject: str, ctx: dict[str, Any],
                  event_key: bytes | None = None
                  ) -> tuple[tuple[Any, ...] | None, dict[str, str]]:
    """What a kept rendering depends on besides the personal values, and those values (as
    `_render_whole` reads them); None when the message is rendered whole (no RSVP, or a
    context value that is not a plain one)."""
    rsvp = ctx.get("rsvp")
    if not isinstance(rsvp, Rsvp) or template in _unmarkable:
        return None, {}
    rest = []
    for name, value in ctx.items():
        if name in ("event", "text", "rsvp", *_PERSONAL):
            continue
        if not isinstance(value, _SCALARS):
            return None, {}
        rest.append((name, value))
    personal = {"name": rsvp.name,
                "manage_url": ctx["manage_url"] if "manage_url" in ctx else manage_url(rsvp),
                "calendar_page": ctx.get("calendar_page", "")}
    if not all(isinstance(v, str) for v in personal.values()):
        return None, {}
    if event_key is None:
        event_key = _event_key(ctx["event"], ctx.get("text"))
    return (template, subject, event_key, tuple(sorted(rest)),
            rsvp.guests,
            rsvp.status, *(bool(v) for v in personal.values())), personal


@_in_rsvp_language
def confirmation(event: Event, rsvp: Rsvp, updated: bool = False,
                 calendar_page: str = "", *, text: LocalText) -> MailContent:
    subject = gettext("Your RSVP was updated: %(title)s") if updated \
        else gettext("You're going: %(title)s")
    key = _event_key(event, text)
    return _render("confirmation", subject % {"title": text.title},
                   {"event": event, "text": text, "rsvp": rsvp, "updated": updated,
                    "calendar_page": calendar_page}, ics=_event_ics(event, text, key),
                   event_key=key)


@_in_rsvp_language
def waitlisted(event: Event, rsvp: Rsvp, position: int, updated: bool = False,
               calendar_page: str = "", *, text: LocalText) -> MailContent:
    subject = gettext("Your RSVP was updated: %(title)s") if updated \
        else gettext("You're on the waitlist: %(title)s")
    return _render("waitlisted", subject % {"title": text.title},
                   {"event": event, "text": text, "rsvp": rsvp, "position": position,
                    "updated": updated, "calendar_page": calendar_page})


@_in_rsvp_language
def promoted(event: Event, rsvp: Rsvp, calendar_page: str = "", *,
             text: LocalText) -> MailContent:
    key = _event_key(event, text)
    return _render("promoted", gettext("A spot opened up, you're going: %(title)s")
                   % {"title": text.title},
                   {"event": event, "text": text, "rsvp": rsvp, "calendar_page": calendar_page},
                   ics=_event_ics(event, text, key), event_key=key)


@_in_rsvp_language
def already_rsvped(event: Event, rsvp: Rsvp, position: int | None, *,
                   text: LocalText) -> MailContent:
    """Someone sent the form again with this address: nothing changed, here is the link.

    Goes to the address, never to the page: whoever typed it learns nothing about the RSVP.
    """
    return _render("already", gettext("You already RSVP'd: %(title)s") % {"title": text.title},
                   {"event": event, "text": text, "rsvp": rsvp, "position": position})


@_in_rsvp_language
def series_summary(event: Event, rsvp: Rsvp, dates: Sequence[Any], what: str,
                   series_url: str, calendar_page: str = "", *,
                   text: LocalText) -> MailContent:
    """One message for a change to several dates of a series (services/series_rsvp.py):
    `what` is "joined" or "cancelled"; `dates` are its DateOutcomes, each with its status,
    waitlist place, or why it was skipped."""
    subject = (gettext("Your RSVPs: %(title)s") if what == "joined"
               else gettext("RSVPs cancelled: %(title)s")) % {"title": text.title}
    lines = [(timefmt.format_range(d.event.starts_at, d.event.ends_at, d.event.timezone,
                                   d.event.all_day), d) for d in dates]
    return _render("series_summary", subject,
                   {"event": event, "text": text, "rsvp": rsvp, "lines": lines, "what": what,
                    "series_url": series_url, "calendar_page": calendar_page})


@_in_rsvp_language
def calendar_link(event: Event, rsvp: Rsvp, calendar_page: str, *,
                  text: LocalText) -> MailContent:
    """A new "my events" link, asked for from the manage page of `rsvp`."""
    return _render("calendar_link", gettext("Your new calendar link · %(site)s")
                   % {"site": settings.SITE_NAME},
                   {"event": event, "text": text, "rsvp": rsvp,
                    "calendar_page": calendar_page})


@_in_rsvp_language
def cancelled(event: Event, rsvp: Rsvp, by_organizer: bool = False,
              had_seat: bool = False, *, text: LocalText) -> MailContent:
    """`had_seat`: the person was confirmed, so got an .ics to add; a METHOD:CANCEL one takes
    that entry out of their calendar again."""
    return _render("cancelled", gettext("RSVP cancelled: %(title)s") % {"title": text.title},
                   {"event": event, "text": text, "rsvp": rsvp, "by_organizer": by_organizer},
                   ics=_update_ics(event, rsvp, text, "CANCEL", withdrawn=True)
                   if had_seat else "")


@_in_rsvp_language
def event_changed(event: Event, rsvp: Rsvp, change: EventChange, *,
                  text: LocalText) -> MailContent:
    """The updated .ics goes to confirmed people only: its SEQUENCE makes their calendar move
    the entry they added from the confirmation; a waitlisted person has no seat to put there."""
    change = change.in_current_language()
    if change.time and change.place:
        subject = gettext("Time and place changed: %(title)s")
    elif change.time:
        subject = gettext("Time changed: %(title)s")
    else:
        subject = gettext("Place changed: %(title)s")
    confirmed = rsvp.status == RsvpStatus.CONFIRMED
    return _render("event_changed", subject % {"title": text.title},
                   {"event": event, "text": text, "rsvp": rsvp, "change": change,
                    "confirmed": confirmed},
                   ics=_update_ics(event, rsvp, text, "REQUEST") if confirmed else "")


@_in_rsvp_language
def reminder(event: Event, rsvp: Rsvp, *, text: LocalText) -> MailContent:
    start = timefmt.format_start(event.starts_at, event.timezone)
    # Translators: "Reminder: Town hall, Sat 14 Mar, 2:00 PM CDT".
    return _render("reminder", gettext("Reminder: %(title)s, %(start)s")
                   % {"title": text.title, "start": start},
                   {"event": event, "text": text, "rsvp": rsvp})


@_in_rsvp_language
def event_cancelled(event: Event, rsvp: Rsvp, message: str, *,
                    text: LocalText) -> MailContent:
    """Confirmed people get a METHOD:CANCEL .ics (the cancellation already raised SEQUENCE),
    so the entry they added from their confirmation goes; the waitlisted never had one."""
    confirmed = rsvp.status == RsvpStatus.CONFIRMED
    return _render("event_cancelled", gettext("Cancelled: %(title)s") % {"title": text.title},
                   {"event": event, "text": text, "rsvp": rsvp,
                    "message": event_text.cancel_message(message.strip())},
                   ics=_update_ics(event, rsvp, text, "CANCEL") if confirmed else "")


@_in_rsvp_language
def event_uncancelled(event: Event, rsvp: Rsvp, *, text: LocalText) -> MailContent:
    """The cancellation is undone. Confirmed people get a REQUEST .ics whose raised SEQUENCE
    puts back the entry the cancellation's .ics took out of their calendar."""
    confirmed = rsvp.status == RsvpStatus.CONFIRMED
    return _render("event_uncancelled", gettext("Back on: %(title)s") % {"title": text.title},
                   {"event": event, "text": text, "rsvp": rsvp, "confirmed": confirmed},
                   ics=_update_ics(event, rsvp, text, "REQUEST") if confirmed else "")


def organizer_subject(title: str, subject: str) -> str:
    """The subject names the event (`title`, in the recipient's language): 'Town hall: Bring
    water', unless it already does."""
    subject = clean_subject(subject)
    if title.casefold() in subject.casefold():
        return subject
    return clean_subject(f"{title}: {subject}")


@_in_rsvp_language
def organizer_message(event: Event, rsvp: Rsvp, subject: str, body: str, sender: str = "",
                      manage_url: str | None = None, *, text: LocalText) -> MailContent:
    """An organizer's own message. The greeting rule: the message is the organizer's letter
    as written, so it carries no "Hello <name>," of ours (which doubled theirs: "Hello Zoë,"
    then "Hi all,"). `manage_url` replaces the recipient's private link (previews)."""
    ctx: dict[str, Any] = {"event": event, "text": text, "rsvp": rsvp, "body": body.strip(),
                           "sender": sender}
    if manage_url is not None:
        ctx["manage_url"] = manage_url
    return _render("organizer_message", organizer_subject(text.title, subject), ctx)


# --- Organizer accounts: one-time links (services/account_links.py) ---------------------------

def _render_account(template: str, subject: str, ctx: dict[str, Any]) -> MailContent:
    full = {"site_name": settings.SITE_NAME, "base_url": urls.absolute(""),
            "subject": clean_subject(subject), **ctx}
    return MailContent(
        subject=full["subject"],
        text=_env.get_template(f"{template}.txt").render(full),
        html=_env.get_template(f"{template}.html").render(full),
        language=i18n.current(),
    )


def _expires(at: datetime) -> str:
    """'Wed 2 Dec, 8:15 PM EST' in the site's timezone (the recipient's is unknown)."""
    return timefmt.format_start(at, settings.DEFAULT_TIMEZONE)


def invitation(name: str, email: str, admin: bool, inviter: str | None, link: str,
               expires_at: datetime, language: str) -> MailContent:
    """`language`: the new account's (Organizer.language); `inviter` None: the command line."""
    with i18n.using(language_or_default(language)):
        return _render_account(
            "invitation",
            gettext("Your organizer account on %(site)s") % {"site": settings.SITE_NAME},
            {"name": name, "email": email, "admin": admin,
             "inviter": inviter or gettext("The site's administrator"),
             "link": link, "expires": _expires(expires_at)})


def password_reset(name: str, link: str, expires_at: datetime, language: str) -> MailContent:
    """`language`: the account's (Organizer.language), whoever asked for the reset."""
    with i18n.using(language_or_default(language)):
        return _render_account(
            "password_reset",
            gettext("Reset your password · %(site)s") % {"site": settings.SITE_NAME},
            {"name": name, "link": link, "expires": _expires(expires_at)})
