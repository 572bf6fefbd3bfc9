"""Which events a feed holds: the public feed (optionally filtered) and a person's own feed.

Drafts never appear. Published events stay from PAST_DAYS ago onwards; cancelled ones stay
CANCELLED_KEEP_DAYS after their cancellation, so subscribed calendars see STATUS:CANCELLED
and drop or mark their copy rather than keep a stale one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from events_app import settings
from events_app.models import (
    Event,
    EventStatus,
    Rsvp,
    RsvpStatus,
    category_label,
)
from events_app.services.feeds import FeedEntry, render_calendar

PAST_DAYS = 30
CANCELLED_KEEP_DAYS = 30


@dataclass(frozen=True)
class FeedFilter:
    """A public feed's filters in canonical form: sorted and de-duplicated, so each filtered
    feed has one stable URL and one cache entry whatever order the parameters came in."""

    categories: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()

    @classmethod
    def of(cls, categories: Iterable[str], cities: Iterable[str]) -> FeedFilter:
        cats = sorted({c.strip() for c in categories if c.strip()})
        # Cities match case-insensitively (as on the list page); keep one spelling per city.
        by_lower: dict[str, str] = {}
        for c in cities:
            c = c.strip()
            if c:
                by_lower.setdefault(c.lower(), c)
        return cls(tuple(cats), tuple(by_lower[k] for k in sorted(by_lower)))

    @property
    def is_empty(self) -> bool:
        return not (self.categories or self.cities)

    def key(self) -> str:
        return "c=" + ",".join(self.categories) + ";t=" + ",".join(c.lower() for c in self.cities)


def window_start(now: datetime) -> datetime:
    """Start of the feed window: midnight UTC, PAST_DAYS ago.

    Rounded to the day so the window (and so the cached feed) changes once a day, not on
    every request: events leave the feed between PAST_DAYS and PAST_DAYS + 1 days after they
    end, and cancelled events the same after their cancellation.
    """
    today = datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)
    return today - timedelta(days=PAST_DAYS)


def _visible_conditions(now: datetime) -> list:
    cutoff = window_start(now)
    cancel_cutoff = cutoff + timedelta(days=PAST_DAYS - CANCELLED_KEEP_DAYS)
    cancelled_since = func.coalesce(Event.cancelled_at, Event.updated_at)
    return [
        col(Event.ends_at) >= cutoff,
        or_(
            Event.status == EventStatus.PUBLISHED.value,
            (Event.status == EventStatus.CANCELLED.value) & (cancelled_since >= cancel_cutoff),
        ),
    ]


def feed_events(session: Session, flt: FeedFilter, now: datetime) -> list[Event]:
    """Published events from the window start on, plus recently cancelled ones; never drafts."""
    conds = _visible_conditions(now)
    if flt.categories:
        conds.append(col(Event.category).in_(flt.categories))
    if flt.cities:
        conds.append(func.lower(Event.city).in_([c.lower() for c in flt.cities]))
    stmt = select(Event).where(*conds).order_by(col(Event.starts_at), col(Event.id))
    return list(session.exec(stmt).all())


def feed_title(flt: FeedFilter) -> tuple[str, str]:
    """Calendar name and description; a filtered feed says what it is filtered to."""
    scope = ", ".join([*(category_label(c) for c in flt.categories), *flt.cities])
    name = f"{settings.SITE_NAME} ({scope})" if scope else settings.SITE_NAME
    return name, settings.SITE_DESCRIPTION


def render_public_feed(session: Session, flt: FeedFilter, now: datetime) -> bytes:
    name, description = feed_title(flt)
    return render_calendar(feed_events(session, flt, now), name, description)


# --- The personal feed -----------------------------------------------------------------------

def personal_entries(session: Session, email: str, now: datetime) -> list[FeedEntry]:
    """Events this person is confirmed or waitlisted for, across the RSVPs verified through
    their inbox (Rsvp.verified_at): one that someone else typed their address into, and that
    they never opened, stays out. The key is the address's feed token (personal_feeds)."""
    stmt = (
        select(Event, Rsvp.status)
        .join(Rsvp, col(Rsvp.event_id) == col(Event.id))
        .where(
            Rsvp.email == email,
            col(Rsvp.verified_at).is_not(None),
            col(Rsvp.status).in_((RsvpStatus.CONFIRMED.value, RsvpStatus.WAITLISTED.value)),
            *_visible_conditions(now),
        )
        .order_by(col(Event.starts_at), col(Event.id))
    )
    entries = []
    for event, status in session.exec(stmt).all():
        waitlisted = status == RsvpStatus.WAITLISTED.value
        note = "You are on the waitlist for this event." if waitlisted else ""
        entries.append(FeedEntry(event, note=note, tentative=waitlisted))
    return entries


def personal_version(session: Session, email: str) -> tuple[str, int]:
    """A fingerprint of this person's RSVPs: a promotion from the waitlist or a cancellation
    changes their feed without touching any event row."""
    latest, count = session.exec(
        select(func.max(Rsvp.updated_at), func.count(Rsvp.id)).where(Rsvp.email == email)
    ).one()
    return (latest.isoformat() if latest else "", int(count))


def render_personal_feed(session: Session, email: str, now: datetime) -> bytes:
    name = f"My events · {settings.SITE_NAME}"
    description = "Events you have RSVPed to (confirmed or on the waitlist)."
    return render_calendar(personal_entries(session, email, now), name, description)
