"""The one number rule for request text: ASCII digits only, in range, with a message."""

from __future__ import annotations

import pytest

from events_app.util.numbers import NumberError, parse_decimal, parse_whole

# Characters that str.isdigit() (or int()/float()) accept but nobody types into a number field.
UNICODE_DIGITS = ["²", "³", "①", "٣", "۳", "３", "१", "๓", "𝟑", "1²", "٣.٥", "1\u0663"]


@pytest.mark.parametrize("raw,expected", [("0", 0), ("7", 7), (" 12 ", 12), ("0042", 42)])
def test_whole_numbers_in_ascii_digits_are_read(raw: str, expected: int) -> None:
    assert parse_whole(raw, 0, 100) == expected


def test_signs_only_where_asked_for() -> None:
    assert parse_whole("-3", -5, 5, signed=True) == -3
    assert parse_whole("+3", -5, 5, signed=True) == 3
    for raw in ("-3", "+3"):
        with pytest.raises(NumberError, match="whole number"):
            parse_whole(raw, 0, 5)


@pytest.mark.parametrize("raw", [*UNICODE_DIGITS, "", " ", "1.0", "1e3", "0x10", "1_000",
                                 "nan", "inf", "--1", "1 2", "9" * 19, "9" * 5000])
def test_anything_else_is_refused_with_a_message(raw: str) -> None:
    with pytest.raises(NumberError, match="digits 0-9"):
        parse_whole(raw, 0, 10**18, signed=True)


def test_unicode_digits_that_isdigit_accepts_are_refused() -> None:
    assert "²".isdigit() and "①".isdigit() and "٣".isdigit()
    for raw in UNICODE_DIGITS:
        with pytest.raises(NumberError):
            parse_whole(raw, 0, 10)
        with pytest.raises(NumberError):
            parse_decimal(raw, -10, 10)


def test_range_is_part_of_the_rule() -> None:
    with pytest.raises(NumberError, match="from 1 to 10"):
        parse_whole("11", 1, 10)
    with pytest.raises(NumberError, match="from 1 to 10"):
        parse_whole("0", 1, 10)


@pytest.mark.parametrize("raw,expected", [("38.627", 38.627), ("-90", -90.0), (".5", 0.5),
                                          ("5.", 5.0), ("+1.25", 1.25)])
def test_decimals_are_read(raw: str, expected: float) -> None:
    assert parse_decimal(raw, -90, 90) == expected


@pytest.mark.parametrize("raw", ["", ".", "1e3", "nan", "inf", "-inf", "1,5", "1.2.3", "0x1p3",
                                 "1_0.5", "9" * 40])
def test_decimals_refuse_exponents_specials_and_commas(raw: str) -> None:
    with pytest.raises(NumberError, match="digits 0-9"):
        parse_decimal(raw, -1e300, 1e300)


def test_decimal_range() -> None:
    with pytest.raises(NumberError, match="from -90 to 90"):
        parse_decimal("90.5", -90, 90)
