"""Who may manage which event: owners and co-hosts their own, admins everything.

Every organizer page and action looks events up through here, so an event the organizer may
not manage is simply "not found" for them: pages, CSV exports and POST actions alike.
"""

from __future__ import annotations

from sqlalchemy import exists, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from events_app.models import Event, EventHost, Organizer, Role
from events_app.util.forms import has_control_chars


def is_admin(organizer: Organizer) -> bool:
    return organizer.role == Role.ADMIN.value


def manageable(organizer: Organizer, stmt: SelectOfScalar[Event]) -> SelectOfScalar[Event]:
    """Restrict a select of events to those `organizer` may manage."""
    if is_admin(organizer):
        return stmt
    cohost = exists().where(EventHost.event_id == Event.id,
                            EventHost.organizer_id == organizer.id)
    return stmt.where(or_(Event.owner_id == organizer.id, cohost))


def get_event(session: Session, organizer: Organizer, slug: str) -> Event | None:
    """The event with this slug if `organizer` may manage it, else None (locking, when a
    change needs it, is services/locking.py's)."""
    if len(slug) > 120 or has_control_chars(slug):
        return None  # cannot be a stored slug (and PostgreSQL refuses NUL in a query)
    stmt = manageable(organizer, select(Event).where(Event.slug == slug))
    return session.exec(stmt).first()


def can_manage(session: Session, organizer: Organizer, event: Event) -> bool:
    return session.exec(
        manageable(organizer, select(Event).where(col(Event.id) == event.id))
    ).first() is not None
