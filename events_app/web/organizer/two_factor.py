"""The account's two-factor page: enrol (QR code, confirm a code), new recovery codes, off.

Works without JavaScript: the QR code is inline SVG, every step is a plain form. Recovery
codes are rendered straight into the POST's response (never stored, never redirected to),
and organizer pages are `no-store`, so they are not left in a cache.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events_app import settings
from events_app.db import read_session
from events_app.i18n import gettext
from events_app.models import Organizer
from events_app.services import two_factor
from events_app.web.auth import flash, organizer_of, requires, safe_next, sign_in
from events_app.web.organizer.base import form_strings, page
from events_app.web.organizer.urls import path_for, redirect_to


def _page(request: Request, me: Organizer, *, errors: dict[str, str] | None = None,
          codes: list[str] | None = None, next_url: str = "") -> Response:
    assert me.id is not None
    with read_session() as session:
        required = two_factor.is_required(session)
        unused = two_factor.unused_recovery_codes(session, me.id)
    context: dict[str, Any] = {
        "me": me, "errors": errors or {}, "codes": codes, "required": required,
        "unused_codes": unused, "site_timezone": settings.DEFAULT_TIMEZONE,
        "next": next_url or path_for(request, "organizer:account"),
    }
    if not me.has_two_factor and not codes:
        assert me.totp_secret
        context["qr_svg"] = two_factor.qr_svg(two_factor.provisioning_uri(me))
        context["secret_groups"] = " ".join(me.totp_secret[i:i + 4]
                                            for i in range(0, len(me.totp_secret), 4))
    return page(request, "organizer/two_factor.html", context,
                status_code=422 if errors else 200)


@requires("login", enrolling=True)
def two_factor_page(request: Request, form: FormData | None) -> Response:
    values = form_strings(form) if form else {}
    raw_next = values.get("next") or request.query_params.get("next")
    next_url = safe_next(raw_next, path_for(request, "organizer:dashboard")) if raw_next else ""
    me_id = organizer_of(request).id
    assert me_id is not None
    if form is None:
        return _page(request, two_factor.account_for_page(me_id), next_url=next_url)

    action = values.get("action", "")
    if action == "confirm":
        change = two_factor.confirm_own_enrolment(me_id, values.get("code", ""))
        if change is None:
            return redirect_to(request, "organizer:two_factor")
        if change.error:
            return _page(request, change.organizer, next_url=next_url,
                         errors={"code": change.error})
        sign_in(request, change.organizer)  # a new session: also ends a waiting-for-enrolment one
        return _page(request, change.organizer, codes=change.codes,
                     next_url=next_url or path_for(request, "organizer:dashboard"))

    if action == "recovery_codes" or action == "disable":
        field = "password" if action == "recovery_codes" else "off_password"
        change = two_factor.change_own(me_id, action, values.get(field, ""))
        if change is None:
            return redirect_to(request, "organizer:two_factor")
        if change.error:
            return _page(request, change.organizer, errors={field: change.error})
        if action == "disable":
            flash(request, gettext("Two-factor sign-in is off. Your password alone signs you "
                                   "in now."), "warn")
            return redirect_to(request, "organizer:account")
        return _page(request, change.organizer, codes=change.codes)
    raise HTTPException(400, gettext("Unknown action."))


routes: list[Any] = [
    Route("/account/two-factor", two_factor_page, methods=["GET", "POST"],
          name="two_factor"),
]
