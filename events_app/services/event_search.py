"""The list's text search, served by an index on each database, with today's meaning.

The meaning is util/text_search.contains_text over the event's text columns (literal,
ignoring letter case as lower() does); that condition is always applied, so results are the
same with or without an index. What differs is how rows are found:

- PostgreSQL: pg_trgm GIN indexes on lower() of each column (migration 0007) serve that very
  `lower(col) LIKE '%text%'` (an OR of six, a BitmapOr of six index scans).
- SQLite has no such index for LIKE, so an FTS5 trigram table (event_search, kept in step by
  triggers) first narrows the candidates: every row that holds the text's trigrams, whatever
  their case (it folds more than SQLite's ASCII-only lower(), so it never misses a match),
  and contains_text then decides. Trigrams need three characters;
  shorter texts are checked on every row, as before.

An event is also found by its text in other languages (event_text, services/event_text.py),
whatever the reader's language: someone who read the Spanish title finds it again typing it
on an English page. Each part is served by its own indexes (PostgreSQL: the trigram indexes
of event and of event_text, migration 0015; SQLite: event_search and
event_search_translation, one row per translated event).

On PostgreSQL the condition stays on the list query's own event row: "its text matches OR
id = ANY(ARRAY(ids of events matching in a translation))". The array is worked out once
(an InitPlan, through event_text's indexes) and `id = ANY(array)` is an index condition, so
it joins the six trigram scans in one BitmapOr, and the list's other conditions (visible,
upcoming, category...) are checked on the same rows as they are fetched. Both other ways
cost a second pass: a plain subquery inside the OR cannot join a BitmapOr (every search
read the whole table), and "id IN (matches UNION translated matches)" read every upcoming
event's id from an index to join them (at 100,000 events about as long as the search
itself).
"""

from __future__ import annotations

from sqlalchemy import Integer, any_, column, func, or_, text, union
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from events_app.models import Event, EventText
from events_app.util.text_search import contains_text

MAX_TRIGRAMS = 24  # enough to be selective; more only costs index lookups
SEARCHED = ("title", "summary", "description", "venue_name", "city", "host_name")
TRANSLATED = ("title", "summary", "description")  # of event_text


def _fts_query(value: str) -> str:
    """An FTS5 query for rows holding every trigram of `value` (each quoted, quotes doubled).

    The table keeps no positions (detail=none: 25 MB at 100,000 events, several times less
    than with them), so it cannot ask for the trigrams in sequence; rows that hold them apart
    are dropped by contains_text.
    """
    grams = sorted({value[i:i + 3] for i in range(len(value) - 2)})[:MAX_TRIGRAMS]
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)


def _fts_candidates(table: str, value: str):  # type: ignore[no-untyped-def]
    """The rowids (event ids) an FTS5 table (event_search, event_search_translation) holds
    the trigrams of `value` in: a superset of the matches (see the module docstring)."""
    # The phrase is what contains_text looks for (value.lower()).
    return text(f"SELECT rowid FROM {table} WHERE {table} MATCH :phrase"  # noqa: S608
                ).bindparams(phrase=_fts_query(value.lower())).columns(column("rowid", Integer))


def search_conditions(session: Session, value: str) -> list[ColumnElement[bool]]:
    """The conditions that keep the events whose text, or text in another language,
    contains `value` (trimmed)."""
    value = value.strip()
    in_text = select(EventText.event_id).where(
        contains_text(value, *(getattr(EventText, c) for c in TRANSLATED)))
    if session.get_bind().dialect.name != "sqlite":
        translated = func.array(in_text.scalar_subquery())
        return [or_(contains_text(value, *(getattr(Event, c) for c in SEARCHED)),
                    col(Event.id) == any_(translated))]
    matches = or_(contains_text(value, *(getattr(Event, c) for c in SEARCHED)),
                  col(Event.id).in_(in_text))
    if len(value) < 3:
        return [matches]
    # SQLite: the candidates of both FTS tables first, then the text checked on each (the
    # event_text part on the candidates of its own table only).
    translated = _fts_candidates("event_search_translation", value)
    in_text = in_text.where(col(EventText.event_id).in_(translated))
    matches = or_(contains_text(value, *(getattr(Event, c) for c in SEARCHED)),
                  col(Event.id).in_(in_text))
    return [col(Event.id).in_(union(_fts_candidates("event_search", value), translated)),
            matches]
