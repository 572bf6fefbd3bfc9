"""data_version: what the caches of public output are valid for

Revision ID: 0006_data_version
Revises: 0005_auth
Create Date: 2026-11-25 20:10:00

- data_version: (kind, stripe) -> random token and time of the last write of that kind
  (events or seats) to that stripe, bumped in the writing transaction
  (services/data_version.py), so a cache hit reads a few rows instead of scanning events.
  Empty at first: a missing row is a version like any other.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006_data_version"
down_revision: str | None = "0005_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TS = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("kind", _STR(length=16), nullable=False),
        sa.Column("stripe", sa.Integer(), nullable=False),
        sa.Column("token", _STR(length=32), nullable=False),
        sa.Column("changed_at", _TS(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "stripe"),
    )


def downgrade() -> None:
    op.drop_table("data_version")
