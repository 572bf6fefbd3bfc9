"""The one e-mail rule (util/forms.normalize_email) and the forms that use it."""

from __future__ import annotations

import pytest

from events_app.services.organizers import EmailField
from events_app.services.rsvp_input import parse_rsvp_form
from events_app.util.forms import EmailError, Form, FormError, normalize_email, parse_form


@pytest.mark.parametrize(("raw", "stored"), [
    ("ann@example.org", "ann@example.org"),
    ("  Ann.Lee@Example.ORG ", "ann.lee@example.org"),
    ("a+tag@sub.example.org", "a+tag@sub.example.org"),
    # One spelling whether the domain is typed in Unicode or in its IDNA (ASCII) form.
    ("ana@bücher.example", "ana@xn--bcher-kva.example"),
    ("ANA@XN--BCHER-KVA.example", "ana@xn--bcher-kva.example"),
    ("ñandú@ejemplo.es", "ñandú@ejemplo.es"),  # an internationalised mailbox (SMTPUTF8)
])
def test_valid_addresses_are_normalised_one_way(raw: str, stored: str) -> None:
    assert normalize_email(raw) == stored


@pytest.mark.parametrize(("raw", "message"), [
    ("all-staff,attacker@evil.org", "just one e-mail address"),  # issue 9: two recipients
    ("a@example.org; b@example.org", "just one e-mail address"),
    ("a@example.org b@example.org", "just one e-mail address"),
    ('"all staff"@example.org', "Quoting"),
    ("Ann <ann@example.org>", "display name"),
    ("ann lee@example.org", "invalid characters"),
    ("ann@example", "period"),
    ("ann@", "something after the @-sign"),
    ("ann@localhost", "period"),
    ("ann@example.invalid", "special-use"),
    ("ann@exa mple.org", "invalid characters"),
    ("a" * 250 + "@example.org", "longer than 254 characters"),
])
def test_anything_but_one_mailbox_is_refused_with_a_reason(raw: str, message: str) -> None:
    with pytest.raises(EmailError) as exc:
        normalize_email(raw)
    assert message in str(exc.value)
    assert "email address" not in str(exc.value)  # house spelling: e-mail


def test_rsvp_form_and_organizer_forms_apply_the_same_rule() -> None:
    for raw in ("all-staff,attacker@evil.org", "Ann <ann@example.org>", "ann@example.invalid"):
        parsed = parse_rsvp_form({"name": "Ann", "email": raw, "guests": "0"})
        assert parsed.request is None
        with pytest.raises(FormError) as exc:
            parse_form(_AccountForm, {"email": raw})
        assert exc.value.errors["email"] == parsed.errors["email"]
    ok = parse_rsvp_form({"name": "Ann", "email": " Ana@Bücher.example ", "guests": "0"})
    assert ok.request is not None
    assert ok.request.email == parse_form(_AccountForm, {"email": "ana@BÜCHER.example"}).email


class _AccountForm(Form):  # an organizer form with the accounts' e-mail field
    email: EmailField = None


def test_one_rule_for_unreadable_text_in_every_form_and_the_feeds() -> None:
    """forms.unreadable is the rule of the RSVP form and the organizer forms alike, and
    ical.clean_text drops the same control characters from feeds."""
    from events_app.services import ical
    from events_app.util import forms

    for bad in ("a\x00b", "a\x1bb", "a\x85b", "a\x7fb", "caf\ufffd"):
        assert forms.unreadable(bad), repr(bad)
        parsed = parse_rsvp_form({"name": bad, "email": "ann@example.org", "guests": "0"})
        assert "name" in parsed.errors and parsed.request is None
    for fine in ("Ana María", "line\nbreak\ttab", "Zoë 😀"):
        assert not forms.unreadable(fine)
    assert ical.clean_text("a\x00b\x85c\r\nd") == "abc\nd"


def test_the_form_reports_the_services_guest_limit_next_to_the_other_fields() -> None:
    def at_most_two(guests: int) -> str | None:
        return "You can bring at most 2 guests." if guests > 2 else None

    parsed = parse_rsvp_form({"name": "", "email": "ann@example.org", "guests": "3"},
                             at_most_two)
    assert parsed.errors == {"name": "Please enter your name.",
                             "guests": "You can bring at most 2 guests."}
