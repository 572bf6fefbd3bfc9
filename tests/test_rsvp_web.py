"""The RSVP form and the manage page over HTTP: validation, CSRF, rate limit, PRG, privacy."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from events_app import settings
from events_app.db import write_session
from events_app.models import Event, utcnow
from events_app.services import rsvp as svc
from tests.factories import make_event
from tests.rsvp_helpers import (
    CSRF_RE,
    csrf_from,
    feed_token,
    manage_link,
    outbox,
    post_rsvp,
    req,
    rsvps,
    statuses,
    token_for,
)


def test_rsvp_answers_check_your_email_and_sends_the_private_link(client) -> None:
    ev = make_event(capacity=10, title="Airport protest")
    r = post_rsvp(client, ev.slug, name="Ann Lee", email=" Ann@Example.ORG ", guests=2,
                  phone="+1 314 555 0100", comment="Bringing signs")
    assert r.status_code == 200
    assert "Check your e-mail" in r.text and "ann@example.org" in r.text
    assert r.headers["cache-control"] == "no-store"
    row = rsvps(ev.id)["ann@example.org"]  # trimmed and lower-cased
    assert (row.name, row.guests, row.phone, row.comment) == (
        "Ann Lee", 2, "+1 314 555 0100", "Bringing signs")
    assert row.token not in r.text and "/rsvp/" not in r.text  # the link goes by e-mail only
    (mail,) = outbox("confirmation")
    assert mail.to_addr == "ann@example.org"
    assert f"{settings.BASE_URL}/rsvp/{row.token}" in mail.body_text
    page = client.get(manage_link("ann@example.org"))
    assert page.status_code == 200
    assert "You're going" in page.text and 'data-status="confirmed"' in page.text
    assert "you and 2 guests (3 spots)" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "noindex" in page.headers["x-robots-tag"]
    detail = client.get(f"/events/{ev.slug}")
    assert "7 of 10 spots left" in detail.text
    assert "ann@example.org" not in detail.text.lower()  # attendees never on public pages


def test_full_event_puts_people_on_the_waitlist_and_tells_their_place_by_email(client) -> None:
    ev = make_event(capacity=1)
    svc.submit_rsvp(ev.id, req("first@example.org"))
    detail = client.get(f"/events/{ev.slug}")
    assert "Join the waitlist" in detail.text and "This event is full" in detail.text
    svc.submit_rsvp(ev.id, req("second@example.org"))
    r = post_rsvp(client, ev.slug, email="third@example.org")
    assert r.status_code == 200 and "Check your e-mail" in r.text
    assert "You are number 2 on the waitlist" in outbox("waitlisted")[-1].body_text
    page = client.get(manage_link("third@example.org"))
    assert 'data-status="waitlisted"' in page.text
    assert "number 2</strong> in line" in page.text


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"name": "   "}, "name", "Please enter your name."),
    ({"email": "ann@"}, "email", "doesn&#39;t look like an e-mail address"),
    ({"email": "ann lee@example.org"}, "email", "doesn&#39;t look like an e-mail address"),
    ({"email": "ann@example"}, "email", "doesn&#39;t look like an e-mail address"),
    ({"email": "all-staff,attacker@evil.org"}, "email", "just one e-mail address"),
    ({"email": ""}, "email", "Please enter your e-mail address"),
    ({"guests": "5"}, "guests", "at most 4 guests"),
    ({"guests": "-1"}, "guests", "a whole number"),
    ({"guests": "two"}, "guests", "a whole number"),
    ({"guests": "³"}, "guests", "a whole number"),  # passes str.isdigit(), crashed int()
    ({"guests": "٣"}, "guests", "digits 0-9"),  # int() would read it as 3
    ({"name": "x" * 121}, "name", "under 120 characters"),
    ({"comment": "y" * 1001}, "comment", "under 1000 characters"),
    ({"phone": "call me maybe"}, "phone", "Use digits"),
    ({"phone": "1" * 41}, "phone", "under 40 characters"),
    ({"email": "a" * 250 + "@example.org"}, "email", "e-mail address"),
    ({"name": "Ann\x00"}, "name", "characters we could not read"),
])
def test_invalid_input_re_renders_the_form_with_messages_and_keeps_input(
        client, fields, field, message) -> None:
    ev = make_event(capacity=10, max_guests=4)
    r = post_rsvp(client, ev.slug, **{"comment": "Keep me", **fields})
    assert r.status_code == 422
    assert message in r.text
    assert f'id="rsvp-{field}-error"' in r.text
    assert re.search(rf'id="rsvp-{field}"[^>]*aria-invalid="true"', r.text)
    assert "Keep me" in r.text or field == "comment"
    assert "Ann Lee" in r.text or field == "name"
    assert rsvps(ev.id) == {} and outbox() == []


def test_non_utf8_bytes_are_a_field_error_not_a_crash(client) -> None:
    ev = make_event()
    token = csrf_from(client.get(f"/events/{ev.slug}").text)
    body = f"csrf_token={token}&name=%FF%FEAnn&email=ann%40example.org&guests=0".encode()
    r = client.post(f"/events/{ev.slug}/rsvp", content=body,
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422
    assert "characters we could not read" in r.text
    assert 'value="ann@example.org"' in r.text
    assert rsvps(ev.id) == {}


def test_all_errors_at_once_each_next_to_its_field(client) -> None:
    ev = make_event()
    r = post_rsvp(client, ev.slug, name="", email="nope", guests="99")
    assert r.status_code == 422
    assert "Please fix the 3 problems below" in r.text
    for f in ("name", "email", "guests"):
        assert f'id="rsvp-{f}-error"' in r.text


def test_honeypot_pretends_success_and_stores_nothing(client) -> None:
    ev = make_event()
    r = post_rsvp(client, ev.slug, website="http://spam.example")
    assert r.status_code == 200
    assert "Check your e-mail" in r.text
    assert rsvps(ev.id) == {} and outbox() == []


def test_each_answer_page_shows_its_own_address_escaped_in_its_language(client) -> None:
    """The answer page is kept rendered per event and language with only the address put in:
    every poster still sees their own address (escaped), never the one before, and a reader
    of another language gets the page in theirs."""
    ev = make_event(title="Tenants <meeting>")
    ann = post_rsvp(client, ev.slug, email="ann@example.org")
    bob = post_rsvp(client, ev.slug, name="Bob Ray", email="bob@example.org")
    bot = post_rsvp(client, ev.slug, email="<b>bot</b>@example.org", website="x")
    assert "ann@example.org" in ann.text and "bob@example.org" not in ann.text
    assert "bob@example.org" in bob.text and "ann@example.org" not in bob.text
    assert "&lt;b&gt;bot&lt;/b&gt;@example.org" in bot.text and "<b>bot" not in bot.text
    assert "Tenants &lt;meeting&gt;" in bob.text
    assert '<html lang="en">' in bob.text
    assert client.get(f"/events/{ev.slug}?lang=es").status_code == 200  # the choice, kept
    spanish = post_rsvp(client, ev.slug, name="Cy Young", email="cy@example.org")
    assert '<html lang="es">' in spanish.text and "cy@example.org" in spanish.text
    assert spanish.headers["cache-control"] == "no-store"


def test_post_without_csrf_token_is_refused(client) -> None:
    ev = make_event()
    client.get(f"/events/{ev.slug}")
    r = client.post(f"/events/{ev.slug}/rsvp",
                    data={"name": "Ann", "email": "ann@example.org", "guests": "0"})
    assert r.status_code == 403
    r = client.post(f"/events/{ev.slug}/rsvp", data={"name": "Ann", "email": "ann@example.org",
                                                      "csrf_token": "forged"})
    assert r.status_code == 403
    assert rsvps(ev.id) == {}


def test_same_email_again_changes_nothing_and_answers_exactly_like_a_new_one(client) -> None:
    ev = make_event(capacity=10)
    first = post_rsvp(client, ev.slug, email="ann@example.org", guests=0)
    token = rsvps(ev.id)["ann@example.org"].token
    again = post_rsvp(client, ev.slug, email="ANN@example.org", name="Mallory", guests=3)
    fresh = post_rsvp(client, ev.slug, email="bob@example.org", name="Mallory", guests=3)
    assert first.status_code == again.status_code == fresh.status_code == 200

    def page(r, email: str) -> str:
        """The page, word for word, apart from the address typed and the CSRF token."""
        return CSRF_RE.sub("", r.text).replace(email, "EMAIL")

    assert page(again, "ann@example.org") == page(fresh, "bob@example.org")
    assert {k: v for k, v in again.headers.items() if k not in ("content-length", "date")} \
        == {k: v for k, v in fresh.headers.items() if k not in ("content-length", "date")}
    assert token not in again.text
    row = rsvps(ev.id)["ann@example.org"]
    assert (row.name, row.guests, row.token) == ("Ann Lee", 0, token)  # unchanged
    (already,) = outbox("already")
    assert already.to_addr == "ann@example.org" and token in already.body_text


def test_full_event_without_waitlist_says_so(client) -> None:
    ev = make_event(capacity=1, waitlist_enabled=False)
    post_rsvp(client, ev.slug, email="a@example.org")
    page = client.get(f"/events/{ev.slug}")
    assert "This event is full, and it has no waitlist." in page.text
    assert 'class="rsvp-form"' not in page.text
    r = post_rsvp(client, ev.slug, email="b@example.org")  # a form opened before it filled up
    assert r.status_code == 409
    assert "Sorry, this event is full." in r.text
    assert list(rsvps(ev.id)) == ["a@example.org"]


def _party_options(html: str) -> list[str]:
    return re.findall(r'name="party" value="([^"]+)"', html)


def test_party_bigger_than_what_is_left_without_waitlist_is_offered_fewer_guests(client):
    ev = make_event(capacity=3, waitlist_enabled=False)
    post_rsvp(client, ev.slug, email="a@example.org", guests=1)
    r = post_rsvp(client, ev.slug, email="b@example.org", guests=2, name="Bea")
    assert r.status_code == 409
    assert "Only 1 spot left, not enough for your party of 3." in r.text
    assert _party_options(r.text) == ["0"]  # no waitlist to offer
    assert 'value="Bea"' in r.text and 'name="guests" value="2"' in r.text
    assert list(rsvps(ev.id)) == ["a@example.org"]


def test_party_bigger_than_what_is_left_chooses_fewer_guests_or_the_waitlist(client):
    """No JavaScript: the refused form comes back with the input kept and radio buttons for
    the parties that fit and for the waitlist; posting one of them decides."""
    ev = make_event(capacity=4, max_guests=4)
    post_rsvp(client, ev.slug, email="a@example.org", guests=1)  # 2 of 4
    r = post_rsvp(client, ev.slug, email="b@example.org", guests=3, name="Bea",
                  comment="Wheelchair")
    assert r.status_code == 409
    assert "Only 2 spots left, not enough for your party of 4." in r.text
    assert _party_options(r.text) == ["0", "1", "waitlist"]
    assert "Me and 1 guest (2 spots, confirmed now)" in r.text
    assert "All 4 of us on the waitlist" in r.text
    assert 'value="Bea"' in r.text and ">Wheelchair</textarea>" in r.text
    assert list(rsvps(ev.id)) == ["a@example.org"] and len(outbox()) == 1

    fewer = post_rsvp(client, ev.slug, email="b@example.org", guests=3, party=1)
    assert fewer.status_code == 200 and "Check your e-mail" in fewer.text
    assert (rsvps(ev.id)["b@example.org"].status, rsvps(ev.id)["b@example.org"].guests) == (
        "confirmed", 1)

    ev2 = make_event(capacity=3)
    post_rsvp(client, ev2.slug, email="a@example.org")
    whole = post_rsvp(client, ev2.slug, email="d@example.org", guests=2, party="waitlist")
    assert whole.status_code == 200 and "Check your e-mail" in whole.text
    assert (rsvps(ev2.id)["d@example.org"].status, rsvps(ev2.id)["d@example.org"].guests) == (
        "waitlisted", 2)


def test_a_bad_party_choice_is_a_guests_error_not_a_crash(client) -> None:
    ev = make_event(capacity=4)
    r = post_rsvp(client, ev.slug, guests=3, party="lots")
    assert r.status_code == 422 and 'id="rsvp-guests-error"' in r.text
    assert rsvps(ev.id) == {}


def test_the_party_question_reads_the_same_for_an_address_that_already_rsvpd(client):
    ev = make_event(capacity=3)
    post_rsvp(client, ev.slug, email="known@example.org")
    post_rsvp(client, ev.slug, email="b@example.org")
    known = post_rsvp(client, ev.slug, email="known@example.org", guests=2)
    new = post_rsvp(client, ev.slug, email="new@example.org", guests=2)
    strip = re.compile(r'value="[^"]*"')  # the typed address and the CSRF token differ
    assert known.status_code == new.status_code == 409
    assert strip.sub("", known.text) == strip.sub("", new.text)


def test_only_a_few_spots_left_is_said_next_to_the_guests_field(client) -> None:
    ev = make_event(capacity=3, max_guests=4)
    post_rsvp(client, ev.slug, email="a@example.org")
    page = client.get(f"/events/{ev.slug}")
    assert "Only 2 spots left, you included." in page.text
    assert 'aria-describedby="rsvp-guests-hint"' in page.text


@pytest.mark.parametrize(("overrides", "message"), [
    ({"status": "cancelled"}, "has been cancelled"),
    ({"starts_at": utcnow() - timedelta(days=2)}, "This event is over"),
    ({"rsvp_deadline": utcnow() - timedelta(hours=1)}, "RSVPs for this event closed on"),
])
def test_closed_events_show_why_and_refuse_posts(client, overrides, message) -> None:
    ev = make_event(**overrides)
    page = client.get(f"/events/{ev.slug}")
    assert message in page.text and 'class="rsvp-form"' not in page.text
    r = post_rsvp(client, ev.slug)
    assert r.status_code == 409 and message in r.text
    assert rsvps(ev.id) == {}


def test_drafts_and_unknown_events_are_404(client) -> None:
    draft = make_event(status="draft")
    assert client.get(f"/events/{draft.slug}").status_code == 404
    for slug in (draft.slug, "no-such-event"):
        assert post_rsvp(client, slug).status_code == 404
    assert rsvps(draft.id) == {}


def test_rate_limit_answers_429(client, monkeypatch) -> None:
    ev = make_event()
    monkeypatch.setattr(settings, "RSVP_RATE_LIMIT", 2)
    codes = [post_rsvp(client, ev.slug, email=f"p{i}@example.org").status_code
             for i in range(3)]
    assert codes == [200, 200, 429]
    r = post_rsvp(client, ev.slug, email="p9@example.org")
    assert r.status_code == 429
    assert r.headers["retry-after"] == "60"
    assert "wait a minute" in r.text
    assert len(rsvps(ev.id)) == 2


def test_refused_posts_count_against_the_rate_limit_too(client, monkeypatch) -> None:
    """A post the rules refuse rolls its transaction back, yet it still counts: posting to a
    closed event or an unknown slug is no way around the limit."""
    open_event, over = make_event(), make_event(starts_at=utcnow() - timedelta(hours=1))
    monkeypatch.setattr(settings, "RSVP_RATE_LIMIT", 3)
    codes = [post_rsvp(client, over.slug, email="a@example.org").status_code,
             post_rsvp(client, "no-such-event", email="b@example.org").status_code,
             post_rsvp(client, open_event.slug, email="c@example.org").status_code,
             post_rsvp(client, open_event.slug, email="d@example.org").status_code]
    assert codes == [409, 404, 200, 429]
    assert list(rsvps(open_event.id)) == ["c@example.org"] and rsvps(over.id) == {}


def test_a_post_takes_one_pooled_connection(client, engine) -> None:
    """Throttle, event lock, decision and e-mail in one transaction: one checkout (and one
    BEGIN/COMMIT) per post, which is most of what a post costs the server."""
    from sqlalchemy import event as sa_event

    ev = make_event(capacity=5)
    token = token_for(client, client.get(f"/events/{ev.slug}").text)
    checkouts: list[object] = []

    def count(*_: object) -> None:
        checkouts.append(_)

    sa_event.listen(engine.pool, "checkout", count)
    try:
        r = client.post(f"/events/{ev.slug}/rsvp", data={
            "csrf_token": token, "name": "Ann", "email": "ann@example.org", "guests": "1",
            "website": ""})
    finally:
        sa_event.remove(engine.pool, "checkout", count)
    assert r.status_code == 200 and statuses(ev.id) == {"ann@example.org": "confirmed"}
    assert len(checkouts) == 1


# --- Manage page ------------------------------------------------------------------------------


def manage_post(client, path: str, **data) -> object:
    token = token_for(client, client.get(path).text)
    return client.post(path, data={"csrf_token": token, **{k: str(v) for k, v in data.items()}},
                       follow_redirects=False)


def test_manage_change_guests_and_cancel_promotes_the_waitlist(client) -> None:
    ev = make_event(capacity=3)
    post_rsvp(client, ev.slug, email="a@example.org", guests=2)
    path = manage_link("a@example.org")
    svc.submit_rsvp(ev.id, req("w@example.org"))

    r = manage_post(client, path, action="guests", guests=1)
    assert r.status_code == 303 and r.headers["location"] == f"{path}?m=updated"
    page = client.get(r.headers["location"])
    assert "Your RSVP is updated." in page.text and "you and 1 guest (2 spots)" in page.text
    assert statuses(ev.id)["w@example.org"] == "confirmed"
    assert [m.to_addr for m in outbox("promoted")] == ["w@example.org"]

    too_many = manage_post(client, path, action="guests", guests=2)
    assert too_many.status_code == 422
    assert "Only 0 more spots left" in too_many.text
    assert 'id="manage-guests-error"' in too_many.text

    bad = manage_post(client, path, action="guests", guests=9)
    assert bad.status_code == 422 and "at most 4 guests" in bad.text

    ask = manage_post(client, path, action="cancel")  # one tap only asks
    assert ask.status_code == 200 and "Cancel your RSVP?" in ask.text
    assert 'value="cancel_confirmed"' in ask.text
    assert statuses(ev.id)["a@example.org"] == "confirmed"
    r = manage_post(client, path, action="cancel_confirmed")
    assert r.status_code == 303 and r.headers["location"] == f"{path}?m=cancelled"
    page = client.get(r.headers["location"])
    assert "Your RSVP is cancelled." in page.text and 'data-status="cancelled"' in page.text
    assert "Cancel my RSVP" not in page.text and "RSVP again" in page.text
    assert statuses(ev.id)["a@example.org"] == "cancelled"


def test_manage_page_needs_csrf_and_a_real_token(client) -> None:
    ev = make_event()
    post_rsvp(client, ev.slug)
    path = manage_link("ann@example.org")
    r = client.post(path, data={"action": "cancel"})
    assert r.status_code == 403
    assert statuses(ev.id)["ann@example.org"] == "confirmed"
    assert client.get("/rsvp/not-a-real-token").status_code == 404
    assert "This RSVP link is not valid" in client.get("/rsvp/" + "a" * 43).text
    assert manage_post(client, path, action="explode").status_code == 400


def test_manage_page_of_a_cancelled_event_offers_no_changes(client) -> None:
    ev = make_event(capacity=5)
    r = svc.submit_rsvp(ev.id, req("a@example.org"))
    with write_session() as s:
        event = s.get(Event, ev.id)
        event.status = "cancelled"
        event.cancel_message = "Moved online."
    page = client.get(f"/rsvp/{r.rsvp.token}")
    assert "This event has been cancelled</strong>, so your RSVP no longer applies" in page.text
    assert "The organizers wrote: Moved online." in page.text
    assert "Update guests" not in page.text and "Cancel my RSVP" not in page.text
    posted = manage_post(client, f"/rsvp/{r.rsvp.token}", action="guests", guests=1)
    assert posted.status_code == 409


def test_manage_page_links_the_event_file_but_never_shows_the_personal_feed(client) -> None:
    ev = make_event(title="Budget briefing")
    post_rsvp(client, ev.slug)
    path = manage_link("ann@example.org")
    page = client.get(path)
    assert f'href="http://testserver/events/{ev.slug}.ics"' in page.text
    feed = feed_token("ann@example.org")
    assert feed not in page.text and "/my/" not in page.text
    assert client.get(f"{path}/calendar.ics").status_code == 404  # manage tokens open no feed
    assert f"{settings.BASE_URL}/my/{feed}" in outbox("confirmation")[0].body_text


@pytest.mark.parametrize("guests", ["²", "①", "٢", "1.0"])
def test_manage_refuses_unicode_guest_numbers_and_changes_nothing(client, guests) -> None:
    ev = make_event(capacity=10)
    post_rsvp(client, ev.slug, email="a@example.org", guests=1)
    path = manage_link("a@example.org")
    client.get(path)  # opening the e-mailed link verifies the RSVP (a write of its own)
    before = rsvps(ev.id)["a@example.org"]
    r = manage_post(client, path, action="guests", guests=guests)
    assert r.status_code == 422
    assert "a whole number" in r.text and 'id="manage-guests-error"' in r.text
    after = rsvps(ev.id)["a@example.org"]
    assert after.guests == 1 and after.updated_at == before.updated_at
