"""Shared fixtures: every database test runs on a real SQLite file and on real PostgreSQL.

Isolation: SQLite tests each get a fresh copy of a migrated template file; PostgreSQL tests
share one database created (and migrated) for this pytest process, emptied before each test.
Emptying rather than a rolled-back transaction keeps tests honest about commits, and lets a
real uvicorn server in another process see the same rows.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

# The environment is read once, when events_app.settings is imported: set it first.
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("DATABASE_URL", "sqlite:///./unused-by-tests.db")
os.environ.setdefault("BASE_URL", "http://testserver")
os.environ.setdefault("RSVP_RATE_LIMIT", "1000")
os.environ.setdefault("SMTP_HOST", "")

import pytest  # noqa: E402
import vobject.icalendar  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from events_app import db as app_db  # noqa: E402
from events_app.migrate import upgrade  # noqa: E402
from events_app.models import Organizer  # noqa: E402
from events_app.services import data_version  # noqa: E402

# Property-based tests (test_fuzz.py) send real requests against a real database, so one
# example takes milliseconds, not microseconds: no per-example deadline, and an example budget
# (per route, in test_fuzz.py) that keeps the suite within CI time. CI replays the same
# examples every run (derandomized, no example database); locally Hypothesis explores new ones
# and remembers failures in .hypothesis/; HYPOTHESIS_PROFILE=deep hunts for longer.
_HYPOTHESIS = {"deadline": None, "print_blob": True,
               "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=16, derandomize=True, database=None,
                          **_HYPOTHESIS)
settings.register_profile("dev", max_examples=16, **_HYPOTHESIS)
settings.register_profile("deep", max_examples=300, **_HYPOTHESIS)

PG_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Expose each phase's report on the item, so fixtures can act on failures."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


# vobject keeps, for the life of the process, the first VTIMEZONE it read for each TZID
# (vobject.icalendar.__tzidMap) and reads every later file's times by it. Our VTIMEZONEs cover
# only the years a file needs, so a file read after another test's would be read by that
# test's definitions (an hour off in 2031 after a 2026 file): each test starts from none, as a
# calendar app reading one file does.
_VOBJECT_TZIDS: dict = getattr(vobject.icalendar, "__tzidMap")
_VOBJECT_TZIDS_AT_IMPORT = dict(_VOBJECT_TZIDS)


@pytest.fixture(autouse=True)
def _vobject_forgets_earlier_timezones() -> None:
    _VOBJECT_TZIDS.clear()
    _VOBJECT_TZIDS.update(_VOBJECT_TZIDS_AT_IMPORT)


# --- SQLite -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


# --- PostgreSQL ---------------------------------------------------------------------------

def _pg_admin_engine() -> Engine:
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of our own for this pytest process, so parallel runs never collide."""
    admin = _pg_admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        reason = f"PostgreSQL unreachable at {make_url(PG_URL).render_as_string()}: {exc}"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: the PostgreSQL half of the suite is required)")
        pytest.skip(reason)
    name = f"events_app_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # Commits return without waiting for the WAL to reach the disk (about 1 ms instead of
        # 7 here). Nothing a test checks changes: a commit is as atomic and as visible to other
        # connections as before; only a crash of the server could lose the last ones, and this
        # database is thrown away. Set on the database, so the uvicorn servers get it too.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_engine(pg_database: str) -> Iterator[Engine]:
    engine = app_db.make_engine(pg_database)
    yield engine
    engine.dispose()


def _empty_all(engine: Engine) -> None:
    """Empty every table and restart every id sequence, as TRUNCATE ... RESTART IDENTITY would.

    DELETE rather than TRUNCATE: a test leaves a handful of rows, and deleting them costs about
    a millisecond per table, while TRUNCATE gives every table and index a new file and scans
    shared buffers for the old ones, about 0.1-0.3 s per test whatever the rows (the biggest
    fixture cost of the suite). Children first (reverse dependency order), so no foreign key
    is violated; one round trip; sequences only where one was used since the last reset.
    """
    deletes = "".join(f'DELETE FROM "{t.name}";'
                      for t in reversed(SQLModel.metadata.sorted_tables))
    restart = ("SELECT setval((quote_ident(schemaname) || '.' || quote_ident(sequencename))"
               "::regclass, start_value, false) FROM pg_sequences"
               " WHERE schemaname = current_schema() AND last_value IS NOT NULL;")
    with engine.begin() as conn:
        conn.exec_driver_sql(deletes + restart)


# --- The database fixture every DB test uses ------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """The URL of a fresh, migrated, empty database; the app's engine points at it."""
    if request.param == "sqlite":
        path = tmp_path / "events.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
        engine = app_db.make_engine(url)
        app_db.set_engine(engine)
        yield url
        data_version.forget(engine)
        app_db.set_engine(None)
        engine.dispose()
    else:
        pg_url = request.getfixturevalue("pg_database")
        engine = request.getfixturevalue("pg_engine")
        _empty_all(engine)
        data_version.forget(engine)  # emptied behind the process's back
        app_db.set_engine(engine)
        yield pg_url
        app_db.set_engine(None)


@pytest.fixture
def engine(db_url: str) -> Engine:
    return app_db.get_engine()


@pytest.fixture
def owner(db_url: str) -> Organizer:
    """The organizer who owns a test's events (a module may define its own `owner`)."""
    from tests.organizer_support import make_organizer

    return make_organizer("owner@example.org", "Olga Owner")


@pytest.fixture
def client(db_url: str) -> Iterator:
    from starlette.testclient import TestClient

    from events_app.services import feeds, listing_cache
    from events_app.web.app import create_app

    # Rendered pages of another test's database must not leak in (data versions never repeat
    # across databases, see data_version._Known; this keeps render counts per test too).
    for cache in (listing_cache.cache, feeds.public_cache, feeds.personal_cache):
        cache.clear()
    with TestClient(create_app()) as c:
        yield c


# --- A real server, for browser and concurrency tests --------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, url: str, proc: subprocess.Popen, log: Path) -> None:
        self.url, self.proc, self.log = url, proc, log

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_server(db_url: str, tmp_path: Path, workers: int = 1,
                 extra_env: dict[str, str] | None = None,
                 app: str = "events_app.web.app:app") -> LiveServer:
    """Run `uvicorn <app>` (the real app unless told) in its own process(es) against db_url."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "BASE_URL": f"http://127.0.0.1:{port}",
           **(extra_env or {})}
    # Lets the server import a test-only app module (tests.*) whatever the working directory.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    log = tmp_path / f"server-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
        env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError(f"server did not start:\n{log.read_text()}")
    # The server's warm-up (before it accepts connections) read the data version and cached
    # the pages it rendered; another process's writes show there once that read is older
    # than CHECK_INTERVAL (services/data_version.py). Tests write their events from this
    # process right after start-up and expect the very next page to show them: wait it out.
    time.sleep(data_version.CHECK_INTERVAL + 0.05)
    return LiveServer(f"http://127.0.0.1:{port}", proc, log)


@pytest.fixture
def live_server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(db_url, tmp_path)
    yield server
    server.stop()


# --- Browser --------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("Debian's chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield b
        b.close()


@pytest.fixture
def new_page(browser, request: pytest.FixtureRequest) -> Iterator:
    """A factory of pages in fresh browser contexts; screenshots each on test failure."""
    contexts = []

    def make(**context_args):
        ctx = browser.new_context(**context_args)
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for i, ctx in enumerate(contexts):
            for j, page in enumerate(ctx.pages):
                name = f"{request.node.name}-{i}-{j}.png".replace("/", "_")
                with contextlib.suppress(Exception):  # a screenshot is best effort
                    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def page(new_page):
    return new_page()


# The family static/fonts/noto-sans/wght.css declares; app.css sets every page in it.
SHIPPED_FONT = "Noto Sans Variable"


def shipped_font_loaded(page) -> bool:
    """Wait for the page's web fonts; whether the shipped font is loaded and in use.

    Layout assertions (lines, widths) are made after this, in the font the site ships, so they
    hold whichever fonts the machine has installed.
    """
    return page.evaluate("""async (family) => {
      await document.fonts.ready;
      const used = getComputedStyle(document.body).fontFamily.split(",")[0].replace(/"/g, "");
      return used === family && [...document.fonts].some(
        (f) => f.family.replace(/"/g, "") === family && f.status === "loaded");
    }""", SHIPPED_FONT)
