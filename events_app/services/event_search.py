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
"""

from __future__ import annotations

from sqlalchemy import Integer, column, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from events_app.models import Event
from events_app.util.text_search import contains_text

MAX_TRIGRAMS = 24  # enough to be selective; more only costs index lookups
SEARCHED = (Event.title, Event.summary, Event.description, Event.venue_name, Event.city,
            Event.host_name)


def _fts_query(value: str) -> str:
    """An FTS5 query for rows holding every trigram of `value` (each quoted, quotes doubled).

    The table keeps no positions (detail=none: 25 MB at 100,000 events, several times less
    than with them), so it cannot ask for the trigrams in sequence; rows that hold them apart
    are dropped by contains_text.
    """
    grams = sorted({value[i:i + 3] for i in range(len(value) - 2)})[:MAX_TRIGRAMS]
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)


def search_conditions(session: Session, value: str) -> list[ColumnElement[bool]]:
    """The conditions that keep the events whose text contains `value` (trimmed)."""
    value = value.strip()
    conds = [contains_text(value, *SEARCHED)]
    if session.get_bind().dialect.name == "sqlite" and len(value) >= 3:
        # The phrase is what contains_text looks for (value.lower()); see the docstring.
        candidates = text("SELECT rowid FROM event_search WHERE event_search MATCH :phrase"
                          ).bindparams(phrase=_fts_query(value.lower())
                                       ).columns(column("rowid", Integer))
        conds.insert(0, col(Event.id).in_(candidates))
    return conds
