"""Event descriptions (issue 13 item 7): Markdown to sanitized HTML for pages and e-mails,
readable plain text for e-mails' text part, and the event page that shows them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from events_app.models import Event, Rsvp, utcnow
from events_app.services import messages
from events_app.services.reminders import queue_reminders
from events_app.services.rich_text import to_html, to_text
from tests.factories import make_event, make_rsvp
from tests.rsvp_helpers import outbox


class _Elements(HTMLParser):
    """Every element and its attributes, as a browser's parser sees them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def test_paragraphs_lists_bold_and_links() -> None:
    html = str(to_html("Join **us**.\n\n- one\n- *two*\n\n1. first\n\n[Docs](https://d.example/a?b=1&c=2)"))
    assert "<p>Join <strong>us</strong>.</p>" in html
    assert "<ul>\n<li>one</li>\n<li><em>two</em></li>\n</ul>" in html
    assert "<ol>\n<li>first</li>\n</ol>" in html
    assert '<a href="https://d.example/a?b=1&amp;c=2" rel="nofollow noopener">Docs</a>' in html


def test_bare_urls_and_addresses_become_links_with_rel() -> None:
    html = str(to_html("Sign up at https://example.org/sign-up or write to mailto:hi@example.org"))
    assert '<a href="https://example.org/sign-up" rel="nofollow noopener">' in html
    assert '<a href="mailto:hi@example.org" rel="nofollow noopener">' in html
    # Every link gets the rel, whatever the source wrote.
    assert html.count("<a ") == html.count('rel="nofollow noopener"') == 2


def test_single_line_breaks_are_kept() -> None:
    assert "City Hall<br>\n12 Main St" in str(to_html("City Hall\n12 Main St"))


@pytest.mark.parametrize("attack", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="https://e.example" onclick="alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    '<div style="position:fixed">x</div>',
    "<svg onload=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    "![x](https://tracker.example/pixel.png)",
    '[x](https://e.example "title" onmouseover="alert(1)")',
    "<style>body{display:none}</style>",
])
def test_xss_attempts_come_out_as_text(attack: str) -> None:
    elements = _Elements(str(to_html(f"Hello\n\n{attack}"))).found
    assert {tag for tag, _ in elements} <= {"p", "a", "br"}
    for tag, attrs in elements:
        if tag == "a":
            assert set(attrs) == {"href", "rel"} and attrs["rel"] == "nofollow noopener"
            assert str(attrs["href"]).startswith(("https://", "http://", "mailto:")), attrs
        else:
            assert attrs == {}, (tag, attrs)  # no handler, style or src anywhere


def test_headings_and_images_are_not_offered() -> None:
    html = str(to_html("# Big\n\n![pic](https://e.example/p.png)"))
    assert "<h1" not in html and "<img" not in html
    assert "# Big" in html


def test_empty_description_is_empty() -> None:
    assert to_html("") == "" and to_html("  \n ") == "" and to_html(None) == ""


def test_plain_text_reads_well() -> None:
    text = to_text("Join **us** at [City Hall](https://ch.example/map).\n\n"
                   "- one\n- two\n\n3. three\n4. four\n\nSee https://e.example")
    assert text == ("Join us at City Hall (https://ch.example/map).\n\n- one\n- two\n\n"
                    "3. three\n4. four\n\nSee https://e.example")


def test_plain_text_keeps_typed_html_as_text() -> None:
    assert to_text("a <b>c</b>") == "a <b>c</b>"


DESCRIPTION = ("Bring **water**.\n\nAgenda: https://agenda.example/x\n\n- Speeches\n- March\n\n"
               "<script>alert('x')</script> [bad](javascript:alert(1))")


def _description_html(page: str) -> str:
    m = re.search(r'<section class="description rich-text"[^>]*>(.*?)</section>', page, re.S)
    assert m, "no description section"
    return m.group(1)


def test_event_page_renders_the_description_safely(client) -> None:
    make_event(slug="march", description=DESCRIPTION)
    section = _description_html(client.get("/events/march").text)
    assert "<p>Bring <strong>water</strong>.</p>" in section
    assert ('<a href="https://agenda.example/x" rel="nofollow noopener">'
            "https://agenda.example/x</a>") in section
    assert "<li>Speeches</li>" in section
    assert "&lt;script&gt;" in section and "<script" not in section
    assert "javascript:" not in section.replace("[bad](javascript:alert(1))", "")


def test_api_and_feed_keep_the_markdown_source(client) -> None:
    make_event(slug="march", description=DESCRIPTION)
    assert client.get("/api/v1/events/march").json()["description"] == DESCRIPTION
    ics = client.get("/events/march.ics").text.replace("\r\n ", "")
    assert "Bring **water**." in ics and "<strong>" not in ics


def _event(**fields: object) -> Event:
    return make_event(slug="soon", title="Soon", description=DESCRIPTION,
                      starts_at=utcnow().replace(microsecond=0) + timedelta(hours=5), **fields)


def test_reminder_mail_shows_the_description_in_both_parts(db_url: str) -> None:
    event = _event()
    make_rsvp(event, "Ann", "ann@example.org")
    assert queue_reminders() == 1
    [mail] = outbox("reminder")
    assert "<p>Bring <strong>water</strong>.</p>" in mail.body_html
    assert 'href="https://agenda.example/x" rel="nofollow noopener"' in mail.body_html
    assert "<script" not in mail.body_html and "&lt;script&gt;" in mail.body_html
    assert 'href="javascript' not in mail.body_html
    assert "About this event:\nBring water.\n\nAgenda: https://agenda.example/x\n\n" \
           "- Speeches\n- March" in mail.body_text
    assert "<strong>" not in mail.body_text


def test_confirmation_and_promotion_mails_carry_the_description() -> None:
    event = Event(id=1, slug="s", title="T", description="Hi **there**", category="meeting",
                  starts_at=datetime(2030, 1, 1, 18, tzinfo=UTC),
                  ends_at=datetime(2030, 1, 1, 19, tzinfo=UTC), timezone="America/Chicago")
    rsvp = Rsvp(id=1, event_id=1, name="Zoë", email="z@example.org", guests=0,
                token="t" * 43, status="confirmed")
    for content in (messages.confirmation(event, rsvp), messages.promoted(event, rsvp)):
        assert "<p>Hi <strong>there</strong></p>" in content.html
        assert "About this event:\nHi there\n" in content.text
    # Mails about something else (a cancellation) do not repeat it.
    assert "Hi there" not in messages.event_cancelled(event, rsvp, "Sorry").text


def test_only_absolute_links_of_known_schemes_become_links() -> None:
    html = str(to_html("[a](/relative) [b](#here) [c](ftp://e.example) [d](tel:+13125550199)"))
    assert "[a](/relative)" in html and "[b](#here)" in html and "[c](ftp://e.example)" in html
    assert '<a href="tel:+13125550199" rel="nofollow noopener">d</a>' in html
    assert html.count("<a ") == 1  # never an <a> without a working href


def test_link_previews_and_search_data_get_plain_text(client) -> None:
    make_event(slug="march", summary="", description="Bring **water**: [map](https://m.example)")
    page = client.get("/events/march").text
    assert 'content="' in page and "Bring water: map (https://m.example)" in page
    assert "**water**" not in page.split("<body")[0]  # neither og: tags nor JSON-LD
