"""attendee privacy: verified RSVPs, erasure, personal feed tokens

Revision ID: 0004_privacy
Revises: 0003_feeds
Create Date: 2026-11-25 17:30:00

rsvp.verified_at: set when the e-mailed manage link is first opened; only verified RSVPs are
in the address's personal feed. rsvp.erased_at: when the attendee's personal data was erased
(retention or on request). personal_feed: one read-only calendar token per e-mail address,
separate from manage links. Existing RSVPs start unverified: the old personal feed (keyed by
a manage token) is gone, and each person's next opened manage link verifies again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_privacy"
down_revision: str | None = "0003_feeds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rsvp", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("verified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("erased_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table(
        "personal_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
        sa.UniqueConstraint("token"),
    )


def downgrade() -> None:
    op.drop_table("personal_feed")
    with op.batch_alter_table("rsvp", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("verified_at")
