"""The attendee CSV: read back with Python's csv module, formulas neutralised but phone
numbers left readable, words for statuses, times in the event's zone, both encodings."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from events_app.db import read_session
from events_app.models import AuditLog, Event, Organizer
from events_app.services import attendee_csv
from tests.factories import make_event, make_rsvp
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    login,
    make_organizer,
)

pytestmark = pytest.mark.usefixtures("cheap_passwords")


@pytest.fixture
def event(owner: Organizer) -> Event:
    return make_event(owner_id=owner.id, capacity=10, title="Budget town hall")


def _parse(raw: bytes, *, bom: bool = False) -> list[dict[str, str]]:
    assert raw.startswith(b"\xef\xbb\xbf") == bom
    text = raw.decode("utf-8-sig" if bom else "utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


HOSTILE = [
    ('Ann "The Hammer" O\'Neil', "ann@example.org", "", ""),
    ("Smith, John", "john@example.org", "", "Line one\nLine two, with comma"),
    ("=HYPERLINK(\"http://evil.example\",\"click\")", "evil1@example.org", "", ""),
    ("+1+2", "evil2@example.org", "+1 312 555 0199", ""),
    ("-2+3", "evil3@example.org", "+1-312-555-0100", "@SUM(A1:A9)"),
    ("@cmd", "evil4@example.org", "+44 (0)20 7946 0958", ""),
    ("\t=1+1", "evil5@example.org", "+1+2+3+4+5+6+7", ""),
    ("\r=1+1", "evil6@example.org", "=1+2", ""),
    ("李小龍", "li@example.org", "-1 555 0100", "素食"),
    ("محمد الأحمد", "mohammed@example.org", "+1 555 0100 cmd", ""),
    ("Zoë Ørsted 🎉", "zoe@example.org", "312 555 0199", "emoji ✊🏽"),
]
PHONES_KEPT = {"+1 312 555 0199", "+1-312-555-0100", "+44 (0)20 7946 0958", "312 555 0199", ""}


def test_round_trip_neutralises_formulas_but_not_phone_numbers(client, event: Event) -> None:
    for name, email, phone, comment in HOSTILE:
        make_rsvp(event, name, email, phone=phone, comment=comment)
    login(client, "owner@example.org")
    r = client.get(f"/organizer/events/{event.slug}/attendees.csv")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith(
        f'attachment; filename="{event.slug}-attendees-')
    assert r.headers["cache-control"] == "no-store"
    rows = _parse(r.content)
    assert list(rows[0].keys()) == attendee_csv.CSV_HEADER
    by_email = {row["Email"]: row for row in rows}
    assert len(rows) == len(HOSTILE)
    for name, email, phone, comment in HOSTILE:
        row = by_email[email]
        assert row["Name"] == ("'" + name if name[:1] in "=+-@\t\r" else name), name
        assert row["Phone"] == (phone if phone in PHONES_KEPT else "'" + phone), phone
        assert row["Comment"] == ("'" + comment if comment.startswith("@") else comment)
    # Nothing but a phone number starts a cell with a formula character.
    for row in rows:
        for key, value in row.items():
            if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
                assert key == "Phone" and attendee_csv.is_phone_number(value), value
    with read_session() as s:
        assert s.exec(select(AuditLog.action).where(AuditLog.entity_type == "event",
                                                    AuditLog.entity_id == event.id)).all() == \
            ["event.export_csv"]


@pytest.mark.parametrize(("text", "phone"), [
    ("+1 312 555 0199", True), ("+13125550199", True), ("+1 (312) 555-0199", True),
    ("+33.1.23.45.67.89", True), ("+1 555", False), ("+1+2", False), ("+1 555 0100 x", False),
    ("=1", False), ("+", False), ("+1 312 555 0199\n=1", False), ("+1\t312 555 0199", False),
])
def test_what_counts_as_a_phone_number(text: str, phone: bool) -> None:
    assert attendee_csv.is_phone_number(text) is phone
    assert attendee_csv.safe_cell(text) == (text if phone else "'" + text)


def test_safe_cell_only_touches_dangerous_prefixes() -> None:
    assert attendee_csv.safe_cell("a=1") == "a=1"
    assert attendee_csv.safe_cell(None) == ""
    assert attendee_csv.safe_cell(3) == "3"
    assert attendee_csv.safe_cell("-") == "'-"
    assert attendee_csv.safe_cell("@x") == "'@x"
    assert attendee_csv.safe_cell("\t=1") == "'\t=1"
    assert attendee_csv.safe_cell("\r=1") == "'\r=1"
    assert attendee_csv.safe_cell("") == ""


def test_words_for_status_and_check_in_with_zone_and_event_columns(owner: Organizer) -> None:
    starts = datetime(2027, 1, 15, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo (no DST there)
    event = make_event(owner_id=owner.id, timezone="Asia/Tokyo", title="Tokyo vigil",
                       starts_at=starts, ends_at=starts.replace(hour=3), capacity=2)
    arrived = datetime(2027, 1, 15, 1, 5, tzinfo=UTC)
    make_rsvp(event, "Ken", "ken@example.org", guests=2, created_at=arrived,
              checked_in_at=arrived, checked_in_seats=2)
    make_rsvp(event, "Aiko", "aiko@example.org")
    make_rsvp(event, "Wait Two", "w2@example.org", status="waitlisted",
              waitlisted_at=datetime(2027, 1, 2, tzinfo=UTC))
    make_rsvp(event, "Wait One", "w1@example.org", status="waitlisted",
              waitlisted_at=datetime(2027, 1, 1, tzinfo=UTC))
    make_rsvp(event, "Gone", "gone@example.org", status="cancelled")
    with read_session() as s:
        rows = _parse(attendee_csv.export_csv(s, event).encode("utf-8"))
    assert [r["Name"] for r in rows] == ["Aiko", "Ken", "Wait One", "Wait Two", "Gone"]
    ken = rows[1]
    assert (ken["Event"], ken["Event date"]) == ("Tokyo vigil", "2027-01-15 10:00 JST")
    assert (ken["Status"], ken["Checked in"], ken["Check-in time"], ken["People arrived"],
            ken["Party size"], ken["Guests"]) == \
        ("Confirmed", "yes", "2027-01-15 10:05 JST", "2", "3", "2")
    assert ken["RSVP time"] == "2027-01-15 10:05 JST"
    assert (rows[0]["Checked in"], rows[0]["Check-in time"], rows[0]["People arrived"]) == \
        ("no", "", "")
    assert [(r["Status"], r["Waitlist position"]) for r in rows[2:]] == \
        [("On the waitlist", "1"), ("On the waitlist", "2"), ("Cancelled", "")]


def test_excel_variant_has_a_bom_and_the_same_rows(client, event: Event) -> None:
    make_rsvp(event, "Zoë Ørsted", "zoe@example.org", phone="+1 312 555 0199")
    login(client, "owner@example.org")
    plain = client.get(f"/organizer/events/{event.slug}/attendees.csv")
    excel = client.get(f"/organizer/events/{event.slug}/attendees.csv?for=excel")
    assert excel.status_code == 200
    assert excel.content == b"\xef\xbb\xbf" + plain.content
    assert _parse(excel.content, bom=True) == _parse(plain.content)
    assert _parse(excel.content, bom=True)[0]["Name"] == "Zoë Ørsted"
    assert client.get(f"/organizer/events/{event.slug}/attendees.csv?for=lotus").status_code \
        == 400
    page = client.get(f"/organizer/events/{event.slug}/attendees").text
    assert "CSV for Excel (UTF-8 with BOM)" in page


def test_big_lists_stream_in_batches(event: Event, owner: Organizer) -> None:
    """More rows than a batch: the file comes in several chunks, none holding the whole list."""
    n = attendee_csv.BATCH * 2 + 7
    for i in range(n):
        make_rsvp(event, f"Person {i:04d}", f"p{i}@example.org")
    done = attendee_csv.export_for(owner, event.slug)
    assert done is not None
    chunks = list(done[1])
    assert len(chunks) == 3
    assert max(len(c) for c in chunks) < sum(len(c) for c in chunks) / 2
    rows = _parse(b"".join(chunks))
    assert len(rows) == n and rows[0]["Name"] == "Person 0000"


def test_empty_event_exports_just_the_header(client, event: Event) -> None:
    login(client, "owner@example.org")
    raw = client.get(f"/organizer/events/{event.slug}/attendees.csv").content
    assert _parse(raw) == []
    assert raw.decode("utf-8").startswith("Event,Event date,Name,")


def test_someone_elses_event_is_not_exported(client, event: Event) -> None:
    make_organizer("other@example.org", "Oscar Other")
    login(client, "other@example.org")
    assert client.get(f"/organizer/events/{event.slug}/attendees.csv").status_code == 404
    assert attendee_csv.export_for(make_organizer("x@example.org", "X"), event.slug) is None
