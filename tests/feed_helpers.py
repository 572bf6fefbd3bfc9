"""Helpers shared by the feed tests: parsing every feed with four independent readers, and
the row changes the organizer workspace and the RSVP flow would make.

`icalendar` is the library that writes our feeds; `ical` is a separate, strict implementation,
so a mistake icalendar makes symmetrically on write and read still shows up; vobject and
ical.js are the readers of Radicale, Thunderbird and Nextcloud (tests/ical_readers.py). Every
parse checks that all four compute the same UTC start and end for every VEVENT. Times are also
re-checked against the VTIMEZONE the feed itself carries (not the parser's own tz database),
which is what a client without a tz database (or with an older one) uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
from ical.calendar import Calendar as StrictCalendar
from ical.calendar_stream import IcsCalendarStream
from ical.timezone import IcsTimezoneInfo

from events_app.db import write_session
from events_app.models import Event, EventStatus, Series, utcnow
from tests.ical_readers import assert_readers_agree


@dataclass
class Parsed:
    raw: bytes
    lib: icalendar.Calendar
    strict: StrictCalendar

    def lib_event(self, uid: str) -> icalendar.Event:
        found = [e for e in self.lib.walk("VEVENT") if str(e["UID"]) == uid]
        assert len(found) == 1, f"{len(found)} VEVENTs with UID {uid}"
        return found[0]

    def strict_event(self, uid: str):
        found = [e for e in self.strict.events if e.uid == uid]
        assert len(found) == 1, f"{len(found)} strict VEVENTs with UID {uid}"
        return found[0]

    def x_text(self, name: str) -> str:
        """An X- calendar property as icalendar shows it (TEXT, since it says VALUE=TEXT)."""
        return str(self.lib[name])

    @property
    def uids(self) -> list[str]:
        return [str(e["UID"]) for e in self.lib.walk("VEVENT")]


def check_wire_format(raw: bytes) -> None:
    """CRLF after every line, no bare CR/LF, no line over 75 octets, valid UTF-8 throughout."""
    raw.decode("utf-8")  # raises on a fold that split a multi-byte character
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")[:-1]
    for line in lines:
        assert b"\n" not in line and b"\r" not in line, line
        assert len(line) <= 75, (len(line), line)
        line.decode("utf-8")  # each physical line is valid UTF-8 on its own: folds are safe


def parse(raw: bytes, check_readers: bool = True) -> Parsed:
    """Parse with every reader; fails unless all four agree on every VEVENT's start and end
    (`check_readers=False` for a caller that has just compared them itself)."""
    check_wire_format(raw)
    lib = icalendar.Calendar.from_ical(raw)
    strict = IcsCalendarStream.calendar_from_ics(raw.decode("utf-8"))
    if check_readers:
        assert_readers_agree(raw)
    return Parsed(raw, lib, strict)


def utc(value: datetime | date) -> datetime | date:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def vtimezone_utc(parsed: Parsed, local: datetime, tzid: str) -> datetime:
    """Interpret a naive local time with the feed's own VTIMEZONE for tzid."""
    zones = [tz for tz in parsed.strict.timezones if tz.tz_id == tzid]
    assert len(zones) == 1, f"expected one VTIMEZONE {tzid}, got {len(zones)}"
    info = IcsTimezoneInfo.from_timezone(zones[0])
    return local.replace(tzinfo=None).replace(tzinfo=info).astimezone(UTC)


def organizer_edit(event_id: int, *, bump: bool = True, **changes) -> Event:
    """What the organizer workspace does on an edit: change fields, touch updated_at, and bump
    SEQUENCE when time, place or status changed."""
    with write_session() as session:
        event = session.get(Event, event_id)
        for name, value in changes.items():
            setattr(event, name, value)
        event.updated_at = utcnow()
        if bump:
            event.sequence += 1
        session.add(event)
    return event


def make_series(rrule: str, tzid: str, local_starts: list[datetime], *, minutes: int = 120,
                all_day_days: int = 0, **fields) -> tuple[Series, list[Event]]:
    """A series stored as services/series.py would have it: the Series row and one published
    occurrence per wall-clock start given (naive, in tzid; the test states the dates the rule
    gives, independently of any expansion), each with its RECURRENCE-ID instant. All-day when
    `all_day_days`: each starts at local midnight and lasts that many days."""
    tz = ZoneInfo(tzid)
    instants = [s.replace(tzinfo=tz).astimezone(UTC) for s in local_starts]
    with write_session() as session:
        series = Series(rrule=rrule, timezone=tzid, first_start=instants[0],
                        duration_minutes=all_day_days * 1440 or minutes,
                        all_day=bool(all_day_days))
        session.add(series)
        session.flush()
        rows = []
        for n, (local, instant) in enumerate(zip(local_starts, instants, strict=True), 1):
            if all_day_days:
                end = datetime.combine(local.date() + timedelta(days=all_day_days), time.min,
                                       tzinfo=tz).astimezone(UTC)
            else:
                end = instant + timedelta(minutes=minutes)
            values = dict(slug=f"series-{series.id}-{n}", title="Network meeting",
                          summary="Rapid-response network", category="meeting",
                          starts_at=instant, ends_at=end, timezone=tzid,
                          all_day=bool(all_day_days), venue_name="Union hall",
                          city="Chicago", status=EventStatus.PUBLISHED.value,
                          series_id=series.id, recurrence_id=instant)
            values.update(fields)
            rows.append(Event(**values))
        session.add_all(rows)
        session.flush()
        for row in [series, *rows]:
            session.refresh(row)
    return series, rows
