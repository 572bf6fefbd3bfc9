"""event.unpublished_at: when a published event was taken back to a draft

Revision ID: 0003_feeds
Revises: 0002_rsvp
Create Date: 2026-11-25 17:30:00

Feeds keep an unpublished event as STATUS:CANCELLED for 30 days (so subscribed calendars drop
it), which needs to know that it was ever published and since when it no longer is.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003_feeds"
down_revision: str | None = "0002_rsvp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unpublished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("unpublished_at")
