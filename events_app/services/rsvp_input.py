"""Checking what a visitor typed into the RSVP form, field by field.

Kept apart from the seat rules (services/rsvp.py) because it answers a different question:
"is this well-formed?" needs no database, while "is there a seat?" must be decided under a lock.
Every problem is reported against its field so the form can show it next to the input.
Each kind of value has one rule, shared with the organizer forms: e-mail addresses
(forms.normalize_email), numbers (util/numbers.py), unreadable text (forms.unreadable). The
event's guest limit is a seat rule: services/rsvp.py enforces it (party_size_problem) and the
form only reports it, through the `party_problem` it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from events_app.i18n import gettext
from events_app.util.forms import EmailError, normalize_email, unreadable
from events_app.util.numbers import NumberError, parse_whole

NAME_MAX = 120
PHONE_MAX = 40
COMMENT_MAX = 1000
HONEYPOT_FIELD = "website"
FIELDS = ("name", "email", "phone", "guests", "comment", "party")
# The answer to "your party does not fit": guests as digits (come with fewer) or this word.
WAITLIST_CHOICE = "waitlist"

_PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{5,}$")


@dataclass(frozen=True)
class RsvpRequest:
    """A well-formed RSVP; `email` is in forms.normalize_email's form (one RSVP per address)."""

    name: str
    email: str
    phone: str = ""
    guests: int = 0
    comment: str = ""
    # "" on a first post; after "only N spots left": "fewer" (came down to `guests`) or
    # "waitlist" (the whole party joins the waitlist). See rsvp.submit_rsvp.
    choice: str = ""


@dataclass
class ParsedForm:
    values: dict[str, str]  # what the visitor sent, to put back into the form
    errors: dict[str, str] = field(default_factory=dict)
    request: RsvpRequest | None = None
    is_bot: bool = False  # the hidden honeypot field was filled in


def parse_guests(raw: str, errors: dict[str, str]) -> int:
    """A whole number of guests (empty means none); records a message in `errors` if not.
    Whether the event allows that many is the RSVP service's decision (NotEnoughSeats)."""
    try:
        return parse_whole(raw.strip() or "0", 0, 9999)
    except NumberError:
        errors["guests"] = gettext("Choose how many guests you are bringing "
                                   "(a whole number, digits 0-9).")
        return 0


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def parse_rsvp_form(data: Mapping[str, object],
                    party_problem: Callable[[int], str | None] | None = None) -> ParsedForm:
    """Validate the RSVP form; the result carries either a request or per-field errors.
    `party_problem` (the RSVP service's rule for the event) reports a party that is too big
    together with the other fields' problems."""
    values = {key: _text(data.get(key)) for key in FIELDS}
    parsed = ParsedForm(values=values)
    honeypot = data.get(HONEYPOT_FIELD, "")
    parsed.is_bot = bool(honeypot.strip()) if isinstance(honeypot, str) else True
    errors = parsed.errors

    for key, text in values.items():
        if unreadable(text):
            errors[key] = gettext("This contains characters we could not read. Please retype it.")

    name = " ".join(values["name"].split())
    if "name" not in errors:
        if not name:
            errors["name"] = gettext("Please enter your name.")
        elif len(name) > NAME_MAX:
            errors["name"] = gettext("Please keep your name under %(max)d characters.") % {
                "max": NAME_MAX}

    email = ""
    if "email" not in errors:
        if not values["email"].strip():
            errors["email"] = gettext(
                "Please enter your e-mail address, so we can confirm your spot.")
        else:
            try:
                email = normalize_email(values["email"])
            except EmailError as exc:
                errors["email"] = str(exc)

    phone = values["phone"].strip()
    if "phone" not in errors and phone:
        if len(phone) > PHONE_MAX:
            errors["phone"] = gettext("Please keep the phone number under %(max)d characters.") % {
                "max": PHONE_MAX}
        elif not _PHONE_RE.match(phone) or sum(c.isdigit() for c in phone) < 5:
            errors["phone"] = gettext("Use digits, spaces, + ( ) - only, like +1 314 555 0100.")

    party = values["party"].strip()
    choice = "waitlist" if party == WAITLIST_CHOICE else ("fewer" if party else "")
    if choice == "fewer" and "guests" not in errors:
        values["guests"] = party  # the smaller party chosen replaces the one that did not fit

    guests = 0
    if "guests" not in errors:
        guests = parse_guests(values["guests"], errors)
        problem = None if "guests" in errors or party_problem is None else party_problem(guests)
        if problem:
            errors["guests"] = problem

    comment = values["comment"].strip()
    if "comment" not in errors and len(comment) > COMMENT_MAX:
        errors["comment"] = gettext("Please keep the comment under %(max)d characters.") % {
            "max": COMMENT_MAX}

    if not errors:
        parsed.request = RsvpRequest(name=name, email=email, phone=phone, guests=guests,
                                     comment=comment, choice=choice)
    return parsed
