"""Who is asking: the one client address that throttles (RSVP posts, sign-in attempts) key on."""

from __future__ import annotations

from starlette.requests import Request


def client_address(request: Request) -> str:
    """The client's IP address. Behind a proxy, uvicorn (run with proxy_headers and the
    proxy's address in forwarded_allow_ips) has already replaced it with the forwarded one,
    so a client cannot pick its own key with a header of its own."""
    return request.client.host if request.client else "unknown"
