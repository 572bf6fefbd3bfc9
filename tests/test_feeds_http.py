"""Feed routes over HTTP: headers, conditional requests, HEAD, filters, personal feeds, UI links."""

from __future__ import annotations

import html
import re
import time
import urllib.request
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from events_app import settings
from events_app.db import write_session
from events_app.models import Rsvp, utcnow
from events_app.services import feeds, personal_feeds
from tests.conftest import start_server
from tests.factories import backdate_data_version, make_event, make_rsvp, queries_run
from tests.feed_helpers import organizer_edit, parse


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test starts cold, so one test's renders never answer another's requests."""
    feeds.public_cache.clear()
    feeds.personal_cache.clear()


def settled_event(**fields):
    """An event last changed long enough ago for feeds to announce their Last-Modified."""
    at = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    event = make_event(created_at=at, updated_at=at, **fields)
    backdate_data_version(at)
    return event






def test_feed_headers_and_content(client) -> None:
    event = settled_event(title="Budget hearing")
    r = client.get("/calendar.ics")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=300"
    assert re.fullmatch(r'"[0-9a-f]{32}(-gzip)?"', r.headers["etag"])
    last_modified = parsedate_to_datetime(r.headers["last-modified"])
    assert last_modified >= event.updated_at.replace(microsecond=0)
    assert "content-disposition" not in r.headers
    assert parse(r.content).uids == [event.uid]


def test_if_none_match_answers_304(client) -> None:
    settled_event()
    first = client.get("/calendar.ics")
    etag = first.headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        r = client.get("/calendar.ics", headers={"If-None-Match": header})
        assert r.status_code == 304, header
        assert r.content == b""
        assert r.headers["etag"] == etag
        assert r.headers["last-modified"] == first.headers["last-modified"]
    r = client.get("/calendar.ics", headers={"If-None-Match": '"stale"'})
    assert r.status_code == 200 and r.content == first.content


def test_if_modified_since_answers_304(client) -> None:
    settled_event()
    first = client.get("/calendar.ics")
    lm = parsedate_to_datetime(first.headers["last-modified"])
    assert client.get("/calendar.ics", headers={
        "If-Modified-Since": first.headers["last-modified"]}).status_code == 304
    later = format_datetime(lm + timedelta(hours=1), usegmt=True)
    assert client.get("/calendar.ics", headers={"If-Modified-Since": later}).status_code == 304
    earlier = format_datetime(lm - timedelta(seconds=1), usegmt=True)
    assert client.get("/calendar.ics", headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get("/calendar.ics", headers={
        "If-Modified-Since": "not a date"}).status_code == 200
    # A non-matching ETag wins over a matching date (RFC 9110 13.2.2).
    both = {"If-None-Match": '"stale"', "If-Modified-Since": first.headers["last-modified"]}
    assert client.get("/calendar.ics", headers=both).status_code == 200


def test_head_has_get_headers_without_body(client) -> None:
    event = settled_event()
    plain = {"Accept-Encoding": "identity"}  # HEAD describes the uncompressed body
    for url in ("/calendar.ics", f"/events/{event.slug}.ics"):
        get = client.get(url, headers=plain)
        head = client.head(url, headers=plain)
        assert head.status_code == 200
        assert head.content == b""
        for name in ("content-type", "etag", "last-modified", "cache-control"):
            assert head.headers[name] == get.headers[name]
        assert head.headers["content-length"] == str(len(get.content))


def test_single_event_download(client) -> None:
    event = make_event(title="Picket line", slug="picket-line")
    r = client.get("/events/picket-line.ics")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="picket-line.ics"'
    assert r.headers["etag"]
    p = parse(r.content)
    assert p.uids == [event.uid]
    assert str(p.lib["METHOD"]) == "PUBLISH"
    assert client.get("/events/picket-line.ics", headers={
        "If-None-Match": r.headers["etag"]}).status_code == 304
    # The event page itself still answers at /events/{slug}.
    page = client.get("/events/picket-line")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


def test_drafts_and_unknown_events_are_404(client) -> None:
    make_event(slug="secret-draft", status="draft")
    assert client.get("/events/secret-draft.ics").status_code == 404
    assert client.get("/events/nothing-here.ics").status_code == 404
    assert b"secret-draft" not in client.get("/calendar.ics").content


def test_filtered_feed_urls(client) -> None:
    protest = make_event(category="protest", city="Chicago")
    briefing = make_event(category="briefing", city="St. Paul")
    make_event(category="meeting", city="Denver")
    r = client.get("/calendar.ics?category=protest")
    assert parse(r.content).uids == [protest.uid]
    r = client.get("/calendar.ics?city=st.+paul")
    assert parse(r.content).uids == [briefing.uid]
    a = client.get("/calendar.ics?city=Chicago&city=St.+Paul&category=protest&category=briefing")
    b = client.get("/calendar.ics?category=briefing&category=protest&city=St.+Paul&city=Chicago")
    assert sorted(parse(a.content).uids) == sorted([protest.uid, briefing.uid])
    assert a.headers["etag"] == b.headers["etag"]  # same filter, whatever the order
    assert a.headers["etag"] != client.get("/calendar.ics").headers["etag"]
    unknown = client.get("/calendar.ics?category=unknown")
    assert unknown.status_code == 404
    assert "no category 'unknown'" in html.unescape(unknown.text)
    assert client.get("/calendar.ics?city=Atlantis").status_code == 404
    # Any spelling of a city gives the stored one's feed: same name, bytes and ETag.
    lower = client.get("/calendar.ics?city=st.+PAUL")
    stored = client.get("/calendar.ics?city=St.+Paul")
    assert lower.content == stored.content and lower.headers["etag"] == stored.headers["etag"]
    assert parse(lower.content).x_text("X-WR-CALNAME").endswith("(St. Paul)")
    assert client.get("/calendar.ics?months=3").status_code == 200
    for bad in ("0", "13", "x", "-1", "99999"):
        assert client.get(f"/calendar.ics?months={bad}").status_code == 400, bad
    too_many = "&".join(f"city=c{i}" for i in range(21))
    assert client.get(f"/calendar.ics?{too_many}").status_code == 400
    assert client.get("/calendar.ics?category=" + "x" * 101).status_code == 400


def test_change_invalidates_cached_feed(client) -> None:
    event = make_event(title="Before")
    first = client.get("/calendar.ics")
    assert client.get("/calendar.ics").headers["etag"] == first.headers["etag"]
    assert feeds.public_cache.renders == 1  # the second request reused the render

    organizer_edit(event.id, title="After", starts_at=event.starts_at + timedelta(hours=1),
          ends_at=event.ends_at + timedelta(hours=1))
    r = client.get("/calendar.ics", headers={"If-None-Match": first.headers["etag"]})
    assert r.status_code == 200
    assert r.headers["etag"] != first.headers["etag"]
    ev = parse(r.content).strict_event(event.uid)
    assert ev.summary == "After" and ev.sequence == 1

    new = make_event(title="Brand new")  # a new row also changes the feed
    assert new.uid in parse(client.get("/calendar.ics").content).uids


def test_cancelled_event_in_feed_and_old_cancellation_gone(client) -> None:
    recent = make_event(title="Recently cancelled")
    old = make_event(title="Cancelled long ago")
    organizer_edit(recent.id, status="cancelled", cancelled_at=utcnow() - timedelta(days=3))
    organizer_edit(old.id, status="cancelled", cancelled_at=utcnow() - timedelta(days=32))
    p = parse(client.get("/calendar.ics").content)
    assert p.uids == [recent.uid]
    ev = p.strict_event(recent.uid)
    assert ev.status.value == "CANCELLED" and ev.sequence == 1
    r = client.get(f"/events/{recent.slug}.ics")
    assert parse(r.content).strict_event(recent.uid).status.value == "CANCELLED"


def test_personal_feed_by_token(client) -> None:
    mine = make_event(title="Mine")
    waiting = make_event(title="Waiting")
    theirs = make_event(title="Theirs")
    first = make_rsvp(mine, email="me@example.org", phone="+1 555 0199")
    make_rsvp(waiting, email="me@example.org", status="waitlisted")
    make_rsvp(theirs, email="them@example.org", phone="+1 555 0123")
    with write_session() as session:
        token = personal_feeds.feed_for(session, "me@example.org").token

    assert client.get(f"/rsvp/{first.token}/calendar.ics").status_code == 404  # manage token
    r = client.get(f"/my/{token}/calendar.ics")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"
    assert r.headers["cache-control"].startswith("private")
    assert r.headers["x-robots-tag"] == "noindex"
    p = parse(r.content)
    assert p.uids == [mine.uid, waiting.uid]
    assert p.strict_event(waiting.uid).status.value == "TENTATIVE"
    for secret in ("me@example.org", "them@example.org", "555 01", "ATTENDEE"):
        assert secret.encode() not in r.content
    assert client.get(f"/my/{token}/calendar.ics", headers={
        "If-None-Match": r.headers["etag"]}).status_code == 304

    # Promotion from the waitlist changes no event row, but the feed follows it.
    with write_session() as session:
        rsvp = session.exec(select(Rsvp).where(Rsvp.event_id == waiting.id)).one()
        rsvp.status, rsvp.updated_at = "confirmed", utcnow()
    again = client.get(f"/my/{token}/calendar.ics")
    assert again.headers["etag"] != r.headers["etag"]
    assert parse(again.content).strict_event(waiting.uid).status.value == "CONFIRMED"

    assert client.get("/my/not-a-real-token/calendar.ics").status_code == 404
    assert client.get(f"/my/{'x' * 200}/calendar.ics").status_code == 404


def test_no_attendee_data_in_public_feeds(client) -> None:
    event = make_event()
    make_rsvp(event, email="private.person@example.org", name="Private Person", phone="+1 555 0142")
    for url in ("/calendar.ics", f"/events/{event.slug}.ics"):
        body = client.get(url).content
        for secret in (b"private.person@example.org", b"Private Person", b"555 0142",
                       b"ATTENDEE"):
            assert secret not in body


def links(page: str) -> dict[str, str]:
    """Visible link text -> href (unescaped) for every <a> in the page."""
    found = {}
    for href, text in re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', page, re.S):
        label = re.sub(r"<[^>]+>.*?</span>|<[^>]+>", "", text).strip()
        found[label] = html.unescape(href)
    return found


def test_subscribe_block_on_event_list(client) -> None:
    make_event(category="protest", city="St. Louis")
    page = client.get("/events").text
    assert 'id="subscribe-heading"' in page
    a = links(page)
    feed = f"{settings.BASE_URL}/calendar.ics"
    webcal = "webcal://" + feed.split("://", 1)[1]
    assert a["Subscribe"] == webcal
    google = urlsplit(a["Add to Google Calendar"])
    assert google.netloc == "calendar.google.com"
    assert parse_qs(google.query)["cid"] == [webcal]
    outlook = urlsplit(a["Add to Outlook.com"])
    assert outlook.netloc == "outlook.live.com" and outlook.path.endswith("/addfromweb")
    assert parse_qs(outlook.query)["url"] == [feed]
    office = urlsplit(a["Add to Outlook (Microsoft 365)"])
    assert office.netloc == "outlook.office.com" and office.path == "/calendar/0/addfromweb"
    assert parse_qs(office.query) == {"url": [feed], "name": [settings.SITE_NAME]}
    assert f'value="{feed}"' in page
    assert 'data-copy="feed-url" hidden' in page  # shown by static/copy.js
    assert client.get(urlsplit(feed).path).status_code == 200


def test_subscribe_block_on_filtered_view_uses_filtered_feed(client) -> None:
    protest = make_event(category="protest", city="St. Louis")
    make_event(category="meeting", city="St. Louis")
    page = client.get("/events?city=St.+Louis&category=protest&q=march").text
    a = links(page)
    feed = urlsplit(a["Subscribe"])
    assert feed.scheme == "webcal" and feed.path == "/calendar.ics"
    assert parse_qs(feed.query) == {"category": ["protest"], "city": ["St. Louis"]}
    assert "search text and dates don't apply" in page
    r = client.get(f"{feed.path}?{feed.query}")
    assert parse(r.content).uids == [protest.uid]
    outlook = parse_qs(urlsplit(a["Add to Outlook.com"]).query)
    assert outlook["name"] == [f"{settings.SITE_NAME} (Protest, St. Louis)"]
    # Any spelling of the filter gives the feed's one URL and name; none for unknown ones.
    shouted = links(client.get("/events?city=ST.+LOUIS&category=Protest").text)
    assert shouted["Subscribe"] == a["Subscribe"]
    assert parse_qs(urlsplit(shouted["Add to Outlook.com"]).query)["name"] == outlook["name"]
    nowhere = client.get("/events?city=Atlantis")
    assert nowhere.status_code == 200 and 'id="subscribe-heading"' not in nowhere.text


def test_add_to_calendar_links_on_event_page(client) -> None:
    event = make_event(title="Teach-in, part 2", slug="teach-in")
    page = client.get("/events/teach-in").text
    assert 'id="add-to-calendar-heading"' in page
    a = links(page)
    assert urlsplit(a["Download .ics"]).path == "/events/teach-in.ics"
    g = parse_qs(urlsplit(a["Google Calendar"]).query)
    assert g["action"] == ["TEMPLATE"]
    assert g["text"] == ["Teach-in, part 2"]
    assert g["dates"] == [f"{event.starts_at:%Y%m%dT%H%M%SZ}/{event.ends_at:%Y%m%dT%H%M%SZ}"]
    assert g["ctz"] == ["America/Chicago"]
    assert f"{settings.BASE_URL}/events/teach-in" in g["details"][0]
    o = parse_qs(urlsplit(a["Outlook.com"]).query)
    assert o["subject"] == ["Teach-in, part 2"]
    assert o["startdt"] == [f"{event.starts_at:%Y-%m-%dT%H:%M:%SZ}"]
    assert o["allday"] == ["false"]
    office = urlsplit(a["Outlook (Microsoft 365)"])
    assert office.netloc == "outlook.office.com"
    assert office.path == "/calendar/0/deeplink/compose"
    assert parse_qs(office.query) == o


def test_feed_buttons_macro_serves_any_feed() -> None:
    """The same buttons for another feed (e.g. a person's own): every link carries its URL."""
    from events_app.web.templating import templates

    module = templates.env.get_template("events/_feed_buttons.html").module
    url = "https://events.example.org/rsvp/tok123/calendar.ics"
    out = str(module.feed_buttons(url, "My events", "my-feed", copy_label="Private address"))
    a = links(out)
    assert a["Subscribe"] == "webcal://events.example.org/rsvp/tok123/calendar.ics"
    assert parse_qs(urlsplit(a["Add to Google Calendar"]).query)["cid"] == [a["Subscribe"]]
    for label in ("Add to Outlook.com", "Add to Outlook (Microsoft 365)"):
        assert parse_qs(urlsplit(a[label]).query) == {"url": [url], "name": ["My events"]}
    assert f'id="my-feed" type="url" readonly value="{url}"' in out
    assert 'data-copy="my-feed"' in out and "Private address" in out


def test_add_to_calendar_for_all_day_and_cancelled_events(client) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/Chicago")
    start = datetime(2031, 5, 1, tzinfo=tz)
    make_event(slug="fair", all_day=True, starts_at=start.astimezone(ZoneInfo("UTC")),
               ends_at=(start + timedelta(days=2)).astimezone(ZoneInfo("UTC")))
    g = parse_qs(urlsplit(links(client.get("/events/fair").text)["Google Calendar"]).query)
    assert g["dates"] == ["20310501/20310503"]

    cancelled = make_event(slug="called-off")
    organizer_edit(cancelled.id, status="cancelled", cancelled_at=utcnow())
    page = client.get("/events/called-off").text
    assert "Google Calendar" not in links(page)
    assert urlsplit(links(page)["Download the cancellation (.ics)"]).path \
        == "/events/called-off.ics"


def test_feeds_agree_across_worker_processes(db_url, tmp_path) -> None:
    """Two uvicorn workers, each with its own cache: both serve the same bytes and ETag, and
    both serve an edit made in another process within the second data_version promises."""
    event = make_event(title="Shared")
    server = start_server(db_url, tmp_path, workers=2)
    try:
        def fetch() -> tuple[str, bytes]:
            with urllib.request.urlopen(f"{server.url}/calendar.ics", timeout=10) as resp:
                return resp.headers["ETag"], resp.read()

        before = {fetch() for _ in range(12)}
        assert len(before) == 1
        organizer_edit(event.id, title="Shared, edited")
        time.sleep(1)  # the promise: every worker serves a new version within a second
        after = {fetch() for _ in range(12)}
        assert len(after) == 1
        etag, body = after.pop()
        assert etag != next(iter(before))[0]
        assert parse(body).strict_event(event.uid).summary == "Shared, edited"
    finally:
        server.stop()


def test_feeds_and_pages_are_gzipped_with_an_etag_per_encoding(client) -> None:
    import gzip

    for n in range(3):
        settled_event(title=f"Compressed {n}", description="Long enough to compress. " * 20)
    plain = client.get("/calendar.ics", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    zipped = client.get("/calendar.ics", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers["vary"].lower()
    assert zipped.content == plain.content  # httpx decodes it; the same calendar
    assert zipped.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
    assert zipped.headers["last-modified"] == plain.headers["last-modified"]

    # Each client revalidates with the tag it holds and gets a 304 carrying that tag.
    again = client.get("/calendar.ics", headers={"Accept-Encoding": "gzip",
                                                 "If-None-Match": zipped.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == zipped.headers["etag"]
    again = client.get("/calendar.ics", headers={"Accept-Encoding": "identity",
                                                 "If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == plain.headers["etag"]
    stale = client.get("/calendar.ics", headers={"Accept-Encoding": "gzip",
                                                 "If-None-Match": '"stale-gzip"'})
    assert stale.status_code == 200

    page = client.get("/events", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip" and "Compressed 0" in page.text
    # What went over the wire really is gzip.
    with client.stream("GET", "/calendar.ics", headers={"Accept-Encoding": "gzip"}) as r:
        raw = b"".join(r.iter_raw())
    assert gzip.decompress(raw) == plain.content and len(raw) < len(plain.content)


def test_last_modified_strictly_increases_with_every_change(client) -> None:
    """Two edits within one second, a poll between them: revalidating with the date it got
    must not answer 304 for the second edit. Last-Modified is announced only once a change has
    settled, so no two versions of the bytes ever share one."""
    event = settled_event(title="Version 0")
    v0 = client.get("/calendar.ics")
    lm0 = v0.headers["last-modified"]

    organizer_edit(event.id, bump=False, title="Version 1")
    v1 = client.get("/calendar.ics")  # polled between the two edits
    assert "Version 1" in v1.text and v1.headers["etag"] != v0.headers["etag"]
    assert "last-modified" not in v1.headers  # the change has not settled yet
    organizer_edit(event.id, bump=False, title="Version 2")  # within the same second
    since_v0 = client.get("/calendar.ics", headers={"If-Modified-Since": lm0})
    assert since_v0.status_code == 200 and "Version 2" in since_v0.text
    assert client.get("/calendar.ics", headers={
        "If-None-Match": v1.headers["etag"]}).status_code == 200

    # Once settled, the date is later than any earlier version's.
    from events_app.db import read_session
    from events_app.services.feeds import FeedFilter

    with read_session() as session:
        feed = feeds.public_feed(session, FeedFilter())
        changed_at = session.get(type(event), event.id).updated_at
    assert feed.body == since_v0.content
    assert feeds.settled_last_modified(feed, changed_at) is None
    assert feeds.settled_last_modified(feed, changed_at + timedelta(seconds=30)) is None
    settled = feeds.settled_last_modified(feed, changed_at + timedelta(minutes=2))
    assert settled == changed_at.replace(microsecond=0) > parsedate_to_datetime(lm0)


def test_personal_feed_hit_runs_no_query_and_a_rotated_token_stops_at_once(client) -> None:
    make_rsvp(make_event(title="Mine"), email="me@example.org")
    with write_session() as session:
        token = personal_feeds.feed_for(session, "me@example.org").token
    first = client.get(f"/my/{token}/calendar.ics")
    with queries_run() as seen:
        again = client.get(f"/my/{token}/calendar.ics")
        not_modified = client.get(f"/my/{token}/calendar.ics",
                                  headers={"If-None-Match": first.headers["etag"]})
    assert seen == []
    assert (again.status_code, again.content) == (200, first.content)
    assert not_modified.status_code == 304
    with write_session() as session:
        new = personal_feeds.rotate(session, "me@example.org").token
    assert client.get(f"/my/{token}/calendar.ics").status_code == 404
    assert client.get(f"/my/{new}/calendar.ics").content == first.content
