"""The organizer session cookie: which row (services.login_sessions) a request belongs to.

The cookie holds only a random token; everything else is in the database. It is scoped to
/organizer, so public pages, feeds and the API never receive it (and stay cacheable, with
no per-visitor state). Handlers start or end sessions through `begin`/`finish`; the
middleware below writes the resulting Set-Cookie headers, so no handler builds one itself.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events_app import settings
from events_app.db import read_session
from events_app.models import Organizer, SessionStage
from events_app.services import login_sessions
from events_app.util.lru import LruCache

COOKIE_NAME = "organizer_sid"
DEVICE_COOKIE = "organizer_device"
COOKIE_PATH = "/organizer"
DEVICE_MAX_AGE = 400 * 24 * 3600  # browsers cap cookie lifetimes at 400 days
_UNSET = object()
_PENDING = "session_cookie_updates"  # scope["state"] key: Set-Cookie values to send


_COOKIES = "events_app.cookies"  # scope key: the request's cookies, parsed once


def read_cookie(scope: Scope, name: str) -> str | None:
    """The request's cookie `name`. Looked up once per request (the language, CSRF and
    session each ask) and kept in the scope."""
    cookies = scope.get(_COOKIES)
    if cookies is None:
        cookies = scope[_COOKIES] = _parse_cookies(scope)
    return cookies.get(name)


# Parsed cookies by the request's Cookie header values: a browser sends the same header on
# every request until a cookie changes, and SimpleCookie costs ~15 us a parse (every request
# of a signed-in organizer or an RSVP form's visitor). Bounded in entries and bytes; the
# values are only the parse of what the client sent, and are never changed by readers.
# Weighed by the header's length (the parse is never longer), key and value together.
_COOKIE_CACHE_BYTES = 256 * 1024
_parsed: LruCache[tuple[bytes, ...], tuple[dict[str, str], int]] = LruCache(
    max_entries=1024, max_weight=_COOKIE_CACHE_BYTES, weigh=lambda entry: entry[1])


def _parse_cookies(scope: Scope) -> dict[str, str]:
    headers = tuple(value for name, value in scope.get("headers", []) if name == b"cookie")
    if not headers:
        return {}
    entry = _parsed.get(headers)
    if entry is None:
        found = _parse(headers)
        _parsed.put(headers, (found, 400 + 3 * sum(len(h) for h in headers)))
        return found
    return entry[0]


def _parse(headers: tuple[bytes, ...]) -> dict[str, str]:
    """Each name's value from the first Cookie header that has it; nothing from a malformed
    header on (it is "no cookie")."""
    found: dict[str, str] = {}
    for value in headers:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(value.decode("latin-1"))
        except Exception:  # noqa: BLE001 - a malformed cookie header is "no cookie"
            break
        for key, morsel in jar.items():
            found.setdefault(key, morsel.value)
    return found


def has_cookie(request: Request) -> bool:
    return read_cookie(request.scope, COOKIE_NAME) is not None


def current(request: Request) -> login_sessions.Current | None:
    """The request's live session (any stage), or None; read once per request.

    Blocks on the database: call from the thread pool.
    """
    cached = getattr(request.state, "login_session", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[no-any-return]
    token = read_cookie(request.scope, COOKIE_NAME)
    found = None
    if token:
        with read_session() as session:
            found = login_sessions.load(session, token)
        if found is not None:
            login_sessions.touch_if_due(found.row)
    request.state.login_session = found
    return found


def _queue_cookie(request: Request, header: str) -> None:
    pending = request.scope.setdefault("state", {}).setdefault(_PENDING, [])
    pending.append(header)


def _cookie(name: str, value: str, max_age: int) -> str:
    secure = "; Secure" if settings.HTTPS else ""
    return (f"{name}={value}; Path={COOKIE_PATH}; Max-Age={max_age}; HttpOnly; "
            f"SameSite=Lax{secure}")


def begin(request: Request, organizer: Organizer, stage: SessionStage) -> None:
    """Start a new session (a new id and CSRF secret) in place of the request's current one."""
    old = read_cookie(request.scope, COOKIE_NAME)
    token, row = login_sessions.replace(old, organizer, stage)
    request.state.login_session = login_sessions.Current(row, organizer)
    request.state.organizer = organizer if stage == SessionStage.SIGNED_IN else None
    _queue_cookie(request, _cookie(COOKIE_NAME, token, settings.SESSION_MAX_AGE))


def finish(request: Request) -> None:
    """End the request's session (sign-out) and remove the cookie."""
    old = current(request)
    if old is not None:
        login_sessions.end_by_id(old.row.id)
    request.state.login_session = None
    request.state.organizer = None
    _queue_cookie(request, _cookie(COOKIE_NAME, "", 0))


def forget(request: Request) -> None:
    """The session was ended elsewhere in this request's transaction (e.g. "sign out
    everywhere" on one's own account): stop treating the request as signed in."""
    request.state.login_session = None
    request.state.organizer = None
    _queue_cookie(request, _cookie(COOKIE_NAME, "", 0))


def device_token(request: Request) -> str | None:
    return read_cookie(request.scope, DEVICE_COOKIE)


def remember_device(request: Request, token: str) -> None:
    _queue_cookie(request, _cookie(DEVICE_COOKIE, token, DEVICE_MAX_AGE))


class SessionCookieMiddleware:
    """Sends the Set-Cookie headers queued by `begin`, `finish` and `remember_device`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                pending = scope.get("state", {}).get(_PENDING) or []
                if pending:
                    headers = list(message.get("headers", []))
                    headers += [(b"set-cookie", h.encode("latin-1")) for h in pending]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookies)
