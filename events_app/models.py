"""Database tables and the small pure helpers that belong to them.

All timestamps are stored as aware UTC datetimes; an event's wall-clock time is derived from
its UTC instants and its IANA `timezone`, so DST changes never shift a stored event.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from events_app import i18n
from events_app.i18n import N_


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_token() -> str:
    """256 random bits: manage links must not be guessable or derived from ids/e-mails."""
    return secrets.token_urlsafe(32)


_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_token_shaped(value: str) -> bool:
    """Whether `value` could be a token from new_token() (URL-safe base64, within the column).

    Anything else matches no stored token, so lookups answer "not found" without a query,
    which also keeps NUL and other bytes PostgreSQL refuses away from the database.
    """
    return _TOKEN_RE.fullmatch(value) is not None


def new_uid() -> str:
    """An iCal UID fixed at creation, independent of title or slug, so it survives edits."""
    return f"{uuid.uuid4()}@events-app"


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class RsvpStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Role(StrEnum):
    ADMIN = "admin"
    ORGANIZER = "organizer"


# Categories offered in forms and filters; the column is free text so it stays extensible.
# The labels are English (feeds, CSV); pages show them translated (web/templating.py).
CATEGORIES: dict[str, str] = {
    "protest": N_("Protest"),
    "rally": N_("Rally"),
    "briefing": N_("Policy briefing"),
    "town-hall": N_("Town hall"),
    "training": N_("Training"),
    "meeting": N_("Meeting"),
    "webinar": N_("Webinar"),
    "call": N_("Call"),
}


def category_label(slug: str) -> str:
    return CATEGORIES.get(slug, slug.replace("-", " ").title())


class Organizer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)  # stored lower-cased
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    role: str = Field(default=Role.ORGANIZER.value, max_length=20)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    # Two-factor sign-in (TOTP): a secret is set when enrolment starts and counts only once
    # `totp_enabled_at` is set (after the organizer confirmed a code from their app).
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_enabled_at: datetime | None = None
    # The last accepted TOTP time step: a code seen once is never accepted again (replay).
    totp_last_step: int | None = None
    # The language the organizer uses the site in (set when the account is made and at each
    # sign-in): invitations and password resets are written in it (services/messages.py).
    language: str = Field(default_factory=i18n.current, max_length=16,
                          sa_column_kwargs={"server_default": "en"})

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    @property
    def has_password(self) -> bool:
        """False for an invited account whose owner has not yet set a password."""
        return bool(self.password_hash)


class SessionStage(StrEnum):
    """How far a sign-in has got. Only SIGNED_IN opens the workspace."""

    TWO_FACTOR = "2fa"  # password right, the TOTP/recovery code still to come
    ENROL = "enrol"  # password right, two-factor required by the site but not set up yet
    SIGNED_IN = "ok"


class OrganizerSession(SQLModel, table=True):
    """A server-side organizer session: deleting the row ends it everywhere at once.

    The browser holds a random token; only its SHA-256 is stored, so a copy of the table
    (a backup, a read-only SQL injection) does not hand out live sessions.
    """

    __tablename__ = "organizer_session"
    id: str = Field(primary_key=True, max_length=64)  # sha256(cookie token), hex
    organizer_id: int = Field(foreign_key="organizer.id", index=True, ondelete="CASCADE")
    stage: str = Field(default=SessionStage.SIGNED_IN.value, max_length=10)
    # Forms of this session carry HMAC(SECRET_KEY, csrf_secret): a token fetched by anyone
    # else (another session, or an anonymous visitor with a planted cookie) does not match.
    csrf_secret: str = Field(default_factory=new_token, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)  # absolute end (SESSION_MAX_AGE after sign-in)
    flashes: str = Field(default="", max_length=4000)  # JSON list of [kind, text]


class RecoveryCode(SQLModel, table=True):
    """Single-use codes for signing in without the authenticator app; only hashes are kept."""

    __tablename__ = "recovery_code"
    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", index=True, ondelete="CASCADE")
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None


class AccountLinkPurpose(StrEnum):
    INVITE = "invite"  # a new account: set your first password
    RESET = "reset"  # "forgot password": set a new one


class AccountLink(SQLModel, table=True):
    """A one-time link e-mailed to an organizer to set a password (services/account_links.py).

    Only the SHA-256 of the link's random token is stored, so a copy of the table hands out
    no working links; a link is spent (`used_at`) when it sets a password, and a newer link
    for the same account deletes the older ones.
    """

    __tablename__ = "account_link"
    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", index=True, ondelete="CASCADE")
    purpose: str = Field(max_length=10)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class SiteSetting(SQLModel, table=True):
    """Settings admins change from the workspace (not the environment), e.g. requiring
    two-factor sign-in for every organizer."""

    __tablename__ = "site_setting"
    key: str = Field(primary_key=True, max_length=60)
    value: str = Field(default="", max_length=200)


# The SEQUENCE rule. Calendar apps keep the copy of an event they already have unless its iCal
# SEQUENCE goes up, and attendees hold it as a .ics no feed refreshes; so a change to these
# fields (the ones that move the entry in someone's calendar) bumps `Event.sequence` and is
# what attendees may be e-mailed about. Other edits (title, description, capacity) only bump
# `updated_at`, which caches key on. Status changes bump SEQUENCE too (see event_admin).
TIME_FIELDS = frozenset({"starts_at", "ends_at", "timezone", "all_day"})
PLACE_FIELDS = frozenset({"venue_name", "street_address", "city", "region", "postal_code",
                          "latitude", "longitude", "online_url"})
SEQUENCE_FIELDS = TIME_FIELDS | PLACE_FIELDS


def moves_calendar_entry(changed: Iterable[str]) -> bool:
    """Whether an edit of these fields must reach subscribers (bumps SEQUENCE)."""
    return not SEQUENCE_FIELDS.isdisjoint(changed)


class Series(SQLModel, table=True):
    """A recurring event: its rule, and the one VEVENT (RRULE) the feeds write for it.

    Occurrences are ordinary `Event` rows pointing here (`Event.series_id`), created ahead by
    services/series.py up to `generated_until` and extended by `events-app extend-series`
    (cron), so capacity, RSVPs, waitlist, check-in and CSV work per occurrence unchanged.
    The wall-clock start (`first_start` read in `timezone`) is kept across DST changes: 7 PM
    stays 7 PM local, and the UTC instants are derived per occurrence.
    """

    __tablename__ = "series"
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(default_factory=new_uid, max_length=120, unique=True)
    # RFC 5545 RRULE value without DTSTART, e.g. "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=..."
    rrule: str = Field(max_length=500)
    timezone: str = Field(max_length=64)
    first_start: datetime  # UTC: the rule's DTSTART (the first occurrence as scheduled)
    duration_minutes: int  # all-day series: whole days x 1440
    all_day: bool = Field(default=False)
    # Skipped dates (holidays), local ISO dates separated by commas: EXDATE in the feed.
    skipped: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # The public may RSVP to every upcoming occurrence at once (each its own RSVP).
    rsvp_all: bool = Field(default=False)
    # Occurrence rows exist for every instance of the rule starting before this instant.
    generated_until: datetime | None = None
    sequence: int = Field(default=0)  # SEQUENCE of the series' VEVENT
    owner_id: int | None = Field(default=None, foreign_key="organizer.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def skipped_dates(self) -> list[date]:
        return [date.fromisoformat(d) for d in self.skipped.split(",") if d]


class Event(SQLModel, table=True):
    __table_args__ = (
        Index("ix_event_status_starts_at", "status", "starts_at"),
        Index("ix_event_status_ends_at", "status", "ends_at"),
        # Migration 0007: the filters match lower(city) / lower(category); the span (longest
        # event, services/spans.py) differs per dialect; search (services/event_search.py)
        # uses pg_trgm GIN indexes on PostgreSQL and, on SQLite, an FTS5 table that lives
        # outside the models (migrations/env.py leaves it out of the comparison).
        Index("ix_event_city_lower_starts_at", text("lower(city)"), "starts_at"),
        Index("ix_event_city_status", "city", "status"),
        Index("ix_event_starts_at_id_status_ends_at", "starts_at", "id", "status", "ends_at"),
        Index("ix_event_category_lower_starts_at", text("lower(category)"), "starts_at"),
        # Migration 0018: a list filtered by city AND category, counted and paged from the
        # index alone (status and ends_at in it) instead of reading every row of the city.
        # PostgreSQL reads an index alone only if it holds the columns lower() is applied to.
        Index("ix_event_place_starts_at", text("lower(city)"), text("lower(category)"),
              "starts_at", "id", "status", "ends_at", postgresql_include=["city", "category"]),
        Index("ix_event_span", text("(ends_at - starts_at)")).ddl_if(dialect="postgresql"),
        Index("ix_event_span", text("(julianday(ends_at) - julianday(starts_at))")
              ).ddl_if(dialect="sqlite"),
        *(Index(f"ix_event_{c}_trgm", text(f"lower({c}) gin_trgm_ops"),
                postgresql_using="gin").ddl_if(dialect="postgresql")
          for c in ("title", "summary", "description", "venue_name", "city", "host_name")),
        Index("ix_event_owner_starts", "owner_id", "starts_at"),  # an organizer's dashboard
        Index("ix_event_owner_id_id", "owner_id", "id"),  # "events I may manage", index-only
        Index("ix_event_ends_starts", "ends_at", "starts_at"),  # "not over yet", counted
        # One row per instance of a series: generating occurrences twice (two cron runs at
        # once) cannot create a duplicate.
        Index("uq_event_series_recurrence", "series_id", "recurrence_id", unique=True),
        Index("ix_event_series_starts", "series_id", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True, index=True)
    uid: str = Field(default_factory=new_uid, max_length=120, unique=True)
    title: str = Field(max_length=200)
    summary: str = Field(default="", max_length=500)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    category: str = Field(default="meeting", max_length=40, index=True)
    starts_at: datetime = Field(index=True)  # UTC
    ends_at: datetime  # UTC; for all-day events the exclusive end (midnight after last day)
    timezone: str = Field(default="America/New_York", max_length=64)
    all_day: bool = Field(default=False)
    venue_name: str = Field(default="", max_length=200)
    street_address: str = Field(default="", max_length=200)
    city: str = Field(default="", max_length=100, index=True)
    region: str = Field(default="", max_length=100)
    postal_code: str = Field(default="", max_length=20)
    latitude: float | None = None
    longitude: float | None = None
    online_url: str = Field(default="", max_length=500)
    # The organizer keeps the join link for confirmed attendees (their manage page, e-mails
    # and personal feed): public pages, the API and public feeds only say "online".
    join_link_private: bool = Field(default=False)
    host_name: str = Field(default="", max_length=200)
    capacity: int | None = None  # None: unlimited
    max_guests: int = Field(default=4)
    waitlist_enabled: bool = Field(default=True)
    rsvp_deadline: datetime | None = None  # UTC; RSVPs also close when the event starts
    status: str = Field(default=EventStatus.DRAFT.value, max_length=20, index=True)
    cancel_message: str = Field(default="", max_length=2000)
    cancelled_at: datetime | None = None
    # Set when a published event goes back to draft, cleared when it is published again:
    # feeds keep such an event as cancelled for a while (never-published drafts: never).
    unpublished_at: datetime | None = None
    owner_id: int | None = Field(default=None, foreign_key="organizer.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    sequence: int = Field(default=0)  # iCal SEQUENCE, bumped on time/place/status edits
    # An occurrence of a recurring series (services/series.py); None for a single event.
    series_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("series.id", name="fk_event_series_id"), nullable=True))
    # The UTC start the series' rule gave this occurrence (its RECURRENCE-ID in feeds); it
    # stays when the occurrence alone is moved.
    recurrence_id: datetime | None = None
    # Edited on its own ("this occurrence only"): the feed writes it as an overriding VEVENT,
    # and edits of the whole series leave the fields it changed alone.
    detached: bool = Field(default=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_occurrence(self) -> bool:
        return self.series_id is not None

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.tz)

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.tz)

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    def has_ended(self, now: datetime | None = None) -> bool:
        """Over: the event page says so and offers no RSVP or calendar entry any more."""
        return (now or utcnow()) >= self.ends_at

    @property
    def is_online_only(self) -> bool:
        return bool(self.online_url) and not (self.street_address or self.venue_name)

    @property
    def public_online_url(self) -> str:
        """The join link as anyone may see it: empty when it is for confirmed attendees only."""
        return "" if self.join_link_private else self.online_url

    def join_url_for(self, confirmed: bool) -> str:
        """The join link for a reader who is (or is not) a confirmed attendee."""
        return self.online_url if confirmed else self.public_online_url

    @property
    def has_map(self) -> bool:
        """Whether there is a place to show on a map (online-only events have none)."""
        return not self.is_online_only and bool(
            self.address_line or (self.latitude is not None and self.longitude is not None))

    @property
    def address_line(self) -> str:
        return address_line(self.street_address, self.city, self.region, self.postal_code)


def address_line(street_address: str, city: str, region: str, postal_code: str) -> str:
    """'12 Main St, St. Louis, MO 63101'; also used for an event's previous address, which
    the change e-mail shows next to the new one."""
    region_postal = " ".join(p for p in (region, postal_code) if p)
    return ", ".join(p for p in (street_address, city, region_postal) if p)


class EventText(SQLModel, table=True):
    """An event's title, summary and description in a language other than the site's
    DEFAULT_LANGUAGE, which the Event row itself is written in (services/event_text.py reads
    and writes these). An empty field was not given: readers fall back to the event's own
    text and mark it with its language. Deleted with its event (the foreign key cascades)."""

    __tablename__ = "event_text"
    # Search (services/event_search.py) finds events by these texts too: pg_trgm GIN indexes
    # on PostgreSQL, an FTS5 table kept by triggers on SQLite (migration 0015).
    __table_args__ = tuple(
        Index(f"ix_event_text_{c}_trgm", text(f"lower({c}) gin_trgm_ops"),
              postgresql_using="gin").ddl_if(dialect="postgresql")
        for c in ("title", "summary", "description"))
    event_id: int = Field(foreign_key="event.id", primary_key=True, ondelete="CASCADE")
    language: str = Field(primary_key=True, max_length=8)
    title: str = Field(default="", max_length=200)
    summary: str = Field(default="", max_length=500)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class EventHost(SQLModel, table=True):
    """Co-hosts: organizers other than the owner who may manage an event."""

    __tablename__ = "event_host"
    # "Events I co-host" for the dashboard; the primary key starts with event_id.
    __table_args__ = (Index("ix_event_host_organizer", "organizer_id", "event_id"),)
    event_id: int = Field(foreign_key="event.id", primary_key=True, ondelete="CASCADE")
    organizer_id: int = Field(foreign_key="organizer.id", primary_key=True, ondelete="CASCADE")


class Rsvp(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("event_id", "email", name="uq_rsvp_event_email"),
        # Every count of seats (services/rsvp.py: each RSVP post, under the event's lock) sums
        # 1 + guests per status of one event: read from this index alone, not the table rows.
        Index("ix_rsvp_event_status_guests", "event_id", "status", "guests"),
        # The door's "checked in" / "not yet" filters and sorts, and RSVP-time order.
        Index("ix_rsvp_event_checked_in", "event_id", "checked_in_at"),
        Index("ix_rsvp_event_created", "event_id", "created_at"),
        # The attendee list's default order (name, ignoring case): a page is read in order
        # from the index instead of sorting all of a 5,000-person event's rows.
        Index("ix_rsvp_event_name", "event_id", text("lower(name)"), "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", ondelete="CASCADE")
    token: str = Field(default_factory=new_token, max_length=64, unique=True, index=True)
    name: str = Field(max_length=120)
    email: str = Field(max_length=254, index=True)  # stored lower-cased
    phone: str = Field(default="", max_length=40)
    guests: int = Field(default=0)
    comment: str = Field(default="", max_length=1000)
    status: str = Field(default=RsvpStatus.CONFIRMED.value, max_length=20)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Waitlist order: parties are promoted by (waitlisted_at, id).
    waitlisted_at: datetime | None = None
    promoted_at: datetime | None = None
    cancelled_at: datetime | None = None
    checked_in_at: datetime | None = None
    # How many of the party arrived (1..seats) once checked in, 0 before: the door can check
    # in two of a party of three and the third later. checked_in_at is the first arrival.
    checked_in_seats: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    reminder_sent_at: datetime | None = None
    # When the manage link, which only ever travels by e-mail, was first opened: proof that
    # the address's inbox got it. Only such RSVPs appear in that address's personal feed, so
    # typing someone else's address into a form never adds to (or reveals) their calendar.
    verified_at: datetime | None = None
    # When name, e-mail, phone and comment were erased (retention, or the person asked); the
    # row stays, with its status, party size and check-in time, for counts and statistics.
    erased_at: datetime | None = None
    # The language of the page the RSVP was made on (the request's, i18n.current()): the
    # person's e-mails about it are written in it (services/messages.py).
    language: str = Field(default_factory=i18n.current, max_length=16,
                          sa_column_kwargs={"server_default": "en"})

    @property
    def seats(self) -> int:
        return 1 + self.guests

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class PersonalFeed(SQLModel, table=True):
    """The private "my events" calendar link of one e-mail address.

    Its token is separate from every manage link and read-only: it can show the address's
    verified RSVPs and nothing else, and it is only ever sent to that address by e-mail.
    Rotating it (from any manage page of the address) replaces the token.
    """

    __tablename__ = "personal_feed"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)  # in forms.normalize_email's form
    token: str = Field(default_factory=new_token, max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class Outbox(SQLModel, table=True):
    """Every e-mail is written here first, in the same transaction as the change it reports,
    so a crash or an SMTP outage never loses a message; `send-outbox` delivers and retries."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    to_addr: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    ics: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # An organizer's own message is answered to the organizer, not to the site's MAIL_FROM.
    reply_to: str = Field(default="", max_length=320)
    # The language the message is written in (its Content-Language header); "" for messages
    # queued before 0016_outbox_language, which go out without the header.
    language: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})
    # Unique when set: makes "exactly once" (e.g. one reminder per attendee) a DB guarantee.
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    rsvp_id: int | None = Field(default=None, foreign_key="rsvp.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = Field(default=None, index=True)
    # Not before this instant: a sender's claim (lease) while it talks SMTP, or the back-off
    # after a failure. NULL means "due now".
    next_attempt_at: datetime | None = None
    attempts: int = Field(default=0)
    last_error: str = Field(default="", max_length=2000)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="organizer.id", ondelete="SET NULL")
    # Who acted when no account did: the command line records the server user running it.
    actor_label: str = Field(default="", max_length=200)
    action: str = Field(max_length=60)
    entity_type: str = Field(max_length=30)
    entity_id: int | None = None
    detail: str = Field(default="", max_length=4000)


class ThrottleBucket(SQLModel, table=True):
    """One counter row per rate-limited key (an IP, an account, an account+client pair).

    Kept in the database (not process memory) so limits hold across worker processes and
    hosts; `services.throttle` locks the row before deciding, so parallel requests queue up
    on it instead of all reading the same old count.
    """

    __tablename__ = "throttle_bucket"
    key: str = Field(primary_key=True, max_length=200)
    count: int = Field(default=0)
    window_start: datetime = Field(default_factory=utcnow)
    blocked_until: datetime | None = Field(default=None, index=True)


class DataVersion(SQLModel, table=True):
    """What every process's caches of public output are valid for (services/data_version.py).

    One row per (kind, stripe): a write bumps one random stripe of its kind with a fresh random
    token in its own transaction, so concurrent writers rarely wait on the same row, and a
    reader gets the version from a few primary-key rows, however many events there are.
    Kind "event_seats" is per event instead (stripe = the event's id): the state of its RSVPs,
    read only by primary key (data_version.seats_of), never as part of the site-wide version.
    """

    __tablename__ = "data_version"
    kind: str = Field(primary_key=True, max_length=16)
    stripe: int = Field(primary_key=True)
    token: str = Field(max_length=32)
    changed_at: datetime = Field(default_factory=utcnow)
