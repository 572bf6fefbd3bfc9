"""Account pages: organizer management and the audit trail (admins), one's own password."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events_app import settings
from events_app.db import read_session
from events_app.i18n import gettext, ngettext
from events_app.models import Event
from events_app.services import account_links, audit, organizers, two_factor
from events_app.services import auth as auth_service
from events_app.util.forms import FormError, has_control_chars
from events_app.web import sessions
from events_app.web.auth import flash, organizer_of, requires, sign_in
from events_app.web.organizer.base import deliver_soon, form_strings, int_param, page, path_id
from events_app.web.organizer.urls import redirect_to


def _organizers_page(request: Request, values: dict[str, str] | None = None,
                     errors: dict[str, str] | None = None) -> Response:
    with read_session() as session:
        accounts = organizers.list_organizers(session)
        required = two_factor.is_required(session)
    return page(request, "organizer/organizers.html", {
        "accounts": accounts, "values": values or {}, "errors": errors or {},
        "two_factor_required": required,
        "invite_days": account_links.INVITE_VALID.days,
    }, status_code=422 if errors else 200)


@requires("admin")
def organizer_list(request: Request, form: FormData | None) -> Response:
    if form is None:
        return _organizers_page(request)
    values = form_strings(form)
    try:
        created, mail_ids = organizers.add_organizer(
            organizer_of(request), email=values.get("email", ""), name=values.get("name", ""),
            admin=bool(values.get("admin")),
        )
    except FormError as exc:
        return _organizers_page(request, values, exc.errors)
    days = account_links.INVITE_VALID.days
    flash(request, ngettext(
        "Account created for %(name)s. An invitation is on its way to %(email)s, with a link "
        "to choose a password (valid for %(num)d day).",
        "Account created for %(name)s. An invitation is on its way to %(email)s, with a link "
        "to choose a password (valid for %(num)d days).", days)
        % {"name": created.name, "email": created.email, "num": days})
    response = redirect_to(request, "organizer:accounts")
    response.background = deliver_soon(mail_ids)
    return response


@requires("admin")
def organizer_update(request: Request, form: FormData | None) -> Response:
    """One action on one account: make admin/organizer, (de)activate, set a new password."""
    values = form_strings(form) if form else {}
    me = organizer_of(request)
    target_id = path_id(request, "organizer_id")
    action = values.get("action", "")
    if action not in organizers.ACCOUNT_ACTIONS:
        raise HTTPException(400, gettext("Unknown action."))
    mail_ids: list[int] = []
    try:
        target = organizers.account_action(me, target_id, action, mail_ids)
    except LookupError:
        raise HTTPException(404, gettext("There is no such organizer account.")) from None
    except FormError as exc:
        flash(request, " ".join(exc.errors.values()), "error")
        return redirect_to(request, "organizer:accounts")
    messages = {
        "make_admin": gettext("%(name)s is now an admin."),
        "make_organizer": gettext("%(name)s is now an organizer (not an admin)."),
        "activate": gettext("%(name)s can sign in again."),
        "deactivate": gettext("%(name)s can no longer sign in."),
        "send_link": gettext("A link to choose a new password is on its way to %(email)s.")
                     if target.has_password else
                     gettext("A new invitation is on its way to %(email)s; older links no "
                             "longer work."),
        "sign_out_everywhere": gettext("%(name)s was signed out on every device."),
        "reset_two_factor": gettext("Two-factor sign-in is off for %(name)s, who was signed "
                                    "out; they can set it up again after signing in."),
    }
    if target.id == me.id and action in ("sign_out_everywhere", "reset_two_factor"):
        sessions.forget(request)  # this session ended with the others
        return redirect_to(request, "organizer:login", query={"logged_out": "1"})
    flash(request, messages[action] % {"name": target.name, "email": target.email})
    response = redirect_to(request, "organizer:accounts")
    response.background = deliver_soon(mail_ids)
    return response


@requires("admin")
def site_security(request: Request, form: FormData | None) -> Response:
    """Require (or stop requiring) two-factor sign-in for every organizer."""
    required = bool(form and form.get("two_factor_required"))
    organizers.require_two_factor(organizer_of(request), required)
    flash(request, gettext("Every organizer now needs two-factor sign-in; those without it set "
                           "it up at their next page.") if required else
          gettext("Two-factor sign-in is now optional."))
    return redirect_to(request, "organizer:accounts")


@requires("admin")
def audit_log(request: Request, form: FormData | None) -> Response:
    slug = request.query_params.get("event", "")
    with read_session() as session:
        event = None
        if slug:
            event = None if has_control_chars(slug) else \
                session.exec(select(Event).where(Event.slug == slug)).first()
            if event is None:
                raise HTTPException(404, gettext("There is no event with that address."))
        entries = audit.list_entries(session, int_param(request, "page"),
                                     event_id=event.id if event else None)
    return page(request, "organizer/audit.html", {"audit": entries, "event": event,
                                                  "site_timezone": settings.DEFAULT_TIMEZONE})


@requires("login")
def account(request: Request, form: FormData | None) -> Response:
    if form is None:
        return page(request, "organizer/account.html",
                    {"errors": {}, "min_password": auth_service.MIN_PASSWORD_LENGTH})
    values = form_strings(form)
    errors: dict[str, str] = {}
    if values.get("new_password", "") != values.get("confirm_password", ""):
        errors["confirm_password"] = gettext("The two new passwords are not the same.")
    if not errors:
        me, errors = organizers.change_own_password(organizer_of(request).id or 0,
                                                    values.get("current_password", ""),
                                                    values.get("new_password", ""))
    if errors:
        return page(request, "organizer/account.html",
                    {"errors": errors, "min_password": auth_service.MIN_PASSWORD_LENGTH},
                    status_code=422)
    sign_in(request, me)  # every session ended with the change; this one starts afresh
    flash(request, gettext("Your password was changed. Other devices have been signed out."))
    return redirect_to(request, "organizer:dashboard")


@requires("login")
def sign_out_others(request: Request, form: FormData | None) -> Response:
    """End every other session of one's own account (a computer left signed in somewhere)."""
    me = organizer_of(request)
    organizers.account_action(me, me.id or 0, "sign_out_everywhere")
    sign_in(request, me)
    flash(request, gettext("You were signed out on every other device."))
    return redirect_to(request, "organizer:account")


routes: list[Any] = [
    Route("/organizers", organizer_list, methods=["GET", "POST"],
          name="accounts"),
    Route("/organizers/{organizer_id:int}", organizer_update, methods=["POST"],
          name="account_update"),
    Route("/audit", audit_log, name="audit"),
    Route("/organizers/security", site_security, methods=["POST"],
          name="site_security"),
    Route("/account", account, methods=["GET", "POST"], name="account"),
    Route("/account/sign-out-others", sign_out_others, methods=["POST"],
          name="sign_out_others"),
]
