"""The "my events" token of an address (services/personal_feeds.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from events_app.db import write_session
from events_app.services import personal_feeds
from events_app.services import rsvp as rsvp_service
from tests.factories import make_event
from tests.rsvp_helpers import feed_token, outbox, req


def test_token_for_creates_the_row_once_and_agrees_with_feed_for(db_url) -> None:
    with write_session() as s:
        first = personal_feeds.token_for(s, "a@example.org")
    with write_session() as s:
        assert personal_feeds.token_for(s, "a@example.org") == first  # read, not replaced
        assert personal_feeds.feed_for(s, "a@example.org").token == first
        assert personal_feeds.token_for(s, "b@example.org") != first
        rotated = personal_feeds.rotate(s, "a@example.org").token
    with write_session() as s:
        assert personal_feeds.token_for(s, "a@example.org") == rotated != first


def test_an_rsvps_email_carries_the_addresss_current_calendar_link(db_url) -> None:
    """The post reads an address's feed token with the event's seat count when it can (the
    event has RSVPs already); whichever way, the e-mail links the address's current feed:
    the one it already had, the rotated one after a rotation, a new one for a new address.
    (On PostgreSQL a post tries to create the feed inside its RSVP's INSERT whenever the
    count brought no token: an address with a feed RSVPing to an event without RSVPs.)"""
    first, busy, later = (make_event(title=t, capacity=10) for t in ("First", "Busy", "Later"))

    def linked(email: str) -> str:
        """The calendar link in the latest confirmation to `email`."""
        mail = [m for m in outbox("confirmation") if m.to_addr == email][-1]
        return next(line for line in mail.body_text.splitlines() if "/my/" in line)

    rsvp_service.submit_rsvp(busy.id, req("bo@example.org"))  # new address: created
    bo = feed_token("bo@example.org")
    assert personal_feeds.page_url(bo) in linked("bo@example.org")
    rsvp_service.submit_rsvp(later.id, req("bo@example.org"))  # no RSVPs there: not read
    assert feed_token("bo@example.org") == bo  # kept, not replaced
    assert personal_feeds.page_url(bo) in linked("bo@example.org")
    rsvp_service.submit_rsvp(first.id, req("ana@example.org"))  # no RSVPs there: created
    own = feed_token("ana@example.org")
    assert personal_feeds.page_url(own) in linked("ana@example.org")
    rsvp_service.submit_rsvp(busy.id, req("ana@example.org"))  # read with the count
    assert personal_feeds.page_url(own) in linked("ana@example.org")
    with write_session() as s:
        rotated = personal_feeds.rotate(s, "ana@example.org").token
    rsvp_service.submit_rsvp(later.id, req("ana@example.org"))
    assert personal_feeds.page_url(rotated) in linked("ana@example.org")
    assert own not in linked("ana@example.org")
    rsvp_service.submit_rsvp(busy.id, req("cy@example.org"))  # new address, busy event
    assert feed_token("cy@example.org") not in (own, rotated, feed_token("bo@example.org"))
    assert personal_feeds.page_url(feed_token("cy@example.org")) in linked("cy@example.org")


def test_tokens_for_reads_existing_feeds_and_creates_the_others(db_url) -> None:
    with write_session() as s:
        ana = personal_feeds.token_for(s, "ana@example.org")
    with write_session() as s:
        tokens = personal_feeds.tokens_for(s, ["ana@example.org", "bo@example.org"])
        assert personal_feeds.tokens_for(s, []) == {}
    assert tokens == {"ana@example.org": ana, "bo@example.org": feed_token("bo@example.org")}
    assert tokens["bo@example.org"] != ana


def test_a_promoted_partys_email_carries_its_calendar_link(db_url) -> None:
    event = make_event(title="Small", capacity=1)
    first = rsvp_service.submit_rsvp(event.id, req("ana@example.org"))
    rsvp_service.submit_rsvp(event.id, req("bo@example.org"))  # waitlisted
    own = feed_token("bo@example.org")
    promoted = rsvp_service.cancel_rsvp(first.rsvp.token).promoted
    assert [p.email for p in promoted] == ["bo@example.org"]
    mail = [m for m in outbox("promoted") if m.to_addr == "bo@example.org"][-1]
    assert personal_feeds.page_url(own) in mail.body_text
    assert feed_token("ana@example.org") not in mail.body_text
