"""join link only for confirmed attendees

Revision ID: 0009_join_link
Revises: 0007_query_indexes
Create Date: 2026-11-25 20:10:00

event.join_link_private: when true, the event's online_url is shown only to confirmed
attendees (manage page, confirmation/reminder e-mails, personal feed), never on public pages,
the API or public feeds. Existing events keep their public links (false).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_join_link"
down_revision: str | None = "0007_query_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTERs, never batch mode: on SQLite batch mode may rebuild the table, which loses
    # what reflection cannot copy (0007's search triggers and expression indexes).
    op.add_column("event", sa.Column("join_link_private", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("event", "join_link_private")
