"""The `events-app` command: serve, migrate, seed (and the jobs other modules add)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from events_app import settings

Command = Callable[[argparse.Namespace], int]
_commands: dict[str, Command] = {}


def _serve(args: argparse.Namespace) -> int:
    from events_app.serving import serve
    from events_app.web.access_log import log_config

    # Several workers: one SO_REUSEPORT socket each, so connections spread evenly (serving.py).
    return serve(
        "events_app.web.app:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=args.reload,
        proxy_headers=True,
        log_level="info",
        # Manage links and personal-feed tokens are written as /rsvp/[redacted] and
        # /my/[redacted] in the access log (every worker configures logging from this).
        log_config=log_config(),
    )


def _migrate(args: argparse.Namespace) -> int:
    from events_app.migrate import upgrade

    upgrade(settings.DATABASE_URL, args.revision)
    print(f"Database is at revision {args.revision}.")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from pathlib import Path

    from events_app.db import write_session
    from events_app.services import seed as seed_service

    with write_session() as session:
        if args.if_empty and seed_service.has_events(session):
            print("The database already has events; demo data not loaded.")
            return 0
        added = seed_service.seed(session, Path(args.file))
    print(f"Loaded {added} demo event(s).")
    return 0


def _create_organizer(args: argparse.Namespace) -> int:
    """Create an account and e-mail it an invitation to choose its own password. For the
    first admin (no active admin yet, so no one could send it again from the web and the
    mail server may not be set up) the link is also printed: whoever runs this command has
    the server, and with it the account, anyway."""
    from events_app.db import write_session
    from events_app.services import account_links, organizers
    from events_app.util.forms import FormError

    try:
        with write_session() as session:
            first_admin = args.admin and not organizers.has_active_admin(session)
            organizer, sent = organizers.invite_organizer(
                session, email=args.email, name=args.name, admin=args.admin)
    except FormError as exc:
        for field, message in exc.errors.items():
            print(f"{field}: {message}", file=sys.stderr)
        return 1
    print(f"Created {organizer.role} {organizer.email} (id {organizer.id}); an invitation "
          "e-mail to choose a password is in the outbox (`events-app send-outbox`).")
    if first_admin:
        print("As this is the first admin, here is the one-time link (valid "
              f"{account_links.INVITE_VALID.days} days) to choose "
              f"the password:\n{sent.link}")
    return 0


def _send_outbox(args: argparse.Namespace) -> int:
    from events_app.db import write_session
    from events_app.services import account_links, login_sessions, mail, throttle

    # Housekeeping rides along with the job that cron runs most often: rate-limit counters,
    # ended organizer sessions and expired account links (refused anyway) only take space.
    with write_session() as session:
        throttle.prune(session)
        login_sessions.purge_expired(session)
        account_links.purge_expired(session)
    report = mail.deliver_pending(limit=args.limit)
    print(f"Outbox: {report.sent} sent, {report.failed} failed (kept for retry), "
          f"{report.logged} logged (no SMTP_HOST).")
    return 1 if report.failed else 0  # cron mails the operator when a run had failures


def _send_reminders(args: argparse.Namespace) -> int:
    from events_app.services import mail, reminders

    queued = reminders.queue_reminders()
    report = mail.deliver_pending()
    print(f"Reminders: {queued} queued. Outbox: {report.sent} sent, {report.failed} failed, "
          f"{report.logged} logged (no SMTP_HOST).")
    return 1 if report.failed else 0


def _purge_personal_data(args: argparse.Namespace) -> int:
    from events_app.services import retention

    report = retention.purge()
    print(f"Erased the personal data of {report.rsvps} RSVP(s) of events that ended more than "
          f"{settings.PERSONAL_DATA_RETENTION_DAYS} days ago; deleted {report.emails} kept "
          f"e-mail(s), scrubbed {report.audit_entries} audit entr"
          f"{'y' if report.audit_entries == 1 else 'ies'}, dropped {report.feeds} unused "
          "calendar link(s).")
    return 0


def _extend_series(args: argparse.Namespace) -> int:
    from events_app.services import series

    try:
        created = series.extend_all()
    except series.ExtendFailed as exc:
        print(f"Recurring series: {exc}.", file=sys.stderr)
        return 1  # cron mails the operator
    print(f"Recurring series: {created} occurrence(s) created, "
          f"{settings.SERIES_HORIZON_DAYS} days ahead.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="events-app", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the web app with uvicorn")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes, each on a socket of its own (SO_REUSEPORT) so the "
                        "kernel spreads connections evenly over them")
    p.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    _commands["serve"] = _serve

    p = sub.add_parser("migrate", help="apply database migrations")
    p.add_argument("--revision", default="head")
    _commands["migrate"] = _migrate

    p = sub.add_parser("seed", help="load the demo events from seed/ (idempotent)")
    p.add_argument("--file", default=str(settings.SEED_DIR / "events.json"))
    p.add_argument("--if-empty", action="store_true", help="only when there are no events yet")
    _commands["seed"] = _seed

    p = sub.add_parser("create-organizer", help="create an organizer account (first admin too) "
                       "and e-mail it a link to choose its password (printed too for the "
                       "first admin)")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--admin", action="store_true", help="may manage all events and accounts")
    _commands["create-organizer"] = _create_organizer

    p = sub.add_parser("send-outbox", help="deliver queued e-mails, retrying failed ones, and "
                       "drop day-old rate-limit records (cron)")
    p.add_argument("--limit", type=int, default=200, help="at most this many per run")
    _commands["send-outbox"] = _send_outbox

    p = sub.add_parser("send-reminders",
                       help="e-mail confirmed attendees before their event, once each (cron)")
    _commands["send-reminders"] = _send_reminders

    p = sub.add_parser("purge-personal-data",
                       help="erase attendees' names, e-mails, phones and comments "
                            "PERSONAL_DATA_RETENTION_DAYS after their event (cron: daily)")
    _commands["purge-personal-data"] = _purge_personal_data

    p = sub.add_parser("extend-series",
                       help="create the dates of recurring series up to SERIES_HORIZON_DAYS "
                            "ahead (cron: daily; safe to run twice at once)")
    _commands["extend-series"] = _extend_series

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return _commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
