"""event content in several languages: the event_text table

Revision ID: 0015_event_text
Revises: 0014_owner_event_ids
Create Date: 2026-11-26 02:30:00

- event_text (event_id, language): an event's title, summary and description in a language
  other than the site's DEFAULT_LANGUAGE (the event row holds that one). An empty field was
  not given and falls back (services/event_text.py). The foreign key cascades, so a deleted
  event (series.py removes dates nobody RSVP'd to) takes its texts along on both databases
  (SQLite runs with PRAGMA foreign_keys=ON, db.py).
- Search (services/event_search.py) finds an event by these texts too: on PostgreSQL through
  pg_trgm GIN indexes on lower() of each column, as 0007 does for event; on SQLite through an
  FTS5 trigram table, event_search_translation, with one row per event (rowid = event id)
  holding all its translations, rewritten by triggers whenever one of its rows changes.
  Unlike 0007's event_search it keeps its content (a translated event is rare, so it is
  small): a row is then replaced by rowid, without the old values a contentless table needs,
  which an AFTER trigger no longer has once several rows make one document. The name starts
  with event_search, so migrations/env.py leaves it and its shadow tables out of the models'
  comparison.
"""

# ruff: noqa: S608 - the SQL is built from the column names below, never from input

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015_event_text"
down_revision: str | None = "0014_owner_event_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
SEARCHED = ("title", "summary", "description")
# One event's document: every translation's fields, one per line (a trigram never spans two).
# No row when the event has no translation left (HAVING on the aggregate).
_REWRITE = ("DELETE FROM event_search_translation WHERE rowid = {id}; "
            "INSERT INTO event_search_translation (rowid, body) "
            "SELECT {id}, group_concat(title || char(10) || summary || char(10) || description, "
            "char(10)) FROM event_text WHERE event_id = {id} HAVING count(*) > 0;")


def upgrade() -> None:
    op.create_table(
        "event_text",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("language", _STR(length=8), nullable=False),
        sa.Column("title", _STR(length=200), nullable=False),
        sa.Column("summary", _STR(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_id", "language"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for c in SEARCHED:
            op.execute(f"CREATE INDEX ix_event_text_{c}_trgm ON event_text "
                       f"USING gin (lower({c}) gin_trgm_ops)")
        return
    op.execute("CREATE VIRTUAL TABLE event_search_translation USING fts5(body, detail='none', "
               "tokenize='trigram')")
    for name, when, row in (("insert", "AFTER INSERT", "new"), ("delete", "AFTER DELETE", "old")):
        op.execute(f"CREATE TRIGGER event_text_search_{name} {when} ON event_text BEGIN "
                   f"{_REWRITE.format(id=f'{row}.event_id')} END")
    op.execute("CREATE TRIGGER event_text_search_update AFTER UPDATE ON event_text BEGIN "
               f"{_REWRITE.format(id='old.event_id')} {_REWRITE.format(id='new.event_id')} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for c in SEARCHED:
            op.execute(f"DROP INDEX ix_event_text_{c}_trgm")
    else:
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER event_text_search_{trigger}")
        op.execute("DROP TABLE event_search_translation")
    op.drop_table("event_text")
