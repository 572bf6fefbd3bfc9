"""Four independent iCalendar readers, as the calendar apps our subscribers use have them:

- icalendar (the library that writes our feeds; resolves TZIDs through the tz database),
- `ical` (a separate strict parser, used by Home Assistant),
- vobject (Radicale and apps built on it; resolves TZIDs through the file's VTIMEZONEs),
- ical.js (Thunderbird and Nextcloud Calendar; run with node from tools/, registering the
  file's VTIMEZONEs as those apps do).

For recurring events, `expansions(raw)` gives every occurrence each reader expands (icalendar
through recurring-ical-events), with overrides and EXDATEs applied.

`instants(raw)` gives what each one computes as every VEVENT's UTC start and end, and
`assert_readers_agree` that they all compute the same. ical.js is installed into tools/ by
`make test` (`npm ci`, from the lock file), or here the first time it is needed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
import vobject
from ical.calendar_stream import IcsCalendarStream

JS_DIR = Path(__file__).resolve().parent.parent / "tools"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_install_lock = threading.Lock()

# What a reader says about one VEVENT: (start, end) as ISO text, UTC instants with a Z and
# all-day events as dates; end None when the event has no DTEND.
Span = tuple[str, str | None]


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        assert value.tzinfo is not None, f"floating time {value}"
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return value.isoformat()


def read_icalendar(raw: bytes) -> dict[str, Span]:
    cal = icalendar.Calendar.from_ical(raw)
    out = {}
    for ev in cal.walk("VEVENT"):
        end = ev.decoded("DTEND") if "DTEND" in ev else None
        out[str(ev["UID"])] = (_iso(ev.decoded("DTSTART")), _iso(end))
    return out


def read_strict(raw: bytes) -> dict[str, Span]:
    cal = IcsCalendarStream.calendar_from_ics(raw.decode("utf-8"))
    return {ev.uid: (_iso(ev.dtstart), _iso(ev.dtend)) for ev in cal.events}


def _vobject_calendar(raw: bytes):
    """vobject keeps the first VTIMEZONE it ever read for each TZID, process-wide, and reads
    every later file's times with that one; ours cover the years a feed needs, so a zone
    from another test's file misplaces these dates. Forget them first: the file is read
    with its own VTIMEZONEs, as an app reading it afresh does."""
    zones = vars(vobject.icalendar)["__tzidMap"]
    for tzid in [t for t in zones if t != "UTC"]:
        del zones[tzid]
    return vobject.readOne(raw.decode("utf-8"))


def read_vobject(raw: bytes) -> dict[str, Span]:
    cal = _vobject_calendar(raw)
    out = {}
    for ev in cal.contents.get("vevent", []):
        end = ev.dtend.value if "dtend" in ev.contents else None
        out[ev.uid.value] = (_iso(ev.dtstart.value), _iso(end))
    return out


def _node() -> str:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None or shutil.which("npm") is None:
        message = "node and npm are needed for the ical.js reader: apt-get install nodejs npm"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with _install_lock:
        if not (JS_DIR / "node_modules" / "ical.js" / "package.json").exists():
            subprocess.run(["npm", "ci", "--prefer-offline", "--ignore-scripts", "--no-audit",
                            "--no-fund"],
                           cwd=JS_DIR, check=True, capture_output=True, timeout=300)
    return node


def read_icaljs_many(raws: list[bytes]) -> list[dict]:
    """ical.js's reading of each calendar (one node process for all of them)."""
    done = subprocess.run(
        [_node(), str(JS_DIR / "read_ics.mjs")],
        input=json.dumps([r.decode("utf-8") for r in raws]),
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def read_icaljs(raw: bytes) -> dict:
    return read_icaljs_many([raw])[0]


def icaljs_spans(result: dict) -> dict[str, Span]:
    return {e["uid"]: (e["start"], e["end"]) for e in result["events"]}


def instants(raw: bytes, icaljs: dict | None = None) -> dict[str, dict[str, Span]]:
    """{reader: {uid: (start, end)}} for the four readers; `icaljs` is ical.js's reading
    when the caller already has it (read_icaljs_many reads many files in one node run)."""
    return {
        "icalendar": read_icalendar(raw),
        "ical": read_strict(raw),
        "vobject": read_vobject(raw),
        "ical.js": icaljs_spans(read_icaljs(raw) if icaljs is None else icaljs),
    }


def assert_readers_agree(raw: bytes) -> dict[str, Span]:
    """Every reader computes the same UTC start and end for every VEVENT; returns them."""
    found = instants(raw)
    reference = found["icalendar"]
    for reader, spans in found.items():
        assert spans == reference, f"{reader} disagrees with icalendar:\n{spans}\n{reference}"
    return reference


# --- Recurring events: every occurrence each reader expands -------------------------------
# (uid, start, end, status, summary) per occurrence, start/end as in Span; sorted.
Occurrence = tuple[str, str | None, str | None, str | None, str]
EXPAND_FROM, EXPAND_TO = datetime(1900, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


def _status(component) -> str | None:
    return str(component["STATUS"]) if "STATUS" in component else None


def expand_icalendar(raw: bytes) -> list[Occurrence]:
    """icalendar with recurring-ical-events (the expansion Home Assistant's CalDAV, khal-like
    tools and many Python apps use)."""
    cal = icalendar.Calendar.from_ical(raw)
    return sorted(
        (str(ev["UID"]), _iso(ev.decoded("DTSTART")), _iso(ev.decoded("DTEND")), _status(ev),
         str(ev.get("SUMMARY", "")))
        for ev in recurring_ical_events.of(cal).between(EXPAND_FROM, EXPAND_TO))


def expand_strict(raw: bytes) -> list[Occurrence]:
    """`ical`'s timeline, which applies overrides itself."""
    cal = IcsCalendarStream.calendar_from_ics(raw.decode("utf-8"))
    return sorted((ev.uid, _iso(ev.dtstart), _iso(ev.dtend),
                   ev.status.value if ev.status else None, ev.summary or "")
                  for ev in cal.timeline)


def expand_vobject(raw: bytes) -> list[Occurrence]:
    """vobject's rruleset (EXDATEs applied) and, as an app built on it does, each override
    in its instance's place; an instance lasts as long as its master (DTEND - DTSTART)."""
    cal = _vobject_calendar(raw)
    events = cal.contents.get("vevent", [])
    overrides: dict[str, dict] = {}
    for ev in events:
        if "recurrence-id" in ev.contents:
            rid = ev.contents["recurrence-id"][0].value
            overrides.setdefault(ev.uid.value, {})[_iso(rid)] = ev

    def occurrence(ev, start, end) -> Occurrence:
        status = ev.status.value if "status" in ev.contents else None
        summary = ev.summary.value if "summary" in ev.contents else ""
        return ev.uid.value, _iso(start), _iso(end), status, summary

    series = {ev.uid.value for ev in events
              if "rrule" in ev.contents and "recurrence-id" not in ev.contents}
    found = []
    for ev in events:
        uid = ev.uid.value
        if "recurrence-id" in ev.contents:
            if uid not in series:
                found.append(occurrence(ev, ev.dtstart.value, ev.dtend.value))
            continue
        if "rrule" not in ev.contents:
            found.append(occurrence(ev, ev.dtstart.value, ev.dtend.value))
            continue
        length = ev.dtend.value - ev.dtstart.value
        for start in ev.getrruleset(addRDate=True):
            if isinstance(ev.dtstart.value, date) and not isinstance(ev.dtstart.value, datetime):
                start = start.date()
            moved = overrides.get(uid, {}).get(_iso(start))
            if moved is not None:
                found.append(occurrence(moved, moved.dtstart.value, moved.dtend.value))
            else:
                found.append(occurrence(ev, start, start + length))
    return sorted(found)


def expand_icaljs(result: dict) -> list[Occurrence]:
    return sorted(tuple(o) for o in result["occurrences"])  # type: ignore[misc]


def expansions(raw: bytes, icaljs: dict | None = None) -> dict[str, list[Occurrence]]:
    """{reader: its occurrences} for the four readers."""
    return {
        "icalendar": expand_icalendar(raw),
        "ical": expand_strict(raw),
        "vobject": expand_vobject(raw),
        "ical.js": expand_icaljs(read_icaljs(raw) if icaljs is None else icaljs),
    }
