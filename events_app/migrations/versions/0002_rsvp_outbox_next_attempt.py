"""outbox.next_attempt_at: claim leases and retry back-off for mail delivery

Revision ID: 0002_rsvp
Revises: 0001
Create Date: 2026-11-25 10:00:00

A sender claims a message by moving `next_attempt_at` into the future in a short transaction,
then talks SMTP with no transaction open; a failed attempt pushes it further out (back-off).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002_rsvp"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("next_attempt_at")
