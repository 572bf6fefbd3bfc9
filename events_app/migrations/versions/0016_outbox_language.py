"""outbox.language: the language each queued e-mail is written in

Revision ID: 0016_outbox_language
Revises: 0014_owner_event_ids
Create Date: 2026-11-26 02:40:00

The sender writes it as the message's Content-Language header (RFC 3282), so mail clients
and screen readers read it in the right language and offer translation only when it is
not the reader's. Messages queued before this migration were written before the outbox
knew their language: "" (no header), rather than guessing.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016_outbox_language"
down_revision: str | None = "0015_event_text"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    # A plain ALTER, never batch mode (see 0009_join_link): no table is rebuilt on SQLite.
    op.add_column("outbox", sa.Column("language", _STR(length=16), nullable=False,
                                      server_default=""))


def downgrade() -> None:
    op.drop_column("outbox", "language")
