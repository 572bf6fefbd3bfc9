"""The embed on another site, in a real browser: a host page served from a second local port
(another origin) carries both snippets; the boxes show our events, the script sizes its
iframe to the content (and follows it when the width changes), a link opens the event in the
parent window, and an ordinary page of ours refuses to be framed there."""

from __future__ import annotations

import threading
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from events_app.models import utcnow
from tests.conftest import free_port
from tests.factories import make_event

pytestmark = pytest.mark.browser


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def host_site(tmp_path, live_server):
    """A member's website on another origin, with our snippets pasted in."""
    base = live_server.url
    (tmp_path / "index.html").write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Member site</title></head>
<body style="margin:0">
  <h1>Our allies' news</h1>
  <aside id="scripted">
    <div data-events-embed="category=protest&amp;limit=20" data-title="Protests"></div>
    <script src="{base}/embed.js" async></script>
  </aside>
  <aside id="plain">
    <iframe id="plain-frame" src="{base}/embed/upcoming?limit=1&amp;theme=dark"
      title="Next event" width="100%" height="300" style="border:0"></iframe>
  </aside>
  <iframe id="refused" src="{base}/events/ohare" title="Not allowed"></iframe>
</body></html>""")
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(_Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def test_embed_on_another_origin(db_url, live_server, host_site, new_page) -> None:
    now = utcnow()
    make_event(slug="ohare", title="O'Hare travel ban protest", category="protest",
               starts_at=now + timedelta(days=1))
    make_event(slug="lax", title="LAX solidarity protest with a rather long title that wraps "
               "on narrow screens", category="protest", starts_at=now + timedelta(days=2))
    make_event(slug="brief", title="Janus briefing", category="briefing",
               starts_at=now + timedelta(days=3))
    page = new_page(viewport={"width": 900, "height": 900})
    page.goto(host_site)

    scripted = page.frame_locator("#scripted iframe")
    titles = scripted.locator(".embed-title")
    titles.first.wait_for()
    assert titles.all_inner_texts() == ["O'Hare travel ban protest",
                                        "LAX solidarity protest with a rather long title that "
                                        "wraps on narrow screens"]
    plain = page.frame_locator("#plain-frame")
    assert plain.locator(".embed-title").all_inner_texts() == ["O'Hare travel ban protest"]

    # The loader replaced the 420px starting height with the content's own height.
    def heights() -> tuple[float, float]:
        frame_el = page.locator("#scripted iframe")
        outer = frame_el.evaluate("el => el.getBoundingClientRect().height")
        inner = scripted.locator("html").evaluate(
            "el => Math.ceil(el.getBoundingClientRect().height)")
        return outer, inner

    page.wait_for_function(
        "() => { const f = document.querySelector('#scripted iframe');"
        " return f && f.style.height !== '420px'; }")
    outer, inner = heights()
    assert outer == inner and outer < 420
    # Narrower: titles wrap, the content grows, and the iframe follows it.
    page.set_viewport_size({"width": 300, "height": 900})
    page.wait_for_function(
        "h => parseFloat(document.querySelector('#scripted iframe').style.height) > h", arg=outer)
    outer_narrow, inner_narrow = heights()
    assert outer_narrow == inner_narrow > outer
    overflow = scripted.locator("html").evaluate("el => el.scrollWidth > el.clientWidth")
    assert overflow is False

    # No other page of ours can be framed: the refused frame shows no event page (the page's
    # load event waited for it), while the embed frames beside it did load.
    assert len(page.frames) == 4
    for frame in page.frames:
        assert frame.locator("#event-title").count() == 0

    # A title opens the event in the parent window, not inside the box.
    with page.expect_navigation():
        titles.first.click()
    assert page.url == f"{live_server.url}/events/ohare"
    assert page.locator("#event-title").inner_text() == "O'Hare travel ban protest"


def test_builder_updates_preview_and_snippets_live(db_url, live_server, new_page) -> None:
    now = utcnow()
    make_event(slug="p", title="Chicago protest", category="protest", city="Chicago",
               starts_at=now + timedelta(days=1))
    make_event(slug="t", title="Denver training", category="training", city="Denver",
               starts_at=now + timedelta(days=2))
    page = new_page(viewport={"width": 1000, "height": 900})
    page.goto(f"{live_server.url}/embed")
    preview = page.frame_locator("#embed-preview")
    assert preview.locator(".embed-title").all_inner_texts() == ["Chicago protest",
                                                                 "Denver training"]
    page.get_by_label("Category").select_option("training")
    page.get_by_label("Colours").select_option("dark")
    preview.locator("body.theme-dark").wait_for()  # the new box has loaded
    assert preview.locator(".embed-title").all_inner_texts() == ["Denver training"]
    iframe_snippet = page.locator("#snippet-iframe").input_value()
    script_snippet = page.locator("#snippet-script").input_value()
    assert (f'src="{live_server.url}/embed/upcoming?category=training&amp;limit=5&amp;'
            f'theme=dark"') in iframe_snippet
    assert 'data-events-embed="category=training&amp;limit=5&amp;theme=dark"' in script_snippet
    assert page.url == f"{live_server.url}/embed"  # updated in place, no reload


def test_a_snippet_without_a_title_takes_the_boxs_own_in_its_language(
        db_url, live_server, host_site, new_page, tmp_path) -> None:
    """Older snippets carry no data-title: the iframe's accessible name is then the box's
    own title, in the box's language (here Spanish), not the loader's English stand-in."""
    from events_app import i18n, settings

    make_event(slug="ohare", title="O'Hare travel ban protest", category="protest",
               starts_at=utcnow() + timedelta(days=1))
    (tmp_path / "old.html").write_text(f"""<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Sitio miembro</title></head><body>
  <aside id="old-es"><div data-events-embed="lang=es&amp;limit=1"></div></aside>
  <aside id="named"><div data-events-embed="limit=1" data-title="Protests"></div></aside>
  <script src="{live_server.url}/embed.js" async></script>
</body></html>""")
    page = new_page(viewport={"width": 900, "height": 900})
    page.goto(f"{host_site}/old.html")
    with i18n.using("es"):
        expected = f"{i18n.gettext('Upcoming events')} · {settings.SITE_NAME}"
    assert expected.startswith("Próximos")
    frame = page.locator("#old-es iframe")
    page.wait_for_function("t => document.querySelector('#old-es iframe').title === t",
                           arg=expected)
    assert frame.get_attribute("title") == expected
    # A snippet that names its box keeps that name.
    page.wait_for_function("() => document.querySelector('#named iframe').style.height"
                           " !== '420px'")  # its box has spoken too
    assert page.locator("#named iframe").get_attribute("title") == "Protests"
