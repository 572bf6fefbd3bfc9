"""Four independent iCalendar readers, as the calendar apps our subscribers use have them:

- icalendar (the library that writes our feeds; resolves TZIDs through the tz database),
- `ical` (a separate strict parser, used by Home Assistant),
- vobject (Radicale and apps built on it; resolves TZIDs through the file's VTIMEZONEs),
- ical.js (Thunderbird and Nextcloud Calendar; run with node from tools/, registering the
  file's VTIMEZONEs as those apps do).

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


def read_vobject(raw: bytes) -> dict[str, Span]:
    cal = vobject.readOne(raw.decode("utf-8"))
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
