"""Share links for an event page: e-mail and the platforms' plain share URLs.

Plain links only (no platform scripts, no tracking pixels, nothing loaded until a visitor
taps one); the copy-link and native share buttons are static/share.js, under the site's CSP.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from events_app import timefmt, urls
from events_app.i18n import gettext
from events_app.models import Event
from events_app.services.event_text import LocalText


def page_url(event: Event) -> str:
    return urls.event_url(event.slug)


def share_text(event: Event, local: LocalText | None = None) -> str:
    """"Title (when)" with the title in the page's language (`local`) when given."""
    when = timefmt.format_range(event.starts_at, event.ends_at, event.timezone, event.all_day)
    return f"{local.title if local else event.title} ({when})"


def share_links(event: Event, local: LocalText | None = None) -> list[tuple[str, str]]:
    """(label, URL) pairs, e-mail first."""
    url, text = page_url(event), share_text(event, local)
    title = local.title if local else event.title

    def q(params: dict[str, str]) -> str:
        # %20 rather than '+': mail apps show a '+' literally.
        return urlencode(params, quote_via=quote)

    return [
        (gettext("E-mail"), "mailto:?" + q({"subject": title, "body": f"{text}\n\n{url}"})),
        ("WhatsApp", "https://wa.me/?" + q({"text": f"{text} {url}"})),
        ("Facebook", "https://www.facebook.com/sharer/sharer.php?" + q({"u": url})),
        ("X (Twitter)", "https://twitter.com/intent/tweet?" + q({"text": text, "url": url})),
        ("Bluesky", "https://bsky.app/intent/compose?" + q({"text": f"{text} {url}"})),
        ("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?" + q({"url": url})),
    ]
