"""An RSVP's e-mail filled into a rendering kept per event version (services/messages.py) is
the message rendered whole, byte for byte: each person's name, manage link and calendar link,
escaped in the HTML part exactly as the templates escape them, and nothing of anyone else's.

"Rendered whole" is the same call with the kept renderings emptied first, so both sides come
from the real templates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from events_app import i18n
from events_app.db import read_session, write_session
from events_app.models import Event, Rsvp, RsvpStatus, new_token, utcnow
from events_app.services import messages
from events_app.services import rsvp as svc
from events_app.services.messages import MailContent
from tests.factories import make_event
from tests.rsvp_helpers import outbox, req

NAMES = [
    "Ana",
    "Zoë <b>Bold</b> & \"Co\" 'quoted'",
    "%(title)s {{ event.title }} {% raw %}",
    "O'Brien &amp; Sons",
    "名前 with a long tail " + "x" * 80,
]


def _event() -> Event:
    return make_event(title="Rally <at> noon & more", capacity=40, venue_name="Hall & Co",
                      online_url="https://meet.example.org/room?a=1&b=2",
                      join_link_private=True,  # shown to confirmed people only
                      description="**Bring** water & <script>x</script> snacks")


def _person(event: Event, name: str, guests: int, status: str = "confirmed") -> Rsvp:
    return Rsvp(id=1000 + guests + 10 * len(name), event_id=event.id, email="p@example.org",
                name=name, guests=guests, status=status, token=new_token(),
                created_at=utcnow(), updated_at=utcnow())


def _whole(write: Callable[[], MailContent]) -> MailContent:
    messages._personal_parts.clear()
    return write()


MESSAGES: dict[str, Callable[[Event, Rsvp], MailContent]] = {
    "confirmation": lambda e, r: messages.confirmation(
        e, r, calendar_page=f"https://example.org/my/{r.token}?x=<&>"),
    "confirmation, updated, no calendar": lambda e, r: messages.confirmation(
        e, r, updated=True),
    "waitlisted": lambda e, r: messages.waitlisted(e, r, 3, calendar_page="https://c/1"),
    "promoted": lambda e, r: messages.promoted(e, r, "https://example.org/my/x"),
    "already": lambda e, r: messages.already_rsvped(e, r, None),
    "cancelled": lambda e, r: messages.cancelled(e, r, had_seat=True),
    "reminder": lambda e, r: messages.reminder(e, r),
    "organizer message": lambda e, r: messages.organizer_message(
        e, r, "Bring <water>", "Hi all & welcome", sender="Org & Co"),
}


@pytest.mark.parametrize("kind", MESSAGES)
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_persons_message_is_the_one_rendered_whole(db_url: str, kind: str,
                                                         language: str) -> None:
    event = _event()
    write = MESSAGES[kind]
    messages._personal_parts.clear()
    for name in NAMES:
        for guests, status in ((0, "confirmed"), (2, "confirmed"), (0, "waitlisted")):
            rsvp = _person(event, name, guests, status)
            rsvp.language = language
            kept = write(event, rsvp)  # from the kept rendering after the first person
            whole = _whole(lambda r=rsvp: write(event, r))  # noqa: B023
            assert kept == whole
    assert len(messages._personal_parts) >= 1  # the path under test was taken


def test_a_kept_rendering_is_used_and_holds_no_one_elses_details(db_url: str) -> None:
    event = _event()
    messages._personal_parts.clear()
    first = _person(event, "First Person", 1)
    second = _person(event, "Second <Person>", 1)
    messages.confirmation(event, first, calendar_page="https://example.org/my/first")
    assert len(messages._personal_parts) == 1
    mail = messages.confirmation(event, second, calendar_page="https://example.org/my/second")
    assert len(messages._personal_parts) == 1  # the same rendering, filled in
    for part in (mail.text, mail.html, mail.subject):
        assert "First" not in part and first.token not in part and "/my/first" not in part
    assert "Second <Person>" in mail.text and "Second &lt;Person&gt;" in mail.html
    assert second.token in mail.text and "/my/second" in mail.html


def test_the_posts_mails_are_each_persons_own_and_follow_an_edit(db_url: str) -> None:
    """Through the RSVP service: every confirmation is its person's message rendered whole,
    the event as it was at that RSVP (an edit in between shows in the later mails only)."""
    event = _event()
    messages._personal_parts.clear()
    for i, name in enumerate(NAMES[:3]):
        svc.submit_rsvp(event.id, req(f"p{i}@example.org", guests=i % 2, name=name))
    with write_session() as s:
        stored = s.get(Event, event.id)
        stored.title = "Rally moved"
        stored.starts_at += timedelta(hours=1)
        stored.ends_at += timedelta(hours=1)
        s.add(stored)
    for i, name in enumerate(NAMES[3:], start=3):
        svc.submit_rsvp(event.id, req(f"p{i}@example.org", guests=i % 2, name=name))
    mails = outbox("confirmation")
    assert len(mails) == len(NAMES)
    with read_session() as s:
        edited = s.get(Event, event.id)
        for n, mail in enumerate(mails):
            rsvp = s.get(Rsvp, mail.rsvp_id)
            assert rsvp is not None and rsvp.status == RsvpStatus.CONFIRMED
            as_then = event if n < 3 else edited
            calendar = next(line for line in mail.body_text.splitlines() if "/my/" in line)
            page = calendar[calendar.index("http"):].rstrip(")")
            with i18n.using("en"):
                whole = _whole(lambda r=rsvp, e=as_then, p=page: messages.confirmation(  # noqa: B023
                    e, r, calendar_page=p))
            assert (mail.subject, mail.body_text, mail.body_html) == (
                whole.subject, whole.text, whole.html)
            assert ("Rally moved" in mail.subject) == (n >= 3)
