"""Objects shared by all routes (the template environment), so routes never import the app."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, urlencode

import jinja2
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from events_app import settings, timefmt, urls
from events_app.models import Event, category_label
from events_app.services import rich_text
from events_app.services.structured_data import event_jsonld
from events_app.web import share
from events_app.web.csrf import csrf_token
from events_app.web.input_types import input_type

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(settings.TEMPLATES_DIR)),
    # Autoescape every HTML/XML template: user-supplied titles and names are never trusted.
    autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
    undefined=jinja2.StrictUndefined if settings.DEBUG else jinja2.Undefined,
    trim_blocks=True,
    lstrip_blocks=True,
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


def query_string(params: dict[str, Any]) -> str:
    """Build a query string from a dict, dropping empty values; lists repeat the key."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((key, str(v)) for v in values if v not in (None, ""))
    return urlencode(pairs)


_env.filters.update(
    event_when=_event_when,
    event_start=_event_start,
    iso=timefmt.utc_iso,  # <time datetime>: whole seconds (HTML allows at most 3 digits)
    local_day=_local_day,
    category_label=category_label,
    query=query_string,
    urlquote=quote_plus,
    input_type=input_type,
    rich_text=rich_text.to_html,  # a description's Markdown as sanitized HTML
    plain_text=rich_text.to_text,  # ... as readable text (link previews)
)
_env.globals.update(
    site_name=settings.SITE_NAME,
    site_description=settings.SITE_DESCRIPTION,
    urls=urls,  # absolute public links: urls.event_url(slug), urls.absolute(urls.ATOM, qs)
    csrf_token=csrf_token,
    retention_days=settings.PERSONAL_DATA_RETENTION_DAYS,
    event_jsonld=event_jsonld,
    share_links=share.share_links,
    share_text=share.share_text,
)

templates = Jinja2Templates(env=_env)


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200, headers: dict[str, str] | None = None) -> Any:
    return templates.TemplateResponse(
        request, name, context or {}, status_code=status_code, headers=headers
    )
