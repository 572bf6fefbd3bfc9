"""The one place the environment is read.

Everything configurable comes from environment variables or an optional `.env` file in the
working directory. Tests set the environment before importing the app, so values are read once,
at import, as Starlette's own `Config` intends.
"""

from __future__ import annotations

import os
import secrets
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from starlette.config import Config
from starlette.datastructures import CommaSeparatedStrings, Secret

from events_app.util.timezones import is_timezone

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"
SEED_DIR = PROJECT_ROOT / "seed"

# Config warns when the file is missing; a .env is optional here.
config = Config(".env" if Path(".env").is_file() else None)

DATABASE_URL: str = config("DATABASE_URL", default="sqlite:///./events.db")
BASE_URL: str = config("BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME: str = config("SITE_NAME", default="Local Officials Events")
# The site's one-line description, in DEFAULT_LANGUAGE. Empty: the built-in one, which the
# catalogs translate (services/site_settings.py). SITE_DESCRIPTION_ES etc.: the same in
# another language (`site_description_in`).
SITE_DESCRIPTION: str = config("SITE_DESCRIPTION", default="")
# PostgreSQL connections per app process (pool + overflow). Keep workers x (both) below the
# server's max_connections (100 by default), with room for cron jobs and psql. Most of the 15
# are kept open: an RSVP post takes a connection three times, and under load an overflow
# connection is closed on return and opened again (a new server process) moments later.
DB_POOL_SIZE: int = config("DB_POOL_SIZE", cast=int, default=10)
DB_MAX_OVERFLOW: int = config("DB_MAX_OVERFLOW", cast=int, default=5)
# RSVP writes (posts, cancellations, guest changes) one app process runs at once; the others
# wait their turn on the event loop. bench.run, PostgreSQL, 2 workers, 32 connections, runs
# alternated: anyio's shared 40 threads 189.9 / 236.4 confirmed posts/s at 5.89 / 4.56 ms of app
# CPU each (threads contending for the GIL while they wait on row locks); 4 slots 240.7 / 292.5
# at 4.95 / 4.15 ms. At least 1.
RSVP_WRITE_THREADS: int = max(1, config("RSVP_WRITE_THREADS", cast=int, default=4))
DEFAULT_TIMEZONE: str = config("DEFAULT_TIMEZONE", default="America/New_York")
# The language of a visitor who has not chosen one and whose browser asks for none we have
# (an ISO 639-1 code with a catalog under events_app/locale/, or "en"; checked in i18n.py).
DEFAULT_LANGUAGE: str = config("DEFAULT_LANGUAGE", default="en")
DEBUG: bool = config("DEBUG", cast=bool, default=False)
PAGE_SIZE: int = config("PAGE_SIZE", cast=int, default=20)
# The public feeds' horizon: events that ended up to this many days ago, events starting up
# to this many months ahead, and at most this many events (the nearest first). Google and
# Outlook give up on feeds much larger than a few thousand events.
FEED_PAST_DAYS: int = config("FEED_PAST_DAYS", cast=int, default=30)
FEED_MONTHS_AHEAD: int = config("FEED_MONTHS_AHEAD", cast=int, default=12)
FEED_MAX_EVENTS: int = config("FEED_MAX_EVENTS", cast=int, default=2000)
# Recurring series (issue 14): occurrence rows are created this many days ahead (at least the
# feeds' horizon, so a subscribed calendar sees every date the site lists) and extended daily
# by `events-app extend-series` (cron).
SERIES_HORIZON_DAYS: int = config("SERIES_HORIZON_DAYS", cast=int, default=400)

# Mail (issue 3): with no SMTP_HOST, messages stay in the outbox table and are logged.
SMTP_HOST: str = config("SMTP_HOST", default="")
SMTP_PORT: int = config("SMTP_PORT", cast=int, default=25)
SMTP_USER: str = config("SMTP_USER", default="")
SMTP_PASSWORD: Secret = config("SMTP_PASSWORD", cast=Secret, default="")
SMTP_STARTTLS: bool = config("SMTP_STARTTLS", cast=bool, default=False)
MAIL_FROM: str = config("MAIL_FROM", default="events@localhost")
# `send-reminders` e-mails confirmed attendees once an event is this close (cron runs it).
REMINDER_LEAD_HOURS: int = config("REMINDER_LEAD_HOURS", cast=int, default=24)

# Attendees' name, e-mail, phone and comment are erased this many days after their event
# ends (`events-app purge-personal-data`, run daily by cron); counts and check-ins stay.
PERSONAL_DATA_RETENTION_DAYS: int = config("PERSONAL_DATA_RETENTION_DAYS", cast=int, default=90)

# Abuse limits; tests lower or raise them through the environment.
RSVP_RATE_LIMIT: int = config("RSVP_RATE_LIMIT", cast=int, default=10)  # posts per minute per IP
# Wrong passwords from one client for one account before back-off starts (see services.auth).
LOGIN_MAX_FAILURES: int = config("LOGIN_MAX_FAILURES", cast=int, default=5)
# Wrong passwords per hour for one account from all devices it was never used on, together:
# the ceiling for a guessing attack spread over many IPs.
LOGIN_ACCOUNT_CEILING: int = config("LOGIN_ACCOUNT_CEILING", cast=int, default=100)
# Organizer sign-in lasts at most this long (seconds); a working day at the door plus margin.
SESSION_MAX_AGE: int = config("SESSION_MAX_AGE", cast=int, default=12 * 3600)
# ...and ends sooner after this long without a request (a laptop left open somewhere).
SESSION_IDLE_TIMEOUT: int = config("SESSION_IDLE_TIMEOUT", cast=int, default=2 * 3600)

if PERSONAL_DATA_RETENTION_DAYS < 0:
    raise ValueError("PERSONAL_DATA_RETENTION_DAYS must be 0 or more")

if not is_timezone(DEFAULT_TIMEZONE):
    raise ValueError(f"DEFAULT_TIMEZONE={DEFAULT_TIMEZONE!r} is not an IANA timezone name")

SECRET_KEY_FILE = Path(config("SECRET_KEY_FILE", default=".secret_key"))


def _load_secret_key() -> Secret:
    """Use SECRET_KEY when given; otherwise generate one and keep it in a local file.

    A hard-coded fallback would let anyone forge sessions on a deployment that forgot to set
    it; a generated key kept on disk survives restarts and is shared by every worker process
    started from the same directory.
    """
    explicit = config("SECRET_KEY", default="")
    if explicit:
        return Secret(explicit)
    try:
        return Secret(SECRET_KEY_FILE.read_text().strip())
    except FileNotFoundError:
        pass
    # Written to a private temp file, then hard-linked into place: when several workers start
    # at once exactly one link succeeds, and nobody ever reads a half-written key.
    tmp = SECRET_KEY_FILE.with_name(f"{SECRET_KEY_FILE.name}.{os.getpid()}.tmp")
    tmp.write_text(secrets.token_urlsafe(48))
    tmp.chmod(0o600)
    try:
        os.link(tmp, SECRET_KEY_FILE)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return Secret(SECRET_KEY_FILE.read_text().strip())


SECRET_KEY: Secret = _load_secret_key()
HTTPS: bool = BASE_URL.startswith("https://")

_LOCAL_HOSTS = ("localhost", "127.0.0.1", "testserver")


def _default_allowed_hosts(base_url: str) -> list[str]:
    """BASE_URL's host; a local BASE_URL (development, tests) also allows the other local
    names, a public one nothing else, so a forged Host header never shapes a link."""
    host = (urlsplit(base_url).hostname or "").lower()
    return [host, *(h for h in _LOCAL_HOSTS if h != host)] if host in _LOCAL_HOSTS else [host]


# Host headers the app answers (others get 400). Comma-separated; "*.example.org" allows
# subdomains. Default: derived from BASE_URL.
ALLOWED_HOSTS: list[str] = list(config("ALLOWED_HOSTS", cast=CommaSeparatedStrings,
                                       default=",".join(_default_allowed_hosts(BASE_URL))))


@cache
def site_description_in(language: str) -> str:
    """SITE_DESCRIPTION_<LANGUAGE> (e.g. SITE_DESCRIPTION_ES): the description an operator
    wrote in that language, or "". Read on first use: which languages exist is i18n's to
    know, and it reads these settings."""
    return config(f"SITE_DESCRIPTION_{language.upper()}", default="").strip()
