"""Site-wide switches that admins flip in the workspace (stored in the database, so every
worker process sees a change at once, without a restart or access to the server)."""

from __future__ import annotations

from sqlmodel import Session

from events_app.db import dialect_insert
from events_app.models import SiteSetting


def get_flag(session: Session, key: str) -> bool:
    row = session.get(SiteSetting, key)
    return row is not None and row.value == "1"


def set_flag(session: Session, key: str, value: bool) -> None:
    stmt = dialect_insert(session, SiteSetting).values(key=key, value="1" if value else "0")
    session.exec(stmt.on_conflict_do_update(  # type: ignore[call-overload]
        index_elements=["key"], set_={"value": stmt.excluded.value}))
