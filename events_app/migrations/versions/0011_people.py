"""one-time account links, reply-to on e-mails, who acted from the command line

Revision ID: 0011_people
Revises: 0010_door
Create Date: 2026-11-25 20:15:00

- account_link: invitation and password-reset links (only the token's SHA-256 is stored).
- outbox.reply_to: an organizer's message to attendees is answered to the organizer.
- audit_log.actor_label: the command line's entries name the server user who ran it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011_people"
down_revision: str | None = "0010_door"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TS = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "account_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("purpose", _STR(length=10), nullable=False),
        sa.Column("token_hash", _STR(length=64), nullable=False),
        sa.Column("created_at", _TS(), nullable=False),
        sa.Column("expires_at", _TS(), nullable=False),
        sa.Column("used_at", _TS(), nullable=True),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("account_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_link_organizer_id"), ["organizer_id"],
                              unique=False)
    # Plain ALTERs (see 0009_join_link): no table is rebuilt on SQLite.
    op.add_column("outbox", sa.Column("reply_to", _STR(length=320), nullable=False,
                                      server_default=""))
    op.add_column("audit_log", sa.Column("actor_label", _STR(length=200), nullable=False,
                                         server_default=""))


def downgrade() -> None:
    op.drop_column("audit_log", "actor_label")
    op.drop_column("outbox", "reply_to")
    with op.batch_alter_table("account_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_link_organizer_id"))
    op.drop_table("account_link")
