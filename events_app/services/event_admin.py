"""Creating and changing events: the organizer-side rules.

Subscribed calendars only refresh an event when its iCal SEQUENCE goes up, so every change to
its time, place or status bumps `Event.sequence` (which fields count is the SEQUENCE rule in
models.py); any change at all bumps `updated_at`, which feed and page caches key on. Every
change is written to the audit trail in the same transaction.

Who opens the write transaction: the services. The organizer pages call the functions that
take the organizer and the event's slug (`new_event`, `edit`, `copy`, `set_published`,
`cancel_event`); each opens one write transaction, finds the event among those the organizer
may manage, locks its row (services/locking.py) and applies the change, its e-mails and its
audit entry together, so a refused change leaves nothing half-written. The functions taking a
`session` are the steps they are made of (and what tests and the seed data compose).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from events_app.db import write_session
from events_app.i18n import N_, gettext
from events_app.models import (
    Event,
    EventHost,
    EventStatus,
    Organizer,
    moves_calendar_entry,
    utcnow,
)
from events_app.services import (
    access,
    attendee_mail,
    audit,
    audit_detail,
    event_text,
    locking,
    organizers,
    rsvp,
)
from events_app.services.event_form import EVENT_COLUMNS, EventData
from events_app.util.forms import Form, FormError, parse_form, text

SLUG_MAX = 80
CancelMessage = text(2000, multiline=True)


T = TypeVar("T")


class EventNotFound(LookupError):
    """No event of that slug among those the organizer may manage (a 404 for them)."""


def _on_managed_event(actor: Organizer, slug: str, work: Callable[[Session, Event], T]) -> T:
    """Run `work` on the event in one write transaction, its row locked and freshly read so
    the change and the checks it depends on (capacity vs. seats taken) see committed values
    and no RSVP is booked in between."""
    with write_session() as session:
        found = access.get_event(session, actor, slug)
        event = locking.lock_event(session, found.id or 0) if found is not None else None
        if event is None:
            raise EventNotFound(slug)
        return work(session, event)


class EventStateError(ValueError):
    """An action that does not apply to the event as it is now (e.g. publishing a cancelled
    event); the message is shown to the organizer as is, so it is translated where it is
    raised (gettext in the request's language, as FormError messages are)."""


def slugify(title: str) -> str:
    """A readable ASCII slug from any title ("Café Town-Hall!" -> "cafe-town-hall")."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-") or "event"


def unique_slug(session: Session, title: str, own: Event | None = None) -> str:
    """The title's slug, or the same with the lowest free numeric suffix (`own`: the event
    being renamed, whose current slug does not count as taken)."""
    base = slugify(title)
    query = select(Event.slug).where((Event.slug == base) | col(Event.slug).startswith(f"{base}-"))
    if own is not None and own.id is not None:
        query = query.where(Event.id != own.id)
    taken = set(session.exec(query).all())
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def insert_with_unique_slug(session: Session, event: Event) -> None:
    """Insert, retrying with a random suffix if a concurrent create took the same slug."""
    for attempt in range(5):
        if attempt:
            event.slug = f"{slugify(event.title)[:SLUG_MAX - 7]}-{secrets.token_hex(3)}"
        try:
            with session.begin_nested():
                session.add(event)
                session.flush()
            return
        except IntegrityError:
            continue  # the savepoint rollback expunged the pending row; try another slug
    raise RuntimeError("could not find a free slug")  # pragma: no cover - 5 random collisions


def cohost_emails(session: Session, event: Event) -> list[str]:
    return list(session.exec(
        select(Organizer.email)
        .join(EventHost, col(EventHost.organizer_id) == Organizer.id)
        .where(EventHost.event_id == event.id)
        .order_by(Organizer.email)
    ).all())


def set_cohosts(session: Session, event: Event, emails: tuple[str, ...],
                known: list[str] | None = None) -> tuple[list[str], list[str]] | None:
    """Make the co-host list exactly `emails`; returns (old, new) when it changed. `known`:
    the list as `cohost_emails` gives it, when the caller read it already (a series edit
    reads every row's in one query)."""
    found = organizers.find_by_emails(session, emails)
    missing = [e for e in emails if e not in found or not found[e].is_active]
    if missing:
        raise FormError({"cohosts": gettext("No active organizer account for %(email)s.") % {
            "email": missing[0]}})
    old = known if known is not None else cohost_emails(session, event)
    new = sorted(e for e in emails if found[e].id != event.owner_id)
    if old == new:
        return None
    for host in session.exec(select(EventHost).where(EventHost.event_id == event.id)).all():
        session.delete(host)
    session.flush()
    for e in new:
        session.add(EventHost(event_id=event.id, organizer_id=found[e].id))
    return old, new


def same(old: Any, new: Any) -> bool:
    """Equal as far as the form can tell: it shows times to the minute, so an event stored
    with seconds (seeded or imported) is not "moved" by saving the form unchanged."""
    if isinstance(old, datetime) and isinstance(new, datetime):
        return old.replace(second=0, microsecond=0) == new
    return bool(old == new)


def bump(event: Event, significant: bool) -> None:
    event.updated_at = utcnow()
    if significant:
        event.sequence += 1


def create_event(session: Session, actor: Organizer, data: EventData,
                 publish: bool = False) -> Event:
    """A new event owned by `actor`, a draft unless `publish`."""
    event = Event(
        **data.column_values(),
        slug=unique_slug(session, data.title),
        owner_id=actor.id,
        status=EventStatus.PUBLISHED.value if publish else EventStatus.DRAFT.value,
    )
    insert_with_unique_slug(session, event)
    set_cohosts(session, event, data.cohosts)
    texts = data.translation_texts()
    if texts:
        event_text.save_translations(session, event, texts)
    languages = sorted(lang for lang, given in (texts or {}).items() if any(given.values()))
    detail = [audit_detail.line(
        N_("%(title)s (%(status)s), slug %(slug)s"), title=event.title,
        status=audit_detail.code("event status", event.status), slug=event.slug)]
    if languages:
        detail.append(audit_detail.line(N_("also in: %(languages)s"),
                                        languages=", ".join(languages)))
    audit.record(session, actor, "event.create", event, detail)
    return event


def translation_changes(session: Session, event: Event,
                        texts: dict[str, dict[str, str]] | None) -> dict[str, tuple[Any, Any]]:
    """Store the event's text in other languages (services/event_text.py); what changed as
    {"title (es)": (old, new)} for the audit entry, empty when nothing did."""
    if not texts:
        return {}
    stored = event_text.translations_of(session, event)
    before = {(lang, f): getattr(stored.get(lang), f, "") for lang in texts
              for f in event_text.FIELDS}
    if not event_text.save_translations(session, event, texts):
        return {}
    return {f"{f} ({lang})": (old, texts[lang].get(f, "")) for (lang, f), old in before.items()
            if old != texts[lang].get(f, "")}


def slug_follows_title(event: Event) -> bool:
    """A draft never published has no public address anyone could have kept (link, feed,
    e-mail), so its slug is renamed with its title; from the first publication on it is
    stable. (Unpublishing sets `unpublished_at`, publishing clears it: a draft without it has
    never been public.)"""
    return event.status == EventStatus.DRAFT and event.unpublished_at is None


class EventChanges(dict[str, tuple[Any, Any]]):
    """What an edit changed ({field: (old, new)}, empty when nothing did), and how many
    attendees were e-mailed about it."""

    notified: int = 0

    @property
    def moves_calendar_entry(self) -> bool:
        """A new time or place: subscribers' calendars must update (models' SEQUENCE rule)."""
        return moves_calendar_entry(self)


def update_event(session: Session, actor: Organizer, event: Event, data: EventData,
                 notify_attendees: bool = False, own_edit: bool = True,
                 known_cohosts: list[str] | None = None) -> EventChanges:
    """Apply an edit; returns what changed.

    An occurrence of a series edited on its own (`own_edit`, the event's own form) becomes
    `detached`: edits of the whole series then leave the fields it has different alone
    (services/series.py, which passes own_edit=False for its series-wide edits).

    `known_cohosts`: the event's co-hosts as `cohost_emails` gives them, when the caller
    has them already (see `set_cohosts`).

    With `notify_attendees`, a new time or place of a published upcoming event is e-mailed to
    everyone who RSVP'd, in this transaction (see attendee_mail.notify_event_changed).

    The capacity rules are the RSVP service's: it refuses a capacity below the confirmed
    seats (locking the event row, so no RSVP is booked between the check and the commit) and
    confirms waitlisted parties that fit after a raise.
    """
    new_values = data.column_values()
    changes = EventChanges({k: (getattr(event, k), v) for k, v in new_values.items()
                            if not same(getattr(event, k), v)})
    host_change = set_cohosts(session, event, data.cohosts, known_cohosts)
    if host_change:
        changes["co-hosts"] = (", ".join(host_change[0]), ", ".join(host_change[1]))
    changes.update(translation_changes(session, event, data.translation_texts()))
    if not changes:
        return changes
    for k in changes.keys() & set(EVENT_COLUMNS) - {"capacity"}:
        setattr(event, k, new_values[k])
    if own_edit and event.series_id is not None:
        event.detached = True
    if "title" in changes and slug_follows_title(event):
        new_slug = unique_slug(session, event.title, own=event)
        if new_slug != event.slug:
            changes["slug"] = (event.slug, new_slug)
            event.slug = new_slug
    # Keeping the join link for confirmed attendees changes what every public feed shows
    # (LOCATION, DESCRIPTION): subscribed calendars must drop the link they already hold, so
    # SEQUENCE goes up; nobody is e-mailed, since no time or place moved.
    bump(event, significant=moves_calendar_entry(changes) or "join_link_private" in changes)
    session.add(event)
    try:
        if "capacity" in changes:
            promoted = rsvp.change_capacity(session, event, data.capacity)
        elif "waitlist_enabled" in changes:
            promoted = rsvp.promote_waitlist(session, event)
        else:
            promoted = []
    except rsvp.RsvpError as exc:
        raise FormError({exc.field or "capacity": exc.message}) from None
    if notify_attendees:
        changes.notified = attendee_mail.notify_event_changed(session, event, changes)
    if promoted:
        changes["confirmed from the waitlist"] = ("", ", ".join(p.name for p in promoted))
    detail = audit_detail.describe_changes(changes)
    if changes.notified:
        detail.append(audit_detail.line(N_("attendees e-mailed about the change: %(num)s"),
                                        num=changes.notified))
    audit.record(session, actor, "event.update", event, detail)
    return changes


def _weeks_later(instant: datetime, tzid: str, weeks: int) -> datetime:
    """The same wall-clock time `weeks` weeks later in the event's zone (6 pm stays 6 pm
    across a DST change); a time the clocks skip that day moves on by the jump."""
    zone = ZoneInfo(tzid)
    local = instant.astimezone(zone).replace(tzinfo=None) + timedelta(weeks=weeks)
    return local.replace(tzinfo=zone).astimezone(UTC)


def next_week_slot(event: Event, now: datetime | None = None) -> int:
    """How many weeks on a copy of `event` is proposed: one (the same weekday next week), or
    as many as it takes to start in the future when the original is long past."""
    now = now or utcnow()
    weeks = 1
    if event.starts_at + timedelta(weeks=1) <= now:
        weeks = (now - event.starts_at).days // 7 + 1
        while event.starts_at + timedelta(weeks=weeks) <= now:
            weeks += 1
    return weeks


def duplicate_event(session: Session, actor: Organizer, event: Event,
                    now: datetime | None = None) -> Event:
    """A draft copy for the next occurrence: same details on the same weekday one week later
    (or the first such day still ahead), no RSVPs, fresh UID and slug."""
    values = {k: getattr(event, k) for k in EVENT_COLUMNS}
    weeks = next_week_slot(event, now)
    for k in ("starts_at", "ends_at", "rsvp_deadline"):
        if values[k] is not None:
            values[k] = _weeks_later(values[k], event.timezone, weeks)
    copy = Event(**values, slug=unique_slug(session, event.title), owner_id=actor.id,
                 status=EventStatus.DRAFT.value)
    insert_with_unique_slug(session, copy)
    event_text.copy_translations(session, event, copy)
    hosts = set(cohost_emails(session, event))
    if event.owner_id != actor.id and event.owner_id is not None:
        owner = session.get(Organizer, event.owner_id)
        if owner is not None and owner.is_active:
            hosts.add(owner.email)  # the original owner keeps access to the copy
    set_cohosts(session, copy, tuple(sorted(hosts)))
    audit.record(session, actor, "event.duplicate", copy,
                 [audit_detail.line(N_("copied from %(slug)s"), slug=event.slug)])
    return copy


def _set_status(session: Session, actor: Organizer, event: Event, status: EventStatus,
                action: str) -> None:
    old = event.status
    event.status = status.value
    bump(event, significant=True)
    session.add(event)
    audit.record(session, actor, action, event, _status_change(old, status.value))


def _status_change(old: str, new: str) -> list[audit_detail.Line]:
    return [audit_detail.line(N_("status: %(old)s -> %(new)s"),
                              old=audit_detail.code("event status", old),
                              new=audit_detail.code("event status", new))]


def publish(session: Session, actor: Organizer, event: Event) -> None:
    if event.status == EventStatus.PUBLISHED:
        return
    if event.status == EventStatus.CANCELLED:
        raise EventStateError(gettext("A cancelled event cannot be published again. "
                                      "Duplicate it to schedule it anew."))
    event.unpublished_at = None
    _set_status(session, actor, event, EventStatus.PUBLISHED, "event.publish")


def unpublish(session: Session, actor: Organizer, event: Event) -> None:
    if event.status == EventStatus.DRAFT:
        return
    if event.status == EventStatus.CANCELLED:
        raise EventStateError(gettext("This event is cancelled; it stays listed as cancelled so "
                                      "attendees and calendars see that."))
    # Subscribed calendars hold it already: feeds keep it as cancelled for a while.
    event.unpublished_at = utcnow()
    _set_status(session, actor, event, EventStatus.DRAFT, "event.unpublish")


class CancelForm(Form):
    message: CancelMessage = None


def cancel(session: Session, actor: Organizer, event: Event, message: str) -> int:
    """Cancel the event and e-mail everyone confirmed or waitlisted; returns how many.

    RSVPs keep their status, so the attendee list still shows who was coming.
    """
    if event.status == EventStatus.CANCELLED:
        raise EventStateError(gettext("This event is already cancelled."))
    message = parse_form(CancelForm, {"message": message}).message
    event.cancel_message = message
    event.cancelled_at = utcnow()
    _set_status(session, actor, event, EventStatus.CANCELLED, "event.cancel")
    return attendee_mail.notify_event_cancelled(session, event, message)


def uncancel(session: Session, actor: Organizer, event: Event) -> int:
    """Undo a cancellation: the event is published again (SEQUENCE goes up, so subscribed
    calendars show it confirmed again), and everyone who was e-mailed that it was cancelled
    and still holds their RSVP is told it is back on. Returns how many were e-mailed."""
    if event.status != EventStatus.CANCELLED:
        raise EventStateError(gettext("This event is not cancelled."))
    cancelled_at = event.cancelled_at
    event.status = EventStatus.PUBLISHED.value
    event.cancel_message = ""
    event.cancelled_at = None
    event.unpublished_at = None
    bump(event, significant=True)
    session.add(event)
    told = attendee_mail.notify_event_uncancelled(session, event, cancelled_at)
    detail = _status_change(EventStatus.CANCELLED.value, EventStatus.PUBLISHED.value)
    if told:
        detail.append(audit_detail.line(N_("attendees e-mailed that it is back on: %(num)s"),
                                        num=told))
    audit.record(session, actor, "event.uncancel", event, detail)
    return told


# --- Own transaction: what the organizer pages call -----------------------------------------

def new_event(actor: Organizer, data: EventData, publish: bool = False) -> Event:
    """`create_event` in its own write transaction."""
    with write_session() as session:
        return create_event(session, actor, data, publish=publish)


def edit(actor: Organizer, slug: str, data: EventData,
         notify_attendees: bool = False) -> tuple[Event, EventChanges]:
    """`update_event` on a managed event in its own write transaction (EventNotFound)."""
    return _on_managed_event(actor, slug, lambda session, event: (
        event, update_event(session, actor, event, data, notify_attendees=notify_attendees)))


def copy(actor: Organizer, slug: str) -> Event:
    """`duplicate_event` of a managed event in its own write transaction (EventNotFound)."""
    return _on_managed_event(actor, slug,
                             lambda session, event: duplicate_event(session, actor, event))


def set_published(actor: Organizer, slug: str, published: bool) -> Event:
    """Publish or unpublish a managed event in its own write transaction (EventNotFound,
    EventStateError)."""
    def work(session: Session, event: Event) -> Event:
        (publish if published else unpublish)(session, actor, event)
        return event

    return _on_managed_event(actor, slug, work)


def uncancel_event(actor: Organizer, slug: str) -> tuple[Event, int]:
    """`uncancel` a managed event in its own write transaction; returns it and how many
    attendees were e-mailed (EventNotFound, EventStateError)."""
    return _on_managed_event(actor, slug, lambda session, event: (
        event, uncancel(session, actor, event)))


def cancel_event(actor: Organizer, slug: str, message: str) -> tuple[Event, int]:
    """`cancel` a managed event in its own write transaction; returns it and how many
    attendees were e-mailed (EventNotFound, EventStateError, FormError)."""
    return _on_managed_event(actor, slug, lambda session, event: (
        event, cancel(session, actor, event, message)))
