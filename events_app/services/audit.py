"""The audit trail: who changed which event or RSVP, and when.

Entries are written in the same transaction as the change they describe, so the trail can
never claim a change that was rolled back, nor miss one that committed. The RSVP service's
own-transaction actions (force_confirm, remove_rsvp) take the acting organizer and write
their entry inside that transaction for the same reason.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from events_app.models import AuditLog, Event, Organizer, Rsvp
from events_app.util import paging

MAX_DETAIL = 4000


def _show(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe_changes(changes: dict[str, tuple[Any, Any]]) -> str:
    """`{"title": (old, new)}` as "title: 'old' -> 'new'" lines, for people reading the log."""
    return "\n".join(f"{k}: {_show(old)} -> {_show(new)}" for k, (old, new) in changes.items())


def command_line_actor() -> str:
    """Who acts when no account does: the command line, named by the server user running it
    (the person at the server's shell is the one accountable)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (some containers)
        user = ""
    return f"Command line ({user})" if user else "Command line"


def record(session: Session, actor: Organizer | None, action: str, entity: Event | Rsvp |
           Organizer, detail: str = "") -> AuditLog:
    """`actor` None means the command line (see `command_line_actor`)."""
    entry = AuditLog(
        actor_id=actor.id if actor else None,
        actor_label="" if actor else command_line_actor()[:200],
        action=action,
        entity_type=type(entity).__name__.lower(),
        entity_id=entity.id,
        detail=detail[:MAX_DETAIL],
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditRow:
    entry: AuditLog
    actor_name: str
    actor_email: str
    subject: str  # the event title, attendee name or organizer name the entry is about


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    page: int
    pages: int
    total: int


def _subjects(session: Session, entries: list[AuditLog]) -> dict[tuple[str, int], str]:
    """Look up a readable name for each entity, in one query per entity type."""
    wanted: dict[str, set[int]] = {}
    for e in entries:
        if e.entity_id is not None:
            wanted.setdefault(e.entity_type, set()).add(e.entity_id)
    names: dict[tuple[str, int], str] = {}
    if ids := wanted.get("event"):
        for eid, title in session.exec(select(Event.id, Event.title)
                                       .where(col(Event.id).in_(ids))):
            names[("event", eid)] = title
    if ids := wanted.get("rsvp"):
        rows = session.exec(select(Rsvp.id, Rsvp.name, Event.title)
                            .join(Event, col(Event.id) == Rsvp.event_id)
                            .where(col(Rsvp.id).in_(ids)))
        for rid, name, title in rows:
            names[("rsvp", rid)] = f"{name} ({title})"
    if ids := wanted.get("organizer"):
        for oid, name in session.exec(select(Organizer.id, Organizer.name)
                                      .where(col(Organizer.id).in_(ids))):
            names[("organizer", oid)] = name
    return names


def list_entries(session: Session, page: int = 1, page_size: int = 50,
                 event_id: int | None = None) -> AuditPage:
    """Newest first; optionally only one event and its RSVPs."""
    conds = []
    if event_id is not None:
        rsvp_ids = select(Rsvp.id).where(Rsvp.event_id == event_id)
        conds.append(
            ((AuditLog.entity_type == "event") & (AuditLog.entity_id == event_id))
            | ((AuditLog.entity_type == "rsvp") & col(AuditLog.entity_id).in_(rsvp_ids))
        )
    total = session.exec(select(func.count()).select_from(AuditLog).where(*conds)).one()
    win = paging.window(total, page, page_size)
    rows = session.exec(
        select(AuditLog, Organizer.name, Organizer.email)
        .outerjoin(Organizer, col(Organizer.id) == AuditLog.actor_id)
        .where(*conds)
        .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
        .offset(win.offset)
        .limit(win.size)
    ).all()
    entries = [r[0] for r in rows]
    subjects = _subjects(session, entries)
    return AuditPage(
        rows=[
            AuditRow(entry=e, actor_name=name or "(deleted account)", actor_email=mail or "",
                     subject=subjects.get((e.entity_type, e.entity_id or 0), f"#{e.entity_id}"))
            for e, name, mail in rows
        ],
        page=win.page, pages=win.pages, total=total,
    )
