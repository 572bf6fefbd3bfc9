"""A recurring series in a feed: one VEVENT with an RRULE, EXDATEs and RECURRENCE-ID overrides.

Calendar apps show a series as one repeating event, and apply a change to one date only when
the feed says so in RFC 5545's terms. The occurrences are stored rows (services/series.py) and
the rows are the truth, so the feed is built for every reader to expand the series to exactly
the rows the feed holds, each at the same UTC start and end, with the same status:

- the master VEVENT (the series' UID) starts at the first row's instance and its RRULE ends
  (UNTIL) just after the last row's (see _Shape.until), so readers expand exactly that span,
  whether the rule said COUNT or UNTIL; a series begun before the feed's window that still
  runs starts at its first row in the window (the horizon applies to occurrences, as to
  single events);
- every instance of the rule in that span with no row in this feed (a skipped date, a row
  outside the window, not public, or cut by the feed's size limit) is an EXDATE;
- each row whose VEVENT differs from what the master gives for its instance is an override
  with RECURRENCE-ID. Different means that the two *render* differently (time, place, text,
  status...), not that some edit flagged the row, so the feed is right whatever made them
  differ: an edit of one date, of all following ones, a rule change, a cancellation or an
  unpublished date; and a date whose end readers would place apart (an end in an hour a DST
  change skips or repeats, or an overnight date across the change). Links to the
  occurrence's own page, stamps and SEQUENCE alone do not make an override (every row has
  its own page; the master links to the next date's);
- a row the rule cannot say is written on its own, with its own UID, and its instance is
  excluded: its RECURRENCE-ID is no instance of the rule (the rule changed), or its instance's
  wall-clock time is skipped or repeated by a DST change, which readers resolve differently
  (see vtimezone.wall_time);
- a series kept in UTC is written date by date: its times would be written in UTC (a Z), and
  Google Calendar (and recurring-ical-events, which follows it) reads such a DTSTART in the
  calendar's X-WR-TIMEZONE, so a repeating one would move by an hour at that zone's DST change.

The master's content and duration are the most common among the rows that keep their
scheduled time, so a series with one changed date has one override, not dozens.

Which instances a reader sees is computed by expanding the RRULE the feed writes, from the
DTSTART it writes, in wall-clock time, with python-dateutil (the expansion icalendar's readers
use): that is the reader's calculation, including instances whose wall-clock time a DST change
skips, which have no UTC instant of their own. The rows themselves come from
services/series_rules.instance_starts; here the only question is which written values
(DTSTART, UNTIL, EXDATE, RECURRENCE-ID) a reader will match. No queries: feeds.py passes the
rows and their Series.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import icalendar
from dateutil.rrule import rrulestr

from events_app import i18n
from events_app.models import Event, Series
from events_app.services.ical import FeedEntry, vevent_ical, written_in_utc
from events_app.services.vtimezone import wall_time
from events_app.util.lru import LruCache

if TYPE_CHECKING:
    from events_app.services.event_text import LocalText

# What a reader calls an instance: its wall-clock start (naive) or, all-day, its date.
Key = datetime | date

# Stand-ins for what may differ between a row and the master without an override.
_NEUTRAL_AT = datetime(2000, 1, 3, 12, 0, tzinfo=UTC)
_NEUTRAL_SLUG = "series"


def feed_entries(events: Sequence[Event], series: Mapping[int, Series],
                 today: datetime | None = None,
                 texts: Mapping[int, LocalText] | None = None) -> list[FeedEntry]:
    """The feed's VEVENTs for these rows, in their order: single events as they are, each
    series (its rows grouped wherever they are) where its first row in the rule stands.
    `today` (the feed's day, so every worker writes the same bytes): a master's links go to
    its first date from then on. `texts`: each row's text in the feed's language, by event
    id (services/event_text.texts_for; a row missing from it is written as stored)."""
    texts = texts or {}
    groups: dict[int, list[Event]] = {}
    for event in events:
        if event.series_id is not None and event.series_id in series:
            groups.setdefault(event.series_id, []).append(event)
    written = {sid: series_vevents(series[sid], rows, today, texts)
               for sid, rows in groups.items()}
    alone = {id(e.event): e for _, loose in written.values() for e in loose}
    entries: list[FeedEntry] = []
    for event in events:
        sid = event.series_id
        if sid is None or sid not in series:
            entries.append(FeedEntry(event, text=texts.get(event.id or 0)))
        elif id(event) in alone:
            entries.append(alone[id(event)])
        elif sid in written:  # the series' first row written in it: the master goes here
            entries += written.pop(sid)[0]
    return entries


@dataclass(frozen=True)
class _Shape:
    """How a series' instances are written: the zone, and whole dates or times."""

    series: Series

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.series.timezone)

    @property
    def all_day(self) -> bool:
        return self.series.all_day

    def key(self, instant: datetime) -> Key:
        local = instant.astimezone(self.tz)
        return local.date() if self.all_day else local.replace(tzinfo=None)

    def instant(self, key: Key) -> datetime | None:
        """The UTC instant every reader gives this instance; None where readers differ (a
        wall-clock time skipped or repeated by a DST change, or one written in UTC)."""
        if isinstance(key, datetime):
            first, second = key.replace(tzinfo=self.tz), key.replace(tzinfo=self.tz, fold=1)
            if first.utcoffset() != second.utcoffset():
                return None
            instant = first.astimezone(UTC)
            return instant if wall_time(instant, self.series.timezone) is not None else None
        return datetime.combine(key, time.min, tzinfo=self.tz).astimezone(UTC)

    def written(self, key: Key) -> datetime | date:
        """The value a DTSTART, RECURRENCE-ID or EXDATE says for the instance: a date, or
        its wall-clock time as the rule gives it with the TZID, which each reader resolves
        as it resolves the instance itself (even where a DST change skips that time)."""
        return key.replace(tzinfo=self.tz) if isinstance(key, datetime) else key

    def until(self, last: Key) -> Key:
        """The RRULE's end for a last instance (a member, so it has an instant): twelve hours
        after it. The rule kinds have at most one instance a day, at one wall-clock time, so
        the next one is at least 23 hours on and this ends the rule exactly there; and readers
        that misplace UNTIL (vobject keeps the first instance's UTC offset with some zones; a
        naive reading ignores the Z) have half a day of margin either side. All-day: the date.
        """
        if not isinstance(last, datetime):
            return last
        instant = self.instant(last)
        assert instant is not None
        return (instant + timedelta(hours=12)).astimezone(self.tz).replace(tzinfo=None)

    def until_value(self, until: Key) -> datetime | date:
        """UNTIL as RFC 5545 3.3.10 wants it: UTC when DTSTART has a TZID, else a date."""
        if isinstance(until, datetime):
            return until.replace(tzinfo=self.tz).astimezone(UTC)
        return until

    def start(self, key: Key) -> datetime:
        """`key` as a naive datetime, for dateutil."""
        return key if isinstance(key, datetime) else datetime.combine(key, time.min)

    def expand(self, rule: str, dtstart: Key, last: Key) -> list[Key]:
        """The instances a reader expands from DTSTART `dtstart` up to `last`, inclusive."""
        found = rrulestr(rule, dtstart=self.start(dtstart)).between(
            self.start(dtstart), self.start(last), inc=True)
        return [d.date() for d in found] if self.all_day else found


def _open_rule(rrule: str) -> icalendar.vRecur | None:
    """The series' rule without its end (COUNT counts from the series' first start; the feed
    ends it at its last row instead), or None if it cannot be read."""
    try:
        parts = icalendar.vRecur.from_ical(rrule)
        parts.pop("COUNT", None)
        parts.pop("UNTIL", None)
        rrulestr(parts.to_ical().decode(), dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError, KeyError):
        return None
    return parts


def _copy(event: Event, **changes) -> Event:
    """A copy with some fields changed, for rendering only: built without validation or the
    ORM's instance state (a tenth of the cost of Event(...)), so it can never be added to a
    session by mistake either."""
    return Event.model_construct(**(event.model_dump() | changes))


_NEUTRAL = {"slug": _NEUTRAL_SLUG, "created_at": _NEUTRAL_AT, "updated_at": _NEUTRAL_AT,
            "sequence": 0, "starts_at": _NEUTRAL_AT, "ends_at": _NEUTRAL_AT + timedelta(hours=1)}
# Rendered contents by a digest of the row's other columns: a feed re-rendered after one edit
# renders only that row again (as ical._vevent_cache does for whole VEVENTs).
_contents: LruCache[bytes, bytes] = LruCache(max_entries=10_000)


def _content(event: Event, uid: str, text: LocalText | None = None) -> bytes:
    """The row's VEVENT with everything an instance may have of its own made equal, its
    text as the feed shows it (`text`: in the feed's language, so a date whose Spanish
    title differs is an override in the Spanish feed, even when its English one is not)."""
    values = event.model_dump() | _NEUTRAL | {"uid": uid}
    entry = FeedEntry(Event.model_construct(**values), text=text)
    # The language too: contents are compared within one feed, so a row's content cached in
    # another language would never equal its siblings' and make a needless override.
    key = hashlib.blake2b(repr((i18n.current(), entry.text_key(), *values.items())).encode(),
                          digest_size=20).digest()
    found = _contents.get(key)
    if found is None:
        found = vevent_ical(entry)
        _contents.put(key, found)
    return found


def _length(event: Event, shape: _Shape) -> timedelta | int:
    """Exact duration; whole days for an all-day row."""
    if shape.all_day:
        return (shape.key(event.ends_at) - shape.key(event.starts_at)).days  # type: ignore[operator]
    return event.ends_at - event.starts_at


def series_vevents(series: Series, rows: Sequence[Event], today: datetime | None = None,
                   texts: Mapping[int, LocalText] | None = None
                   ) -> tuple[list[FeedEntry], list[FeedEntry]]:
    """(the master and its overrides, the rows written on their own) for these rows of one
    series (see the module docstring). The master links to the page of its first date like
    it from `today` on (an occurrence page lists the series' other dates), not to a past one.
    `texts`: as for feed_entries; the master has its template row's text."""
    texts = texts or {}

    def entry(row: Event, **extras) -> FeedEntry:
        return FeedEntry(row, text=texts.get(row.id or 0), **extras)

    shape = _Shape(series)
    rule = _open_rule(series.rrule)
    if (rule is None or series.all_day != all(r.all_day for r in rows)
            or (not series.all_day and written_in_utc(series.timezone))):
        return [], [entry(r) for r in rows]
    text = rule.to_ical().decode()
    keyed = {shape.key(r.recurrence_id): r for r in rows if r.recurrence_id is not None}
    members: dict[Key, Event] = {}
    if keyed:
        scheduled = set(shape.expand(text, shape.key(series.first_start), max(keyed)))
        members = {k: r for k, r in sorted(keyed.items()) if k in scheduled
                   and (shape.all_day or shape.instant(k) == r.recurrence_id)}
    if not members:
        return [], [entry(r) for r in rows]
    first, until = min(members), shape.until(max(members))
    written = shape.expand(text, first, until)
    # Every instance of the rule from one of its instances is one from the first start too
    # (the same phase of weeks and months); kept as a guard, not relied on.
    members = {k: r for k, r in members.items() if k in set(written)}
    if first not in members:
        return [], [entry(r) for r in rows]
    in_rule = {id(r) for r in members.values()}
    loose = [entry(r) for r in rows if id(r) not in in_rule]

    contents = {k: _content(r, series.uid, texts.get(r.id or 0)) for k, r in members.items()}
    template_key = _template(members, contents, shape)
    template = members[template_key]
    length = _length(template, shape)
    start = shape.instant(first)
    assert start is not None
    if isinstance(length, int):
        end = shape.instant(first + timedelta(days=length))  # type: ignore[operator]
    else:
        end = start + length
    sequence = max(series.sequence, template.sequence)
    page = next((r for k, r in members.items() if today is not None and r.starts_at >= today
                 and contents[k] == contents[template_key]), template)
    master = _copy(template, slug=page.slug, starts_at=start, ends_at=end, sequence=sequence,
                   created_at=series.created_at,
                   updated_at=max(series.updated_at, template.updated_at))
    rule["UNTIL"] = [shape.until_value(until)]
    exdates = tuple(shape.written(k) for k in written if k not in members)
    block = [FeedEntry(master, uid=series.uid, rrule=rule.to_ical().decode(),
                       exdates=exdates, text=texts.get(template.id or 0))]
    ends = _instance_ends(shape, master)
    for k, row in members.items():
        if contents[k] == contents[template_key] and _keeps_time(shape, k, row, length, ends):
            continue
        block.append(entry(_copy(row, sequence=max(row.sequence, sequence)),
                           uid=series.uid, recurrence_id=shape.written(k)))
    return block, loose


def _template(members: Mapping[Key, Event], contents: Mapping[Key, bytes], shape: _Shape
              ) -> Key:
    """The instance whose content and duration most rows share (the earliest of ties),
    among rows at their scheduled time; the first instance if every row was moved."""
    counts: dict[tuple[bytes, timedelta | int], list[Key]] = {}
    for k, row in members.items():
        if row.starts_at == row.recurrence_id:
            counts.setdefault((contents[k], _length(row, shape)), []).append(k)
    if not counts:
        return min(members)
    return min(counts.values(), key=lambda keys: (-len(keys), keys[0]))[0]


def _instance_ends(shape: _Shape, master: Event) -> list[timedelta]:
    """The durations a reader may add to an instance's start: the exact one and the
    wall-clock one (DTEND minus DTSTART read either way); equal unless the master's own
    span crosses a DST change."""
    if shape.all_day:
        return []
    tz = shape.tz
    wall = (master.ends_at.astimezone(tz).replace(tzinfo=None)
            - master.starts_at.astimezone(tz).replace(tzinfo=None))
    return sorted({master.ends_at - master.starts_at, wall})


def _keeps_time(shape: _Shape, key: Key, row: Event, length: timedelta | int,
                durations: list[timedelta]) -> bool:
    """Whether every reader gives the instance the row's start and end."""
    if isinstance(length, int):
        return shape.key(row.starts_at) == key and _length(row, shape) == length
    if row.starts_at != row.recurrence_id:
        return False
    local = shape.written(key)
    assert isinstance(local, datetime)
    ends = set()
    for d in durations:
        wall = local + d  # wall-clock arithmetic (PEP 495: an aware sum is wall time)
        if wall.replace(fold=1).utcoffset() != wall.utcoffset():
            return False  # an end in a skipped or repeated hour: readers place it apart
        ends.add(row.starts_at + d)  # exact
        ends.add(wall.astimezone(UTC))
    return ends == {row.ends_at}
