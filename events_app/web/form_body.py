"""URL-encoded form bodies, parsed into what Starlette's form parser gives, in one pass.

Every public form (the RSVP form above all: an RSVP rush is all posts) sends
`application/x-www-form-urlencoded`. Starlette hands such a body to python-multipart's
streaming parser, which calls back per field start, name, data and end and copies each piece
into a bytearray: ~130 Python calls for the RSVP form's seven fields. `web/csrf.read_form`
holds the whole (bounded) body already, so it is split here instead, with the same rules:
fields separated by '&' (empty ones skipped), the name up to the first '=', the value after
it ('' without one), each decoded as Latin-1 and then `unquote_plus`'d (UTF-8, bad bytes
replaced), exactly as Starlette's FormParser does. tests/test_form_body.py compares the two
on many bodies. Any other content type (multipart, a charset parameter) still goes to
Starlette.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from starlette.datastructures import FormData

from events_app.web import raw_headers

CONTENT_TYPE = b"application/x-www-form-urlencoded"


class TooManyFields(ValueError):
    """More fields than the caller allows (Starlette raises for this too)."""


def is_urlencoded(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the request's Content-Type is exactly the url-encoded form type (what browsers
    send); anything else, parameters or capitals included, is left to Starlette."""
    return raw_headers.first(headers, b"content-type") == CONTENT_TYPE


def parse(body: bytes, max_fields: int) -> FormData:
    """The form in `body`, as Starlette's `Request.form()` reads a url-encoded one."""
    items: list[tuple[str, str]] = []
    for field in body.split(b"&"):
        if not field:
            continue
        if len(items) >= max_fields:
            raise TooManyFields(f"Too many fields. Maximum number of fields is {max_fields}.")
        name, _, value = field.partition(b"=")
        # Starlette's FormParser.on_field_end: Latin-1 first, then percent-decoding (UTF-8).
        items.append((unquote_plus(name.decode("latin-1")),
                      unquote_plus(value.decode("latin-1"))))
    return FormData(items)
