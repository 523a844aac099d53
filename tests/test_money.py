"""Money: integers in minor units, rounded once per line, half up; zero-decimal currencies too."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic_saas import display
from clinic_saas.money import divide_half_up, line_amounts, parse_amount


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 2, 3), (4, 2, 2), (7, 2, 4), (-5, 2, -3), (1, 3, 0), (2, 3, 1), (0, 7, 0)],
)
def test_division_rounds_half_away_from_zero(numerator, denominator, expected):
    assert divide_half_up(numerator, denominator) == expected


def test_tax_exclusive_line_adds_tax_rounded_once_per_line():
    # 3 x 19.99 at 20%: 59.97 net, 11.994 tax -> 11.99, never 3 x 4.00
    assert line_amounts(3, 1999, 2000, prices_include_tax=False).__dict__ == {
        "net": 5997,
        "tax": 1199,
        "gross": 7196,
    }


def test_tax_inclusive_line_carves_tax_out_of_the_gross():
    # a GBP 60.00 VAT-inclusive price: 50.00 net + 10.00 VAT
    assert line_amounts(1, 6000, 2000, prices_include_tax=True).__dict__ == {
        "net": 5000,
        "tax": 1000,
        "gross": 6000,
    }
    # 45.00 at 20% inclusive: 37.50 net, 7.50 tax
    assert line_amounts(1, 4500, 2000, True).tax == 750


def test_zero_decimal_currency_lines_stay_whole_yen():
    amounts = line_amounts(1, 5500, 1000, prices_include_tax=True)  # JPY 5,500 incl. 10%
    assert (amounts.net, amounts.tax) == (5000, 500)
    assert display.price(amounts.gross, "JPY", "JP") == "￥5,500"


def test_no_tax_and_exempt_lines():
    assert line_amounts(2, 4000, 0, True) == line_amounts(2, 4000, 0, False)
    assert line_amounts(2, 4000, 0, True).tax == 0


@given(
    quantity=st.integers(1, 50),
    unit=st.integers(0, 10**6),
    rate=st.integers(0, 10_000),
    inclusive=st.booleans(),
)
def test_net_plus_tax_is_always_the_gross(quantity, unit, rate, inclusive):
    amounts = line_amounts(quantity, unit, rate, inclusive)
    assert amounts.net + amounts.tax == amounts.gross
    assert all(isinstance(v, int) for v in (amounts.net, amounts.tax, amounts.gross))
    assert amounts.tax >= 0


def test_floats_are_refused():
    with pytest.raises(TypeError):
        line_amounts(1, 45.0, 2000, False)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [("45", "GBP", 4500), ("45.5", "GBP", 4550), ("1,250.00", "EUR", 125000), ("5500", "JPY", 5500),
     ("1.250", "BHD", 1250), ("0.99", "USD", 99)],
)  # fmt: skip
def test_people_type_amounts_in_major_units(text, currency, expected):
    assert parse_amount(text, currency) == expected


@pytest.mark.parametrize(
    ("text", "currency", "reason"),
    [
        ("-5", "GBP", "negative"),
        ("45.123", "GBP", "2 decimal places"),
        ("45.5", "JPY", "no minor unit"),
        ("abc", "GBP", "Enter a number"),
        ("", "GBP", "Enter an amount"),
        ("99999999999", "GBP", "too large"),
    ],
)
def test_bad_amounts_are_explained(text, currency, reason):
    with pytest.raises(ValueError, match=reason):
        parse_amount(text, currency)
