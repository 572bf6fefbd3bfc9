"""Loading the demo calendar from `seed/events.json`.

Dates in the file are offsets from today, so the demo never goes stale. Loading is keyed on
the slug (a series: on its UID) and never overwrites an existing event: running it twice
changes nothing, and an organizer's edits to a demo event survive a re-seed. A series record
is an event record (its first date) plus `uid` and `repeat` (series_rules.Rule's fields); its
dates are made by services/series.py as an organizer's would be. A record's `texts`
({"es": {title, summary, description}}) is its text in other languages
(services/event_text.py), so the demo shows Spanish readers translated and fallback text.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from events_app import settings
from events_app.models import Event, EventStatus, Organizer, Role, Series, utcnow
from events_app.services import event_text
from events_app.services.event_form import EVENT_COLUMNS, EventData, translation_tuple
from events_app.services.series_rules import Rule
from events_app.util.timezones import standard_wall_time

DEFAULT_SEED_FILE = settings.SEED_DIR / "events.json"


def _event_from_record(rec: dict[str, Any], today: date, owner_id: int | None = None) -> Event:
    tz = ZoneInfo(rec["timezone"])
    day = today + timedelta(days=int(rec["day_offset"]))
    if rec.get("all_day"):
        # All-day events span whole local days; the stored end is the exclusive next midnight.
        start_local = standard_wall_time(datetime.combine(day, time.min), tz)
        days = max(1, int(rec.get("duration_minutes", 1440)) // 1440)
        end_local = standard_wall_time(datetime.combine(day + timedelta(days=days), time.min), tz)
    else:
        hh, mm = (int(x) for x in rec["start"].split(":"))
        start_local = standard_wall_time(datetime.combine(day, time(hh, mm)), tz)
        # Add the duration in UTC so an event crossing a DST change keeps its real length.
        end_local = start_local + timedelta(minutes=int(rec["duration_minutes"]))
    status = rec.get("status", EventStatus.PUBLISHED.value)
    now = utcnow()
    return Event(
        slug=rec["slug"],
        title=rec["title"],
        summary=rec.get("summary", ""),
        description=rec.get("description", ""),
        category=rec.get("category", "meeting"),
        starts_at=start_local.astimezone(UTC),
        ends_at=end_local.astimezone(UTC),
        timezone=rec["timezone"],
        all_day=bool(rec.get("all_day", False)),
        venue_name=rec.get("venue_name", ""),
        street_address=rec.get("street_address", ""),
        city=rec.get("city", ""),
        region=rec.get("region", ""),
        postal_code=rec.get("postal_code", ""),
        latitude=rec.get("latitude"),
        longitude=rec.get("longitude"),
        online_url=rec.get("online_url", ""),
        host_name=rec.get("host_name", ""),
        capacity=rec.get("capacity"),
        max_guests=int(rec.get("max_guests", 4)),
        status=status,
        cancel_message=rec.get("cancel_message", ""),
        cancelled_at=now if status == EventStatus.CANCELLED.value else None,
        sequence=1 if status == EventStatus.CANCELLED.value else 0,
        owner_id=owner_id,
    )


def _texts(rec: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The record's text in the other languages this site has (others are ignored)."""
    return {lang: texts for lang, texts in rec.get("texts", {}).items()
            if lang in event_text.translated_languages()}


def load_records(path: Path = DEFAULT_SEED_FILE) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(data["events"])


def load_series_records(path: Path = DEFAULT_SEED_FILE) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(data.get("series", []))


def _add_series(session: Session, rec: dict[str, Any], today: date,
                owner: Organizer | None) -> int:
    """One demo series; returns how many occurrences it got."""
    # Imported here: series -> event_admin -> organizers -> seed (the first admin adopts the
    # demo events) would otherwise be a cycle.
    from events_app.services import series as series_service

    first = _event_from_record(rec, today)
    data = EventData(**{k: getattr(first, k) for k in EVENT_COLUMNS},
                     translations=translation_tuple(_texts(rec)) if _texts(rec) else None)
    repeat = dict(rec["repeat"])
    repeat["weekdays"] = tuple(repeat.get("weekdays", ()))
    made = series_service.create_series(
        session, owner, data, Rule(**repeat),
        publish=rec.get("status", EventStatus.PUBLISHED.value) == EventStatus.PUBLISHED.value,
        rsvp_all=bool(rec.get("rsvp_all")), uid=rec["uid"])
    return len(series_service.occurrences(session, made))


def first_admin(session: Session) -> Organizer | None:
    """The admin created first (the one `create-organizer --admin` made at set-up)."""
    return session.exec(select(Organizer).where(Organizer.role == Role.ADMIN.value)
                        .order_by(col(Organizer.id)).limit(1)).first()


def adopt_unowned_events(session: Session, organizer: Organizer) -> int:
    """Give `organizer` the events nobody owns (demo events loaded before any account
    existed), so they show as theirs on the dashboard; returns how many. Without such
    events no UPDATE runs, so an account that adopts nothing changes no public version."""
    unowned_series = select(Series.id).where(col(Series.owner_id).is_(None)).limit(1)
    if session.exec(unowned_series).first() is not None:
        session.exec(update(Series).where(col(Series.owner_id).is_(None))  # type: ignore[call-overload]
                     .values(owner_id=organizer.id))
    unowned = select(Event.id).where(col(Event.owner_id).is_(None)).limit(1)
    if session.exec(unowned).first() is None:
        return 0
    result = session.exec(update(Event).where(col(Event.owner_id).is_(None))  # type: ignore[call-overload]
                          .values(owner_id=organizer.id))
    return int(result.rowcount or 0)


def seed(session: Session, path: Path = DEFAULT_SEED_FILE, today: date | None = None) -> int:
    """Insert the demo events whose slugs are not stored yet; returns how many were added.

    They belong to the first admin when there is one; otherwise the first admin created
    later takes them over (organizers.create_organizer), so no demo event stays unowned.
    """
    today = today or datetime.now(ZoneInfo(settings.DEFAULT_TIMEZONE)).date()
    admin = first_admin(session)
    existing = set(session.exec(select(Event.slug)).all())
    added = 0
    for rec in load_records(path):
        if rec["slug"] in existing:
            continue
        event = _event_from_record(rec, today, admin.id if admin else None)
        session.add(event)
        if _texts(rec):
            session.flush()
            event_text.insert_translations(session, event, _texts(rec))
        existing.add(rec["slug"])
        added += 1
    stored = set(session.exec(select(Series.uid)).all())
    for rec in load_series_records(path):
        if rec["uid"] not in stored:
            added += _add_series(session, rec, today, admin)
    return added


def has_events(session: Session) -> bool:
    return session.exec(select(Event.id).limit(1)).first() is not None
