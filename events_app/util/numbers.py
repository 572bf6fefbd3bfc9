"""The one rule for numbers that arrive as text in a request (query strings, form fields).

`str.isdigit()` and `int()` both accept far more than people type into a number field:
superscripts ("²") pass `isdigit()` and then crash `int()`, while Arabic-Indic or full-width
digits ("٣", "３") are silently read as numbers. A page number, a guest count or a latitude is
written with ASCII digits 0-9, so anything else is refused here with a message, before any
handler acts on the request. Every place that turns request text into a number calls this
module, so the rule holds everywhere at once.
"""

from __future__ import annotations

import re

from events_app.i18n import gettext

# ASCII only, by construction ([0-9], not \d, which matches every Unicode decimal digit).
_WHOLE_RE = re.compile(r"[+-]?[0-9]+")
_DECIMAL_RE = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
# Longer than any number these fields take; keeps int() away from huge-string conversions.
MAX_DIGITS = 18


class NumberError(ValueError):
    """The text is not a number of the kind asked for; `str(exc)` is a message for people."""


def parse_whole(raw: str, minimum: int, maximum: int, *, signed: bool = False) -> int:
    """A whole number written with ASCII digits (a leading +/- only if `signed`), in range.

    Surrounding whitespace is tolerated (browsers and people add it); nothing else is.
    """
    text = raw.strip()
    if (not _WHOLE_RE.fullmatch(text) or (not signed and text[0] in "+-")
            or len(text.lstrip("+-")) > MAX_DIGITS):
        raise NumberError(gettext("Enter a whole number from %(min)d to %(max)d, using the "
                                  "digits 0-9.") % {"min": minimum, "max": maximum})
    value = int(text)
    if not minimum <= value <= maximum:
        raise NumberError(gettext("Enter a whole number from %(min)d to %(max)d.")
                          % {"min": minimum, "max": maximum})
    return value


def parse_decimal(raw: str, minimum: float, maximum: float) -> float:
    """A decimal number like -38.627 (ASCII digits, a dot, no exponent, no nan/inf), in range."""
    text = raw.strip()
    if not _DECIMAL_RE.fullmatch(text) or len(text) > 2 * MAX_DIGITS:
        raise NumberError(gettext("Enter a decimal number from %(min)s to %(max)s, like "
                                  "38.627, using the digits 0-9.")
                          % {"min": f"{minimum:g}", "max": f"{maximum:g}"})
    value = float(text)
    if not minimum <= value <= maximum:
        raise NumberError(gettext("Enter a number from %(min)s to %(max)s.")
                          % {"min": f"{minimum:g}", "max": f"{maximum:g}"})
    return value
