"""indexes for the public queries at 100,000 events (issue 11)

Revision ID: 0007_query_indexes
Revises: 0006_data_version
Create Date: 2026-11-25 20:30:00

- ix_event_span: the longest event (ends_at - starts_at) in one index probe, so "not over
  yet" (ends_at >= now) can also bound starts_at and walk the starts_at index from there
  instead of from the oldest event (services/spans.py).
- ix_event_city_lower_starts_at, ix_event_category_lower_starts_at: the list, API, Atom,
  embed and feed filters match lower(city) / lower(category), which the plain column indexes
  cannot serve; starts_at second gives the filtered list its order.
- ix_event_city_status: the list's city choices (known_cities), one index probe per city.
- ix_event_starts_at_id_status_ends_at: a list page's ids in order, index-only, so a deep
  page's offset skips index entries rather than whole rows.
- Search (services/event_search.py): on PostgreSQL a pg_trgm GIN index on lower() of each
  searched column, which serves the unchanged `lower(col) LIKE '%text%'`; on SQLite an FTS5
  trigram table (event_search) kept in step by triggers, which narrows the rows the same LIKE
  is then checked on.
"""

# ruff: noqa: S608 - the SQL is built from the column names above, never from input

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_query_indexes"
down_revision: str | None = "0006_data_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED = ("title", "summary", "description", "venue_name", "city", "host_name")
_COLS = ", ".join(SEARCHED)
_NEW = ", ".join(f"new.{c}" for c in SEARCHED)
_OLD = ", ".join(f"old.{c}" for c in SEARCHED)


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    span = "(ends_at - starts_at)" if pg else "(julianday(ends_at) - julianday(starts_at))"
    op.execute(f"CREATE INDEX ix_event_span ON event ({span})")
    op.execute("CREATE INDEX ix_event_city_lower_starts_at ON event (lower(city), starts_at)")
    op.execute("CREATE INDEX ix_event_city_status ON event (city, status)")
    op.execute("CREATE INDEX ix_event_starts_at_id_status_ends_at "
               "ON event (starts_at, id, status, ends_at)")
    op.execute("CREATE INDEX ix_event_category_lower_starts_at "
               "ON event (lower(category), starts_at)")
    if pg:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for c in SEARCHED:
            op.execute(f"CREATE INDEX ix_event_{c}_trgm ON event "
                       f"USING gin (lower({c}) gin_trgm_ops)")
        op.execute("ANALYZE event")
        return
    op.execute(f"CREATE VIRTUAL TABLE event_search USING fts5({_COLS}, content='', detail='none', "
               "tokenize='trigram')")
    op.execute(f"INSERT INTO event_search (rowid, {_COLS}) SELECT id, {_COLS} FROM event")
    op.execute(f"""CREATE TRIGGER event_search_insert AFTER INSERT ON event BEGIN
        INSERT INTO event_search (rowid, {_COLS}) VALUES (new.id, {_NEW}); END""")
    op.execute(f"""CREATE TRIGGER event_search_delete AFTER DELETE ON event BEGIN
        INSERT INTO event_search (event_search, rowid, {_COLS})
        VALUES ('delete', old.id, {_OLD}); END""")
    op.execute(f"""CREATE TRIGGER event_search_update AFTER UPDATE OF {_COLS} ON event BEGIN
        INSERT INTO event_search (event_search, rowid, {_COLS})
        VALUES ('delete', old.id, {_OLD});
        INSERT INTO event_search (rowid, {_COLS}) VALUES (new.id, {_NEW}); END""")
    _sqlite_statistics()


# What ANALYZE measured on the 100,000-event benchmark calendar (rows, then rows per distinct
# key prefix), index by index.
EVENT_STATISTICS = {
    "sqlite_autoindex_event_1": "100000 1", "ix_event_slug": "100000 1",
    "ix_event_starts_at": "100000 2", "ix_event_updated_at": "100000 3",
    "ix_event_status": "100000 33334", "ix_event_owner_id": "100000 33334",
    "ix_event_category": "100000 12500", "ix_event_city": "100000 6250",
    "ix_event_status_starts_at": "100000 33334 2", "ix_event_status_ends_at": "100000 33334 2",
    "ix_event_category_lower_starts_at": "100000 12500 1",
    "ix_event_city_lower_starts_at": "100000 6250 1", "ix_event_span": "100000 10000",
    "ix_event_city_status": "100000 6250 2000",
    "ix_event_starts_at_id_status_ends_at": "100000 2 1 1 1",
}


def _sqlite_statistics() -> None:
    """SQLite plans from sqlite_stat1; without it (a calendar that started empty and was
    never ANALYZEd) it guesses, and picks the status indexes for the list and the city
    choices: whole-table walks and sorts at 100,000 events (known_cities took seconds).
    A calendar with data is measured; a small one gets the shape of a large one, so its
    plans are already the ones that stay fast as it grows. A later ANALYZE replaces both."""
    bind = op.get_bind()
    op.execute("ANALYZE event")
    if bind.exec_driver_sql("SELECT count(*) FROM event").scalar_one() >= 10_000:
        return
    op.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'event'")
    for index, stat in EVENT_STATISTICS.items():
        bind.exec_driver_sql("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('event', ?, ?)",
                             (index, stat))
    op.execute("ANALYZE sqlite_schema")  # load the statistics into this connection


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        for c in SEARCHED:
            op.execute(f"DROP INDEX ix_event_{c}_trgm")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER event_search_{trigger}")
        op.execute("DROP TABLE event_search")
    op.execute("DROP INDEX ix_event_category_lower_starts_at")
    op.execute("DROP INDEX ix_event_starts_at_id_status_ends_at")
    op.execute("DROP INDEX ix_event_city_status")
    op.execute("DROP INDEX ix_event_city_lower_starts_at")
    op.execute("DROP INDEX ix_event_span")
