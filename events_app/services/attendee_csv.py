"""The attendee list as a CSV file for spreadsheets, streamed row by row.

Two encodings: plain UTF-8 (Google Sheets, Numbers, scripts) and UTF-8 with a byte order
mark, which Excel on Windows needs to read the file as UTF-8 instead of the ANSI code page
and which LibreOffice's default import also recognises. Rows are read from the database in
batches and written out as they come, so a 5,000-person rally costs the same memory as a
5-person meeting.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from events_app.db import read_session, write_session
from events_app.i18n import N_, gettext, pgettext
from events_app.models import Event, Organizer, Rsvp, RsvpStatus, utcnow
from events_app.services import access, audit, audit_detail
from events_app.services.attendees import arrived_seats

# In the language of the organizer who downloads the file (gettext when it is written).
CSV_HEADER = [N_("Event"), N_("Event date"), N_("Name"), N_("Email"), N_("Phone"), N_("Guests"),
              N_("Party size"), N_("Status"), N_("Waitlist position"), N_("RSVP time"),
              N_("Checked in"), N_("Check-in time"), N_("People arrived"), N_("Comment")]
# An RSVP's status (the context makes "Confirmada", not a count column's "Confirmados").
STATUS_WORDS: dict[str, Callable[[], str]] = {
    RsvpStatus.CONFIRMED.value: lambda: pgettext("RSVP status", "Confirmed"),
    RsvpStatus.WAITLISTED.value: lambda: gettext("On the waitlist"),
    RsvpStatus.CANCELLED.value: lambda: pgettext("RSVP status", "Cancelled"),
}
BOM = "\ufeff"
BATCH = 500  # rows fetched and written per chunk

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets
# (tab and carriage return too, as some importers strip them and then see the next one).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# "+1 312 555 0199", "+44 (0)20 7946-0958", "+33.1.23.45.67.89": a plus, then only digits,
# spaces, dashes, dots and parentheses, with at least 7 digits.
_PHONE = re.compile(r"\+(?=(?:[ ()\-.]*[0-9]){7})[0-9 ()\-.]{7,39}")


def is_phone_number(text: str) -> bool:
    """Whether `text` is an international phone number and nothing else."""
    return _PHONE.fullmatch(text) is not None


def safe_cell(value: object) -> str:
    """Text for one CSV cell that no spreadsheet will evaluate as a harmful formula.

    Anything starting with = + - @ tab or CR gets a leading apostrophe, the usual
    neutraliser (OWASP "CSV injection"): the spreadsheet then shows text, apostrophe
    included. International phone numbers are the exception, because the apostrophe made
    "+1 312 555 0199" unreadable and undialable and there is nothing to neutralise in them:
    a cell of only a plus, digits, spaces, dashes, dots and parentheses holds no function
    name, cell reference, string, or DDE/command syntax (those need letters, quotes, `!` or
    `|`), so even a spreadsheet that evaluates it can only do arithmetic on its digits.
    What the three spreadsheets do with such a cell: LibreOffice's default CSV import does
    not evaluate formulas and recognises no number in it, so it shows the text as written;
    Excel and Google Sheets try a formula, and "+1 312 555 0199" (numbers side by side, the
    usual way numbers are written) is not a valid one, so they keep it as text too. Plain
    digits ("+13125550199") become a number there (the plus is dropped), as any typed number
    would; the app keeps phones as the attendee wrote them and does not reformat them here.
    """
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_PREFIXES) and not is_phone_number(text):
        return "'" + text
    return text


def _local(dt: datetime | None, event: Event) -> str:
    """'2027-03-14 19:05 CDT': sortable, in the event's timezone, with its abbreviation."""
    if dt is None:
        return ""
    loc = dt.astimezone(event.tz)
    return f"{loc:%Y-%m-%d %H:%M} {loc.tzname()}"


def event_date(event: Event) -> str:
    if event.all_day:
        return f"{event.local_start:%Y-%m-%d}"
    return _local(event.starts_at, event)


def _rows(session: Session, event: Event) -> Iterator[list[Any]]:
    """Every RSVP of the event: confirmed, then the waitlist in its order (so the position
    is a running count, with no second query), then cancelled; names A-Z within each."""
    waitlisted = Rsvp.status == RsvpStatus.WAITLISTED.value
    rank = case((Rsvp.status == RsvpStatus.CONFIRMED.value, 0), (waitlisted, 1), else_=2)
    stmt = (
        select(Rsvp.name, Rsvp.email, Rsvp.phone, Rsvp.guests, Rsvp.status, Rsvp.created_at,
               Rsvp.checked_in_at, arrived_seats(), Rsvp.comment, Rsvp.erased_at)
        .where(Rsvp.event_id == event.id)
        .order_by(rank, case((waitlisted, Rsvp.waitlisted_at)), case((waitlisted, Rsvp.id)),
                  func.lower(Rsvp.name), col(Rsvp.id))
        .execution_options(yield_per=BATCH)
    )
    title, when = event.title, event_date(event)
    position = 0
    for (name, email, phone, guests, status, created_at, checked_in_at, arrived, comment,
         erased_at) in session.exec(stmt):
        if status == RsvpStatus.WAITLISTED.value:
            position += 1
        here = checked_in_at is not None
        yield [title, when, name, "" if erased_at else email, phone, guests, guests + 1,
               STATUS_WORDS[status]() if status in STATUS_WORDS else status,
               position if status == RsvpStatus.WAITLISTED.value else "",
               _local(created_at, event), gettext("yes") if here else gettext("no"),
               _local(checked_in_at, event), arrived if here else "", comment]


def csv_chunks(session: Session, event: Event, *, bom: bool = False) -> Iterator[bytes]:
    """The file in chunks of BATCH rows (header first), encoded as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    if bom:
        out.write(BOM)
    writer.writerow([gettext(name) for name in CSV_HEADER])
    for n, row in enumerate(_rows(session, event), start=1):
        writer.writerow([safe_cell(v) for v in row])
        if n % BATCH == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def export_csv(session: Session, event: Event, *, bom: bool = False) -> str:
    """The whole file as text (tests, scripts); the web streams `csv_chunks` instead."""
    return b"".join(csv_chunks(session, event, bom=bom)).decode("utf-8")


def export_for(actor: Organizer, slug: str, *,
               bom: bool = False) -> tuple[Event, Iterator[bytes]] | None:
    """The CSV of an event `actor` manages, None if it is not theirs.

    Reading the whole list is worth a line in the audit trail, since it holds personal data:
    the entry is committed before the first byte goes out. The rows are then read in their
    own session while the response streams, one batch at a time.
    """
    with write_session() as session:
        event = access.get_event(session, actor, slug)
        if event is None:
            return None
        audit.record(session, actor, "event.export_csv", event,
                     [audit_detail.line(N_("for Excel (UTF-8 with BOM)"))] if bom else "")

    def chunks() -> Iterator[bytes]:
        with read_session() as session:
            yield from csv_chunks(session, event, bom=bom)

    return event, chunks()


def csv_filename(event: Event) -> str:
    stamp = utcnow().astimezone(event.tz).strftime("%Y-%m-%d")
    return f"{event.slug}-attendees-{stamp}.csv"
