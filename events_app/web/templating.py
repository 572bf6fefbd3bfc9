"""Objects shared by all routes (the template environment), so routes never import the app."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

import jinja2
import jinja2.meta
from babel.numbers import format_decimal
from markupsafe import Markup
from starlette.datastructures import URL, URLPath
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Route
from starlette.templating import Jinja2Templates

from events_app import i18n, settings, timefmt, urls
from events_app.models import Event, category_label
from events_app.services import event_text, rich_text, site_settings
from events_app.services.events import attendance_mode
from events_app.services.structured_data import event_jsonld
from events_app.urls import query_string  # the one rule; atom, api and embed import it here
from events_app.util.lru import LruCache
from events_app.web import language, share
from events_app.web.csrf import csrf_token
from events_app.web.input_types import input_type

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(settings.TEMPLATES_DIR)),
    # Autoescape every HTML/XML template: user-supplied titles and names are never trusted.
    autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
    undefined=jinja2.StrictUndefined if settings.DEBUG else jinja2.Undefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # {% trans %} and _() in templates; the texts are the catalogs' (events_app/i18n.py).
    extensions=["jinja2.ext.i18n"],
)
# Looked up per call in the request's language; "newstyle": _("%(n)s events", n=3) formats
# and escapes its variables itself, and a missing variable is an error, not a silent gap.
_env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext,
    npgettext=i18n.npgettext,
)


def _event_when(event: Event) -> str:
    return timefmt.format_range(event.starts_at, event.ends_at, event.timezone, event.all_day)


def _event_start(event: Event) -> str:
    if event.all_day:
        return timefmt.format_range(event.starts_at, event.ends_at, event.timezone, True)
    return timefmt.format_start(event.starts_at, event.timezone)


def _local_day(dt: datetime, tz_name: str) -> str:
    """'Saturday 14 March 2026', the day `dt` falls on in the event's timezone."""
    return timefmt.format_day_heading(timefmt.local(dt, tz_name).date())


_env.filters.update(
    event_when=_event_when,
    event_start=_event_start,
    iso=timefmt.utc_iso,  # <time datetime>: whole seconds (HTML allows at most 3 digits)
    local_day=_local_day,
    local_time=timefmt.format_start,  # 'Sat 14 Mar, 2:00 PM CDT' (dt | local_time(tz))
    local_clock=timefmt.format_clock,  # '7:05 PM CST'
    clock=timefmt.format_wall_clock,  # '2:00 PM' (the wall clock of an aware datetime)
    # 'Wed 25 Nov 2026, 3:01:51 PM EST': a moment that happened, in the site's timezone.
    site_instant=lambda at: timefmt.format_instant(at, settings.DEFAULT_TIMEZONE),
    day_heading=timefmt.format_day_heading,  # 'Saturday 14 March 2026' (a date)
    month_year=timefmt.format_month,  # 'March 2027' / 'marzo de 2027'
    upper_first=timefmt.upper_first,  # a heading's first letter: 'Marzo de 2027'
    month_after_day=timefmt.format_month_after_day,  # 'March' / 'de marzo'
    year_after_month=timefmt.format_year_after_month,  # '2027' / 'de 2027'
    weekday=timefmt.weekday_name,  # 'Saturday' (d | weekday('abbreviated'): 'Sat')
    number=lambda n: format_decimal(n, locale=i18n.locale()),  # '1,234' / '1234'

    category_label=lambda slug: i18n.gettext(category_label(slug)),  # in the reader's language
    # A label marked with N_() where it is defined, or a function giving it (a text with a
    # context, pgettext): translated in the reader's language when shown.
    translated=lambda label: label() if callable(label) else i18n.gettext(label),
    # A language's name in the reader's language: 'Spanish' / 'español' ("es" | language_label)
    cancel_message=event_text.cancel_message,  # the site's own note in the reader's language
    language_label=lambda code: i18n.babel_locale(code).get_display_name(i18n.current()) or code,
    attendance_mode=attendance_mode,  # "online" / "offline" / "mixed" (hybrid)
    query=query_string,
    urlquote=quote_plus,
    input_type=input_type,
    rich_text=rich_text.to_html,  # a description's Markdown as sanitized HTML
    plain_text=rich_text.to_text,  # ... as readable text (link previews)
)


def _language_query(params: dict[str, Any] | None) -> str:
    """The query string a page keeps when its language changes: the `params` it declares
    (the list's filters and page), never the request's own. Cached pages are shared by every
    visitor whose request means the same page, so their links must not echo one visitor's
    stray or reordered parameters; a page that declares none keeps none."""
    return query_string(params) if params else ""


def _linkable_path(request: Request) -> str:
    """Where a language link may point: the page itself when it was a GET, otherwise (a form
    answered with errors, a confirmation step) its area's start page, because the link is a
    GET and the URL that answered the form may take POSTs only."""
    if request.method in ("GET", "HEAD"):
        return request.url.path
    return "/organizer/" if request.url.path.startswith("/organizer/") else "/"


def _language_links(request: Request, params: dict[str, Any] | None = None
                    ) -> list[tuple[str, str, str]]:
    """(code, name, path and query) of this page in every language, for the switcher: the
    same URL with `?lang=` (web/language.py). hreflang wants them absolute: urls.absolute."""
    query = _language_query(params)
    path = f"{_linkable_path(request)}?{query}&" if query else f"{_linkable_path(request)}?"
    return [(code, i18n.language_name(code), f"{path}{language.PARAM}={code}")
            for code in i18n.LANGUAGES]


def _page_url(request: Request, params: dict[str, Any] | None = None) -> str:
    """This page's absolute URL without a language choice (hreflang's x-default)."""
    return urls.absolute(request.url.path, _language_query(params))


@jinja2.pass_context
def _local_text(context: Any, event: Event) -> event_text.LocalText:
    """An event's title, summary and description in the page's language: the page's
    `texts` (event id -> LocalText, loaded for all its events at once by the handler with
    event_text.texts_for), else the event's own text, marked as in the default language."""
    texts = context.get("texts")
    found = texts.get(event.id) if texts else None
    return found if found is not None else event_text.untranslated(event, i18n.current())


def _lang_attr(text: event_text.LocalText, field: str) -> Markup:
    """' lang="en"' on the element holding a field that fell back to another language than
    the page's (screen readers switch voice, browsers hyphenate right); nothing otherwise."""
    lang = text.fallback(field)
    return Markup(' lang="%s"') % lang if lang else Markup("")


_env.globals.update(
    local_text=_local_text,  # {% set t = local_text(event) %}: t.title, t.summary ...
    lang_attr=_lang_attr,  # <h1{{ lang_attr(t, "title") }}>{{ t.title }}</h1>
    current_language=i18n.current,  # <html lang="{{ current_language() }}">
    language_links=_language_links,
    page_url=_page_url,
    site_name=settings.SITE_NAME,
    site_description=site_settings.site_description,  # .text in the page's language, .lang
    urls=urls,  # absolute public links: urls.event_url(slug), urls.absolute(urls.ATOM, qs)
    csrf_token=csrf_token,
    retention_days=settings.PERSONAL_DATA_RETENTION_DAYS,
    event_jsonld=event_jsonld,
    share_links=share.share_links,
    share_text=share.share_text,
)



@jinja2.pass_context
def _url_for(context: dict[str, Any], name: str, /, **path_params: Any) -> URL:
    """Starlette's `url_for`, remembered per app, base URL, route and parameters.

    Starlette finds a route by trying each in turn (an exception per miss), and every page
    asks for about a dozen links (base.html's stylesheets and menu): a third of the CPU time
    of rendering a small page such as the RSVP "check your e-mail" answer. Routes never
    change once the app is built, so the answer for the same question is the same URL.
    """
    request: Request = context["request"]
    router = request.scope.get("router") or request.scope["app"]
    cache: LruCache[tuple[str, str, tuple[tuple[str, str], ...]], URL] | None = \
        getattr(router, "_events_url_cache", None)
    if cache is None:
        cache = LruCache(max_entries=2048)
        router._events_url_cache = cache  # type: ignore[union-attr]
    key = (str(request.base_url), name, tuple(sorted((k, str(v)) for k, v in path_params.items())))
    url = cache.get(key)
    if url is None:
        url = url_path_for(router, name, path_params).make_absolute_url(request.base_url)
        cache.put(key, url)
    return url


class _Unknown:
    """A route search this module leaves to Starlette (a route type or mount it does not
    follow)."""


_UNKNOWN = _Unknown()
Found = tuple[str, Route, str] | _Unknown | None


def _find_route(routes: list[BaseRoute], name: str, params: frozenset[str]) -> Found:
    """The route Starlette's `url_path_for(name, **params)` answers with, searched in its
    order under its rules (a Route: same name, same parameters; a named Mount: its name
    and ":" before the route's), as (the Mounts' path prefix, the route, its name there);
    None when none answers; _UNKNOWN for anything else on the way (Starlette decides)."""
    for route in routes:
        if isinstance(route, Route):
            if route.name == name and set(route.param_convertors) == params:
                return "", route, name
        elif isinstance(route, Mount) and route.name:
            if name == route.name or set(route.param_convertors) != {"path"} \
                    or "path" in params:
                return _UNKNOWN
            if name.startswith(route.name + ":"):
                found = _find_route(route.routes, name[len(route.name) + 1:], params)
                if not isinstance(found, tuple):
                    return _UNKNOWN
                prefix = route.path_format.replace("{path}", "").rstrip("/")
                return prefix + found[0], found[1], found[2]
        else:
            return _UNKNOWN
    return None


def url_path_for(router: Any, name: str, path_params: dict[str, Any]) -> URLPath:
    """`router.url_path_for(name, **path_params)`, the route found once per name and set of
    parameters: Starlette tries every route in turn (an exception per miss, ~40 for an
    organizer page's link), and a dashboard or attendee page asks for a few hundred links
    with new slugs the first time (a tenth of its first render). The route's own
    url_path_for still checks and converts the values."""
    known: dict[tuple[str, frozenset[str]], Found] | None = \
        getattr(router, "_events_routes_found", None)
    if known is None:
        known = router._events_routes_found = {}
    key = (name, frozenset(path_params))
    if key in known:
        found = known[key]
    else:
        found = known[key] = _find_route(router.routes, name, key[1])
    if not isinstance(found, tuple):
        return router.url_path_for(name, **path_params)  # type: ignore[no-any-return]
    prefix, route, inner = found
    path = route.url_path_for(inner, **path_params)
    return URLPath(path=prefix + str(path), protocol=path.protocol)


_env.globals["url_for"] = _url_for  # before Jinja2Templates, which only sets it if missing
templates = Jinja2Templates(env=_env)


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200, headers: dict[str, str] | None = None) -> Any:
    return templates.TemplateResponse(
        request, name, context or {}, status_code=status_code, headers=headers
    )


def compile_templates(names: list[str]) -> int:
    """Load (parse and compile) the templates `names` and every template they extend,
    include or import by a literal name, into the environment's cache, as their first render
    would; returns how many. For start-up (web/warm_up.py): compiling is most of what a
    worker's first render of a page costs (a few ms to 30 ms a template), and the pages an
    organizer opens first use eight of them."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        _env.get_template(name)
        source = _env.loader.get_source(_env, name)[0]  # type: ignore[union-attr]
        todo += [n for n in jinja2.meta.find_referenced_templates(_env.parse(source))
                 if n is not None]
    return len(seen)


def render_fragment(request: Request, name: str, context: dict[str, Any]) -> str:
    """A template's HTML as text (a part of a page a script swaps in), with the same
    globals as a page: url_for and csrf_token need the request."""
    return _env.get_template(name).render({"request": request, **context})
