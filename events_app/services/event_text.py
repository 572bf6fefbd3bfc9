"""An event's text in the reader's language: which title, summary and description a page,
e-mail, feed or API answer shows, and where the translations are written.

The Event row holds its text in settings.DEFAULT_LANGUAGE; other languages live in
`event_text` (models.EventText), one row per event and language, and an empty field there
means "not given". Readers get each field on its own in their language when it is given and
otherwise the event's own text, with the language it is actually in, so the page can mark it
(`lang="en"` on an English title on a Spanish page): a screen reader then reads it with the
right voice, and a translation that covers only the title still shows.

Reading is batched: texts_for() answers for a whole page of events with one query per
ID_BATCH events (and none for the default language), so no page costs a query per event.

Writing goes through save_translations()/copy_translations() in the caller's transaction. A
translation is public output, so a change bumps the event's `updated_at` (what VEVENT and
page caches key on) and, EventText being a tracked table (services/data_version.py), the
data version every cache is valid for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from events_app import i18n, settings
from events_app.models import Event, EventText, utcnow

FIELDS = ("title", "summary", "description")
# Ids per `IN (...)` list: one bound parameter each, and SQLite refuses a statement with more
# than its variable limit (999 before 3.32), which FEED_MAX_EVENTS may be set above.
ID_BATCH = 500

# The cancellation note of a series date the organizers skipped after people had RSVP'd
# (services/series.py). It is the site's own words, not the organizers', so it is stored as
# this English text and said in the reader's language wherever a cancellation note is shown.
SKIPPED_MESSAGE = i18n.N_("This date is no longer part of the series.")


def cancel_message(message: str) -> str:
    """A stored cancellation note as the reader should see it: the organizers' words as they
    typed them, the site's own (SKIPPED_MESSAGE) in the reader's language."""
    return i18n.gettext(message) if message == SKIPPED_MESSAGE else message


@dataclass(frozen=True)
class LocalText:
    """An event's text as one reader sees it; `*_lang` is the language each field is in."""

    title: str
    summary: str
    description: str
    title_lang: str
    summary_lang: str
    description_lang: str
    language: str  # the language asked for

    def fallback(self, field: str) -> str | None:
        """The language to mark `field` with (lang="..."), when it is not the one asked
        for; None when the field is in the reader's language (nothing to mark)."""
        lang = getattr(self, f"{field}_lang")
        return lang if lang != self.language else None


def translated_languages() -> tuple[str, ...]:
    """The languages an event may have a translation in: every configured one but the
    site's default, which the event row itself is written in."""
    return tuple(code for code in i18n.LANGUAGES if code != settings.DEFAULT_LANGUAGE)


def _local(event: Event, row: Any, language: str,
           fields: Sequence[str] = FIELDS) -> LocalText:
    # Positional and without a dict: the month grid builds ~1,600 of these per render.
    default = settings.DEFAULT_LANGUAGE
    texts: list[str] = []
    langs: list[str] = []
    for field in FIELDS:
        if field not in fields:
            texts.append("")
            langs.append(default)
        elif row is not None and (given := getattr(row, field)):
            texts.append(given)
            langs.append(language)
        else:
            texts.append(getattr(event, field))
            langs.append(default)
    return LocalText(*texts, *langs, language)


def untranslated(event: Event, language: str) -> LocalText:
    """The event's own text as a reader of `language` gets it with no translation loaded:
    marked with the default language where that is not `language`."""
    return _local(event, None, language)


def texts_for(session: Session, events: Sequence[Event], language: str,
              fields: Sequence[str] = FIELDS) -> dict[int, LocalText]:
    """Every event's text in `language` (keyed by event id), with one query for them all
    and none when `language` is the site's default. `fields`: only these are read (of the
    events too, which may be loaded with only those columns, like the month grid's); the
    others are left empty."""
    rows: dict[int, Any] = {}
    if language != settings.DEFAULT_LANGUAGE:
        columns = [getattr(EventText, f) for f in fields]
        for batch in _batches({e.id for e in events if e.id is not None}):
            found = session.exec(select(EventText.event_id, *columns).where(  # type: ignore[call-overload]
                col(EventText.event_id).in_(batch), EventText.language == language))
            rows.update((row.event_id, row) for row in found)
    return {e.id: _local(e, rows.get(e.id), language, fields)
            for e in events if e.id is not None}


def text_for(session: Session, event: Event, language: str) -> LocalText:
    """One event's text in `language` (see texts_for)."""
    row = None
    if language != settings.DEFAULT_LANGUAGE and event.id is not None:
        row = session.get(EventText, (event.id, language))
    return _local(event, row, language)


def translations_of(session: Session, event: Event) -> dict[str, EventText]:
    """The event's stored translations by language (the edit form, copies)."""
    if event.id is None:
        return {}
    rows = session.exec(select(EventText).where(EventText.event_id == event.id))
    return {row.language: row for row in rows}


def _touch(session: Session, event: Event) -> None:
    event.updated_at = utcnow()
    session.add(event)


def save_translations(session: Session, event: Event,
                      texts: Mapping[str, Mapping[str, str]]) -> bool:
    """Store the event's text in each language of `texts` ({lang: {title, summary,
    description}}; a missing field is empty). A language whose fields are all empty has no
    translation: its row is deleted. Languages not in `texts` are left as they are.
    Returns whether anything changed (the caller's audit entry says so)."""
    assert event.id is not None, "save the event first"
    stored = translations_of(session, event)
    changed = False
    for language, given in texts.items():
        if language not in translated_languages():
            raise ValueError(f"not a translation language: {language!r}")
        values = {f: given.get(f, "") or "" for f in FIELDS}
        row = stored.get(language)
        if not any(values.values()):
            if row is not None:
                session.delete(row)
                changed = True
            continue
        if row is None:
            session.add(EventText(event_id=event.id, language=language, **values))
            changed = True
        elif any(getattr(row, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(row, f, v)
            session.add(row)
            changed = True
    if changed:
        _touch(session, event)
        session.flush()
    return changed


def copy_translations(session: Session, source: Event, target: Event) -> bool:
    """Give `target` exactly `source`'s translations (a series' new dates, a duplicate).
    Returns whether the target's changed."""
    wanted = {lang: {f: getattr(row, f) for f in FIELDS}
              for lang, row in translations_of(session, source).items()}
    gone = {lang: {} for lang in translations_of(session, target) if lang not in wanted}
    return save_translations(session, target, {**gone, **wanted})


def insert_translations(session: Session, event: Event,
                        texts: Mapping[str, Mapping[str, str]]) -> None:
    """Give an event just inserted (no translations yet) these texts, without reading first:
    a new series writes hundreds of dates at once (services/series.py)."""
    assert event.id is not None, "insert the event first"
    for language, given in texts.items():
        values = {f: given.get(f, "") or "" for f in FIELDS}
        if any(values.values()):
            session.add(EventText(event_id=event.id, language=language, **values))


def texts_of_events(session: Session, events: Sequence[Event]
                    ) -> dict[int, dict[str, dict[str, str]]]:
    """Every translation of these events, {event id: {lang: {title, summary, description}}},
    in one query (a series-wide edit compares each date's with the edited one's)."""
    ids = {e.id for e in events if e.id is not None}
    found: dict[int, dict[str, dict[str, str]]] = {i: {} for i in ids}
    for batch in _batches(ids):
        for row in session.exec(select(EventText).where(col(EventText.event_id).in_(batch))):
            found[row.event_id][row.language] = {f: getattr(row, f) for f in FIELDS}
    return found


def _batches(ids: set[int]) -> list[list[int]]:
    """`ids` sorted, in lists of at most ID_BATCH (one query each)."""
    ordered = sorted(ids)
    return [ordered[i:i + ID_BATCH] for i in range(0, len(ordered), ID_BATCH)]
