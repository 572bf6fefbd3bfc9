"""Benchmark: the door list and CSV export of a big event (SQLite file, N RSVPs).

Prints figures; it asserts nothing. The attendee page and the CSV are rebuilt from the
database on every request, so these are the numbers an organizer waits for at the door.
Usage: .venv/bin/python bench/attendees.py [--rsvps 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "bench-only")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rsvps", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from events_app import db
    from events_app.migrate import upgrade
    from events_app.models import Event, Rsvp, RsvpStatus, utcnow
    from events_app.services import attendee_csv, attendees

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        db.set_engine(db.make_engine(url))
        now = utcnow()
        with db.write_session() as s:
            event = Event(slug="big", title="Big rally", starts_at=now + timedelta(days=1),
                          ends_at=now + timedelta(days=1, hours=2), timezone="America/Chicago")
            s.add(event)
            s.flush()
            for i in range(args.rsvps):
                status = RsvpStatus.WAITLISTED if i % 10 == 0 else RsvpStatus.CONFIRMED
                s.add(Rsvp(event_id=event.id, name=f"Person {i:05d}", email=f"p{i}@example.org",
                           phone=f"+1 555 {i:04d}", guests=i % 3, status=status.value,
                           waitlisted_at=now if status == RsvpStatus.WAITLISTED else None,
                           checked_in_at=now if i % 4 == 0 else None))

        def timed(label: str, fn) -> None:  # type: ignore[no-untyped-def]
            best = float("inf")
            for _ in range(args.repeat):
                with db.read_session() as s:
                    t = time.perf_counter()
                    fn(s)
                    best = min(best, time.perf_counter() - t)
            print(f"{label:<40} {best * 1000:8.1f} ms (best of {args.repeat})")

        print(f"{args.rsvps} RSVPs")
        timed("counts", lambda s: attendees.counts(s, event))
        timed("whole list, sorted by name", lambda s: attendees.list_attendees(s, event))
        timed("page 1 (what the door page loads)", lambda s: attendees.attendee_page(
            s, event, attendees.AttendeeQuery()))
        timed("last page", lambda s: attendees.attendee_page(
            s, event, attendees.AttendeeQuery(), page=10**6))
        timed("page 1, search 'person 01'", lambda s: attendees.attendee_page(
            s, event, attendees.AttendeeQuery(q="person 01")))
        timed("CSV export", lambda s: attendee_csv.export_csv(s, event))


if __name__ == "__main__":
    main()
