"""The audit trail: who changed which event or RSVP, and when.

Entries are written in the same transaction as the change they describe, so the trail can
never claim a change that was rolled back, nor miss one that committed. The RSVP service's
own-transaction actions (force_confirm, remove_rsvp) take the acting organizer and write
their entry inside that transaction for the same reason.
"""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from events_app import settings, timefmt
from events_app.models import AuditLog, Event, Organizer, Rsvp
from events_app.util import paging

MAX_DETAIL = 4000


def _show(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe_changes(changes: dict[str, tuple[Any, Any]]) -> str:
    """`{"title": (old, new)}` as "title: 'old' -> 'new'" lines, for people reading the log."""
    return "\n".join(f"{k}: {_show(old)} -> {_show(new)}" for k, (old, new) in changes.items())


def command_line_actor() -> str:
    """Who acts when no account does: the command line, named by the server user running it
    (the person at the server's shell is the one accountable)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (some containers)
        user = ""
    return f"Command line ({user})" if user else "Command line"


def record(session: Session, actor: Organizer | None, action: str, entity: Event | Rsvp |
           Organizer, detail: str = "") -> AuditLog:
    """`actor` None means the command line (see `command_line_actor`)."""
    entry = AuditLog(
        actor_id=actor.id if actor else None,
        actor_label="" if actor else command_line_actor()[:200],
        action=action,
        entity_type=type(entity).__name__.lower(),
        entity_id=entity.id,
        detail=detail[:MAX_DETAIL],
    )
    session.add(entry)
    return entry


# --- Reading the trail: each entry as a sentence ---------------------------------------------

_RECIPIENTS = re.compile(r"^(\d+) recipient\(s\)(?: \((\w+)\))?: (.*)$", re.S)
_AUDIENCES = {"confirmed": "confirmed", "waitlisted": "waitlisted",
              "checked_in": "checked-in", "not_checked_in": "not-yet-checked-in"}


def _emailed(detail: str, title: str) -> str:
    """'E-mailed 12 confirmed attendees of “X”: “Subject”' from the entry's detail."""
    found = _RECIPIENTS.match(detail)
    if not found:
        return f"E-mailed the attendees of “{title}”"
    count, audience, subject = int(found.group(1)), found.group(2), found.group(3)
    who = f"{_AUDIENCES.get(audience or 'confirmed', '')} attendee".lstrip()
    return (f"E-mailed {count} {who}{'' if count == 1 else 's'} of “{title}”: "
            f"“{subject}”")


# Series entries (services/series.py) are filed under one of its dates; their details say
# the rule in words ("Repeats every second Tuesday, ..."), the scope, the dates skipped.
_RULE = re.compile(r"\bRepeats ([^:\n]+)")
_SCOPE = re.compile(r"\bscope (\w+)")
_SKIPPED = re.compile(r"\bskipped ([\d, -]+)")
_SPLIT_AT = re.compile(r"\bdates from (\d{4}-\d\d-\d\d) on")
_ADDED = re.compile(r"\b(\d+) date\(s\) added")


def _rule(detail: str, lead: str) -> str:
    """", repeating every second Tuesday" (`lead` ", repeating") from a detail that names the
    rule in words; "" when it does not."""
    found = _RULE.search(detail)
    return f"{lead} {found.group(1)}" if found else ""


def _day(iso: str) -> str:
    try:
        day = date.fromisoformat(iso.strip())
    except ValueError:
        return iso.strip()
    return f"{day:%B} {day.day}, {day.year}"


def _days(isos: list[str]) -> str:
    days = [_day(d) for d in isos if d.strip()]
    return days[0] if len(days) == 1 else ", ".join(days[:-1]) + " and " + days[-1]


def _scoped(detail: str, title: str, verb: str, still: str) -> str:
    """An edit or cancellation of several dates, by its scope."""
    scope = _SCOPE.search(detail)
    if scope and scope.group(1) == "all":
        return f"{verb} every date of the series “{title}” {still}"
    if scope and scope.group(1) == "following":
        return f"{verb} a date of the series “{title}” and every later one"
    return f"{verb} dates of the series “{title}”"


def _skipped(detail: str, title: str) -> str:
    found = _SKIPPED.search(detail)
    if found and found.group(1).strip(" ,"):
        return f"Skipped {_days(found.group(1).split(','))} in the series “{title}”"
    return f"Skipped dates of the series “{title}”"


def _split(detail: str, title: str) -> str:
    found = _SPLIT_AT.search(detail)
    at = f"from {_day(found.group(1))} on" if found else "from one date on"
    return f"Split the series “{title}”: its dates {at} became a new series"


def _added(detail: str, title: str) -> str:
    found = _ADDED.search(detail)
    count = int(found.group(1)) if found else 0
    what = f"{count} date{'' if count == 1 else 's'}" if found else "dates"
    return f"Added {what} to the series “{title}”"


# action -> the sentence, from the readable name of what it is about (and the detail).
_SENTENCES: dict[str, Any] = {
    "event.create": lambda s, d: f"Created the event “{s}”",
    "event.update": lambda s, d: f"Edited the event “{s}”",
    "event.duplicate": lambda s, d: f"Created the event “{s}” as a copy of another",
    "event.publish": lambda s, d: f"Published the event “{s}”",
    "event.unpublish": lambda s, d: f"Took the event “{s}” back to draft",
    "event.cancel": lambda s, d: f"Cancelled the event “{s}”",
    "event.uncancel": lambda s, d: f"Undid the cancellation of the event “{s}”",
    "event.email_attendees": lambda s, d: _emailed(d, s),
    "event.email_test": lambda s, d: f"Sent themself a test of an e-mail to the attendees "
                                     f"of “{s}”",
    "event.export_csv": lambda s, d: f"Downloaded the attendee list of “{s}”",
    "rsvp.check_in": lambda s, d: f"Checked in {s}",
    "rsvp.undo_check_in": lambda s, d: f"Undid the check-in of {s}",
    "rsvp.force_confirm": lambda s, d: f"Moved {s} from the waitlist to confirmed",
    "rsvp.remove": lambda s, d: f"Cancelled the RSVP of {s}",
    "organizer.create": lambda s, d: f"Created the organizer account of {s}",
    "organizer.invite": lambda s, d: f"Sent {s} an invitation to choose a password",
    "organizer.invitation_accepted": lambda s, d: f"{s} accepted the invitation and chose "
                                                  "a password",
    "organizer.reset_link_sent": lambda s, d: f"Sent {s} a link to choose a new password",
    "organizer.password_reset_by_link": lambda s, d: f"{s} chose a new password through a "
                                                     "reset link",
    "organizer.reset_password": lambda s, d: f"Set a new password for {s}",
    "organizer.update": lambda s, d: f"Changed the account of {s}",
    "organizer.sign_out_everywhere": lambda s, d: f"Signed {s} out on every device",
    "organizer.two_factor_on": lambda s, d: f"{s} turned on two-factor sign-in",
    "organizer.two_factor_off": lambda s, d: f"Turned off two-factor sign-in for {s}",
    "organizer.recovery_code_used": lambda s, d: f"{s} signed in with a recovery code",
    "site.two_factor_required": lambda s, d: "Made two-factor sign-in " + (
        "required" if d.startswith("required") else "optional") + " for every organizer",
    "series.create": lambda s, d: f"Created the series “{s}”" + _rule(d, ", repeating"),
    "series.convert": lambda s, d: f"Made the event “{s}” a series" + _rule(d, ", repeating"),
    "series.change_rule": lambda s, d: (f"Changed the series “{s}”" + _rule(d, " to repeat")
                                        if _RULE.search(d)
                                        else f"Changed how the series “{s}” repeats"),
    "series.edit": lambda s, d: _scoped(d, s, "Edited", "not started yet"),
    "series.cancel": lambda s, d: _scoped(d, s, "Cancelled", "still to come"),
    "series.skip": lambda s, d: _skipped(d, s),
    "series.split": lambda s, d: _split(d, s),
    "series.duplicate": lambda s, d: f"Created the series “{s}” as a copy of another",
    "series.extend": lambda s, d: _added(d, s),
    "series.rsvp_all": lambda s, d: (
        f"Stopped letting people RSVP to every date of the series “{s}” at once"
        if d.endswith(": off") else
        f"Let people RSVP to every date of the series “{s}” at once"),
}


def describe(action: str, subject: str, detail: str = "") -> str:
    """The entry in words, e.g. 'Cancelled the event “Budget hearing”'. An action this
    table does not know yet reads as its code in words ('event.something_new' -> 'Something
    new')."""
    sentence = _SENTENCES.get(action)
    if sentence is not None:
        return str(sentence(subject, detail))
    verb = action.rpartition(".")[2].replace("_", " ").capitalize()
    return f"{verb}: {subject}"


# Details the sentence already says in full: not repeated under it.
_SAID = frozenset({"event.email_attendees", "site.two_factor_required"})


@dataclass(frozen=True)
class AuditRow:
    entry: AuditLog
    actor_name: str
    actor_email: str
    subject: str  # the event title, attendee name or organizer name the entry is about
    summary: str = ""  # the entry in words (`describe`)
    when: str = ""  # in the site's timezone, with its abbreviation

    @property
    def detail(self) -> str:
        """What the row shows under the sentence (the raw detail, unless already said)."""
        return "" if self.entry.action in _SAID else self.entry.detail


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    page: int
    pages: int
    total: int


def _subjects(session: Session, entries: list[AuditLog]) -> dict[tuple[str, int], str]:
    """Look up a readable name for each entity, in one query per entity type."""
    wanted: dict[str, set[int]] = {}
    for e in entries:
        if e.entity_id is not None:
            wanted.setdefault(e.entity_type, set()).add(e.entity_id)
    names: dict[tuple[str, int], str] = {}
    if ids := wanted.get("event"):
        for eid, title in session.exec(select(Event.id, Event.title)
                                       .where(col(Event.id).in_(ids))):
            names[("event", eid)] = title
    if ids := wanted.get("rsvp"):
        rows = session.exec(select(Rsvp.id, Rsvp.name, Event.title)
                            .join(Event, col(Event.id) == Rsvp.event_id)
                            .where(col(Rsvp.id).in_(ids)))
        for rid, name, title in rows:
            names[("rsvp", rid)] = f"{name} ({title})"
    if ids := wanted.get("organizer"):
        for oid, name in session.exec(select(Organizer.id, Organizer.name)
                                      .where(col(Organizer.id).in_(ids))):
            names[("organizer", oid)] = name
    return names


def list_entries(session: Session, page: int = 1, page_size: int = 50,
                 event_id: int | None = None) -> AuditPage:
    """Newest first; optionally only one event and its RSVPs."""
    conds = []
    if event_id is not None:
        rsvp_ids = select(Rsvp.id).where(Rsvp.event_id == event_id)
        conds.append(
            ((AuditLog.entity_type == "event") & (AuditLog.entity_id == event_id))
            | ((AuditLog.entity_type == "rsvp") & col(AuditLog.entity_id).in_(rsvp_ids))
        )
    total = session.exec(select(func.count()).select_from(AuditLog).where(*conds)).one()
    win = paging.window(total, page, page_size)
    rows = session.exec(
        select(AuditLog, Organizer.name, Organizer.email)
        .outerjoin(Organizer, col(Organizer.id) == AuditLog.actor_id)
        .where(*conds)
        .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
        .offset(win.offset)
        .limit(win.size)
    ).all()
    entries = [r[0] for r in rows]
    subjects = _subjects(session, entries)
    def row(e: AuditLog, name: str | None, mail: str | None) -> AuditRow:
        subject = subjects.get((e.entity_type, e.entity_id or 0), f"#{e.entity_id}")
        # No account: the command line (named by its server user since 0011_people; older
        # entries have no label). Accounts are never deleted, only deactivated.
        actor = name or e.actor_label or "Command line"
        return AuditRow(entry=e, actor_name=actor, actor_email=mail or "", subject=subject,
                        summary=describe(e.action, subject, e.detail),
                        when=timefmt.format_instant(e.at, settings.DEFAULT_TIMEZONE))

    return AuditPage(
        rows=[row(e, name, mail) for e, name, mail in rows],
        page=win.page, pages=win.pages, total=total,
    )
