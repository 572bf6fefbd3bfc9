"""Issue 9 item 2: attendees' personal data is erased after the retention period (or when
they ask), keeping counts and check-in statistics, everywhere it was repeated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from events_app import cli, settings
from events_app.db import read_session, write_session
from events_app.models import AuditLog, Event, Organizer, Outbox, PersonalFeed, Rsvp, utcnow
from events_app.services import attendee_mail, attendees, audit, mail, personal_feeds, retention
from events_app.services import rsvp as svc
from tests.factories import make_event, make_rsvp
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    login,
    make_organizer,
)
from tests.rsvp_helpers import manage_link, outbox, post_rsvp, req, rsvps, statuses, token_for

pytestmark = pytest.mark.usefixtures("cheap_passwords")
DAYS = settings.PERSONAL_DATA_RETENTION_DAYS
PERSONAL = ("ann@example.org", "Ann Lee", "+1 314 555 0100", "Bringing a sign", "Bob Ray")


def _ended(days_ago: int, **kw) -> Event:
    start = utcnow().replace(microsecond=0) - timedelta(days=days_ago, hours=3)
    return make_event(starts_at=start, ends_at=start + timedelta(hours=2), **kw)


def _audit_details() -> list[str]:
    with read_session() as s:
        return [e.detail for e in s.exec(select(AuditLog).order_by(AuditLog.id))]


def _everything_stored() -> str:
    """Every text column of every table that could hold attendee data, as one string."""
    with read_session() as s:
        parts = [repr(r.model_dump()) for r in s.exec(select(Rsvp))]
        parts += [repr(m.model_dump()) for m in s.exec(select(Outbox))]
        parts += [repr(a.model_dump()) for a in s.exec(select(AuditLog))]
        parts += [repr(f.model_dump()) for f in s.exec(select(PersonalFeed))]
    return "\n".join(parts)


def test_the_purge_erases_old_events_attendees_and_keeps_the_numbers(db_url) -> None:
    actor = make_organizer("olga@example.org", "Olga Owner")
    old = _ended(DAYS + 1, capacity=3)
    recent = _ended(DAYS - 1)
    ann = make_rsvp(old, "Ann Lee", "ann@example.org", guests=1, phone="+1 314 555 0100",
                    comment="Bringing a sign", checked_in_at=utcnow() - timedelta(days=DAYS))
    bob = make_rsvp(old, "Bob Ray", "bob@example.org", status="waitlisted")
    keep = make_rsvp(recent, "Cy Young", "cy@example.org")
    with write_session() as s:
        personal_feeds.feed_for(s, "ann@example.org")
        personal_feeds.feed_for(s, "cy@example.org")
        for r in (ann, bob, keep):
            mail.enqueue(s, kind="confirmation", to_addr=r.email, subject=f"Hi {r.name}",
                         body_text=f"Hello {r.name}, /rsvp/{r.token}", language="en",
                         rsvp_id=r.id)
        actor_row = s.get(Organizer, actor.id)
        audit.record(s, actor_row, "rsvp.remove", s.get(Rsvp, ann.id),
                     "Ann Lee (confirmed); confirmed from the waitlist: Bob Ray")
        audit.record(s, actor_row, "rsvp.check_in", s.get(Rsvp, keep.id), "Cy Young")
    with read_session() as s:
        before = attendees.counts(s, s.get(Event, old.id))

    report = retention.purge()
    assert (report.rsvps, report.feeds) == (2, 1)
    text = _everything_stored()
    for secret in (*PERSONAL, "bob@example.org", ann.token, bob.token):
        assert secret not in text, secret
    with read_session() as s:
        assert attendees.counts(s, s.get(Event, old.id)) == before  # counts and check-ins
        row = s.get(Rsvp, ann.id)
        assert (row.guests, row.status, row.is_erased) == (1, "confirmed", True)
        assert row.checked_in_at is not None and row.created_at is not None
    # The recent event is untouched, with its e-mail, audit detail and calendar link.
    assert rsvps(recent.id)["cy@example.org"].name == "Cy Young"
    assert [m.to_addr for m in outbox()] == ["cy@example.org"]
    assert "Cy Young" in _audit_details()
    assert svc.get_manage_view(ann.token) is None  # the old manage link is dead
    with read_session() as s:
        assert s.exec(select(PersonalFeed.email)).all() == ["cy@example.org"]

    again = retention.purge()  # idempotent: cron may run it as often as it likes
    assert (again.rsvps, again.emails, again.audit_entries, again.feeds) == (0, 0, 0, 0)


def test_old_emails_and_audit_details_of_deleted_rsvps_go_too(db_url) -> None:
    long_ago = utcnow() - timedelta(days=DAYS + 5)
    actor = make_organizer("olga@example.org")
    with write_session() as s:
        mail.enqueue(s, kind="organizer_message", to_addr="gone@example.org", subject="x",
                     body_text="Hello Gone Person", language="en")
        s.add(AuditLog(at=long_ago, actor_id=actor.id, action="rsvp.remove",
                       entity_type="rsvp", entity_id=9999, detail="Gone Person (confirmed)"))
    with write_session() as s:
        for m in s.exec(select(Outbox)):
            m.created_at = long_ago
    report = retention.purge()
    assert (report.emails, report.audit_entries) == (1, 1)
    assert outbox() == []
    assert _audit_details()[-1] == retention.ERASED_AUDIT_DETAIL
    assert "Gone Person" not in _everything_stored()


def test_cli_purge_personal_data(db_url, capsys) -> None:
    old = _ended(DAYS + 2)
    ann = make_rsvp(old, "Ann Lee", "ann@example.org")
    assert cli.main(["purge-personal-data"]) == 0
    out = capsys.readouterr().out
    assert f"Erased the personal data of 1 RSVP(s) of events that ended more than {DAYS} " \
           "days ago" in out
    assert cli.main(["purge-personal-data"]) == 0
    assert "Erased the personal data of 0 RSVP(s)" in capsys.readouterr().out
    assert list(rsvps(old.id)) == [f"erased-{ann.id}"]


def test_a_person_erases_their_own_data_from_the_manage_page(client) -> None:
    ev = make_event(capacity=1)
    post_rsvp(client, ev.slug, name="Ann Lee", email="ann@example.org",
              phone="+1 314 555 0100", comment="Bringing a sign")
    svc.submit_rsvp(ev.id, req("bob@example.org", name="Bob Ray"))  # waitlisted
    path = manage_link("ann@example.org")
    page = client.get(path)
    assert "Erase my data" in page.text
    token = token_for(client, page.text)

    ask = client.post(path, data={"csrf_token": token, "action": "erase"})
    assert ask.status_code == 200 and "Erase your data now?" in ask.text
    assert "Yes, erase my data" in ask.text and "cancels it" in ask.text
    assert rsvps(ev.id)["ann@example.org"].name == "Ann Lee"  # nothing yet

    refused = client.post(path, data={"action": "erase_confirmed"})  # no CSRF token
    assert refused.status_code == 403 and rsvps(ev.id)["ann@example.org"].name == "Ann Lee"

    done = client.post(path, data={"csrf_token": token, "action": "erase_confirmed"})
    assert done.status_code == 200 and "Your data is erased" in done.text
    assert done.headers["cache-control"] == "no-store"
    assert client.get(path).status_code == 404
    # Her seat went to Bob (who was told), and nothing of hers is left.
    assert statuses(ev.id)["bob@example.org"] == "confirmed"
    assert [m.to_addr for m in outbox("promoted")] == ["bob@example.org"]
    for secret in PERSONAL[:4]:
        assert secret not in _everything_stored()
    (erased,) = [r for r in rsvps(ev.id).values() if r.is_erased]
    assert erased.status == "cancelled"


def test_erasing_after_the_event_keeps_the_attendance(db_url) -> None:
    ev = _ended(2)
    r = make_rsvp(ev, "Ann Lee", "ann@example.org", checked_in_at=utcnow() - timedelta(days=2))
    svc.erase_my_rsvp(r.token)
    with read_session() as s:
        row = s.get(Rsvp, r.id)
        counts = attendees.counts(s, s.get(Event, ev.id))
    assert (row.status, row.is_erased, counts.checked_in_parties) == ("confirmed", True, 1)


def test_organizers_see_when_the_data_will_be_erased(client) -> None:
    owner = make_organizer("olga@example.org")
    upcoming = make_event(owner_id=owner.id)
    old = _ended(DAYS + 1, owner_id=owner.id)
    make_rsvp(old, "Ann Lee", "ann@example.org")
    retention.purge()
    login(client, "olga@example.org")
    page = client.get(f"/organizer/events/{upcoming.slug}/attendees")
    day = retention.erase_after(upcoming).astimezone(upcoming.tz)
    assert f"will be erased on {day:%A} {day.day} {day:%B} {day.year}" in page.text
    past = client.get(f"/organizer/events/{old.slug}/attendees")
    assert "were erased after" in past.text
    assert "Erased" in past.text and "ann@example.org" not in past.text
    csv_text = client.get(f"/organizer/events/{old.slug}/attendees.csv").text
    assert "ann@example.org" not in csv_text and "erased-" not in csv_text


def test_no_mail_ever_goes_to_an_erased_rsvp(db_url) -> None:
    """Even if an organizer later moves a purged event into the future."""
    from events_app.services import reminders

    ev = _ended(DAYS + 1, capacity=5)
    make_rsvp(ev, "Ann Lee", "ann@example.org")
    retention.purge()
    soon = utcnow() + timedelta(hours=3)
    with write_session() as s:
        event = s.get(Event, ev.id)
        event.starts_at, event.ends_at = soon, soon + timedelta(hours=1)
    assert reminders.queue_reminders() == 0
    with write_session() as s:
        event = s.get(Event, ev.id)
        assert attendee_mail.email_attendees(s, event, "Hello", "Body") == 0  # no one to write to
    assert outbox() == []


def test_overlapping_purges_erase_each_rsvp_once(db_url) -> None:
    import threading

    old = _ended(DAYS + 1, capacity=None)
    for i in range(40):
        make_rsvp(old, f"Person {i}", f"p{i}@example.org")
    barrier = threading.Barrier(3)
    reports: list[retention.PurgeReport] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            reports.append(retention.purge())
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(r.rsvps for r in reports) == 40
    assert all(r.is_erased for r in rsvps(old.id).values())
