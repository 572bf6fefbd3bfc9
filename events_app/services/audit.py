"""The audit trail: who changed which event or RSVP, and when.

Entries are written in the same transaction as the change they describe, so the trail can
never claim a change that was rolled back, nor miss one that committed. The RSVP service's
own-transaction actions (force_confirm, remove_rsvp) take the acting organizer and write
their entry inside that transaction for the same reason. Details are data, worded when read
(services/audit_detail.py).
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from events_app import i18n, settings, timefmt
from events_app.i18n import N_, gettext, ngettext
from events_app.models import AuditLog, Event, Organizer, Rsvp
from events_app.services import audit_detail
from events_app.util import paging


def command_line_actor() -> str:
    """Who acts when no account does: the command line, named by the server user running it
    (the person at the server's shell is the one accountable)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (some containers)
        user = ""
    return f"Command line ({user})" if user else "Command line"


def record(session: Session, actor: Organizer | None, action: str, entity: Event | Rsvp |
           Organizer, detail: str | Sequence[audit_detail.Line] = "") -> AuditLog:
    """`actor` None means the command line (see `command_line_actor`). `detail`:
    audit_detail lines, read in each reader's language (a plain string is shown as is)."""
    entry = AuditLog(
        actor_id=actor.id if actor else None,
        actor_label="" if actor else command_line_actor()[:200],
        action=action,
        entity_type=type(entity).__name__.lower(),
        entity_id=entity.id,
        detail=audit_detail.stored(detail),
    )
    session.add(entry)
    return entry


# --- Reading the trail: each entry as a sentence ---------------------------------------------
# Entries store codes and raw details (in whatever language they were written); the sentences
# are made when the log is read, in the reader's language, with Babel's dates.

_RECIPIENTS = re.compile(r"^(\d+) recipient\(s\)(?: \((\w+)\))?: (.*)$", re.S)


def _emailed(detail: str, title: str) -> str:
    """'E-mailed 12 confirmed attendees of “X”: “Subject”' from the entry's detail."""
    detail = audit_detail.english(detail)
    found = _RECIPIENTS.match(detail)
    if not found:
        return gettext("E-mailed the attendees of “%(title)s”") % {"title": title}
    count, audience, subject = int(found.group(1)), found.group(2), found.group(3)
    values = {"num": count, "title": title, "subject": subject}
    if audience == "waitlisted":
        return ngettext("E-mailed %(num)d waitlisted attendee of “%(title)s”: “%(subject)s”",
                        "E-mailed %(num)d waitlisted attendees of “%(title)s”: “%(subject)s”",
                        count) % values
    if audience == "checked_in":
        return ngettext("E-mailed %(num)d checked-in attendee of “%(title)s”: “%(subject)s”",
                        "E-mailed %(num)d checked-in attendees of “%(title)s”: “%(subject)s”",
                        count) % values
    if audience == "not_checked_in":
        return ngettext(
            "E-mailed %(num)d not-yet-checked-in attendee of “%(title)s”: “%(subject)s”",
            "E-mailed %(num)d not-yet-checked-in attendees of “%(title)s”: “%(subject)s”",
            count) % values
    if audience in (None, "confirmed"):
        return ngettext("E-mailed %(num)d confirmed attendee of “%(title)s”: “%(subject)s”",
                        "E-mailed %(num)d confirmed attendees of “%(title)s”: “%(subject)s”",
                        count) % values
    return ngettext("E-mailed %(num)d attendee of “%(title)s”: “%(subject)s”",
                    "E-mailed %(num)d attendees of “%(title)s”: “%(subject)s”", count) % values


# Series entries (services/series.py) are filed under one of its dates; their details say
# the rule in words ("Repeats every second Tuesday, ..."), the scope, the dates skipped.
_RULE = re.compile(r"\bRepeats ([^:\n]+)")
_SCOPE = re.compile(r"\bscope (\w+)")
_SKIPPED = re.compile(r"\bskipped ([\d, -]+)")
_SPLIT_AT = re.compile(r"\bdates from (\d{4}-\d\d-\d\d) on")
_ADDED = re.compile(r"\b(\d+) date\(s\) added")


def _rule_words(detail: str) -> str | None:
    """'every second Tuesday, until June 1, 2027': the rule of a structured detail, in the
    reader's language; from an older plain detail, which names it in English words, only for
    an English reader (None otherwise: the detail below the sentence still shows it)."""
    if audit_detail.is_structured(detail):
        return audit_detail.rule_words(detail)
    if i18n.current() != i18n.SOURCE_LANGUAGE:
        return None
    found = _RULE.search(detail)
    return found.group(1) if found else None


def _scope(detail: str) -> str | None:
    """The scope code of a series edit or cancellation ("all", "following", "one")."""
    if audit_detail.is_structured(detail):
        return audit_detail.code_in(detail, "scope")
    found = _SCOPE.search(detail)
    return found.group(1) if found else None


def _series_edit(detail: str, title: str) -> str:
    scope = _scope(detail)
    if scope == "all":
        return gettext("Edited every date of the series “%(title)s” not started yet") % {
            "title": title}
    if scope == "following":
        return gettext("Edited a date of the series “%(title)s” and every later one") % {
            "title": title}
    return gettext("Edited dates of the series “%(title)s”") % {"title": title}


def _series_cancel(detail: str, title: str) -> str:
    scope = _scope(detail)
    if scope == "all":
        return gettext("Cancelled every date of the series “%(title)s” still to come") % {
            "title": title}
    if scope == "following":
        return gettext("Cancelled a date of the series “%(title)s” and every later one") % {
            "title": title}
    return gettext("Cancelled dates of the series “%(title)s”") % {"title": title}


def _skipped(detail: str, title: str) -> str:
    detail = audit_detail.english(detail)
    found = _SKIPPED.search(detail)
    if found and found.group(1).strip(" ,"):
        return gettext("Skipped %(dates)s in the series “%(title)s”") % {
            "dates": audit_detail.long_days(found.group(1).split(",")), "title": title}
    return gettext("Skipped dates of the series “%(title)s”") % {"title": title}


def _split(detail: str, title: str) -> str:
    detail = audit_detail.english(detail)
    found = _SPLIT_AT.search(detail)
    if found:
        return gettext("Split the series “%(title)s”: its dates from %(day)s on became a new "
                       "series") % {"title": title, "day": audit_detail.long_day(found.group(1))}
    return gettext("Split the series “%(title)s”: its dates from one date on became a new "
                   "series") % {"title": title}


def _added(detail: str, title: str) -> str:
    detail = audit_detail.english(detail)
    found = _ADDED.search(detail)
    if not found:
        return gettext("Added dates to the series “%(title)s”") % {"title": title}
    count = int(found.group(1))
    return ngettext("Added %(num)d date to the series “%(title)s”",
                    "Added %(num)d dates to the series “%(title)s”", count) % {
        "num": count, "title": title}


def _series_made(detail: str, title: str, plain: str, repeating: str) -> str:
    rule = _rule_words(detail)
    if rule is None:
        return gettext(plain) % {"title": title}
    return gettext(repeating) % {"title": title, "rule": rule}


def _change_rule(detail: str, title: str) -> str:
    rule = _rule_words(detail)
    if rule is None:
        return gettext("Changed how the series “%(title)s” repeats") % {"title": title}
    return gettext("Changed the series “%(title)s” to repeat %(rule)s") % {"title": title,
                                                                          "rule": rule}


def _two_factor_site(detail: str) -> str:
    detail = audit_detail.english(detail)
    if detail.startswith("required"):
        return gettext("Made two-factor sign-in required for every organizer")
    return gettext("Made two-factor sign-in optional for every organizer")


def _rsvp_all(detail: str, title: str) -> str:
    detail = audit_detail.english(detail)
    if detail.endswith(": off"):
        return gettext("Stopped letting people RSVP to every date of the series “%(title)s” "
                       "at once") % {"title": title}
    return gettext("Let people RSVP to every date of the series “%(title)s” at once") % {
        "title": title}


# action -> the sentence (a text with %(s)s for the readable name of what it is about), or a
# function of that name and the detail. Texts are translated when read.
_SENTENCES: dict[str, Any] = {
    "event.create": N_("Created the event “%(s)s”"),
    "event.update": N_("Edited the event “%(s)s”"),
    "event.duplicate": N_("Created the event “%(s)s” as a copy of another"),
    "event.publish": N_("Published the event “%(s)s”"),
    "event.unpublish": N_("Took the event “%(s)s” back to draft"),
    "event.cancel": N_("Cancelled the event “%(s)s”"),
    "event.uncancel": N_("Undid the cancellation of the event “%(s)s”"),
    "event.email_attendees": lambda s, d: _emailed(d, s),
    "event.email_test": N_("Sent themself a test of an e-mail to the attendees of “%(s)s”"),
    "event.export_csv": N_("Downloaded the attendee list of “%(s)s”"),
    "rsvp.check_in": N_("Checked in %(s)s"),
    "rsvp.undo_check_in": N_("Undid the check-in of %(s)s"),
    "rsvp.force_confirm": N_("Moved %(s)s from the waitlist to confirmed"),
    "rsvp.remove": N_("Cancelled the RSVP of %(s)s"),
    "organizer.create": N_("Created the organizer account of %(s)s"),
    "organizer.invite": N_("Sent %(s)s an invitation to choose a password"),
    "organizer.invitation_accepted": N_("%(s)s accepted the invitation and chose a password"),
    "organizer.reset_link_sent": N_("Sent %(s)s a link to choose a new password"),
    "organizer.password_reset_by_link": N_("%(s)s chose a new password through a reset link"),
    "organizer.reset_password": N_("Set a new password for %(s)s"),
    "organizer.update": N_("Changed the account of %(s)s"),
    "organizer.sign_out_everywhere": N_("Signed %(s)s out on every device"),
    "organizer.two_factor_on": N_("%(s)s turned on two-factor sign-in"),
    "organizer.two_factor_off": N_("Turned off two-factor sign-in for %(s)s"),
    "organizer.recovery_code_used": N_("%(s)s signed in with a recovery code"),
    "site.two_factor_required": lambda s, d: _two_factor_site(d),
    "series.create": lambda s, d: _series_made(
        d, s, N_("Created the series “%(title)s”"),
        N_("Created the series “%(title)s”, repeating %(rule)s")),
    "series.convert": lambda s, d: _series_made(
        d, s, N_("Made the event “%(title)s” a series"),
        N_("Made the event “%(title)s” a series, repeating %(rule)s")),
    "series.change_rule": lambda s, d: _change_rule(d, s),
    "series.edit": lambda s, d: _series_edit(d, s),
    "series.cancel": lambda s, d: _series_cancel(d, s),
    "series.skip": lambda s, d: _skipped(d, s),
    "series.split": lambda s, d: _split(d, s),
    "series.duplicate": N_("Created the series “%(s)s” as a copy of another"),
    "series.extend": lambda s, d: _added(d, s),
    "series.rsvp_all": lambda s, d: _rsvp_all(d, s),
}


def describe(action: str, subject: str, detail: str = "") -> str:
    """The entry in words, e.g. 'Cancelled the event “Budget hearing”'. An action this
    table does not know yet reads with its code, which is no word of any language
    ('Action “event.something_new” on ...'). The sentences read numbers, scopes and dates
    from the detail as written in English (`_english`), and a series' rule from its data."""
    sentence = _SENTENCES.get(action)
    if isinstance(sentence, str):
        return gettext(sentence) % {"s": subject}
    if sentence is not None:
        return str(sentence(subject, detail))
    return gettext("Action “%(action)s” on %(s)s") % {"action": action, "s": subject}


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
    # What the row shows under the sentence: the detail in the reader's language (`_shown`).
    detail: str = ""


def _shown(entry: AuditLog) -> str:
    """The detail under an entry's sentence, unless the sentence says it all already."""
    return "" if entry.action in _SAID else audit_detail.in_words(entry.detail)


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


def _command_line(label: str) -> str:
    """The stored command-line label ('Command line (ana)', English since written) in the
    reader's words; entries older than 0011_people have none."""
    user = label[len("Command line ("):-1] if label.startswith("Command line (") else ""
    if user:
        return gettext("Command line (%(user)s)") % {"user": user}
    return label if label and label != "Command line" else gettext("Command line")


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
        actor = name or _command_line(e.actor_label)
        return AuditRow(entry=e, actor_name=actor, actor_email=mail or "", subject=subject,
                        summary=describe(e.action, subject, e.detail), detail=_shown(e),
                        when=timefmt.format_instant(e.at, settings.DEFAULT_TIMEZONE))

    return AuditPage(
        rows=[row(e, name, mail) for e, name, mail in rows],
        page=win.page, pages=win.pages, total=total,
    )
