"""Issue 13 items 1 and 3 over HTTP: the RSVP bar in the event page's first screen, and the
manage page (where, join link, add to calendar, a cancel that asks first, honest wording)."""

from __future__ import annotations

import re
from datetime import timedelta

from events_app.models import utcnow
from events_app.services import rsvp as svc
from tests.factories import make_event
from tests.rsvp_helpers import manage_link, post_rsvp, req, statuses, token_for

BAR_RE = re.compile(r'<div class="rsvp-bar" id="rsvp-bar">(.*?)</div>', re.S)


def _bar(page: str) -> str | None:
    m = BAR_RE.search(page)
    return " ".join(m.group(1).split()) if m else None


def _post(client, path: str, **data) -> object:
    token = token_for(client, client.get(path).text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


# --- The RSVP bar (item 1) --------------------------------------------------------------------

def test_the_bar_says_spots_left_and_jumps_to_the_form(client) -> None:
    ev = make_event(capacity=10)
    svc.submit_rsvp(ev.id, req("a@example.org", guests=2))
    page = client.get(f"/events/{ev.slug}").text
    bar = _bar(page)
    assert bar is not None and "7 spots left" in bar
    assert 'href="#rsvp-heading">RSVP</a>' in bar and 'id="rsvp-heading"' in page
    # It comes before the description and the form: in the first screen.
    assert page.index('id="rsvp-bar"') < page.index('id="rsvp-heading"')


def test_the_bar_offers_the_waitlist_when_full_and_says_open_without_a_limit(client) -> None:
    full = make_event(capacity=1)
    svc.submit_rsvp(full.id, req("a@example.org"))
    bar = _bar(client.get(f"/events/{full.slug}").text) or ""
    assert "Full: waitlist open" in bar and ">Join the waitlist</a>" in bar
    open_ = make_event(capacity=None)
    assert "RSVPs are open" in (_bar(client.get(f"/events/{open_.slug}").text) or "")


def test_no_bar_on_past_cancelled_or_closed_events(client) -> None:
    past = make_event(starts_at=utcnow().replace(microsecond=0) - timedelta(days=3))
    cancelled = make_event(status="cancelled")
    no_waitlist = make_event(capacity=1, waitlist_enabled=False)
    svc.submit_rsvp(no_waitlist.id, req("a@example.org"))
    for ev in (past, cancelled, no_waitlist):
        assert _bar(client.get(f"/events/{ev.slug}").text) is None, ev.slug


# --- The manage page (item 3) -----------------------------------------------------------------

def test_manage_page_shows_where_the_join_link_and_add_to_calendar(client) -> None:
    ev = make_event(venue_name="Union Hall", street_address="12 Main St", city="St. Louis",
                    online_url="https://example.org/stream")
    post_rsvp(client, ev.slug)
    page = client.get(manage_link("ann@example.org")).text
    where = page[page.index('id="where-heading"'):page.index('id="add-to-calendar-heading"')]
    assert "Union Hall" in where and "12 Main St, St. Louis" in where
    assert 'class="map-links"' in where
    assert 'href="https://example.org/stream"' in where and "Livestream" in where
    assert "Add to calendar" in page and f"/events/{ev.slug}.ics" in page


def test_cancel_asks_first_and_changes_nothing_until_confirmed(client) -> None:
    ev = make_event(capacity=5)
    post_rsvp(client, ev.slug)
    path = manage_link("ann@example.org")
    page = client.get(path).text
    assert "Cancel my RSVP…" in page and 'value="cancel_confirmed"' not in page
    ask = _post(client, path, action="cancel")
    assert ask.status_code == 200 and "Cancel your RSVP?" in ask.text
    assert f'{path}">No, keep it</a>' in ask.text
    assert statuses(ev.id) == {"ann@example.org": "confirmed"}
    done = _post(client, path, action="cancel_confirmed")
    assert done.status_code == 303 and statuses(ev.id) == {"ann@example.org": "cancelled"}


def test_wording_without_a_waitlist_promises_no_waitlist(client) -> None:
    ev = make_event(capacity=5)
    post_rsvp(client, ev.slug, guests=1)
    path = manage_link("ann@example.org")
    page = client.get(path).text
    assert "Cancelling frees your 2 spots for someone else." in page
    assert "waitlist" not in _post(client, path, action="cancel").text.split(
        'id="cancel-heading"')[1].split("</section>")[0]
    r = _post(client, path, action="cancel_confirmed")
    assert r.headers["location"].endswith("?m=cancelled")
    after = client.get(r.headers["location"]).text
    assert "your spot is free for someone else" in after and "next person" not in after


def test_wording_with_a_waitlist_says_the_spot_goes_to_it(client) -> None:
    ev = make_event(capacity=1)
    post_rsvp(client, ev.slug)
    svc.submit_rsvp(ev.id, req("w@example.org"))
    path = manage_link("ann@example.org")
    assert "Cancelling gives your spot to the next person on the waitlist." in (
        client.get(path).text)
    r = _post(client, path, action="cancel_confirmed")
    assert r.headers["location"].endswith("?m=cancelled-moved")
    assert "your spot went to the next person on the waitlist" in (
        client.get(r.headers["location"]).text)
    assert statuses(ev.id)["w@example.org"] == "confirmed"


def test_a_waitlisted_person_is_told_cancelling_takes_them_off_the_waitlist(client) -> None:
    ev = make_event(capacity=1)
    svc.submit_rsvp(ev.id, req("a@example.org"))
    post_rsvp(client, ev.slug)  # waitlisted
    path = manage_link("ann@example.org")
    page = client.get(path).text
    assert "Cancelling takes you off the waitlist." in page
    assert "frees your" not in page and "gives your" not in page
    r = _post(client, path, action="cancel_confirmed")
    assert r.headers["location"].endswith("?m=left-waitlist")
    assert "You've left the waitlist." in client.get(r.headers["location"]).text
    assert statuses(ev.id)["a@example.org"] == "confirmed"
