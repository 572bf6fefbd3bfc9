"""a list filtered by city and category, from one index: ix_event_place_starts_at

Revision ID: 0018_event_place_index
Revises: 0017_rsvp_seat_index
Create Date: 2026-11-26 08:30:00

The list filtered by a city and a category (the filter form's two sets of checkboxes) counts
its upcoming events (status, ends_at) and pages them by start. With only the (lower(city),
starts_at) and (lower(category), starts_at) indexes, the count read every row of the city
(6,162 rows for Chicago at 100,000 events on SQLite; on PostgreSQL a BitmapAnd of both, then
~700 heap pages): ~15-25 ms, the bulk of a first filtered page. With the city, the category,
the start, the id, the status and the end in one index, the count and the page's ids come
from the index alone, and only the page's own rows are read. On PostgreSQL the index also
carries city and category themselves (INCLUDE): its planner reads an index alone only when
the index holds every column the query names, and lower(city) names city.

SQLite plans from sqlite_stat1 (migration 0007): the new index gets its own statistics, so
that a list filtered by city only keeps walking (lower(city), starts_at) in order rather than
sorting what this index finds: measured on a calendar of 10,000 events or more, else the
shape of the 100,000-event benchmark calendar, as 0007 does.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018_event_place_index"
down_revision: str | None = "0017_rsvp_seat_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_event_place_starts_at"
# What ANALYZE measured for it on the benchmark calendar (rows, then rows per key prefix).
BENCH_STATISTICS = "100000 6250 781 1 1 1 1"


def upgrade() -> None:
    # Plain CREATE / DROP INDEX, never batch mode: no table is rebuilt on SQLite.
    bind = op.get_bind()
    columns = "(lower(city), lower(category), starts_at, id, status, ends_at)"
    if bind.dialect.name == "postgresql":
        # An index-only scan needs the columns themselves too, not only lower() of them.
        op.execute(f"CREATE INDEX {INDEX} ON event {columns} INCLUDE (city, category)")
        op.execute("ANALYZE event")
        return
    op.execute(f"CREATE INDEX {INDEX} ON event {columns}")
    if bind.exec_driver_sql("SELECT count(*) FROM event").scalar_one() >= 10_000:
        op.execute(f"ANALYZE {INDEX}")
        return
    bind.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE idx = ?", (INDEX,))
    bind.exec_driver_sql("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('event', ?, ?)",
                         (INDEX, BENCH_STATISTICS))
    op.execute("ANALYZE sqlite_schema")  # load the statistics into this connection


def downgrade() -> None:
    op.execute(f"DROP INDEX {INDEX}")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DELETE FROM sqlite_stat1 WHERE idx = '{INDEX}'")  # noqa: S608 - a constant
