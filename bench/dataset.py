"""The large calendar the benchmark runs on: generated once with bulk inserts, then reused.

Generated, not loaded through the services, because a million RSVPs through the ORM would take
most of an hour; the rows are still what the services would have written (every column of the
models filled, seat rules respected: confirmed seats never exceed a capacity, the rest is
waitlisted), and `check()` proves it. Same seed, same calendar on SQLite and PostgreSQL.

Reuse: a SQLite file under bench/data/ and a PostgreSQL database per size, each with a
`bench_dataset` table written last (generator version and size), so a half-built or outdated
dataset is rebuilt instead of measured. Migrations added later are applied on reuse.

Usage: .venv/bin/python -m bench.dataset [--events 2000] [--db sqlite,postgresql] [--check]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "data"
# Bump when the generated rows change shape or meaning: cached datasets are then rebuilt.
GENERATOR_VERSION = 4
# Dates are relative to the day of generation: past this age, "upcoming" has thinned out.
MAX_AGE_DAYS = 30
DEFAULT_PG_URL = os.environ.get(
    "BENCH_PG_URL",
    os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))

# Fixed events the benchmark drives (besides the generated bulk).
DOOR_LIST_SLUG = "bench-door-list"  # upcoming, the big attendee list (5,000 RSVPs at full size)
DETAIL_SLUG = "bench-town-hall"  # an ordinary upcoming event page with a capacity
DOOR_LIST_RSVPS = 5000
ORGANIZER_EMAIL = "bench-organizer@example.org"
ADMIN_EMAIL = "bench-admin@example.org"
# A local, throwaway database: the password only has to pass the app's own rules.
PASSWORD = "bench-password-not-secret-42"  # noqa: S105
SEARCH_WORD = "vigil"  # in about one title in twelve

ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
         "America/Los_Angeles", "Pacific/Honolulu", "America/Mexico_City", "Europe/Madrid"]
CITIES = [("Chicago", "IL"), ("St. Louis", "MO"), ("Philadelphia", "PA"), ("Denver", "CO"),
          ("Phoenix", "AZ"), ("Seattle", "WA"), ("Boston", "MA"), ("Atlanta", "GA"),
          ("Houston", "TX"), ("El Paso", "TX"), ("Los Angeles", "CA"), ("San Diego", "CA"),
          ("Miami", "FL"), ("Minneapolis", "MN"), ("Newark", "NJ"), ("Tucson", "AZ")]
TOPICS = ["Know your rights", "Airport vigil", "Budget hearing", "Sanctuary ordinance",
          "Legal clinic", "Phone bank", "Rapid response training", "Town hall on detention",
          "DACA renewal help", "Community meeting", "Policy briefing", "Press conference"]
FIRST = ["Ana", "Luis", "María", "José", "Fatima", "Wei", "Olga", "Kwame", "Sofía", "Tom",
         "Priya", "Jesús", "Amina", "Chen", "Grace", "Diego"]
LAST = ["García", "Smith", "Nguyen", "Hernández", "Okafor", "Kowalski", "Rossi", "Haddad",
        "Martínez", "Johnson", "Kim", "López", "Dubois", "Singh", "Cohen", "Ramírez"]
DESCRIPTION = ("Join neighbours, advocates and local officials. We will share what changed, "
               "answer questions with volunteer attorneys, and plan the next steps together. "
               "Interpretation in Spanish is available; the venue is step-free. ") * 2


@dataclass(frozen=True)
class Size:
    events: int
    rsvps: int
    seed: int = 11

    @property
    def door_list_rsvps(self) -> int:
        return min(DOOR_LIST_RSVPS, self.rsvps // 2)

    @property
    def door_list_capacity(self) -> int:
        """Fewer seats than its parties ask for (about 1.8 seats each): the end of its list
        is waitlisted, as at a popular rally."""
        return max(10, self.door_list_rsvps * 8 // 5)

    def marker(self) -> dict[str, str]:
        return {"generator_version": str(GENERATOR_VERSION), "events": str(self.events),
                "rsvps": str(self.rsvps), "seed": str(self.seed)}


@dataclass(frozen=True)
class Dataset:
    url: str
    size: Size
    reused: bool
    seconds: float  # generation time (0 when reused)


# --- where datasets live ---------------------------------------------------------------------

def sqlite_url(size: Size) -> str:
    name = f"calendar-{size.events}-{size.rsvps}-s{size.seed}-v{GENERATOR_VERSION}.db"
    return f"sqlite:///{DATA_DIR / name}"


def pg_url(size: Size, base_url: str = DEFAULT_PG_URL) -> str:
    name = f"events_bench_{size.events}_{size.rsvps}_s{size.seed}"
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def _read_marker(engine: Engine) -> dict[str, str]:
    try:
        with engine.connect() as conn:
            return {k: v for k, v in conn.execute(text("SELECT name, value FROM bench_dataset"))}
    except Exception:  # noqa: BLE001 - no such table (half-built or foreign database): rebuild
        return {}


def _reusable(engine: Engine, size: Size) -> bool:
    """Complete, of this size and generator version, and generated recently enough."""
    marker = _read_marker(engine)
    engine.dispose()
    generated_on = marker.pop("generated_on", "")
    try:
        age = (datetime.now(UTC).date() - date.fromisoformat(generated_on)).days
    except ValueError:
        return False
    return marker == size.marker() and age <= MAX_AGE_DAYS


def ensure(kind: str, size: Size, *, base_pg_url: str = DEFAULT_PG_URL,
           regenerate: bool = False, log: Any = print) -> Dataset:
    """The dataset of `size` on `kind` ("sqlite" or "postgresql"), built only when missing."""
    from events_app.migrate import upgrade

    url = sqlite_url(size) if kind == "sqlite" else pg_url(size, base_pg_url)
    if kind == "sqlite":
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path = Path(make_url(url).database or "")
        if path.exists() and not regenerate and _reusable(create_engine(url), size):
            upgrade(url)
            return Dataset(url, size, reused=True, seconds=0.0)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        admin = create_engine(base_pg_url, isolation_level="AUTOCOMMIT")
        name = make_url(url).database
        try:
            with admin.connect() as conn:
                exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                      {"n": name}).first()
        except Exception as exc:  # noqa: BLE001 - say what to do instead of a traceback
            sys.exit(f"PostgreSQL unreachable at {make_url(base_pg_url)!r} ({exc}).\n"
                     "Start it, point BENCH_PG_URL (or --pg-url) at one, or use --db sqlite.")
        if exists and not regenerate and _reusable(create_engine(url), size):
            admin.dispose()
            upgrade(url)
            return Dataset(url, size, reused=True, seconds=0.0)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    log(f"{kind}: generating {size.events:,} events and {size.rsvps:,} RSVPs ...")
    started = time.perf_counter()
    upgrade(url)
    generate(url, size)
    seconds = time.perf_counter() - started
    log(f"{kind}: generated in {seconds:.1f} s")
    return Dataset(url, size, reused=False, seconds=seconds)


# --- generation ------------------------------------------------------------------------------

def _row_writer(engine: Engine) -> Any:
    """Bulk insert: COPY on PostgreSQL, one executemany transaction on SQLite."""
    if engine.dialect.name == "postgresql":
        def write_pg(table: Table, rows: Iterable[dict[str, Any]]) -> None:
            raw = engine.raw_connection()
            try:
                columns = [c.name for c in table.columns]
                cols = ", ".join(f'"{c}"' for c in columns)
                sql = f'COPY "{table.name}" ({cols}) FROM STDIN'
                with raw.cursor() as cur, cur.copy(sql) as cp:
                    for row in rows:
                        cp.write_row([row[c] for c in columns])
                raw.commit()
            finally:
                raw.close()
        return write_pg

    def write_sqlite(table: Table, rows: Iterable[dict[str, Any]]) -> None:
        with engine.connect() as conn:
            # A file nobody else uses yet, rebuilt if this is interrupted (no marker): no
            # journal, no fsync, and a cache that holds the indexes being filled (random
            # tokens would otherwise send every insert to disk).
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-262144"):
                conn.exec_driver_sql(f"PRAGMA {pragma}")
            conn.commit()
        with engine.begin() as conn:
            for pragma in ("synchronous=OFF", "cache_size=-262144"):
                conn.exec_driver_sql(f"PRAGMA {pragma}")
            batch: list[dict[str, Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= 20000:
                    conn.execute(table.insert(), batch)
                    batch = []
            if batch:
                conn.execute(table.insert(), batch)
    return write_sqlite


def _complete(table: Table, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Fill columns the generator does not know (added by later migrations) with their
    Python-side default; refuse clearly when a required column has none."""
    first = True
    fill: dict[str, Any] = {}
    for row in rows:
        if first:
            for col in table.columns:
                if col.name in row:
                    continue
                default = col.default
                if default is not None and getattr(default, "is_scalar", False):
                    fill[col.name] = default.arg  # type: ignore[attr-defined]
                elif col.nullable:
                    fill[col.name] = None
                else:
                    raise RuntimeError(f"bench/dataset.py does not fill {table.name}.{col.name}; "
                                       "teach it (and bump GENERATOR_VERSION)")
            first = False
        if fill:
            row = {**fill, **row}
        yield row


def _local(zone: ZoneInfo, day: date, at: dtime) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _events(size: Size, rng: random.Random, now: datetime, today: date,
            owners: tuple[int, int]) -> Iterator[dict[str, Any]]:
    """Event rows with ids 1..events; two fixed ones first (see the slugs above)."""
    from events_app.models import CATEGORIES, new_uid

    organizer_id, admin_id = owners
    categories = list(CATEGORIES)
    span = 5 * 365  # five years, centred on today
    for event_id in range(1, size.events + 1):
        zone_name = ZONES[event_id % len(ZONES)]
        zone = ZoneInfo(zone_name)
        city, region = CITIES[rng.randrange(len(CITIES))]
        category = categories[rng.randrange(len(categories))]
        topic = TOPICS[rng.randrange(len(TOPICS))]
        status = "published"
        roll = rng.random()
        if roll < 0.02:
            status = "draft"
        elif roll < 0.035:
            status = "cancelled"
        day = today + timedelta(days=rng.randrange(span) - span // 2)
        all_day = rng.random() < 0.03
        capacity: int | None = rng.choice((None, None, 25, 50, 100, 200, 500))
        slug = f"{topic.lower().replace(' ', '-')}-{city.lower().replace(' ', '-')}-{event_id}"
        title = f"{topic} in {city}"
        if event_id in (1, 2):  # the two fixed events: upcoming, published, with a capacity
            slug, status, all_day = (DOOR_LIST_SLUG, DETAIL_SLUG)[event_id - 1], "published", False
            day = today + timedelta(days=7 + event_id)
            capacity = (size.door_list_capacity, 200)[event_id - 1]
            title = ("Rally and vigil for the families at the airport" if event_id == 1
                     else "Town hall with the city council")
            zone_name, zone, city, region = "America/Chicago", ZoneInfo("America/Chicago"), \
                "Chicago", "IL"
        if all_day:
            start = _local(zone, day, dtime.min)
            end = _local(zone, day + timedelta(days=1), dtime.min)
        else:
            start = _local(zone, day, dtime(8 + rng.randrange(12), 15 * rng.randrange(4)))
            end = start + timedelta(minutes=60 * (1 + rng.randrange(3)))
        online = category in ("webinar", "call")
        created = min(now, start) - timedelta(days=rng.randrange(1, 60))
        owner = organizer_id if event_id <= 2 or event_id % 100 == 0 else \
            (admin_id if event_id % 3 == 0 else None)
        yield {
            "id": event_id, "slug": slug, "uid": new_uid(), "title": title,
            "summary": f"{topic}: what it means for our neighbours in {city}.",
            "description": DESCRIPTION, "category": category,
            "starts_at": start, "ends_at": end, "timezone": zone_name, "all_day": all_day,
            "venue_name": "" if online else f"{city} Union Hall",
            "street_address": "" if online else f"{100 + event_id % 900} Main St",
            "city": city, "region": region, "postal_code": f"{10000 + event_id % 89999}",
            "latitude": None if online else 30 + (event_id % 17),
            "longitude": None if online else -120 + (event_id % 40),
            "online_url": "https://meet.example.org/bench" if online else "",
            "host_name": f"Local {event_id % 400}", "capacity": capacity,
            "max_guests": 2 if event_id <= 2 else rng.randrange(5), "waitlist_enabled": True,
            "rsvp_deadline": None, "status": status,
            "cancel_message": "Postponed; we will write with a new date." if
            status == "cancelled" else "",
            "cancelled_at": created if status == "cancelled" else None, "owner_id": owner,
            "created_at": created, "updated_at": created,
            "sequence": 1 if status == "cancelled" else 0,
        }


def _rsvps(size: Size, rng: random.Random, events: list[tuple[int, int | None, int, datetime]],
           now: datetime) -> Iterator[dict[str, Any]]:
    """RSVP rows: the door-list event's first, then the rest spread over the other events.

    `events` holds (id, capacity, max_guests, starts_at) of every event that takes RSVPs.
    Seats are counted as they are handed out, so a party that no longer fits is waitlisted,
    exactly as services/rsvp.py would decide.
    """
    from events_app.models import new_token

    taken: dict[int, int] = {}
    others = [e for e in events if e[0] != 1]
    door = next((e for e in events if e[0] == 1), None)
    for i in range(size.rsvps):
        if door is not None and i < size.door_list_rsvps:
            event_id, capacity, max_guests, starts = door
        else:
            event_id, capacity, max_guests, starts = others[rng.randrange(len(others))]
        guests = min(max_guests, rng.choice((0, 0, 0, 1, 1, 2, 3)))
        created = min(now, starts) - timedelta(minutes=rng.randrange(1, 60 * 24 * 30))
        status = "confirmed"
        if rng.random() < 0.04:
            status = "cancelled"
        elif capacity is not None:
            if taken.get(event_id, 0) + 1 + guests <= capacity:
                taken[event_id] = taken.get(event_id, 0) + 1 + guests
            else:
                status = "waitlisted"
        past = starts < now
        yield {
            "id": i + 1, "event_id": event_id, "token": new_token(),
            "name": f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}",
            "email": f"p{i}@bench.example.org", "phone": f"+1 555 {i % 10000:04d}",
            "guests": guests, "comment": "Bringing my neighbour." if i % 9 == 0 else "",
            "status": status, "created_at": created, "updated_at": created,
            "waitlisted_at": created if status == "waitlisted" else None,
            "promoted_at": None,
            "cancelled_at": created if status == "cancelled" else None,
            "checked_in_at": starts if past and status == "confirmed" and i % 2 else None,
            # The whole party, except every fifth checked-in party of three or more (v3).
            "checked_in_seats": 0 if not (past and status == "confirmed" and i % 2) else
            guests if guests >= 2 and i % 5 == 1 else guests + 1,
            "reminder_sent_at": starts - timedelta(hours=24) if past and status == "confirmed"
            else None,
            "language": "es" if i % 4 == 0 else "en",  # a quarter RSVP'd in Spanish (v4)
        }


def generate(url: str, size: Size) -> None:
    """Fill a migrated, empty database with the calendar of `size`, then mark it complete."""
    from events_app.models import Event, EventHost, Rsvp, utcnow
    from events_app.services import organizers

    engine = create_engine(url)
    rng = random.Random(size.seed)
    now = utcnow().replace(microsecond=0)
    today = now.date()
    with Session(engine) as session:
        ids = []
        for email, name, admin in ((ORGANIZER_EMAIL, "Bench Organizer", False),
                                   (ADMIN_EMAIL, "Bench Admin", True)):
            ids.append(organizers.create_organizer(session, email=email, name=name,
                                                   password=PASSWORD, admin=admin).id)
        session.commit()
    owners = (int(ids[0]), int(ids[1]))
    write = _row_writer(engine)
    takes_rsvps: list[tuple[int, int | None, int, datetime]] = []

    def remember(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for row in rows:
            if row["status"] != "draft":
                takes_rsvps.append((row["id"], row["capacity"], row["max_guests"],
                                    row["starts_at"]))
            yield row

    event_table: Table = Event.__table__  # type: ignore[attr-defined]
    write(event_table, _complete(event_table, remember(_events(size, rng, now, today, owners))))
    hosts = [{"event_id": e, "organizer_id": owners[0]}
             for e in range(250, size.events + 1, 250)]
    if hosts:
        write(EventHost.__table__, iter(hosts))  # type: ignore[attr-defined]
    rsvp_table: Table = Rsvp.__table__  # type: ignore[attr-defined]
    write(rsvp_table, _complete(rsvp_table, _rsvps(size, rng, takes_rsvps, now)))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("event", "rsvp"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
        conn.execute(text("CREATE TABLE bench_dataset "
                          "(name VARCHAR(40) PRIMARY KEY, value VARCHAR(200) NOT NULL)"))
        marker = {**size.marker(), "generated_on": today.isoformat()}
        conn.execute(text("INSERT INTO bench_dataset (name, value) VALUES (:n, :v)"),
                      [{"n": k, "v": v} for k, v in marker.items()])
    if engine.dialect.name == "postgresql":
        # What autovacuum would have done by the time a real calendar got this big.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


# --- consistency -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Report:
    events: int
    published: int
    rsvps: int
    confirmed: int
    waitlisted: int
    door_list_rsvps: int
    oversold_events: list[tuple[int, int, int]]  # (event id, capacity, confirmed seats)
    waitlisted_without_time: int


def check(url: str) -> Report:
    """Counts, and the invariants any calendar the app wrote must hold (no event oversold)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        def one(sql: str) -> int:
            return int(conn.execute(text(sql)).scalar_one() or 0)

        oversold = [tuple(r) for r in conn.execute(text(
            "SELECT e.id, e.capacity, SUM(1 + r.guests) FROM event e JOIN rsvp r "
            "ON r.event_id = e.id WHERE r.status = 'confirmed' AND e.capacity IS NOT NULL "
            "GROUP BY e.id, e.capacity HAVING SUM(1 + r.guests) > e.capacity"))]
        report = Report(
            events=one("SELECT count(*) FROM event"),
            published=one("SELECT count(*) FROM event WHERE status = 'published'"),
            rsvps=one("SELECT count(*) FROM rsvp"),
            confirmed=one("SELECT count(*) FROM rsvp WHERE status = 'confirmed'"),
            waitlisted=one("SELECT count(*) FROM rsvp WHERE status = 'waitlisted'"),
            door_list_rsvps=one(f"SELECT count(*) FROM rsvp r JOIN event e ON e.id = r.event_id"
                                f" WHERE e.slug = '{DOOR_LIST_SLUG}'"),
            oversold_events=oversold,  # type: ignore[arg-type]
            waitlisted_without_time=one("SELECT count(*) FROM rsvp WHERE status = 'waitlisted' "
                                        "AND waitlisted_at IS NULL"),
        )
    engine.dispose()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rsvps", type=int, help="default: 10 per event")
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--check", action="store_true", help="print counts and invariants")
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    size = Size(args.events, args.rsvps if args.rsvps is not None else 10 * args.events)
    for kind in args.db.split(","):
        ds = ensure(kind, size, base_pg_url=args.pg_url, regenerate=args.regenerate)
        print(f"{kind}: {'reused' if ds.reused else 'generated'} {ds.url}")
        if args.check:
            print(f"  {check(ds.url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
