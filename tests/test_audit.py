"""The audit trail as people read it (services/audit.py): sentences, the site's time zone,
and who acted from the command line."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlmodel import select

from events_app import cli, i18n, settings, timefmt
from events_app.db import read_session, write_session
from events_app.models import AuditLog, Event, Organizer, Rsvp
from events_app.services import audit, audit_detail, event_admin, retention, series, series_rules
from tests.factories import make_event, make_rsvp
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    edit_event,
    login,
    make_organizer,
)

pytestmark = pytest.mark.usefixtures("cheap_passwords")


@pytest.mark.parametrize(("action", "subject", "detail", "sentence"), [
    ("event.email_attendees", "Budget hearing", "12 recipient(s) (confirmed): Room change",
     "E-mailed 12 confirmed attendees of “Budget hearing”: “Room change”"),
    ("event.email_attendees", "Budget hearing", "1 recipient(s) (waitlisted): Hi",
     "E-mailed 1 waitlisted attendee of “Budget hearing”: “Hi”"),
    ("event.email_attendees", "Budget hearing", "2 recipient(s): Old entry",  # before 0011
     "E-mailed 2 confirmed attendees of “Budget hearing”: “Old entry”"),
    ("event.cancel", "Budget hearing", "status: published -> cancelled",
     "Cancelled the event “Budget hearing”"),
    ("event.uncancel", "Budget hearing", "",
     "Undid the cancellation of the event “Budget hearing”"),
    ("rsvp.remove", "Ann (Budget hearing)", "", "Cancelled the RSVP of Ann (Budget hearing)"),
    ("organizer.invite", "Nia", "", "Sent Nia an invitation to choose a password"),
    ("site.two_factor_required", "Ada", "optional",
     "Made two-factor sign-in optional for every organizer"),
    ("event.something_new", "Budget hearing", "",
     "Action “event.something_new” on Budget hearing"),
    ("series.create", "Network meeting", "Repeats every second Tuesday, until June 1, 2027: 9 "
     "date(s) (published), series abc", "Created the series “Network meeting”, repeating "
     "every second Tuesday, until June 1, 2027"),
    ("series.change_rule", "Training", "series abc: Repeats monthly on the last Friday, 5 "
     "times: kept 1, moved 2, added 2, removed 0",
     "Changed the series “Training” to repeat monthly on the last Friday, 5 times"),
    ("series.edit", "Training", "series abc: scope all: 4 date(s) changed",
     "Edited every date of the series “Training” not started yet"),
    ("series.cancel", "Training", "series abc: scope following: 2 date(s) cancelled",
     "Cancelled a date of the series “Training” and every later one"),
    ("series.skip", "Training", "series abc: skipped 2027-02-23, 2027-03-09, 2027-12-28: 3 "
     "date(s) taken out", "Skipped February 23, 2027, March 9, 2027 and December 28, 2027 in "
     "the series “Training”"),
    ("series.split", "Training", "dates from 2027-03-09 on: series b (was a)",
     "Split the series “Training”: its dates from March 9, 2027 on became a new series"),
    ("series.extend", "Training", "series abc: 1 date(s) added, up to 2028-01-04",
     "Added 1 date to the series “Training”"),
    ("series.convert", "Training", "Repeats daily, 3 times: 3 date(s), series abc",
     "Made the event “Training” a series, repeating daily, 3 times"),
    ("series.duplicate", "Training", "copied from series abc: 9 date(s)",
     "Created the series “Training” as a copy of another"),
    ("series.rsvp_all", "Training", "series abc: RSVP to every date at once: on",
     "Let people RSVP to every date of the series “Training” at once"),
    ("series.rsvp_all", "Training", "series abc: RSVP to every date at once: off",
     "Stopped letting people RSVP to every date of the series “Training” at once"),
])
def test_actions_read_as_sentences(action: str, subject: str, detail: str,
                                   sentence: str) -> None:
    assert audit.describe(action, subject, detail) == sentence


def test_instants_are_shown_in_the_sites_zone_with_its_abbreviation() -> None:
    winter = datetime(2026, 1, 15, 20, 5, 9, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 20, 5, 9, tzinfo=UTC)
    assert timefmt.format_instant(winter, "America/New_York") == "Thu 15 Jan 2026, 3:05:09 PM EST"
    assert timefmt.format_instant(summer, "America/New_York") == "Wed 15 Jul 2026, 4:05:09 PM EDT"
    assert timefmt.format_instant(winter, "Pacific/Auckland") == \
        "Fri 16 Jan 2026, 9:05:09 AM NZDT"


def test_audit_page_shows_site_times_sentences_and_the_command_line_by_name(client) -> None:
    admin = make_organizer("ada@example.org", "Ada Admin", admin=True)
    event = make_event(owner_id=admin.id, title="Budget hearing")
    ann = make_rsvp(event, "Ann", "ann@example.org")
    assert cli.main(["create-organizer", "--email", "nia@example.org", "--name", "Nia"]) == 0
    at = datetime(2026, 1, 15, 20, 5, 9, tzinfo=UTC)
    with write_session() as s:
        audit.record(s, admin, "event.email_attendees", event,
                     "3 recipient(s) (not_checked_in): Doors at 6")
        audit.record(s, admin, "rsvp.check_in", s.get(type(ann), ann.id))
        s.exec(update(AuditLog).values(at=at))
    with read_session() as s:
        labels = s.exec(select(AuditLog.actor_label).where(AuditLog.actor_id == None)).all()  # noqa: E711
    assert labels and all(label == f"Command line ({getpass.getuser()})" for label in labels)

    login(client, "ada@example.org")
    page = client.get("/organizer/audit").text
    assert f"When ({settings.DEFAULT_TIMEZONE})" in page
    expected = timefmt.format_instant(at, settings.DEFAULT_TIMEZONE)
    assert f'<time datetime="2026-01-15T20:05:09Z">{expected}</time>' in page
    assert "E-mailed 3 not-yet-checked-in attendees of “Budget hearing”: “Doors at 6”" in page
    assert "Checked in Ann (Budget hearing)" in page
    assert "Created the organizer account of Nia" in page
    assert "Sent Nia an invitation to choose a password" in page
    assert f"Command line ({getpass.getuser()})" in page
    assert "(deleted account)" not in page


# --- Details as data, read in each reader's language -----------------------------------------

def _entries(language: str) -> list[audit.AuditRow]:
    with i18n.using(language), read_session() as s:
        return audit.list_entries(s).rows


def test_new_details_are_read_in_the_readers_language(db_url: str) -> None:
    owner = make_organizer("olga@example.org", "Olga Owner")
    event = make_event(owner_id=owner.id, title="Airport protest", venue_name="Terminal 5",
                       status="draft", slug="airport-protest")
    edit_event(owner, event, title="Airport rally", venue_name="")
    with write_session() as s:
        event_admin.publish(s, s.get(Organizer, owner.id), s.get(Event, event.id))
    english = [(r.summary, r.detail) for r in _entries("en")]
    spanish = [(r.summary, r.detail) for r in _entries("es")]
    assert english == [
        ("Published the event “Airport rally”", "status: draft -> published"),
        ("Edited the event “Airport rally”",
         "Title: Airport protest -> Airport rally\nVenue: Terminal 5 -> (empty)\n"
         "Web address: airport-protest -> airport-rally"),
        ("Created the organizer account of Olga Owner", "olga@example.org as Organizer")]
    assert spanish == [
        ("Publicó el evento «Airport rally»", "estado: borrador -> publicado"),
        ("Editó el evento «Airport rally»",
         "Título: Airport protest -> Airport rally\nLugar: Terminal 5 -> (vacío)\n"
         "Dirección web: airport-protest -> airport-rally"),
        ("Creó la cuenta de organizador de Olga Owner", "olga@example.org como Organizador")]


def test_a_series_entry_says_its_rule_in_the_readers_words(db_url: str) -> None:
    owner = make_organizer("olga@example.org", "Olga Owner")
    start = datetime(2031, 3, 4, 19, 0, tzinfo=ZoneInfo("America/Chicago"))  # a Tuesday
    event = make_event(owner_id=owner.id, title="Network meeting", timezone="America/Chicago",
                       starts_at=start.astimezone(UTC), ends_at=start.astimezone(UTC)
                       + timedelta(hours=2))
    rule = series_rules.Rule.from_rrule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=3",
                                        "America/Chicago")
    with write_session() as s:
        series.convert_event(s, s.get(Organizer, owner.id), s.get(Event, event.id), rule,
                             now=start - timedelta(days=30))
    (english,) = [r for r in _entries("en") if r.entry.action == "series.convert"]
    (spanish,) = [r for r in _entries("es") if r.entry.action == "series.convert"]
    assert english.summary == ("Made the event “Network meeting” a series, repeating every "
                               "second Tuesday, 3 times")
    assert spanish.summary == ("Convirtió el evento «Network meeting» en una serie, que se "
                               "repite cada dos martes, 3 veces")
    assert english.detail.startswith("Repeats every second Tuesday, 3 times: 3 date(s), series ")
    assert spanish.detail.startswith("Se repite cada dos martes, 3 veces: 3 fecha(s), serie ")


def test_old_plain_details_show_as_stored_in_every_language() -> None:
    old = "title: Airport protest -> Airport rally"
    for language in ("en", "es"):
        with i18n.using(language):
            assert audit_detail.in_words(old) == old
    with i18n.using("es"):  # and the sentence still reads an old series entry's scope
        assert audit.describe("series.cancel", "Training",
                              "series abc: scope following: 2 date(s) cancelled") == \
            "Canceló una fecha de la serie «Training» y todas las posteriores"


def test_what_retention_leaves_and_unknown_actions_read_in_spanish() -> None:
    with i18n.using("es"):
        assert audit_detail.in_words(retention.ERASED_AUDIT_DETAIL) == \
            "(datos del asistente borrados)"
        assert audit.describe("event.something_new", "Budget hearing") == \
            "Acción «event.something_new» sobre Budget hearing"


def test_a_structured_detail_naming_an_erased_person_is_erased(db_url: str) -> None:
    """Retention finds a name in a structured detail as JSON writes it (quotes escaped)."""
    owner = make_organizer("olga@example.org", "Olga Owner")
    event = make_event(owner_id=owner.id)
    nan = make_rsvp(event, 'Ann "Nan" Lee', "nan@example.org")
    wes = make_rsvp(event, "Wés", "wes@example.org")
    with write_session() as s:
        audit.record(s, s.get(Organizer, owner.id), "rsvp.remove", s.get(Rsvp, wes.id),
                     [audit_detail.line("confirmed from the waitlist: %(names)s",
                                        names='Ann "Nan" Lee')])
        retention.erase(s, [s.get(Rsvp, nan.id)], now=datetime.now(UTC))
    with read_session() as s:
        (detail,) = s.exec(select(AuditLog.detail).where(AuditLog.entity_id == wes.id)).all()
    assert detail == retention.ERASED_AUDIT_DETAIL


def test_the_audit_page_shows_details_in_the_readers_language(client) -> None:
    admin = make_organizer("ada@example.org", "Ada Admin", admin=True)
    event = make_event(owner_id=admin.id, title="Budget hearing", status="draft")
    with write_session() as s:
        event_admin.publish(s, s.get(Organizer, admin.id), s.get(Event, event.id))
    login(client, "ada@example.org")
    assert "status: draft -&gt; published" in client.get("/organizer/audit?lang=en").text
    page = client.get("/organizer/audit?lang=es").text
    assert "estado: borrador -&gt; publicado" in page
    assert "Publicó el evento «Budget hearing»" in page
