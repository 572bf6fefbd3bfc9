"""recurring events: the series table and occurrence columns on event

Revision ID: 0012_series
Revises: 0011_people
Create Date: 2026-11-25 23:30:00

- series: a recurring event's rule (RRULE), timezone, first start, duration, skipped dates.
- event.series_id / recurrence_id / detached: an occurrence of a series, the start its rule
  gave it (its RECURRENCE-ID), and whether it was edited on its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012_series"
down_revision: str | None = "0011_people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TS = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", _STR(length=120), nullable=False),
        sa.Column("rrule", _STR(length=500), nullable=False),
        sa.Column("timezone", _STR(length=64), nullable=False),
        sa.Column("first_start", _TS(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("skipped", sa.Text(), nullable=False),
        sa.Column("rsvp_all", sa.Boolean(), nullable=False),
        sa.Column("generated_until", _TS(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _TS(), nullable=False),
        sa.Column("updated_at", _TS(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["organizer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    op.create_index("ix_series_owner_id", "series", ["owner_id"], unique=False)
    # Plain ALTERs, never batch mode (see 0009_join_link): on SQLite batch mode rebuilds the
    # event table and loses 0007's search triggers and expression indexes. SQLite keeps the
    # column's REFERENCES clause; the unique pair is a unique index (ALTER cannot add a
    # constraint there), which enforces the same rule.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE event ADD COLUMN series_id INTEGER "
                   "CONSTRAINT fk_event_series_id REFERENCES series (id)")
    else:
        op.add_column("event", sa.Column("series_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_event_series_id", "event", "series", ["series_id"], ["id"])
    op.add_column("event", sa.Column("recurrence_id", _TS(), nullable=True))
    op.add_column("event", sa.Column("detached", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.create_index("uq_event_series_recurrence", "event", ["series_id", "recurrence_id"],
                    unique=True)
    op.create_index("ix_event_series_starts", "event", ["series_id", "starts_at"])


def downgrade() -> None:
    op.drop_index("ix_event_series_starts", table_name="event")
    op.drop_index("uq_event_series_recurrence", table_name="event")
    op.drop_column("event", "detached")
    op.drop_column("event", "recurrence_id")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_event_series_id", "event", type_="foreignkey")
    op.drop_column("event", "series_id")
    op.drop_index("ix_series_owner_id", table_name="series")
    op.drop_table("series")
