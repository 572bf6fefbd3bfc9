"""Organizers e-mailing their attendees (web/organizer/attendees.py email step, services/
attendee_mail.py): audience, preview, test to oneself, reply-to, greeting, subject, audit."""

from __future__ import annotations

import html
import re
from email.utils import getaddresses

import pytest
from sqlmodel import col, select

from events_app.db import read_session
from events_app.models import AuditLog, Event, Organizer, Outbox, Rsvp, utcnow
from events_app.services import attendee_mail, audit_detail, mail
from tests.factories import make_event, make_rsvp
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    csrf_token,
    field_error,
    login,
    make_organizer,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_passwords")


@pytest.fixture
def owner(db_url: str) -> Organizer:
    return make_organizer("olga@example.org", "Olga Owner")


@pytest.fixture
def event(owner: Organizer) -> Event:
    event = make_event(owner_id=owner.id, title="Budget hearing")
    make_rsvp(event, "Zoë Quinn", "zoe@example.org", checked_in_at=utcnow())
    make_rsvp(event, "Bob", "bob@example.org", guests=2)
    make_rsvp(event, "Cy", "cy@example.org")
    make_rsvp(event, "Wes", "wes@example.org", status="waitlisted")
    make_rsvp(event, "Cat", "cat@example.org", status="cancelled")
    return event


def _url(event: Event) -> str:
    return f"/organizer/events/{event.slug}/email"


def _mails() -> list[Outbox]:
    with read_session() as s:
        return list(s.exec(select(Outbox).order_by(col(Outbox.to_addr))).all())


def _preview_text(page: str) -> str:
    found = re.search(r'<pre class="mail-preview" id="preview-text">(.*?)</pre>', page, re.S)
    assert found, page[:500]
    return html.unescape(found.group(1))


def _step(client, event: Event, step: str, audience: str = "confirmed",
          subject: str = "Room change", body: str = "Hi all,\n\nWe moved to Room 4B.",
          token: str | None = None):
    return post(client, _url(event), {"step": step, "audience": audience, "subject": subject,
                                      "body": body}, token or csrf_token(client, _url(event)))


@pytest.mark.parametrize(("audience", "expected"), [
    ("confirmed", ["bob@example.org", "cy@example.org", "zoe@example.org"]),
    ("waitlisted", ["wes@example.org"]),
    ("checked_in", ["zoe@example.org"]),
    ("not_checked_in", ["bob@example.org", "cy@example.org"]),
])
def test_each_audience_gets_the_message_and_only_it(client, event: Event, audience: str,
                                                    expected: list[str]) -> None:
    login(client, "olga@example.org")
    form = client.get(_url(event)).text
    label = attendee_mail.AUDIENCE_LABELS[attendee_mail.Audience(audience)]
    assert f"{label} ({len(expected)})" in form  # the count next to each choice
    preview = _step(client, event, "preview", audience)
    assert preview.status_code == 200
    assert f"Send to {len(expected)} attendee" in preview.text
    assert _mails() == []  # a preview sends nothing
    r = _step(client, event, "send", audience)
    assert r.status_code == 303
    assert f"on its way to {len(expected)} attendee" in client.get(r.headers["location"]).text
    assert [m.to_addr for m in _mails()] == expected
    with read_session() as s:
        (detail,) = s.exec(select(AuditLog.detail)
                           .where(AuditLog.action == "event.email_attendees")).all()
    said = audience.replace("_", " ")  # the audience's code, in words
    assert audit_detail.in_words(detail) == f"{len(expected)} recipient(s) ({said}): Room change"


def test_preview_is_exactly_what_the_recipient_gets(client, event: Event,
                                                   owner: Organizer) -> None:
    login(client, "olga@example.org")
    body = "Hi all,\n\nWe moved to Room 4B <upstairs> & it's \"quiet\"."
    preview = _step(client, event, "preview", "checked_in", body=body)
    shown = _preview_text(preview.text)
    assert "Zoë Quinn &lt;zoe@example.org&gt;" in preview.text  # the one it shows
    # The private manage link is never shown; the example link stands in its place.
    with read_session() as s:
        zoe = s.exec(select(Rsvp).where(Rsvp.email == "zoe@example.org")).one()
    assert zoe.token not in preview.text
    assert attendee_mail.PREVIEW_MANAGE_URL in shown
    _step(client, event, "send", "checked_in", body=body)
    (sent,) = _mails()
    assert sent.body_text == shown.replace(attendee_mail.PREVIEW_MANAGE_URL,
                                           f"http://testserver/rsvp/{zoe.token}")
    subject = re.search(r'id="preview-subject">([^<]*)<', preview.text).group(1)
    assert html.unescape(subject) == sent.subject == "Budget hearing: Room change"


def test_greeting_is_the_organizers_own_and_not_doubled(client, event: Event) -> None:
    login(client, "olga@example.org")
    _step(client, event, "send", "checked_in")
    (sent,) = _mails()
    assert sent.body_text.startswith("Hi all,\n\nWe moved to Room 4B.")
    assert "Hello Zoë" not in sent.body_text and "Hello Zoë" not in sent.body_html
    assert "Olga Owner, for the organizers of Budget hearing" in sent.body_text


def test_reply_to_is_the_organizer(client, event: Event) -> None:
    login(client, "olga@example.org")
    _step(client, event, "send", "waitlisted")
    (sent,) = _mails()
    built = mail.build_message(sent)
    assert getaddresses([built["Reply-To"]]) == [("Olga Owner", "olga@example.org")]
    assert built["From"] != built["Reply-To"]


def test_subject_names_the_event_once(client, event: Event) -> None:
    login(client, "olga@example.org")
    _step(client, event, "send", "waitlisted", subject="Budget Hearing moved")
    assert [m.subject for m in _mails()] == ["Budget Hearing moved"]


def test_test_mail_goes_only_to_the_signed_in_organizer(client, event: Event) -> None:
    make_organizer("admin@example.org", "Ada Admin", admin=True)
    login(client, "admin@example.org")  # an admin writing about Olga's event
    r = _step(client, event, "test", "confirmed")
    assert r.status_code == 200
    assert "A test copy is on its way to you (admin@example.org)" in r.text
    (test,) = _mails()
    assert test.to_addr == "admin@example.org"
    assert test.subject == "[Test] Budget hearing: Room change"
    assert test.body_text == _preview_text(r.text)
    assert getaddresses([mail.build_message(test)["Reply-To"]]) == \
        [("Ada Admin", "admin@example.org")]
    with read_session() as s:
        tokens = s.exec(select(Rsvp.token)).all()
    assert not any(t in test.body_text or t in test.body_html for t in tokens)
    # The draft is still there to send for real.
    assert 'name="step" value="send"' in r.text


def test_edit_keeps_the_draft_and_errors_keep_the_input(client, event: Event) -> None:
    login(client, "olga@example.org")
    back = _step(client, event, "edit", "waitlisted", subject="Room <change>")
    assert back.status_code == 200
    assert 'value="Room &lt;change&gt;"' in back.text
    assert 'id="f-audience-waitlisted" name="audience" type="radio" value="waitlisted" checked' \
        in back.text
    bad = _step(client, event, "preview", "waitlisted", subject="", body="Bring ID <please>")
    assert bad.status_code == 422
    assert field_error(bad.text, "subject") == "This field is required."
    assert "Bring ID &lt;please&gt;</textarea>" in bad.text
    bad = _step(client, event, "send", "everyone")
    assert bad.status_code == 422 and field_error(bad.text, "audience")
    assert _step(client, event, "explode").status_code == 400
    assert _mails() == []


def test_an_empty_group_sends_nothing(client, owner: Organizer) -> None:
    empty = make_event(owner_id=owner.id, title="Quiet meeting")
    login(client, "olga@example.org")
    preview = _step(client, empty, "preview")
    assert "Nobody is in this group" in preview.text
    assert 'value="send"' not in preview.text
    r = _step(client, empty, "send")
    assert "nothing was sent" in client.get(r.headers["location"]).text
    assert _mails() == []


def test_other_organizers_cannot_write_to_the_attendees(client, event: Event) -> None:
    make_organizer("mallory@example.org")
    login(client, "mallory@example.org")
    token = csrf_token(client, "/organizer/account")
    for step in ("preview", "test", "send"):
        assert _step(client, event, step, token=token).status_code == 404
    assert _mails() == []
