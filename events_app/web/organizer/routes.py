"""The complete organizer route table, mounted once under /organizer.

Paths here are relative to the mount and names are short: the app reaches them as
`/organizer/...` and `url_for('organizer:<name>')`, so no module spells the prefix by hand.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount

from events_app.web import auth
from events_app.web.organizer import account_links, admin, attendees, events, series, two_factor

routes: list[BaseRoute] = [
    *auth.routes,  # sign-in, its second step and sign-out: open to anyone
    *account_links.routes,  # the e-mailed one-time links and "forgot password": open too
    *events.routes,
    *series.routes,
    *attendees.routes,
    *admin.routes,
    *two_factor.routes,
]

mount = Mount("/organizer", routes=routes, name="organizer")
