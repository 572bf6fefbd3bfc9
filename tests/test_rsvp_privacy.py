"""Issue 9 item 1: knowing someone's e-mail address reveals and changes nothing.

The attack: submit the RSVP form with the victim's address, get their manage link back, and
read every event they RSVP'd to from the personal feed behind it. Now the form answers alike
for any address, links travel by e-mail only, and the personal feed has its own token that
shows only RSVPs verified through the victim's inbox.
"""

from __future__ import annotations

import re

from events_app import settings
from events_app.services import rsvp as svc
from tests.factories import make_event
from tests.feed_helpers import parse
from tests.rsvp_helpers import (
    CSRF_RE,
    feed_token,
    manage_link,
    outbox,
    post_rsvp,
    req,
    rsvps,
    token_for,
)

VICTIM = "victim@example.org"
MY_PAGE_RE = re.compile(r"https?://[^/\s]+(/my/[A-Za-z0-9_-]{43})\b")


def _attacker_view(client, slug: str) -> tuple[int, str, dict[str, str]]:
    r = post_rsvp(client, slug, email=VICTIM, name="Attacker", guests=0)
    headers = {k: v for k, v in r.headers.items()
               if k not in ("content-length", "date", "set-cookie")}
    return r.status_code, CSRF_RE.sub("", r.text).replace(VICTIM, "EMAIL"), headers


def test_the_form_tells_an_attacker_nothing_about_an_address(client) -> None:
    protest = make_event(title="Airport protest", capacity=100)
    briefing = make_event(title="Policy briefing", capacity=100)
    svc.submit_rsvp(protest.id, req(VICTIM, name="Victim", guests=2))
    known = _attacker_view(client, protest.slug)  # the victim's RSVP exists here
    unknown = _attacker_view(client, briefing.slug)  # and not here
    assert known[0] == unknown[0] == 200
    assert known[1].replace(protest.title, "T").replace(protest.slug, "S") == \
        unknown[1].replace(briefing.title, "T").replace(briefing.slug, "S")
    assert known[2] == unknown[2]
    # Nothing of the victim's RSVP changed, and no link or feed reached the attacker.
    victim = rsvps(protest.id)[VICTIM]
    assert (victim.name, victim.guests, victim.status) == ("Victim", 2, "confirmed")
    assert victim.token not in known[1] and "/my/" not in known[1]
    assert {m.to_addr for m in outbox()} == {VICTIM}


def test_refusals_depend_on_the_event_only_never_on_the_address(client) -> None:
    ev = make_event(capacity=1, waitlist_enabled=False)
    svc.submit_rsvp(ev.id, req(VICTIM))
    mine = post_rsvp(client, ev.slug, email=VICTIM)
    other = post_rsvp(client, ev.slug, email="new@example.org")
    assert mine.status_code == other.status_code == 409
    assert "Sorry, this event is full." in mine.text and "Sorry, this event is full." in other.text
    assert outbox("already") == []


def test_an_address_typed_by_someone_else_stays_out_of_the_personal_feed(client) -> None:
    mine = make_event(title="Town hall I chose")
    planted = make_event(title="Planted by someone else")
    chosen = svc.submit_rsvp(mine.id, req(VICTIM))
    assert client.get(f"/rsvp/{chosen.rsvp.token}").status_code == 200  # from the e-mail
    post_rsvp(client, planted.slug, email=VICTIM, name="Attacker")  # never opened
    feed = client.get(f"/my/{feed_token(VICTIM)}/calendar.ics")
    assert parse(feed.content).uids == [mine.uid]
    assert rsvps(planted.id)[VICTIM].verified_at is None


def test_verification_is_per_rsvp_and_only_through_its_own_link(client) -> None:
    opened = make_event(title="Opened")
    ignored = make_event(title="Ignored")
    a = svc.submit_rsvp(opened.id, req(VICTIM))
    b = svc.submit_rsvp(ignored.id, req(VICTIM))
    url = f"/my/{feed_token(VICTIM)}/calendar.ics"
    assert parse(client.get(url).content).uids == []
    assert client.get(f"/rsvp/{a.rsvp.token}").status_code == 200
    assert parse(client.get(url).content).uids == [opened.uid]
    assert rsvps(opened.id)[VICTIM].verified_at is not None
    assert rsvps(ignored.id)[VICTIM].verified_at is None
    assert svc.verify_link(b.rsvp.token) is True and svc.verify_link(b.rsvp.token) is False
    assert parse(client.get(url).content).uids == [opened.uid, ignored.uid]


def test_the_feed_link_reaches_the_inbox_only_and_its_page_offers_subscribing(client) -> None:
    ev = make_event(title="Know your rights training")
    post_rsvp(client, ev.slug, email=VICTIM)
    client.get(manage_link(VICTIM))
    (mail,) = outbox("confirmation")
    page_path = MY_PAGE_RE.search(mail.body_text).group(1)
    assert page_path == f"/my/{feed_token(VICTIM)}"
    page = client.get(page_path)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    feed_url = f"{settings.BASE_URL}{page_path}/calendar.ics"
    webcal = "webcal://" + feed_url.split("://", 1)[1]
    assert f'href="{webcal}"' in page.text
    assert "calendar.google.com/calendar/r?cid=webcal%3A%2F%2F" in page.text
    assert "outlook.live.com/calendar/0/addfromweb?url=" in page.text
    assert f'value="{feed_url}"' in page.text
    assert "Know your rights training" in page.text
    assert 'method="post"' not in page.text  # read-only: nothing to change from here


def test_rotating_the_feed_from_the_manage_page_emails_a_new_link(client) -> None:
    ev = make_event()
    post_rsvp(client, ev.slug, email=VICTIM)
    path = manage_link(VICTIM)
    old = feed_token(VICTIM)
    page = client.get(path)
    assert old not in page.text
    r = client.post(path, data={"csrf_token": token_for(client, page.text),
                                "action": "calendar"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{path}?m=calendar"
    new = feed_token(VICTIM)
    assert new != old
    shown = client.get(r.headers["location"])
    assert "We've e-mailed a new calendar link" in shown.text and new not in shown.text
    (mail,) = outbox("calendar_link")
    assert mail.to_addr == VICTIM and f"/my/{new}" in mail.body_text
    assert client.get(f"/my/{old}/calendar.ics").status_code == 404
    assert client.get(f"/my/{old}").status_code == 404
    assert client.get(f"/my/{new}/calendar.ics").status_code == 200
    # Without the form's CSRF token nothing rotates.
    assert client.post(path, data={"action": "calendar"}).status_code == 403
    assert feed_token(VICTIM) == new
