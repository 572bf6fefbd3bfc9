"""e-mail language: the language each person uses, so their e-mails are written in it

Revision ID: 0013_language
Revises: 0012_series
Create Date: 2026-11-26 00:00:00

- rsvp.language: the language of the page the person RSVP'd on; their confirmation,
  waitlist, promotion, change, cancellation and reminder e-mails are written in it.
- organizer.language: the language the organizer last used the site in (set at creation
  and at sign-in); invitations and password resets are written in it.
Rows from before this migration were made on an English-only site: "en".
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013_language"
down_revision: str | None = "0012_series"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    # Plain ALTERs, never batch mode (see 0009_join_link): no table is rebuilt on SQLite.
    op.add_column("rsvp", sa.Column("language", _STR(length=16), nullable=False,
                                    server_default="en"))
    op.add_column("organizer", sa.Column("language", _STR(length=16), nullable=False,
                                         server_default="en"))


def downgrade() -> None:
    op.drop_column("organizer", "language")
    op.drop_column("rsvp", "language")
