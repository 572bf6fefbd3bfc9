"""Which `<input type>` can show a value a form is re-rendered with.

A form shown again after an error keeps what was typed. A typed box cannot always hold it:
"soon" in a date box or "not a link" in a URL box is invalid HTML, and a browser would show a
date box empty, so the visitor would lose what they typed without seeing why. Such a value goes
in a text box instead; a value that fits keeps its box (and its date picker or keyboard).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time

# HTML's value syntaxes (WHATWG "common microsyntaxes"), for the types the forms use.
_TIME = r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?"
_DATE = r"\d{4}-\d{2}-\d{2}"
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
                    r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")


def _parses(pattern: str, parse: Callable[[str], object], value: str) -> bool:
    if not re.fullmatch(pattern, value):
        return False
    try:
        parse(value)  # the pattern's digits must also name a real day or time of day
    except ValueError:
        return False
    return True


def _is_datetime_local(value: str) -> bool:
    day, sep, clock = value.replace(" ", "T", 1).partition("T")
    return bool(sep) and _parses(_DATE, date.fromisoformat, day) and \
        _parses(_TIME, time.fromisoformat, clock)


_FITS = {
    "date": lambda v: _parses(_DATE, date.fromisoformat, v),
    "time": lambda v: _parses(_TIME, time.fromisoformat, v),
    "datetime-local": _is_datetime_local,
    "number": lambda v: bool(_NUMBER.fullmatch(v)),
    "url": lambda v: bool(_URL.fullmatch(v)),
    "email": lambda v: bool(_EMAIL.fullmatch(v)),
}


def input_type(wanted: str, value: object) -> str:
    """`wanted`, or "text" when `value` is not in the syntax that type requires."""
    text = "" if value is None else str(value)
    fits = _FITS.get(wanted)
    return wanted if fits is None or text == "" or fits(text) else "text"
