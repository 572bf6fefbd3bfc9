"""Benchmark: editing every date of a long series (services/series.py), CPU per edit.

A daily series of N dates (400 by default: the limit per series), every date RSVP'd once;
then "all" edits of its text and of its time of day, alternating so each one changes every
row, and at last one cancellation of every date. CPU time of this process (SQLite runs in it,
with --url postgresql://... the server's CPU is not counted), best of --repeat: the machine
is shared, wall-clock time is noise. Prints figures; asserts nothing.
Usage: .venv/bin/python bench/series_edit.py [--dates 400] [--repeat 3] [--url URL]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "bench-only")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dates", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", default="", help="a database to use (default: SQLite file)")
    args = parser.parse_args()

    from sqlmodel import col, select

    from events_app import db, settings
    from events_app.migrate import upgrade
    from events_app.models import Event, Rsvp
    from events_app.services import organizers, series
    from events_app.services.event_form import form_values, parse_event_form
    from events_app.services.series_rules import Rule

    settings.SERIES_HORIZON_DAYS = 5000
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        db.set_engine(db.make_engine(url))
        with db.write_session() as s:
            ada = organizers.create_organizer(s, email=f"ada{time.time_ns()}@example.org",
                                              name="Ada", password="bench-only-pw-1", admin=False)
        start = date(2030, 1, 7)
        form = {"title": "Phone bank", "summary": "Calls", "description": "",
                "category": "meeting", "timezone": "America/Chicago",
                "start_date": start.isoformat(), "start_time": "18:00",
                "end_date": start.isoformat(), "end_time": "20:00", "venue_name": "Hall",
                "city": "St. Louis", "capacity": "50", "max_guests": "2"}
        made = series.new_series(ada, parse_event_form(form), Rule("daily", count=args.dates),
                                 publish=True)
        with db.write_session() as s:
            rows = list(s.exec(select(Event).where(Event.series_id == made.id)
                               .order_by(col(Event.starts_at))))
            for i, e in enumerate(rows):
                s.add(Rsvp(event_id=e.id, name=f"P{i}", email=f"p{i}@example.org",
                           status="confirmed"))
        first = rows[0]

        def edit(**changes: str) -> float:
            with db.read_session() as s:
                values = form_values(s.get(Event, first.id))
            values.update(changes)
            data = parse_event_form(values)
            t = time.process_time()
            series.edit(ada, first.slug, data, series.Scope.ALL, notify_attendees=False)
            return time.process_time() - t

        def best(label: str, variants: list[dict[str, str]]) -> None:
            found = min(edit(**variants[n % len(variants)]) for n in range(args.repeat))
            print(f"{label:<44} {found * 1000:8.1f} ms CPU (best of {args.repeat})")

        print(f"{len(rows)} dates, {'PostgreSQL (app CPU only)' if args.url else 'SQLite'}")
        best("edit all: title", [{"title": "Phone bank A"}, {"title": "Phone bank B"}])
        best("edit all: time of day", [{"start_time": "17:00", "end_time": "19:00"},
                                       {"start_time": "18:00", "end_time": "20:00"}])
        t = time.process_time()
        series.cancel(ada, first.slug, "", series.Scope.ALL)
        print(f"{'cancel all (once)':<44} {(time.process_time() - t) * 1000:8.1f} ms CPU")


if __name__ == "__main__":
    main()
