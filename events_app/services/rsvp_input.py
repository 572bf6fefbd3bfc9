"""Checking what a visitor typed into the RSVP form, field by field.

Kept apart from the seat rules (services/rsvp.py) because it answers a different question:
"is this well-formed?" needs no database, while "is there a seat?" must be decided under a lock.
Every problem is reported against its field so the form can show it next to the input.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from events_app.util.forms import EmailError, normalize_email
from events_app.util.numbers import NumberError, parse_whole

NAME_MAX = 120
PHONE_MAX = 40
COMMENT_MAX = 1000
HONEYPOT_FIELD = "website"
FIELDS = ("name", "email", "phone", "guests", "comment")

_PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{5,}$")


@dataclass(frozen=True)
class RsvpRequest:
    """A well-formed RSVP; `email` is in forms.normalize_email's form (one RSVP per address)."""

    name: str
    email: str
    phone: str = ""
    guests: int = 0
    comment: str = ""


@dataclass
class ParsedForm:
    values: dict[str, str]  # what the visitor sent, to put back into the form
    errors: dict[str, str] = field(default_factory=dict)
    request: RsvpRequest | None = None
    is_bot: bool = False  # the hidden honeypot field was filled in


def unreadable(text: str) -> bool:
    """True for text that did not arrive as valid UTF-8 or carries control characters.

    The form parser turns undecodable bytes into U+FFFD; control characters (other than
    line breaks and tabs) have no business in a name or comment and can break e-mail headers.
    """
    if "\ufffd" in text:
        return True
    return any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n" for ch in text)


def parse_guests(raw: str, max_guests: int, errors: dict[str, str]) -> int:
    """A whole number from 0 to the event's maximum; records a message in `errors` if not."""
    try:
        guests = parse_whole(raw.strip() or "0", 0, 9999)
    except NumberError:
        errors["guests"] = ("Choose how many guests you are bringing "
                            "(a whole number, digits 0-9).")
        return 0
    if guests > max_guests:
        errors["guests"] = (
            "This event allows no guests." if max_guests == 0
            else f"You can bring at most {max_guests} guest{'s' if max_guests != 1 else ''}."
        )
    return guests


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def parse_rsvp_form(data: Mapping[str, object], max_guests: int) -> ParsedForm:
    """Validate the RSVP form; the result carries either a request or per-field errors."""
    values = {key: _text(data.get(key)) for key in FIELDS}
    parsed = ParsedForm(values=values)
    honeypot = data.get(HONEYPOT_FIELD, "")
    parsed.is_bot = bool(honeypot.strip()) if isinstance(honeypot, str) else True
    errors = parsed.errors

    for key, text in values.items():
        if unreadable(text):
            errors[key] = "This contains characters we could not read. Please retype it."

    name = " ".join(values["name"].split())
    if "name" not in errors:
        if not name:
            errors["name"] = "Please enter your name."
        elif len(name) > NAME_MAX:
            errors["name"] = f"Please keep your name under {NAME_MAX} characters."

    email = ""
    if "email" not in errors:
        if not values["email"].strip():
            errors["email"] = "Please enter your e-mail address, so we can confirm your spot."
        else:
            try:
                email = normalize_email(values["email"])
            except EmailError as exc:
                errors["email"] = str(exc)

    phone = values["phone"].strip()
    if "phone" not in errors and phone:
        if len(phone) > PHONE_MAX:
            errors["phone"] = f"Please keep the phone number under {PHONE_MAX} characters."
        elif not _PHONE_RE.match(phone) or sum(c.isdigit() for c in phone) < 5:
            errors["phone"] = "Use digits, spaces, + ( ) - only, like +1 314 555 0100."

    guests = 0
    if "guests" not in errors:
        guests = parse_guests(values["guests"], max_guests, errors)

    comment = values["comment"].strip()
    if "comment" not in errors and len(comment) > COMMENT_MAX:
        errors["comment"] = f"Please keep the comment under {COMMENT_MAX} characters."

    if not errors:
        parsed.request = RsvpRequest(name=name, email=email, phone=phone, guests=guests,
                                     comment=comment)
    return parsed
