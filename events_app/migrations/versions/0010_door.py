"""door tools: partial check-in, indexes for the organizer's dashboard and attendee list

Revision ID: 0010_door
Revises: 0009_join_link
Create Date: 2026-11-25 20:30:00

- rsvp.checked_in_seats: how many people of a checked-in party arrived (2 of 3). Zero when
  the party is not checked in; parties checked in before this migration arrived whole.
- ix_rsvp_event_checked_in (event_id, checked_in_at): the door's "checked in" / "not yet"
  filters and the check-in sort read one event's slice of the index, not its whole list.
- ix_rsvp_event_created (event_id, created_at): the attendee list sorted by RSVP time pages
  through the index instead of sorting the event's RSVPs.
- ix_rsvp_event_name (event_id, lower(name), id): the list's default order, A-Z ignoring
  case, read from the index a page at a time instead of sorting the event's every row.
- ix_event_host_organizer (organizer_id, event_id): "events I co-host" (the dashboard of an
  organizer) without reading every co-host row; the primary key starts with event_id.
- ix_event_owner_starts (owner_id, starts_at): an organizer's own events in date order.
- ix_event_ends_starts (ends_at, starts_at): the dashboard's "not over yet" events counted,
  and their earliest start found, from the index alone (an admin sees every event).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_door"
down_revision: str | None = "0009_join_link"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTERs (see 0009_join_link): no table is rebuilt on SQLite.
    op.add_column("rsvp", sa.Column("checked_in_seats", sa.Integer(), nullable=False,
                                    server_default="0"))
    op.create_index("ix_rsvp_event_checked_in", "rsvp", ["event_id", "checked_in_at"])
    op.create_index("ix_rsvp_event_created", "rsvp", ["event_id", "created_at"])
    op.create_index("ix_rsvp_event_name", "rsvp", ["event_id", sa.text("lower(name)"), "id"])
    op.execute("UPDATE rsvp SET checked_in_seats = guests + 1 WHERE checked_in_at IS NOT NULL")
    op.create_index("ix_event_host_organizer", "event_host", ["organizer_id", "event_id"])
    op.create_index("ix_event_owner_starts", "event", ["owner_id", "starts_at"])
    op.create_index("ix_event_ends_starts", "event", ["ends_at", "starts_at"])


def downgrade() -> None:
    op.drop_index("ix_event_ends_starts", table_name="event")
    op.drop_index("ix_event_owner_starts", table_name="event")
    op.drop_index("ix_event_host_organizer", table_name="event_host")
    op.drop_index("ix_rsvp_event_name", table_name="rsvp")
    op.drop_index("ix_rsvp_event_created", table_name="rsvp")
    op.drop_index("ix_rsvp_event_checked_in", table_name="rsvp")
    op.drop_column("rsvp", "checked_in_seats")
