"""Recurring series: a rule (services/series_rules.py) turned into ordinary Event rows.

Each occurrence is an Event row with `series_id` and `recurrence_id` (the UTC start the rule
gave it), so capacity, RSVPs, waitlist, check-in and CSV work per occurrence unchanged. Rows are
created up to `settings.SERIES_HORIZON_DAYS` ahead when a series is made or its rule changes,
and `extend_all` (cron: `events-app extend-series`) keeps that window moving. The unique index
on (series_id, recurrence_id) plus a lock on the series row make extending safe to run twice
at once.

What a series' rows share comes from its *template*: the latest occurrence not edited on its
own (`template_event`); the series row itself holds only what the feed's RRULE needs (rule,
timezone, first start, duration, skipped dates). A change that would make one VEVENT describe
two different things splits the series instead, as calendar apps do for "this and following":
the old series ends before the split (its RRULE gets an UNTIL) and a new series (new UID)
carries the rest, with every row, RSVP and check-in kept. Dates already started are history
(check-ins, attendee lists): edits, cancellations, skips and rule changes of the series leave
them as they were (only a change of co-hosts, which is access, reaches them).

Rows no rule instance stands for any more (a skipped date, a date a new rule drops) are
deleted when nobody ever RSVP'd; otherwise they are cancelled (attendees e-mailed, METHOD:CANCEL)
and leave the series as single cancelled events, so their attendee lists and CSV stay and
every feed still agrees with the site: the series writes an EXDATE for the date, the
cancelled event stands on its own with its own UID.

Transactions: the functions taking the organizer (`new_series`, `edit`, `cancel`, `skip`,
`change_rule`, `duplicate`, `convert`, `set_published`) each open one write transaction, like
services/event_admin.py's, and lock the series row first, then event rows, then RSVPs (the
order every other writer keeps), so a refused change leaves nothing half-written.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from events_app import settings, timefmt
from events_app.db import in_write_transaction, read_session, write_session
from events_app.i18n import N_, gettext
from events_app.models import (
    Event,
    EventHost,
    EventStatus,
    Organizer,
    Rsvp,
    Series,
    moves_calendar_entry,
    new_uid,
    utcnow,
)
from events_app.services import (
    access,
    attendee_mail,
    audit,
    audit_detail,
    event_admin,
    event_text,
    locking,
)
from events_app.services.event_admin import EventNotFound, EventStateError, same, slugify
from events_app.services.event_form import EVENT_COLUMNS, EventData, translation_tuple
from events_app.services.series_rules import (
    Rule,
    describe,
    instance_starts,
    limit_errors,
    place,
)
from events_app.util.forms import FormError

T = TypeVar("T")
log = logging.getLogger(__name__)
_TIMES = ("starts_at", "ends_at", "rsvp_deadline")
# Columns copied from the template to a new occurrence (times come from the rule).
_COPIED = tuple(k for k in EVENT_COLUMNS if k not in _TIMES)


class Scope(StrEnum):
    """Which occurrences an edit or a cancellation applies to."""

    ONE = "one"
    FOLLOWING = "following"
    ALL = "all"


class SeriesNotFound(EventNotFound):
    """No series of that id among those the organizer may manage (a 404 for them)."""


# --- Reading ---------------------------------------------------------------------------------

def rule_of(series: Series) -> Rule:
    return Rule.from_rrule(series.rrule, series.tz)


def start_local(series: Series) -> datetime:
    """The first start as the wall-clock time every occurrence keeps."""
    return series.first_start.astimezone(series.tz)


def describe_series(series: Series, with_end: bool = False) -> str:
    """"Repeats every second Tuesday" (with `with_end`: ", until June 1, 2027")."""
    return describe(rule_of(series), start_local(series), with_end=with_end)


def get_series(session: Session, series_id: int) -> Series | None:
    return session.get(Series, series_id)


def series_map(session: Session, ids: Iterable[int | None]) -> dict[int, Series]:
    """The series of many occurrences in one query (lists, feeds: no query per row)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {x.id: x for x in session.exec(select(Series).where(col(Series.id).in_(wanted)))
            if x.id is not None}


def rule_starts(series: Series, until_utc: datetime | None = None) -> list[datetime]:
    """Every start the rule gives (skipped dates included: the feed's EXDATEs are those with
    no row), before `until_utc` if given."""
    return instance_starts(rule_of(series), start_local(series), until_utc=until_utc)


def occurrences(session: Session, series: Series, upcoming_only: bool = False,
                now: datetime | None = None) -> list[Event]:
    """The series' rows by start; `upcoming_only`: those not over yet."""
    stmt = select(Event).where(Event.series_id == series.id)
    if upcoming_only:
        stmt = stmt.where(Event.ends_at > (now or utcnow()))
    return list(session.exec(stmt.order_by(col(Event.starts_at), col(Event.id))).all())


def other_dates(session: Session, event: Event, limit: int = 6,
                now: datetime | None = None) -> list[Event]:
    """The series' other published occurrences still to start, nearest first (the
    occurrence page's "other dates"); [] for a single event."""
    if event.series_id is None:
        return []
    return list(session.exec(
        select(Event).where(Event.series_id == event.series_id, Event.id != event.id,
                            Event.status == EventStatus.PUBLISHED.value,
                            Event.starts_at > (now or utcnow()))
        .order_by(col(Event.starts_at)).limit(limit)).all())


def template_event(session: Session, series: Series) -> Event | None:
    """The occurrence whose details new occurrences copy and the feed's series VEVENT shows:
    the latest not edited on its own and not cancelled (else the latest not cancelled)."""
    base = select(Event).where(Event.series_id == series.id,
                               Event.status != EventStatus.CANCELLED.value)
    order = (col(Event.recurrence_id).desc(),)
    return (session.exec(base.where(col(Event.detached).is_(False)).order_by(*order)
                         .limit(1)).first()
            or session.exec(base.order_by(*order).limit(1)).first())


def can_manage(session: Session, actor: Organizer, series: Series) -> bool:
    """Admins, the series' owner, and the co-hosts of the series as a whole (those of its
    template occurrence): a co-host added to one date manages that date only."""
    if access.is_admin(actor) or (series.owner_id is not None and series.owner_id == actor.id):
        return True
    template = template_event(session, series)
    if template is not None:
        return access.can_manage(session, actor, template)
    stmt = access.manageable(actor, select(Event).where(Event.series_id == series.id))
    return session.exec(stmt.limit(1)).first() is not None


# --- Steps (caller's transaction) -------------------------------------------------------------

def horizon(now: datetime | None = None) -> datetime:
    return (now or utcnow()) + timedelta(days=settings.SERIES_HORIZON_DAYS)


def lock_series(session: Session, series_id: int) -> Series | None:
    """The series with its row locked and re-read (the first lock any series change takes),
    then every occurrence's row, in id order (locking.lock_events). A change may write any
    of them, one by one in date order (event_admin, rsvp, attendee_mail lock as they go),
    while an RSVP to every date locks them in id order: holding them all first, in that
    one order, leaves no cycle for two such transactions to deadlock in on PostgreSQL."""
    if not in_write_transaction(session):
        raise locking.LockOutsideWriteTransaction("locking a series needs db.write_session()")
    series = session.exec(select(Series).where(Series.id == series_id).with_for_update()
                          .execution_options(populate_existing=True)).first()
    if series is not None:
        locking.lock_events(session, list(session.exec(
            select(Event.id).where(Event.series_id == series_id)).all()))
    return series


@dataclass(frozen=True)
class _Template:
    """What a new occurrence copies: the columns, status, deadline lead, co-hosts and the
    text in other languages ({lang: {title, summary, description}})."""

    values: dict[str, Any]
    status: str
    deadline_before: timedelta | None
    cohost_ids: tuple[int, ...] = ()
    translations: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, session: Session, event: Event, status: str | None = None) -> _Template:
        hosts = session.exec(select(EventHost.organizer_id)
                             .where(EventHost.event_id == event.id)).all()
        lead = (event.starts_at - event.rsvp_deadline) if event.rsvp_deadline else None
        texts = event_text.texts_of_events(session, [event]).get(event.id or 0, {})
        return cls({k: getattr(event, k) for k in _COPIED}, status or event.status, lead,
                   tuple(sorted(hosts)), texts)


def _minutes(starts_at: datetime, ends_at: datetime, tz: ZoneInfo, all_day: bool) -> int:
    if all_day:
        days = (ends_at.astimezone(tz).date() - starts_at.astimezone(tz).date()).days
        return max(1, days) * 1440
    return max(1, round((ends_at - starts_at).total_seconds() / 60))


def occurrence_times(series: Series, instant: datetime) -> tuple[datetime, datetime]:
    """Start and end of the occurrence the rule starts at `instant`: the series' length in
    real time, or for an all-day series whole local days (midnight to midnight)."""
    if series.all_day:
        day = instant.astimezone(series.tz).date()
        days = max(1, series.duration_minutes // 1440)
        return instant, place(datetime.combine(day + timedelta(days=days), time()), series.tz)
    return instant, instant + timedelta(minutes=series.duration_minutes)


def _taken_slugs(session: Session, base: str) -> set[str]:
    return set(session.exec(select(Event.slug).where(col(Event.slug).startswith(base))).all())


def _slug(taken: set[str], base: str, day: date) -> str:
    """"<title>-2027-01-12", numbered if taken: readable, and dated like the occurrence."""
    slug = f"{base[:event_admin.SLUG_MAX - 11]}-{day.isoformat()}"
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _insert_rows(session: Session, series: Series, tmpl: _Template,
                 instants: Iterable[datetime]) -> list[Event]:
    base = slugify(tmpl.values["title"])
    taken = _taken_slugs(session, base)
    rows = []
    for instant in instants:
        start, end = occurrence_times(series, instant)
        deadline = start - tmpl.deadline_before if tmpl.deadline_before is not None else None
        values = {**tmpl.values, "all_day": series.all_day, "timezone": series.timezone}
        event = Event(**values, starts_at=start, ends_at=end, rsvp_deadline=deadline,
                      slug=_slug(taken, base, instant.astimezone(series.tz).date()),
                      owner_id=series.owner_id, status=tmpl.status, series_id=series.id,
                      recurrence_id=instant)
        event_admin.insert_with_unique_slug(session, event)
        event_text.insert_translations(session, event, tmpl.translations)
        for organizer_id in tmpl.cohost_ids:
            session.add(EventHost(event_id=event.id, organizer_id=organizer_id))
        rows.append(event)
    return rows


def _wanted(series: Series, rule: Rule, since: datetime | None, until: datetime) -> list[datetime]:
    """The rule's instances in [since, until) that are not skipped."""
    skipped = set(series.skipped_dates)
    return [i for i in instance_starts(rule, start_local(series), until_utc=until)
            if (since is None or i >= since) and i.astimezone(series.tz).date() not in skipped]


def extend(session: Session, series: Series, now: datetime | None = None) -> list[Event]:
    """Create the rows the rule gives between `generated_until` and the horizon (the series
    row locked by the caller). Nothing when every occurrence is cancelled: there is no
    template to copy and nothing anyone would come to."""
    until = horizon(now)
    if series.generated_until is not None and series.generated_until >= until:
        return []
    wanted = _wanted(series, rule_of(series), series.generated_until, until)
    if not wanted:
        return []
    template = template_event(session, series)
    if template is None:
        return []
    existing = set(session.exec(select(Event.recurrence_id).where(
        Event.series_id == series.id, col(Event.recurrence_id).in_(wanted))).all())
    rows = _insert_rows(session, series, _Template.of(session, template),
                        [i for i in wanted if i not in existing])
    series.generated_until = until
    session.add(series)
    if rows:
        last = rows[-1].starts_at.astimezone(series.tz).date()
        _audit(session, None, series, "series.extend",
               audit_detail.line(N_("%(num)s date(s) added, up to %(day)s"), num=len(rows),
                                 day=audit_detail.day(last)), subject=rows[0])
    return rows


def _check_rule(rule: Rule, local: datetime) -> Rule:
    rule = rule.resolved(local)
    errors = limit_errors(rule, local)
    if errors:
        raise FormError(errors)
    return rule


def create_series(session: Session, actor: Organizer | None, data: EventData, rule: Rule,
                  publish: bool = False, rsvp_all: bool = False, uid: str | None = None,
                  now: datetime | None = None) -> Series:
    """A new series from the event form's values (its first occurrence's) and a rule; rows
    up to the horizon. The first date is the rule's first instance on or after the form's
    start (a form start the rule does not match moves to it). FormError for a rule over the
    limits, unknown co-hosts. `actor` None: the command line (seed)."""
    zone = ZoneInfo(data.timezone)
    local = data.starts_at.astimezone(zone)
    rule = _check_rule(rule, local)
    first = instance_starts(rule, local, limit=1)[0]
    series = Series(uid=uid or new_uid(), rrule=rule.to_rrule(first.astimezone(zone)),
                    timezone=data.timezone, first_start=first,
                    duration_minutes=_minutes(data.starts_at, data.ends_at, zone, data.all_day),
                    all_day=data.all_day, rsvp_all=rsvp_all,
                    owner_id=actor.id if actor else None)
    session.add(series)
    session.flush()
    lead = (data.starts_at - data.rsvp_deadline) if data.rsvp_deadline else None
    status = (EventStatus.PUBLISHED if publish else EventStatus.DRAFT).value
    tmpl = _Template({k: getattr(data, k) for k in _COPIED}, status, lead,
                     translations=data.translation_texts() or {})
    until = horizon(now)
    wanted = _wanted(series, rule, None, until) or [first]
    head = _insert_rows(session, series, tmpl, wanted[:1])[0]
    event_admin.set_cohosts(session, head, data.cohosts)  # FormError for unknown co-hosts
    session.flush()
    tmpl = _Template.of(session, head)
    rows = [head, *_insert_rows(session, series, tmpl, wanted[1:])]
    series.generated_until = until
    audit.record(session, actor, "series.create", head, [audit_detail.line(
        N_("%(rule)s: %(num)s date(s) (%(status)s), series %(uid)s"), rule=_rule_value(series),
        num=len(rows), status=audit_detail.code("event status", head.status), uid=series.uid)])
    return series


def _rows(session: Session, series: Series) -> list[Event]:
    return list(session.exec(select(Event).where(Event.series_id == series.id)
                             .order_by(col(Event.recurrence_id))).all())


def _has_rsvps(session: Session, event: Event) -> bool:
    return session.exec(select(Rsvp.id).where(Rsvp.event_id == event.id).limit(1)).first() \
        is not None


def _remove(session: Session, actor: Organizer, event: Event, message: str) -> int:
    """Take a row out of its series (see the module docstring); returns how many attendees
    were e-mailed."""
    if not _has_rsvps(session, event):
        session.execute(delete(EventHost).where(col(EventHost.event_id) == event.id))
        session.delete(event)
        session.flush()
        return 0
    told = 0
    if event.status != EventStatus.CANCELLED:
        told = event_admin.cancel(session, actor, event, message)
    event.series_id = None
    event.recurrence_id = None
    event.detached = False
    session.add(event)
    return told


def split(session: Session, actor: Organizer | None, series: Series, at: datetime) -> Series:
    """End `series` before the instance `at` and return a new series (new UID) holding `at`
    and every later instance and row; `series` itself when `at` is its first instance."""
    rule, zone = rule_of(series), series.tz
    before = instance_starts(rule, start_local(series), until_utc=at)
    if not before:
        return series
    at_local = at.astimezone(zone)
    later = replace(rule, count=max(1, rule.count - len(before))) if rule.count else rule
    skipped = series.skipped_dates
    new = Series(rrule=later.to_rrule(at_local), timezone=series.timezone, first_start=at,
                 duration_minutes=series.duration_minutes, all_day=series.all_day,
                 skipped=",".join(d.isoformat() for d in skipped if d >= at_local.date()),
                 rsvp_all=series.rsvp_all, generated_until=series.generated_until,
                 owner_id=series.owner_id)
    session.add(new)
    session.flush()
    ended = replace(rule, until=before[-1].astimezone(zone).date(), count=None)
    series.rrule = ended.to_rrule(start_local(series))
    series.skipped = ",".join(d.isoformat() for d in skipped if d < at_local.date())
    _changed(series, significant=True)
    moved = session.exec(select(Event).where(Event.series_id == series.id,
                                             col(Event.recurrence_id) >= at)).all()
    for row in moved:
        row.series_id = new.id
        session.add(row)
    if moved:
        audit.record(session, actor, "series.split", moved[0],
                     [audit_detail.line(
                         N_("dates from %(day)s on: series %(uid)s (was %(old)s)"),
                         day=audit_detail.day(at_local.date()), uid=new.uid, old=series.uid)])
    session.flush()
    return new


def _rule_value(series: Series) -> dict[str, str]:
    """The series' rule as its audit details keep it (said in the reader's words)."""
    return audit_detail.rule(series.rrule, start_local(series))


def _audit(session: Session, actor: Organizer | None, series: Series, action: str,
           detail: audit_detail.Line, subject: Event | None = None) -> None:
    """An audit entry about the series, filed under `subject` or its template occurrence
    (the trail names events; a series has no page of its own there). services/audit.py
    reads the "series.*" actions as sentences (and a "scope <scope>" in the detail)."""
    session.flush()
    subject = subject or template_event(session, series)
    if subject is not None:
        audit.record(session, actor, action, subject, [audit_detail.line(
            N_("series %(uid)s: %(detail)s"), uid=series.uid,
            detail=audit_detail.within(detail))])


def _changed(series: Series, significant: bool) -> None:
    series.updated_at = utcnow()
    if significant:
        series.sequence += 1


def _end_rule_at_last_row(session: Session, series: Series) -> None:
    """No more rows: the rule ends at the last row it has (whose dates stay, as they are)."""
    last = session.exec(select(Event.recurrence_id).where(Event.series_id == series.id)
                        .order_by(col(Event.recurrence_id).desc()).limit(1)).first()
    if last is None:
        return
    rule = replace(rule_of(series), until=last.astimezone(series.tz).date(), count=None)
    series.rrule = rule.to_rrule(start_local(series))
    _changed(series, significant=True)
    session.add(series)


def _edit_rows(session: Session, actor: Organizer, series: Series, edited: Event,
               data: EventData, notify: bool, now: datetime | None = None) -> tuple[int, int]:
    """Apply the edit of `edited` to every row of `series` not started yet (and to `edited`
    itself): what the organizer changed (compared with `edited` before the edit), leaving
    alone the fields a row edited on its own has different, and a new time of day to every
    row the rule placed.

    Rows already started are history (check-ins, attendee lists, what people attended):
    they keep every value. A new time of day still re-keys their `recurrence_id` to the
    rule's new instant for their date (the rule now says that time), so each stays an
    instance of the rule; one that now differs from what the series gives is marked
    `detached`, as a date edited on its own is, and feeds write it as an override."""
    now = now or utcnow()
    zone = series.tz
    if data.timezone != series.timezone:
        raise FormError({"timezone": gettext("A series keeps its timezone: change it for this "
                                             "date only, or create a new series.")})
    old_local, new_local = edited.starts_at.astimezone(zone), data.starts_at.astimezone(zone)
    if new_local.date() != old_local.date():
        raise FormError({"start_date": gettext("To move the series to other days, change how "
                                               "it repeats; or move this date only.")})
    old_minutes = _minutes(edited.starts_at, edited.ends_at, zone, edited.all_day)
    new_minutes = _minutes(data.starts_at, data.ends_at, zone, data.all_day)
    retimed = (new_local.time() != old_local.time() or new_minutes != old_minutes
               or data.all_day != edited.all_day)
    before = {k: getattr(edited, k) for k in EVENT_COLUMNS}
    changed = [k for k in _COPIED if k not in ("all_day", "timezone")
               and not same(before[k], getattr(data, k))]
    new_deadline = not same(edited.rsvp_deadline, data.rsvp_deadline)
    hosts = event_admin.cohost_emails(session, edited)
    new_hosts = sorted(data.cohosts) != hosts
    if retimed:
        clock = time() if data.all_day else new_local.time()
        series.first_start = place(datetime.combine(start_local(series).date(), clock), zone)
        series.duration_minutes, series.all_day = new_minutes, data.all_day
    edited_rows = kept = 0
    row_hosts = _cohosts_of_rows(session, series)
    rows = _rows(session, series)
    texts = _TextEdit(session, rows, edited, data)
    # One flush at the end instead of one per row (each query would flush the row before):
    # the steps that need their own writes seen (co-hosts, capacity) flush themselves.
    with session.no_autoflush:
        for row in rows:
            values = {k: getattr(row, k) for k in EVENT_COLUMNS}
            for k in changed:
                if row.id == edited.id or not row.detached or same(values[k], before[k]):
                    values[k] = getattr(data, k)
            row_texts = texts.for_row(row)
            assert row.recurrence_id is not None
            placed_by_rule = row.starts_at == row.recurrence_id
            if retimed:
                day = row.recurrence_id.astimezone(zone).date()
                row.recurrence_id = place(datetime.combine(day, clock), zone)
            if row.starts_at <= now and row.id != edited.id:
                _keep_past(session, actor, row, values, row_hosts.get(row.id or 0, []),
                           data.cohosts if new_hosts else None,
                           texts_differ=texts.differs(row, row_texts))
                kept += 1
                continue
            if retimed and placed_by_rule:
                values["starts_at"], values["ends_at"] = occurrence_times(series, row.recurrence_id)
                values["all_day"] = series.all_day
            if row.id == edited.id:
                values.update(starts_at=data.starts_at, ends_at=data.ends_at, all_day=data.all_day)
            if new_deadline:
                lead = (data.starts_at - data.rsvp_deadline) if data.rsvp_deadline else None
            else:
                lead = (row.starts_at - row.rsvp_deadline) if row.rsvp_deadline else None
            values["rsvp_deadline"] = values["starts_at"] - lead if lead is not None else None
            cohosts = data.cohosts if new_hosts else tuple(row_hosts.get(row.id or 0, ()))
            try:
                edited_rows += bool(event_admin.update_event(
                    session, actor, row, EventData(
                        **values, cohosts=cohosts,
                        translations=None if row_texts is None else translation_tuple(row_texts)),
                    notify_attendees=notify, own_edit=False,
                    known_cohosts=row_hosts.get(row.id or 0, [])))
            except FormError as exc:
                day = timefmt.format_day_heading(row.starts_at.astimezone(zone).date())
                raise FormError({k: gettext("%(day)s: %(problem)s") % {"day": day, "problem": m}
                                 for k, m in exc.errors.items()}) from None
    _changed(series, significant=retimed or moves_calendar_entry(changed))
    session.add(series)
    return edited_rows, kept


class _TextEdit:
    """A series-wide edit of the text in other languages, as `_edit_rows` applies the
    columns: each field the organizer changed (compared with the edited date's before) goes
    to every row, except a row edited on its own that has that field different (its own
    wording stays, as its title does)."""

    def __init__(self, session: Session, rows: list[Event], edited: Event,
                 data: EventData) -> None:
        self.new = data.translation_texts()
        self.stored = event_text.texts_of_events(session, rows) if self.new is not None else {}
        self.edited_id = edited.id
        self.before = self.stored.get(edited.id or 0, {})
        self.changed = [(lang, f) for lang, given in (self.new or {}).items()
                        for f in event_text.FIELDS
                        if self._get(self.before, lang, f) != given.get(f, "")]

    @staticmethod
    def _get(texts: dict[str, dict[str, str]], lang: str, f: str) -> str:
        return texts.get(lang, {}).get(f, "")

    def for_row(self, row: Event) -> dict[str, dict[str, str]] | None:
        """The row's texts after the edit (None: the form did not carry any)."""
        if self.new is None:
            return None
        mine = self.stored.get(row.id or 0, {})
        result = {lang: {f: self._get(mine, lang, f) for f in event_text.FIELDS}
                  for lang in self.new}
        for lang, f in self.changed:
            if (row.id == self.edited_id or not row.detached
                    or result[lang][f] == self._get(self.before, lang, f)):
                result[lang][f] = self.new[lang].get(f, "")
        return result

    def differs(self, row: Event, wanted: dict[str, dict[str, str]] | None) -> bool:
        """Whether the row's stored texts differ from what the series now gives it."""
        mine = self.stored.get(row.id or 0, {})
        return wanted is not None and any(
            self._get(mine, lang, f) != given[f] for lang, given in wanted.items()
            for f in event_text.FIELDS)


def _cohosts_of_rows(session: Session, series: Series) -> dict[int, list[str]]:
    """Each row's co-host e-mails (as event_admin.cohost_emails gives one's), in one query."""
    found: dict[int, list[str]] = defaultdict(list)
    for event_id, email in session.exec(
            select(EventHost.event_id, Organizer.email)
            .join(Organizer, col(EventHost.organizer_id) == Organizer.id)
            .join(Event, col(Event.id) == EventHost.event_id)
            .where(Event.series_id == series.id).order_by(col(Organizer.email))):
        found[event_id].append(email)
    return found


def _keep_past(session: Session, actor: Organizer, row: Event, values: dict[str, Any],
               hosts: list[str], cohosts: tuple[str, ...] | None,
               texts_differ: bool = False) -> None:
    """A started row keeps its values; detached when the series now gives it others (its
    time: `recurrence_id` moved without it). New co-hosts (`cohosts`) reach it all the same:
    they say who may see its attendee list, which is access, not history (someone taken
    off a series loses its past dates too)."""
    if texts_differ or row.starts_at != row.recurrence_id or any(
            not same(getattr(row, k), values[k]) for k in _COPIED):
        row.detached = True
    if cohosts is not None:
        change = event_admin.set_cohosts(session, row, cohosts, known=hosts)
        if change:
            audit.record(session, actor, "event.update", row,
                         audit_detail.describe_changes({"co-hosts": (", ".join(change[0]),
                                                                     ", ".join(change[1]))}))


def edit_occurrence(session: Session, actor: Organizer, series: Series, event: Event,
                    data: EventData, scope: Scope, notify: bool = True,
                    now: datetime | None = None) -> Event:
    if scope == Scope.ONE:  # the occurrence becomes detached (event_admin.update_event)
        event_admin.update_event(session, actor, event, data, notify_attendees=notify)
        return event
    assert event.recurrence_id is not None
    target = series
    if scope == Scope.FOLLOWING:
        target = split(session, actor, series, event.recurrence_id)
    edited_rows, kept = _edit_rows(session, actor, target, event, data, notify, now)
    _audit(session, actor, target, "series.edit",
           audit_detail.line(N_("%(scope)s: %(num)s date(s) changed, %(kept)s date(s) "
                                "already started kept as they were"),
                             scope=audit_detail.code("scope", Scope(scope).value),
                             num=edited_rows, kept=kept), subject=event)
    return event


def cancel_occurrences(session: Session, actor: Organizer, series: Series, event: Event,
                       message: str, scope: Scope, now: datetime | None = None) -> int:
    """Cancel one occurrence, it and the later ones, or every one not started yet (dates
    already started other than `event` are left as they were, in both scopes); the rule
    then ends at its last row (no new rows). Returns how many attendees were e-mailed."""
    if scope == Scope.ONE:
        return event_admin.cancel(session, actor, event, message)
    now = now or utcnow()
    assert event.recurrence_id is not None
    rows = _rows(session, series)
    targets = [r for r in rows if r.starts_at > now or r.id == event.id]  # history stays
    if scope == Scope.FOLLOWING:
        targets = [r for r in targets
                   if r.recurrence_id and r.recurrence_id >= event.recurrence_id]
    targets = [r for r in targets if r.status != EventStatus.CANCELLED]
    if not targets:
        raise EventStateError(gettext("These dates are already cancelled."))
    told = sum(event_admin.cancel(session, actor, r, message) for r in targets)
    _end_rule_at_last_row(session, series)
    _audit(session, actor, series, "series.cancel",
           audit_detail.line(N_("%(scope)s: %(num)s date(s) cancelled, attendees e-mailed: "
                                "%(told)s"), scope=audit_detail.code("scope", Scope(scope).value),
                             num=len(targets), told=told),
           subject=event)
    return told


@dataclass
class SkipResult:
    skipped: list[date] = field(default_factory=list)  # dates newly skipped
    removed: int = 0  # occurrence rows taken out of the series
    notified: int = 0  # attendees e-mailed that their date is cancelled


def skip_dates(session: Session, actor: Organizer, series: Series, dates: Iterable[date],
               now: datetime | None = None) -> SkipResult:
    """Skip dates (holidays): each must be a date of the rule not over yet; its row goes
    (see `_remove`), and the feed writes an EXDATE."""
    now = now or utcnow()
    zone = series.tz
    rule_days = {i.astimezone(zone).date(): i for i in
                 instance_starts(rule_of(series), start_local(series))}
    result = SkipResult()
    already = set(series.skipped_dates)
    for day in sorted(set(dates)):
        if day in already:
            continue
        if day not in rule_days:
            raise FormError({"dates": gettext("%(day)s is not a date of this series.") % {
                "day": timefmt.upper_first(timefmt.format_day_heading(day))}})
        if occurrence_times(series, rule_days[day])[1] <= now:
            raise FormError({"dates": gettext("%(day)s is over already.") % {
                "day": timefmt.upper_first(timefmt.format_day_heading(day))}})
        result.skipped.append(day)
    if not result.skipped:
        return result
    instants = [rule_days[d] for d in result.skipped]
    for row in session.exec(select(Event).where(Event.series_id == series.id,
                                                col(Event.recurrence_id).in_(instants))).all():
        result.notified += _remove(session, actor, row, event_text.SKIPPED_MESSAGE)
        result.removed += 1
    series.skipped = ",".join(d.isoformat() for d in sorted(already | set(result.skipped)))
    _changed(series, significant=True)
    session.add(series)
    _audit(session, actor, series, "series.skip",
           audit_detail.line(N_("skipped %(days)s: %(num)s date(s) taken out, attendees "
                                "e-mailed: %(told)s"), days=audit_detail.days(result.skipped),
                             num=result.removed, told=result.notified))
    return result


def _period(rule: Rule, instant: datetime, zone: ZoneInfo) -> tuple[int, ...]:
    """The day, week or month an instance falls in: a removed and an added date in the same
    one are the same occurrence moved (its RSVPs go along)."""
    day = instant.astimezone(zone).date()
    if rule.freq == "daily":
        return (day.toordinal(),)
    if rule.freq == "weekly":
        return tuple(day.isocalendar()[:2])
    return (day.year, day.month)


@dataclass
class RuleChange:
    series: Series  # the series now carrying the new rule (a new one after a split)
    kept: int = 0
    moved: int = 0
    created: int = 0
    removed: int = 0
    notified: int = 0


def next_rule_start(series: Series, now: datetime | None = None) -> datetime | None:
    """Where a new rule takes over (UTC): the series' first date still to come by its rule
    as it is. Dates before it stay with the old rule (`change_series_rule`); the rule page's
    preview counts from it. None when the rule has no date left."""
    now = now or utcnow()
    return next((i for i in rule_starts(series) if i > now), None)


def change_series_rule(session: Session, actor: Organizer, series: Series, rule: Rule,
                       now: datetime | None = None) -> RuleChange:
    """Give the series' dates still to come a new rule (a COUNT counts from the first of
    them). Dates it keeps keep their rows and RSVPs; a date that moves within its
    day/week/month (Tuesday -> Wednesday) carries its row, RSVPs and check-ins along and
    attendees are told the new time; dates it drops go (see `_remove`); new dates get rows.
    Dates already started stay with the old rule (the series is split at the first date to
    come)."""
    now = now or utcnow()
    takes_over = next_rule_start(series, now)
    if takes_over is None:
        raise EventStateError(gettext("This series has no dates left to change."))
    target = split(session, actor, series, takes_over)
    zone, local = target.tz, start_local(target)
    rule = _check_rule(rule, local)
    all_new = instance_starts(rule, local)
    first = all_new[0]
    new_days = {i.astimezone(zone).date() for i in all_new}
    target.skipped = ",".join(d.isoformat() for d in target.skipped_dates if d in new_days)
    target.first_start = first
    target.rrule = rule.to_rrule(first.astimezone(zone))
    until = horizon(now)
    wanted = _wanted(target, rule, None, until)
    rows = _rows(session, target)
    template = template_event(session, target)
    tmpl = _Template.of(session, template) if template is not None else None
    by_rec = {r.recurrence_id: r for r in rows}
    wanted_set = set(wanted)
    result = RuleChange(series=target, kept=len(wanted_set & by_rec.keys()))
    dropped: dict[tuple[int, ...], list[Event]] = defaultdict(list)
    for r in rows:
        if r.recurrence_id not in wanted_set:
            assert r.recurrence_id is not None
            dropped[_period(rule, r.recurrence_id, zone)].append(r)
    added: list[datetime] = []
    for instant in wanted:
        if instant in by_rec:
            continue
        same_period = dropped.get(_period(rule, instant, zone))
        if same_period:
            result.notified += _move(session, actor, target, same_period.pop(0), instant)
            result.moved += 1
        else:
            added.append(instant)
    for rest in dropped.values():
        for r in rest:
            result.notified += _remove(session, actor, r, event_text.SKIPPED_MESSAGE)
            result.removed += 1
    if added and tmpl is not None:
        result.created = len(_insert_rows(session, target, tmpl, added))
    target.generated_until = until
    _changed(target, significant=True)
    session.add(target)
    _audit(session, actor, target, "series.change_rule",
           audit_detail.line(N_("%(rule)s: kept %(kept)s, moved %(moved)s, added %(added)s, "
                                "removed %(removed)s"), rule=_rule_value(target),
                             kept=result.kept, moved=result.moved, added=result.created,
                             removed=result.removed))
    return result


def _move(session: Session, actor: Organizer, series: Series, row: Event,
          instant: datetime) -> int:
    """Give `row` the rule's new instant; a row the rule placed moves there (SEQUENCE up,
    attendees told the new time), one moved by hand keeps its time. Returns how many were
    e-mailed."""
    placed_by_rule = row.starts_at == row.recurrence_id
    row.recurrence_id = instant
    if not placed_by_rule:
        session.add(row)
        return 0
    start, end = occurrence_times(series, instant)
    changes = {"starts_at": (row.starts_at, start), "ends_at": (row.ends_at, end)}
    if row.rsvp_deadline is not None:
        row.rsvp_deadline = start - (row.starts_at - row.rsvp_deadline)
    row.starts_at, row.ends_at = start, end
    event_admin.bump(row, significant=True)
    session.add(row)
    told = attendee_mail.notify_event_changed(session, row, changes)
    detail = audit_detail.describe_changes(changes)
    if told:
        detail.append(audit_detail.line(N_("attendees e-mailed about the change: %(num)s"),
                                        num=told))
    audit.record(session, actor, "event.update", row, detail)
    return told


def _first_after(rule: Rule, local: datetime, after: datetime) -> datetime:
    """The first instance of the rule, without its end, starting after `after`."""
    open_ended = replace(rule, count=None, until=max(after, local).astimezone(local.tzinfo)
                         .date() + timedelta(days=800))
    found = next((i for i in instance_starts(open_ended, local) if i > after), None)
    if found is None:
        raise EventStateError(gettext("This series' rule gives no later date to copy it to."))
    return found


def duplicate_series(session: Session, actor: Organizer, series: Series,
                     now: datetime | None = None) -> Series:
    """A draft copy that continues the pattern: same rule, time, length and details, starting
    at the rule's first date after both the original's last date and now, with as many dates
    (or as long a span) as the original; no RSVPs, new UID and slugs."""
    now = now or utcnow()
    rule, local = rule_of(series), start_local(series)
    last = instance_starts(rule, local)[-1]
    template = template_event(session, series)
    if template is None:
        raise EventStateError(gettext("Every date of this series is cancelled: there is "
                                      "nothing to copy."))
    first = _first_after(rule, local, max(last, now))
    first_local = first.astimezone(series.tz)
    if rule.until is not None:
        rule = replace(rule, until=rule.until + (first_local.date() - local.date()))
    rule = _check_rule(rule, first_local)
    copy = Series(rrule=rule.to_rrule(first_local), timezone=series.timezone, first_start=first,
                  duration_minutes=series.duration_minutes, all_day=series.all_day,
                  rsvp_all=series.rsvp_all, owner_id=actor.id)
    session.add(copy)
    session.flush()
    tmpl = _Template.of(session, template, status=EventStatus.DRAFT.value)
    hosts = set(tmpl.cohost_ids)
    if series.owner_id is not None and series.owner_id != actor.id:
        owner = session.get(Organizer, series.owner_id)
        if owner is not None and owner.is_active:
            hosts.add(series.owner_id)  # the original owner keeps access to the copy
    hosts.discard(actor.id or 0)
    tmpl = replace(tmpl, cohost_ids=tuple(sorted(hosts)))
    until = horizon(now)
    rows = _insert_rows(session, copy, tmpl, _wanted(copy, rule, None, until))
    copy.generated_until = until
    if rows:
        audit.record(session, actor, "series.duplicate", rows[0],
                     [audit_detail.line(N_("copied from series %(uid)s: %(num)s date(s)"),
                                        uid=series.uid, num=len(rows))])
    return copy


def convert_event(session: Session, actor: Organizer, event: Event, rule: Rule,
                  now: datetime | None = None) -> Series:
    """Make a single event the first occurrence of a new series (its RSVPs, UID and slug
    kept); the later dates copy it. The rule must have the event's own date as its first."""
    if event.series_id is not None:
        raise EventStateError(gettext("This event is already part of a series."))
    if event.status == EventStatus.CANCELLED:
        raise EventStateError(gettext("A cancelled event cannot become a series."))
    local = event.local_start
    rule = _check_rule(rule, local)
    first = instance_starts(rule, local, limit=1)[0]
    if first != event.starts_at:
        raise FormError({"repeat": gettext("The series must start on the event's own date "
                                           "(%(day)s): choose repeats that include it.") % {
            "day": timefmt.format_day_heading(local.date())}})
    zone = event.tz
    series = Series(rrule=rule.to_rrule(local), timezone=event.timezone,
                    first_start=event.starts_at,
                    duration_minutes=_minutes(event.starts_at, event.ends_at, zone, event.all_day),
                    all_day=event.all_day, owner_id=event.owner_id or actor.id)
    session.add(series)
    session.flush()
    event.series_id, event.recurrence_id, event.detached = series.id, event.starts_at, False
    event_admin.bump(event, significant=False)
    session.add(event)
    session.flush()
    until = horizon(now)
    rows = _insert_rows(session, series, _Template.of(session, event),
                        _wanted(series, rule, None, until)[1:])
    series.generated_until = until
    audit.record(session, actor, "series.convert", event,
                 [audit_detail.line(N_("%(rule)s: %(num)s date(s), series %(uid)s"),
                                    rule=_rule_value(series), num=len(rows) + 1, uid=series.uid)])
    return series


# --- Own transaction: what the organizer pages and the CLI call -----------------------------

def _on_series(actor: Organizer, series_id: int, work: Callable[[Session, Series], T]) -> T:
    with write_session() as session:
        series = lock_series(session, series_id)
        if series is None or not can_manage(session, actor, series):
            raise SeriesNotFound(str(series_id))
        return work(session, series)


def _on_occurrence(actor: Organizer, slug: str, scope: Scope,
                   work: Callable[[Session, Series, Event], T]) -> T:
    """`work` on a managed occurrence and its series, both rows locked (series first); a
    scope beyond the one date needs the right to manage the series."""
    with write_session() as session:
        found = access.get_event(session, actor, slug)
        if found is None:
            raise EventNotFound(slug)
        if found.series_id is None:
            raise EventStateError(gettext("This event is not part of a series."))
        series = lock_series(session, found.series_id)
        event = locking.lock_event(session, found.id or 0)
        if series is None or event is None or event.series_id != series.id:
            raise EventNotFound(slug)  # changed hands between the two reads
        if scope != Scope.ONE and not can_manage(session, actor, series):
            raise SeriesNotFound(str(series.id))
        return work(session, series, event)


def new_series(actor: Organizer, data: EventData, rule: Rule, publish: bool = False,
               rsvp_all: bool = False) -> Series:
    """`create_series` in its own write transaction (FormError)."""
    with write_session() as session:
        return create_series(session, actor, data, rule, publish=publish, rsvp_all=rsvp_all)


def edit(actor: Organizer, slug: str, data: EventData, scope: Scope,
         notify_attendees: bool = True) -> Event:
    """Edit an occurrence, it and the following ones (a new series from it on), or all of
    them. A single event with scope ONE is edited as event_admin.edit does. EventNotFound,
    FormError (time of day, place, text and capacity go to every row in scope; a new date
    or timezone only with ONE)."""
    if scope == Scope.ONE:
        with read_session() as session:
            found = access.get_event(session, actor, slug)
        if found is not None and found.series_id is None:
            return event_admin.edit(actor, slug, data, notify_attendees=notify_attendees)[0]
    return _on_occurrence(actor, slug, Scope(scope), lambda session, series, event:
                          edit_occurrence(session, actor, series, event, data, Scope(scope),
                                          notify_attendees))


def cancel(actor: Organizer, slug: str, message: str, scope: Scope) -> tuple[Event, int]:
    """Cancel an occurrence, it and the following ones, or every one still to come; returns
    the occurrence and how many attendees were e-mailed (METHOD:CANCEL). A single event with
    scope ONE is cancelled as event_admin.cancel_event does."""
    if scope == Scope.ONE:
        with read_session() as session:
            found = access.get_event(session, actor, slug)
        if found is not None and found.series_id is None:
            return event_admin.cancel_event(actor, slug, message)
    return _on_occurrence(actor, slug, Scope(scope), lambda session, series, event: (
        event, cancel_occurrences(session, actor, series, event, message, Scope(scope))))


def skip(actor: Organizer, series_id: int, dates: Iterable[date]) -> SkipResult:
    """`skip_dates` in its own write transaction (SeriesNotFound, FormError)."""
    return _on_series(actor, series_id,
                      lambda session, series: skip_dates(session, actor, series, dates))


def change_rule(actor: Organizer, series_id: int, rule: Rule) -> RuleChange:
    """`change_series_rule` in its own write transaction (SeriesNotFound, FormError,
    EventStateError)."""
    return _on_series(actor, series_id,
                      lambda session, series: change_series_rule(session, actor, series, rule))


def duplicate(actor: Organizer, series_id: int) -> Series:
    """`duplicate_series` in its own write transaction (SeriesNotFound, EventStateError)."""
    return _on_series(actor, series_id,
                      lambda session, series: duplicate_series(session, actor, series))


def convert(actor: Organizer, slug: str, rule: Rule) -> Series:
    """`convert_event` on a managed event in its own write transaction (EventNotFound,
    EventStateError, FormError)."""
    with write_session() as session:
        found = access.get_event(session, actor, slug)
        event = locking.lock_event(session, found.id or 0) if found is not None else None
        if event is None:
            raise EventNotFound(slug)
        return convert_event(session, actor, event, rule)


def set_published(actor: Organizer, series_id: int, published: bool) -> int:
    """Publish (or take back to draft) every occurrence not cancelled; returns how many
    changed. Rows created later copy the template's status, so they follow."""
    def work(session: Session, series: Series) -> int:
        changed = 0
        for row in _rows(session, series):
            if row.status == EventStatus.CANCELLED or \
                    (row.status == EventStatus.PUBLISHED) == published:
                continue
            (event_admin.publish if published else event_admin.unpublish)(session, actor, row)
            changed += 1
        return changed

    return _on_series(actor, series_id, work)


def set_rsvp_all(actor: Organizer, series_id: int, allowed: bool) -> Series:
    """Whether the public may RSVP to every upcoming date at once (RSVPs made stay)."""
    def work(session: Session, series: Series) -> Series:
        if series.rsvp_all != allowed:
            series.rsvp_all = allowed
            _changed(series, significant=False)
            session.add(series)
            _audit(session, actor, series, "series.rsvp_all",
                   audit_detail.line(N_("RSVP to every date at once: %(on)s"),
                                     on=audit_detail.code("switch", "on" if allowed else "off")))
        return series

    return _on_series(actor, series_id, work)


class ExtendFailed(RuntimeError):
    """Some series could not be extended (logged each); the others were."""

    def __init__(self, created: int, failed: list[int]) -> None:
        super().__init__(f"{len(failed)} series could not be extended (ids "
                         f"{', '.join(map(str, failed))}); {created} occurrence(s) created")
        self.created, self.failed = created, failed


def extend_all(now: datetime | None = None) -> int:
    """Create the rows every series needs up to the horizon; returns how many were created.
    One transaction per series, its row locked: two runs at once never create a row twice
    (the second waits, then finds the window filled). A series that fails (logged) does not
    stop the others; ExtendFailed at the end says which, so cron reports it."""
    until = horizon(now)
    with read_session() as session:
        ids = session.exec(select(Series.id).where(or_(
            col(Series.generated_until).is_(None), col(Series.generated_until) < until))
            .order_by(col(Series.id))).all()
    created, failed = 0, []
    for series_id in ids:
        try:
            with write_session() as session:
                series = lock_series(session, series_id or 0)
                if series is not None:
                    created += len(extend(session, series, now))
        except Exception:
            log.exception("extending series %s failed", series_id)
            failed.append(series_id or 0)
    if failed:
        raise ExtendFailed(created, failed)
    return created
