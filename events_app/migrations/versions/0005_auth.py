"""organizer sessions, two-factor sign-in, site settings, atomic throttle counters

Revision ID: 0005_auth
Revises: 0004_privacy
Create Date: 2026-11-25 17:30:00

- organizer_session: server-side sessions (sign-out and "sign out everywhere" end them).
- organizer.totp_*: TOTP two-factor; recovery_code: single-use codes, hashed.
- site_setting: switches admins flip in the workspace (require two-factor).
- throttle_bucket replaces throttle_hit: one counter row per key, locked while deciding, so
  parallel requests cannot all pass a limit. Old hits only matter for minutes: not copied.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005_auth"
down_revision: str | None = "0004_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TS = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("organizer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", _STR(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", _TS(), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))

    op.create_table(
        "organizer_session",
        sa.Column("id", _STR(length=64), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("stage", _STR(length=10), nullable=False),
        sa.Column("csrf_secret", _STR(length=64), nullable=False),
        sa.Column("created_at", _TS(), nullable=False),
        sa.Column("last_seen_at", _TS(), nullable=False),
        sa.Column("expires_at", _TS(), nullable=False),
        sa.Column("flashes", _STR(length=4000), nullable=False),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("organizer_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organizer_session_organizer_id"),
                              ["organizer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_organizer_session_expires_at"),
                              ["expires_at"], unique=False)

    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", _STR(length=64), nullable=False),
        sa.Column("created_at", _TS(), nullable=False),
        sa.Column("used_at", _TS(), nullable=True),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_code_organizer_id"), ["organizer_id"],
                              unique=False)

    op.create_table(
        "site_setting",
        sa.Column("key", _STR(length=60), nullable=False),
        sa.Column("value", _STR(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )

    op.create_table(
        "throttle_bucket",
        sa.Column("key", _STR(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_start", _TS(), nullable=False),
        sa.Column("blocked_until", _TS(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("throttle_bucket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_throttle_bucket_blocked_until"),
                              ["blocked_until"], unique=False)

    with op.batch_alter_table("throttle_hit", schema=None) as batch_op:
        batch_op.drop_index("ix_throttle_key_at")
    op.drop_table("throttle_hit")


def downgrade() -> None:
    op.create_table(
        "throttle_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", _STR(length=200), nullable=False),
        sa.Column("at", _TS(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("throttle_hit", schema=None) as batch_op:
        batch_op.create_index("ix_throttle_key_at", ["key", "at"], unique=False)
    with op.batch_alter_table("throttle_bucket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_throttle_bucket_blocked_until"))
    op.drop_table("throttle_bucket")
    op.drop_table("site_setting")
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_code_organizer_id"))
    op.drop_table("recovery_code")
    with op.batch_alter_table("organizer_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organizer_session_expires_at"))
        batch_op.drop_index(batch_op.f("ix_organizer_session_organizer_id"))
    op.drop_table("organizer_session")
    with op.batch_alter_table("organizer", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret")
