"""The one e-mail rule (util/forms.normalize_email) and the forms that use it."""

from __future__ import annotations

import pytest

from events_app import i18n
from events_app.services.organizers import EmailField
from events_app.services.rsvp_input import parse_rsvp_form
from events_app.util.email_problems import email_problem
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
    ('"all staff"@example.org', "Quotation marks are not accepted in it."),
    ("Ann <ann@example.org>", "without a name or angle brackets"),
    ("ann lee@example.org", "It can't contain spaces."),
    ("ann@example", "The part after the @ needs a period, like example.org."),
    ("ann@", "There must be something after the @."),
    ("@example.org", "There must be something before the @."),
    ("annexample.org", "needs an @ between the name and the domain"),
    ("ann@localhost", "needs a period"),
    ("ann@example.invalid", "a reserved name that can't receive e-mail"),
    ("ann@exa mple.org", "It can't contain spaces."),
    ("ann@exa_mple.org", "The part after the @ is not a valid domain name."),
    ("ann(x)@example.org", "The part before the @ contains characters that are not allowed"),
    ("a..b@example.org", "two periods in a row"),
    (".ann@example.org", "two periods in a row"),
    ("ann.@example.org", "two periods in a row"),
    ("ann@[127.0.0.1]", "not an IP address"),
    ("ann@" + "b" * 64 + ".org", "Part of it is too long."),
    ("a" * 250 + "@example.org", "longer than 254 characters"),
])
def test_anything_but_one_mailbox_is_refused_with_a_reason(raw: str, message: str) -> None:
    with pytest.raises(EmailError) as exc:
        normalize_email(raw)
    assert message in str(exc.value)
    assert "email address" not in str(exc.value)  # house spelling: e-mail


SPANISH_REASONS = [
    ('"all staff"@example.org', "No se aceptan comillas"),
    ("Ann <ann@example.org>", "sin nombre ni corchetes angulares"),
    ("ann lee@example.org", "No puede contener espacios."),
    ("ann@example", "necesita un punto, como example.org"),
    ("ann@", "Debe haber algo después de la @."),
    ("@example.org", "Debe haber algo antes de la @."),
    ("annexample.org", "necesita una @ entre el nombre y el dominio"),
    ("ann@example.invalid", "es un nombre reservado que no puede recibir correo"),
    ("ann@exa_mple.org", "no es un nombre de dominio válido"),
    ("ann(x)@example.org", "contiene caracteres que no se permiten"),
    ("a..b@example.org", "dos puntos seguidos"),
    ("ann@[127.0.0.1]", "no una dirección IP"),
    ("ann@" + "b" * 64 + ".org", "Una parte es demasiado larga."),
]


@pytest.mark.parametrize(("raw", "message"), SPANISH_REASONS)
def test_the_reason_is_told_in_spanish_with_no_english_left(raw: str, message: str) -> None:
    """email-validator explains in English only; a Spanish reader gets our own words."""
    with i18n.using("es"), pytest.raises(EmailError) as exc:
        normalize_email(raw)
    said = str(exc.value)
    assert said.startswith("Esto no parece una dirección de correo electrónico")
    assert message in said
    assert "@-sign" not in said and " the " not in said


def test_a_problem_of_a_kind_we_do_not_know_gets_no_reason() -> None:
    """Only our words are shown: an explanation we cannot place adds nothing (never the
    library's English)."""
    assert email_problem("ann@example.org", "Something new went wrong.") is None


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
