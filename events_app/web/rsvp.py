"""RSVP routes: the form on the event page, the private manage page behind a token, and the
"my events" page behind a personal-feed token.

The form's answer never depends on the address typed (see rsvp.submit_rsvp): valid input
always gets the same "check your e-mail" page, and links only ever travel by e-mail.

Thin on purpose: parse and check the form, call services/rsvp.py (which decides everything
about seats), then redirect (Post/Redirect/Get) or re-render the form with messages. Database
work runs in the thread pool, so a request waiting for the seat lock never stalls the event
loop that serves everyone else.
"""

from __future__ import annotations

import secrets
from functools import partial
from typing import Any

from markupsafe import escape
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from events_app import i18n, settings, urls
from events_app.db import read_session
from events_app.i18n import N_, gettext
from events_app.models import Event, RsvpStatus, utcnow
from events_app.services import event_text, feeds, mail, personal_feeds, retention, series_rsvp
from events_app.services import rsvp as rsvp_service
from events_app.services.rsvp_input import parse_guests, parse_rsvp_form
from events_app.util.lru import LruCache
from events_app.web.cached import in_language
from events_app.web.client import client_address
from events_app.web.csrf import read_form
from events_app.web.public import detail_context, public_event_or_404
from events_app.web.templating import render
from events_app.web.write_slots import run_write

# The manage page is reachable by anyone holding its link: keep it out of caches, search
# engines and the Referer header of links followed from it.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
NOTICES = ("updated", "cancelled", "cancelled-moved", "left-waitlist", "calendar")
ALL_DATES = "all"  # the RSVP form's `dates` for every upcoming date of a series


def _load_event(slug: str) -> dict[str, Any]:
    with read_session() as session:
        return detail_context(session, public_event_or_404(session, slug))


def _deliver_soon(mail_ids: list[int]) -> BackgroundTask | None:
    """Best effort: try the new messages right after the response; cron retries failures."""
    if not settings.SMTP_HOST or not mail_ids:
        return None
    return BackgroundTask(mail.deliver, list(mail_ids))


def _manage_path(request: Request, token: str, notice: str) -> str:
    return f"{request.app.url_path_for('rsvp_manage', token=token)}?m={notice}"


def _form_page(request: Request, slug: str, values: dict[str, str], errors: dict[str, str],
               form_error: str | None, status_code: int,
               shortfall: rsvp_service.PartyDoesNotFit | None = None) -> Response:
    """The event page again, with the visitor's input and a message next to each field;
    with `shortfall`, the choice between fewer guests and the waitlist."""
    return render(request, "events/detail.html",
                  {**_load_event(slug), "form": values, "errors": errors,
                   "form_error": form_error, "shortfall": shortfall}, status_code=status_code)


async def rsvp_submit(request: Request) -> Response:
    slug = request.path_params["slug"]
    form = await read_form(request)
    # The party's size is the event's rule: the service checks it under the event's lock.
    parsed = parse_rsvp_form(form)
    all_dates = form.get("dates") == ALL_DATES  # every upcoming date of the series
    if all_dates:
        parsed.values["dates"] = ALL_DATES  # kept when the form comes back with messages
    req = None if parsed.is_bot else parsed.request
    try:
        # Every date: this post only counts against the limit and finds the event; each
        # date is then decided under its own lock by series_rsvp.
        post = await run_write(rsvp_service.post_rsvp, slug, client_address(request),
                               settings.RSVP_RATE_LIMIT, None if all_dates else req)
        result = post.result
        if all_dates and req is not None:
            result = await run_write(series_rsvp.submit_all, post.event.id, req)
    except rsvp_service.RateLimited as exc:
        raise HTTPException(429, exc.message, headers={"Retry-After": "60"}) from None
    except rsvp_service.RsvpNotFound as exc:
        raise HTTPException(404, exc.message) from None
    except rsvp_service.PartyDoesNotFit as exc:
        return await run_in_threadpool(_form_page, request, slug, parsed.values, {}, None, 409,
                                       exc)
    except rsvp_service.RsvpError as exc:
        errors = {exc.field: exc.message} if exc.field else {}
        status = 422 if isinstance(exc, rsvp_service.NotEnoughSeats) else 409
        return await run_in_threadpool(_form_page, request, slug, parsed.values, errors,
                                       None if exc.field else exc.message, status)
    if parsed.is_bot:
        # Look exactly like a successful RSVP, so the bot learns nothing; store nothing.
        return await _received(request, post.event, parsed.values["email"].strip(),
                               all_dates)
    if req is None or result is None:
        parsed = parse_rsvp_form(form, partial(rsvp_service.party_size_problem, post.event))
        if all_dates:
            parsed.values["dates"] = ALL_DATES  # kept when the form comes back
        return await run_in_threadpool(_form_page, request, slug, parsed.values, parsed.errors,
                                       None, 422)
    # New RSVP or an address that already had one: the same page, status and headers; the
    # manage link (and whether anything changed) goes to the address only.
    response = await _received(request, post.event, req.email, all_dates)
    response.background = _deliver_soon(result.mail_ids)
    return response


def _texts_of(event: Event, language: str) -> dict[int, event_text.LocalText]:
    """The page's `texts` for one event (templating.local_text): its title in the reader's
    language, or its own marked with its language. No query in the default language."""
    if language == settings.DEFAULT_LANGUAGE or event.id is None:
        return {}
    with read_session() as session:
        return {event.id: event_text.text_for(session, event, language)}


async def _received(request: Request, event: Event, email: str,
                    all_dates: bool = False) -> Response:
    """The "check your e-mail" page. Every post answers with it, so it is rendered once per
    event, language and path with a marker for the address, and each answer puts the escaped
    address in: the page is otherwise the same bytes for everyone (and must be: whether the
    address had an RSVP must not show). A translation edit bumps `updated_at`, in the key."""
    # The path as the server passed it (what request.url.path reads, without building the
    # whole URL from the headers on every post).
    key = (in_language(request.scope["path"]), event.id, event.slug, event.title,
           event.updated_at, all_dates)
    parts = _received_pages.get(key)
    if parts is None:
        texts = await run_in_threadpool(_texts_of, event, i18n.current())
        page = render(request, "rsvp/received.html",
                      {"event": event, "texts": texts, "email": _EMAIL_MARK,
                       "all_dates": all_dates})
        parts = tuple(bytes(page.body).split(_EMAIL_MARK.encode()))
        if len(parts) == 2:
            _received_pages.put(key, parts)
    body = escape(email).encode().join(parts)
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


# Kept per (language, path, event): a few hundred bytes each, a few thousand at most.
_received_pages: LruCache[tuple[Any, ...], tuple[bytes, ...]] = LruCache(
    2000, max_weight=4 << 20, weigh=lambda parts: sum(map(len, parts)))
_EMAIL_MARK = "email-" + secrets.token_hex(16)  # nothing a template escapes or alters


def _manage_page(request: Request, view: rsvp_service.ManageView, *, notice: str | None = None,
                 errors: dict[str, str] | None = None, form_error: str | None = None,
                 guests_value: str | None = None, status_code: int = 200,
                 confirm_erase: bool = False, confirm_cancel: bool = False) -> Response:
    context: dict[str, Any] = {
        "view": view, "rsvp": view.rsvp, "event": view.event, "notice": notice,
        "texts": {view.event.id: view.text} if view.text else {},
        "confirm_erase": confirm_erase, "confirm_cancel": confirm_cancel,
        "erase_after": retention.erase_after(view.event),
        "errors": errors or {}, "form_error": form_error,
        "guests_value": guests_value if guests_value is not None else str(view.rsvp.guests),
    }
    return render(request, "rsvp/manage.html", context, status_code=status_code,
                  headers=PRIVATE_HEADERS)


async def _view_or_404(token: str) -> rsvp_service.ManageView:
    view = await run_in_threadpool(rsvp_service.get_manage_view, token)
    if view is None:
        raise HTTPException(404, gettext(
            "This RSVP link is not valid. Check that you copied all of it from the e-mail; if "
            "it still fails, RSVP again on the event page with the same e-mail address."))
    return view


async def manage(request: Request) -> Response:
    token = request.path_params["token"]
    view = await _view_or_404(token)
    if view.rsvp.verified_at is None:
        # The link came from the e-mail: the RSVP may now join the address's personal feed.
        await run_write(rsvp_service.verify_link, token)
    notice = request.query_params.get("m")
    return _manage_page(request, view, notice=notice if notice in NOTICES else None)


async def manage_post(request: Request) -> Response:
    token = request.path_params["token"]
    form: FormData = await read_form(request)
    view = await _view_or_404(token)
    action = form.get("action")
    raw_guests = form.get("guests", "")
    raw_guests = raw_guests if isinstance(raw_guests, str) else ""
    try:
        if action == "cancel":
            # The confirmation step (one tap must not cancel): nothing changed yet.
            return _manage_page(request, view, confirm_cancel=True)
        elif action == "cancel_confirmed":
            was_waitlisted = view.rsvp.status == RsvpStatus.WAITLISTED
            result = await run_write(rsvp_service.cancel_rsvp, token)
            notice = ("left-waitlist" if was_waitlisted else
                      "cancelled-moved" if result.promoted else "cancelled")
        elif action == "erase":
            # The confirmation step: the same page with the question, nothing changed yet.
            return _manage_page(request, view, confirm_erase=True)
        elif action == "erase_confirmed":
            result = await run_write(rsvp_service.erase_my_rsvp, token)
            texts = await run_in_threadpool(_texts_of, result.event, i18n.current())
            response = render(request, "rsvp/erased.html",
                              {"event": result.event, "texts": texts}, headers=PRIVATE_HEADERS)
            response.background = _deliver_soon(result.mail_ids)
            return response
        elif action == "calendar":
            result = await run_write(rsvp_service.rotate_calendar, token)
            notice = "calendar"
        elif action == "guests":
            errors: dict[str, str] = {}
            guests = parse_guests(raw_guests, errors)
            if errors:
                return _manage_page(request, view, errors=errors, guests_value=raw_guests,
                                    status_code=422)
            result = await run_write(rsvp_service.change_guests, token, guests)
            notice = "updated"
        else:
            raise HTTPException(400, gettext("Choose whether to change your guests, cancel, or "
                                             "get a new calendar link."))
    except rsvp_service.RsvpNotFound as exc:
        raise HTTPException(404, exc.message) from None
    except rsvp_service.RsvpError as exc:
        view = await _view_or_404(token)
        status = 422 if isinstance(exc, rsvp_service.NotEnoughSeats) else 409
        return _manage_page(request, view, errors={exc.field: exc.message} if exc.field else {},
                            form_error=None if exc.field else exc.message,
                            guests_value=raw_guests or None, status_code=status)
    return RedirectResponse(_manage_path(request, token, notice), status_code=303,
                            background=_deliver_soon(result.mail_ids))


SERIES_NOTICES = ("joined", "cancelled", "updated")
NOT_A_SERIES_LINK = N_("This link is not valid for a series. Check that you copied all of "
                       "it from the e-mail.")


def _series_page(request: Request, view: series_rsvp.SeriesView, *, notice: str | None = None,
                 outcomes: list[series_rsvp.DateOutcome] | None = None,
                 errors: dict[str, str] | None = None, confirm_cancel: bool = False,
                 status_code: int = 200) -> Response:
    return render(request, "rsvp/series.html",
                  {"view": view, "notice": notice, "outcomes": outcomes or [],
                   "errors": errors or {}, "confirm_cancel": confirm_cancel},
                  status_code=status_code, headers=PRIVATE_HEADERS)


async def _series_view_or_404(token: str) -> series_rsvp.SeriesView:
    view = await run_in_threadpool(series_rsvp.get_series_view, token, None, i18n.current())
    if view is None:
        raise HTTPException(404, gettext(NOT_A_SERIES_LINK))
    return view


async def series_manage(request: Request) -> Response:
    """All of the person's RSVPs in a series, reached with one of their e-mailed links."""
    token = request.path_params["token"]
    view = await run_in_threadpool(series_rsvp.get_series_view, token, None, i18n.current())
    if view is None:
        if await run_in_threadpool(rsvp_service.get_manage_view, token) is not None:
            # A single event's RSVP: its own page is all there is.
            return RedirectResponse(request.app.url_path_for("rsvp_manage", token=token), 303)
        raise HTTPException(404, gettext(NOT_A_SERIES_LINK))
    if any(row.rsvp.verified_at is None for row in view.rows):
        # The link came from the e-mail that announced these RSVPs: they may join the feed.
        await run_write(series_rsvp.verify_batch, token)
    notice = request.query_params.get("m")
    return _series_page(request, view, notice=notice if notice in SERIES_NOTICES else None)


async def series_manage_post(request: Request) -> Response:
    token = request.path_params["token"]
    form: FormData = await read_form(request)
    view = await _series_view_or_404(token)
    action = form.get("action")
    path = request.app.url_path_for("rsvp_series", token=token)
    try:
        if action == "cancel_all":
            return _series_page(request, view, confirm_cancel=True)
        if action == "cancel_all_confirmed":
            result = await run_write(series_rsvp.cancel_all, token)
            notice = "cancelled"
        elif action == "join":
            result = await run_write(series_rsvp.join_missing, token)
            notice = "joined"
            if result.anchor is not None:  # a date RSVP'd again has a new link
                path = request.app.url_path_for("rsvp_series", token=result.anchor.token)
        elif action == "guests":
            raw = form.get("guests", "")
            errors: dict[str, str] = {}
            guests = parse_guests(raw if isinstance(raw, str) else "", errors)
            if errors:
                return _series_page(request, view, errors=errors, status_code=422)
            outcomes = await run_write(series_rsvp.change_guests_all, token, guests)
            if any(o.status == "skipped" for o in outcomes):
                # Some dates had no room (or were closed): say which, on the page itself;
                # refused (409) only when no date changed at all.
                changed = any(o.status != "skipped" for o in outcomes)
                view = await _series_view_or_404(token)
                return _series_page(request, view, outcomes=outcomes,
                                    status_code=200 if changed else 409)
            return RedirectResponse(f"{path}?m=updated", status_code=303)
        else:
            raise HTTPException(400, gettext("Choose whether to change your guests, cancel "
                                             "every date, or RSVP to the dates you are not on "
                                             "yet."))
    except rsvp_service.RsvpNotFound as exc:
        raise HTTPException(404, exc.message) from None
    except rsvp_service.RsvpError as exc:
        view = await _series_view_or_404(token)
        return _series_page(request, view, errors={"form": exc.message}, status_code=409)
    return RedirectResponse(f"{path}?m={notice}", status_code=303,
                            background=_deliver_soon(result.mail_ids))


def _my_events(token: str) -> tuple[str, list[Event], dict[int, event_text.LocalText]] | None:
    with read_session() as session:
        email = personal_feeds.email_for_token(session, token)
        if email is None:
            return None
        entries = feeds.personal_entries(session, email, utcnow())
        events = [e.event for e in entries if not e.event.is_cancelled]
        return email, events, event_text.texts_for(session, events, i18n.current())


async def my_events(request: Request) -> Response:
    """The page the e-mails link to: subscribe buttons for the personal feed and what is in it.

    Reached with the feed token only (read-only); it offers no way to change anything.
    """
    token = request.path_params["feed_token"]
    found = await run_in_threadpool(_my_events, token)
    if found is None:
        raise HTTPException(404, gettext(personal_feeds.NOT_FOUND))
    email, events, texts = found
    return render(request, "rsvp/my_events.html",
                  {"email": email, "events": events, "texts": texts, "token": token,
                   "subscribe_url": personal_feeds.feed_url(token)},
                  headers=PRIVATE_HEADERS)


routes = [
    Route(urls.RSVP_SUBMIT, rsvp_submit, methods=["POST"], name="rsvp_submit"),
    Route(urls.RSVP_MANAGE, manage, methods=["GET"], name="rsvp_manage"),
    Route(urls.RSVP_MANAGE, manage_post, methods=["POST"], name="rsvp_manage_post"),
    Route(urls.RSVP_SERIES, series_manage, methods=["GET"], name="rsvp_series"),
    Route(urls.RSVP_SERIES, series_manage_post, methods=["POST"], name="rsvp_series_post"),
    Route(urls.MY_EVENTS, my_events, methods=["GET"], name="my_events"),
]
