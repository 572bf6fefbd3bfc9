"""What is wrong with an address email-validator refused, in the reader's language.

email-validator explains only in English, in sentences that change between its versions and
give no code for the kind of problem. So the kind is read here (first from the address itself:
no @, nothing before or after it, spaces; then from the words of its explanation, which only
choose among our messages and are never shown) and told in our own translated words. A kind
not recognised gets no reason: the form's general message still says what an address looks
like, and nothing English reaches a Spanish page.
"""

from __future__ import annotations

from collections.abc import Callable

from events_app.i18n import gettext

# (words in email-validator's explanation, our reason); the first that matches wins, so the
# more specific come first. _FIRST are the kinds that may contain spaces (a quoted name, a
# display name), told before "no spaces"; _THEN the rest.
_Reasons = tuple[tuple[tuple[str, ...], Callable[[], str]], ...]
_FIRST: _Reasons = (
    (("special-use", "reserved name"),
     lambda: gettext("The part after the @ is a reserved name that can't receive e-mail.")),
    (("display name", "angle bracket"),
     lambda: gettext("Write the address alone, without a name or angle brackets.")),
    (("quot",), lambda: gettext("Quotation marks are not accepted in it.")),
    (("bracket",),
     lambda: gettext("The part after the @ must be a domain name, not an IP address.")),
)
_THEN: _Reasons = (
    (("too long", "so many characters"), lambda: gettext("Part of it is too long.")),
    (("two periods", "with a period", "a period immediately", "period and a hyphen"),
     lambda: gettext("It can't have two periods in a row, or a period at the start or end "
                     "of a part.")),
    (("should have a period", "top-level domain"),
     lambda: gettext("The part after the @ needs a period, like example.org.")),
    (("after the @-sign",),
     lambda: gettext("The part after the @ is not a valid domain name.")),
    (("before the @-sign", "invalid character", "unsafe character"),
     lambda: gettext("The part before the @ contains characters that are not allowed in it.")),
)


def _reason(table: _Reasons, explanation: str) -> str | None:
    said = explanation.lower()
    return next((reason() for words, reason in table if any(w in said for w in words)), None)


def email_problem(address: str, explanation: str) -> str | None:
    """Our reason why `address` (trimmed, at most one @) is not one, or None when the kind of
    problem is not one we know; `explanation` is email-validator's (English) message."""
    local, at, domain = address.partition("@")
    if not at:
        return gettext("An e-mail address needs an @ between the name and the domain.")
    if not local:
        return gettext("There must be something before the @.")
    if not domain:
        return gettext("There must be something after the @.")
    if (first := _reason(_FIRST, explanation)) is not None:
        return first
    if any(c.isspace() for c in address):
        return gettext("It can't contain spaces.")
    return _reason(_THEN, explanation)
