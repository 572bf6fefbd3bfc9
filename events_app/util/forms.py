"""Turning raw form strings into typed values, with one human message per wrong field.

Browsers send every field as text (and omit unchecked boxes), and organizers need to be told
*which* field is wrong in plain words, not pydantic's type jargon. The field types below are
pydantic `Annotated` validators that raise messages written for people; `parse_form` collects
them into a `{field: message}` dict the templates show next to each input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError
from pydantic_core import PydanticCustomError

from events_app.i18n import gettext
from events_app.util.email_problems import email_problem
from events_app.util.numbers import MAX_DIGITS, NumberError, parse_decimal, parse_whole

M = TypeVar("M", bound=BaseModel)

EMAIL_MAX = 254  # RFC 5321's limit on a forward path, and the width of every e-mail column
# The one control-character rule, for every input (organizer forms, the RSVP form, filters,
# searches, slugs) and for the iCalendar output (ical.clean_text): the C0 controls other than
# tab and line breaks, DEL, and the C1 controls.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_chars(value: str) -> bool:
    """NUL and other control characters: PostgreSQL refuses NUL in text, and none of them
    belong in a name, a search or a URL (tabs and line breaks are handled by each field)."""
    return bool(_CONTROL_RE.search(value))


def strip_control_chars(value: str) -> str:
    return _CONTROL_RE.sub("", value)


def unreadable(text: str) -> bool:
    """Text a person typed that did not arrive intact: control characters (they can break
    e-mail headers and CSV), or U+FFFD, which the form parser puts for bytes that were not
    valid UTF-8. Such a field is refused with "please retype it", never stored."""
    return "\ufffd" in text or has_control_chars(text)


class EmailError(ValueError):
    """An address we cannot accept; the message is written for the person who typed it."""


def normalize_email(raw: str) -> str:
    """The one e-mail rule (RSVP form, organizer accounts, co-hosts): exactly one mailbox,
    returned in the one form it is stored and compared in.

    email-validator checks the syntax (no lists, display names, quoted local parts or
    special-use domains such as .invalid), so a value like "all-staff,x@evil.org" can never
    reach smtplib as two recipients. It does no DNS lookup: deliverability is proven by mail
    arriving, and a lookup would make the form slow and flaky. Normal form: the domain in its
    ASCII (IDNA) spelling when the whole address can be ASCII, and everything lower-cased,
    since one person is one RSVP per event whatever case they type.
    """
    s = raw.strip()
    if len(s) > EMAIL_MAX:
        raise EmailError(gettext("An e-mail address can't be longer than %(max)d characters.")
                         % {"max": EMAIL_MAX})
    if s.count("@") > 1 or any(sep in s for sep in ",;"):
        raise EmailError(gettext("Enter just one e-mail address, like name@example.org."))
    try:
        valid = validate_email(s, check_deliverability=False)
    except EmailNotValidError as exc:
        # email-validator explains in English only: its kind of problem, in our words.
        reason = email_problem(s, str(exc))
        raise EmailError(gettext("This doesn't look like an e-mail address "
                                 "(like name@example.org).") + (f" {reason}" if reason else "")
                         ) from None
    return (valid.ascii_email or valid.normalized).lower()


class FormError(ValueError):
    """Input that cannot be accepted; `errors` maps each field name to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors: dict[str, str] = dict(errors)


def fail(message: str) -> PydanticCustomError:
    """The error a field validator raises; its message is shown to the user as is."""
    return PydanticCustomError("form", message)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise fail(gettext("This field must be text."))
    if unreadable(value):
        raise fail(gettext("This field contains characters that are not allowed."))
    return value.strip()


def text(max_length: int, *, required: bool = False, multiline: bool = False) -> Any:
    """Trimmed text; single-line fields also refuse line breaks (they end up in headers/CSV)."""

    def check(value: Any) -> str:
        s = _as_text(value)
        if multiline:
            s = s.replace("\r\n", "\n").replace("\r", "\n")
        elif "\n" in s or "\r" in s:
            raise fail(gettext("Keep this on one line."))
        if required and not s:
            raise fail(gettext("This field is required."))
        if len(s) > max_length:
            raise fail(gettext("Keep this to %(max)s characters or fewer (now %(now)s).")
                       % {"max": max_length, "now": len(s)})
        return s

    return Annotated[str, PlainValidator(check)]


def email(*, required: bool = True) -> Any:
    def check(value: Any) -> str:
        s = _as_text(value)
        if not s:
            if required:
                raise fail(gettext("Enter an e-mail address."))
            return ""
        try:
            return normalize_email(s)
        except EmailError as exc:
            raise fail(str(exc)) from None

    return Annotated[str, PlainValidator(check)]


def optional_int(minimum: int, maximum: int, example: int) -> Any:
    """Blank means "not set" (None); anything else must be a whole number in range."""

    def check(value: Any) -> int | None:
        s = _as_text(value)
        if not s:
            return None
        try:
            n = parse_whole(s, -10**MAX_DIGITS, 10**MAX_DIGITS, signed=True)
        except NumberError:
            raise fail(gettext("Enter a whole number, like %(example)s (digits 0-9).")
                       % {"example": example}) from None
        if not minimum <= n <= maximum:
            raise fail(gettext("Enter a number from %(min)s to %(max)s.")
                       % {"min": minimum, "max": maximum})
        return n

    return Annotated[int | None, PlainValidator(check)]


def optional_float(minimum: float, maximum: float, what: str) -> Any:
    def check(value: Any) -> float | None:
        s = _as_text(value)
        if not s:
            return None
        try:
            f = parse_decimal(s, -math.inf, math.inf)
        except NumberError:
            raise fail(gettext("Enter the %(what)s as a decimal number, like 38.6270 "
                               "(digits 0-9 and a dot).") % {"what": gettext(what)}) from None
        if not minimum <= f <= maximum:
            raise fail(gettext("The %(what)s must be between %(min)s and %(max)s.") % {
                "what": gettext(what), "min": f"{minimum:g}", "max": f"{maximum:g}"})
        return f

    return Annotated[float | None, PlainValidator(check)]


def _check_local_datetime(value: Any) -> datetime | None:
    s = _as_text(value)
    if not s:
        return None
    # <input type="datetime-local"> sends "2026-03-14T18:30" (seconds only if the page asks).
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?", s):
        raise fail(gettext("Enter a date and time like 2026-03-14 18:30."))
    try:
        return datetime.fromisoformat(s.replace(" ", "T"))
    except ValueError:
        raise fail(gettext("That date does not exist; check the day and month.")) from None


LocalDateTime = Annotated[datetime | None, PlainValidator(_check_local_datetime)]


def _check_url(value: Any) -> str:
    s = _as_text(value)
    if not s:
        return ""
    if len(s) > 500:
        raise fail(gettext("Keep the link to 500 characters or fewer."))
    parts = urlsplit(s)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in s:
        raise fail(gettext("Enter a full web address starting with https:// (or http://)."))
    return s


HttpUrl = Annotated[str, PlainValidator(_check_url)]


def _check_date(value: Any) -> date | None:
    s = _as_text(value)
    if not s:
        return None
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", s):
        raise fail(gettext("Enter a date like 2026-03-14."))
    try:
        return date.fromisoformat(s)
    except ValueError:
        raise fail(gettext("That date does not exist; check the day and month.")) from None


def _check_time(value: Any) -> time | None:
    s = _as_text(value)
    if not s:
        return None
    if not re.fullmatch(r"[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?", s):
        raise fail(gettext("Enter a time like 18:30."))
    try:
        return time.fromisoformat(s.zfill(len(s) + 1) if s.index(":") == 1 else s)
    except ValueError:
        raise fail(gettext("Enter a time between 00:00 and 23:59.")) from None


DateField = Annotated[date | None, PlainValidator(_check_date)]
TimeField = Annotated[time | None, PlainValidator(_check_time)]


def email_list(maximum: int) -> Any:
    """Addresses separated by commas, semicolons, spaces or lines; duplicates dropped."""

    def check(value: Any) -> tuple[str, ...]:
        s = value if isinstance(value, str) else ""
        found: list[str] = []
        for part in re.split(r"[\s,;]+", s):
            if part:
                try:
                    found.append(normalize_email(part))
                except EmailError as exc:
                    raise fail(f"{part[:EMAIL_MAX]}: {exc}") from None
        unique = tuple(dict.fromkeys(found))
        if len(unique) > maximum:
            raise fail(gettext("At most %(max)s addresses.") % {"max": maximum})
        return unique

    return Annotated[tuple[str, ...], PlainValidator(check)]


def _check_checkbox(value: Any) -> bool:
    # An unchecked box is simply missing from the form; a checked one sends its value.
    return value not in (None, "", "0", "false", "off")


Checkbox = Annotated[bool, PlainValidator(_check_checkbox)]


def choice(options: Callable[[], Any], message: str) -> Any:
    """One of a known set; `options` is called per check so the set can be large or lazy."""

    def check(value: Any) -> str:
        s = _as_text(value)
        if s not in options():
            raise fail(gettext(message))  # marked with N_() where it is defined
        return s

    return Annotated[str, PlainValidator(check)]


class Form(BaseModel):
    """Base for form models: unknown fields (csrf_token, submit buttons) are ignored."""

    # validate_default: a field missing from the post (an unchecked box, a hand-made request)
    # goes through the same validator as an empty one, so "required" is enforced either way.
    model_config = ConfigDict(extra="ignore", frozen=True, validate_default=True)


def parse_form(model: type[M], data: Mapping[str, Any]) -> M:
    """Validate `data` into `model` or raise FormError with one message per field."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "__all__"
            msg = err["msg"] if err["type"] == "form" else gettext("Please check this value.")
            errors.setdefault(field, msg)
        raise FormError(errors) from None
