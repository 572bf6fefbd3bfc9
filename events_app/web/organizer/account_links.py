"""The pages behind the one-time links e-mailed to organizers (invitation, password reset) and
the "forgot password" form. Open to anyone: the link (or the mailbox) is the credential.

Rules live in services/account_links.py. These pages carry the private-link headers (no
caching, no Referer to other sites, not indexed), and the link's token is redacted from the
access log (web/access_log.py).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events_app import urls
from events_app.i18n import gettext
from events_app.models import AccountLinkPurpose
from events_app.services import account_links
from events_app.services import auth as auth_service
from events_app.web.auth import after_password, current_organizer, requires
from events_app.web.client import client_address
from events_app.web.organizer.base import deliver_soon
from events_app.web.organizer.urls import path_for
from events_app.web.templating import render

PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def _render(request: Request, template: str, context: dict[str, Any],
            status_code: int = 200) -> Response:
    return render(request, template, context, status_code=status_code,
                  headers=PRIVATE_HEADERS)


@requires("public")
def forgot_password(request: Request, form: FormData | None) -> Response:
    """Ask for a reset link. The answer never says whether the address has an account."""
    minutes = int(account_links.RESET_VALID.total_seconds() // 60)
    if form is None:
        return _render(request, "organizer/forgot.html",
                       {"email": "", "error": "", "sent": False, "minutes": minutes})
    email = str(form.get("email", ""))[:254]
    if not email.strip():
        return _render(request, "organizer/forgot.html",
                       {"email": email,
                        "error": gettext("Enter the e-mail address you sign in with."),
                        "sent": False, "minutes": minutes}, status_code=422)
    result = account_links.request_reset(email, client_address(request))
    if result.throttled:
        return _render(request, "organizer/forgot.html",
                       {"email": email, "sent": False, "minutes": minutes,
                        "error": gettext("Too many reset requests from here or for this "
                                         "address. Wait a while and try again.")}, status_code=429)
    response = _render(request, "organizer/forgot.html",
                       {"email": email.strip(), "error": "", "sent": True, "minutes": minutes})
    response.background = deliver_soon(result.mail_ids)
    return response


def _link_page(request: Request, purpose: AccountLinkPurpose, form: FormData | None) -> Response:
    token = request.path_params[f"{purpose.value}_token"]
    context: dict[str, Any] = {"purpose": purpose.value, "errors": {}, "token": token,
                               "min_password": auth_service.MIN_PASSWORD_LENGTH,
                               "signed_in": current_organizer(request) is not None}
    if form is None:
        organizer = account_links.check(token, purpose)
        if organizer is None:
            return _render(request, "organizer/set_password.html",
                           {**context, "invalid": True}, status_code=410)
        return _render(request, "organizer/set_password.html",
                       {**context, "invalid": False, "account": organizer})
    new = str(form.get("new_password", ""))[:auth_service.MAX_PASSWORD_LENGTH]
    confirm = str(form.get("confirm_password", ""))[:auth_service.MAX_PASSWORD_LENGTH]
    try:
        if new != confirm:
            organizer = account_links.check(token, purpose)
            if organizer is None:
                raise account_links.LinkError(account_links.INVALID_LINK)
            errors = {"confirm_password": gettext("The two passwords are not the same.")}
        else:
            organizer, errors = account_links.set_password(token, purpose, new)
    except account_links.LinkError:
        return _render(request, "organizer/set_password.html",
                       {**context, "invalid": True}, status_code=410)
    if errors:
        account = organizer or account_links.check(token, purpose)
        return _render(request, "organizer/set_password.html",
                       {**context, "invalid": False, "account": account, "errors": errors},
                       status_code=422)
    assert organizer is not None
    # Every session of the account ended with the change. Signing in from here is the
    # ordinary "password was right" step: two-factor accounts are still asked for a code.
    response = after_password(request, organizer, path_for(request, "organizer:dashboard"))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@requires("public")
def accept_invitation(request: Request, form: FormData | None) -> Response:
    return _link_page(request, AccountLinkPurpose.INVITE, form)


@requires("public")
def reset_password(request: Request, form: FormData | None) -> Response:
    return _link_page(request, AccountLinkPurpose.RESET, form)


routes: list[Any] = [
    Route("/forgot-password", forgot_password, methods=["GET", "POST"], name="forgot_password"),
    Route(urls.ACCOUNT_WELCOME.replace("}", ":str}"), accept_invitation, methods=["GET", "POST"],
          name="accept_invitation"),
    Route(urls.ACCOUNT_RESET.replace("}", ":str}"), reset_password, methods=["GET", "POST"],
          name="reset_password"),
]
