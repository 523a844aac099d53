"""Currencies and integer minor units: the only way money is represented in clinic_saas."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

# ISO 4217 code -> digits after the decimal point (its minor unit).
CURRENCY_MINOR_UNITS: dict[str, int] = {
    "AED": 2, "AUD": 2, "BGN": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0,
    "CNY": 2, "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2,
    "ILS": 2, "INR": 2, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2,
    "MYR": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2, "QAR": 2, "RON": 2,
    "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "UGX": 0,
    "USD": 2, "VND": 0, "ZAR": 2,
}  # fmt: skip


def minor_units(currency: str) -> int:
    """Digits after the decimal point for an ISO 4217 code; KeyError for an unknown code."""
    return CURRENCY_MINOR_UNITS[currency.upper()]


def divide_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounded half away from zero: the one rounding rule for money here."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


@dataclass(frozen=True)
class LineAmounts:
    """One invoice or sale line, in minor units: net + tax == gross, always."""

    net: int
    tax: int
    gross: int


def line_amounts(
    quantity: int, unit_price_minor: int, tax_rate_bp: int, prices_include_tax: bool
) -> LineAmounts:
    """Amounts of one line, rounded once per line (half up), never per unit.

    With tax-inclusive prices the gross is exact and the tax is carved out of it; with
    tax-exclusive prices the net is exact and the tax is added. Rates are basis points
    (2000 = 20%).
    """
    for name, value in (("quantity", quantity), ("unit price", unit_price_minor)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be an integer")
    if not 0 <= tax_rate_bp <= 10_000:
        raise ValueError("a tax rate is between 0 and 10000 basis points")
    extended = quantity * unit_price_minor
    if prices_include_tax:
        net = divide_half_up(extended * 10_000, 10_000 + tax_rate_bp)
        return LineAmounts(net=net, tax=extended - net, gross=extended)
    tax = divide_half_up(extended * tax_rate_bp, 10_000)
    return LineAmounts(net=extended, tax=tax, gross=extended + tax)


def parse_amount(text: str, currency: str) -> int:
    """People's input ('45', '45.5', '1,250.00') to minor units; ValueError with a reason."""
    digits = minor_units(currency)
    cleaned = text.strip().replace(",", "").replace(" ", "")
    if cleaned.startswith("-"):
        raise ValueError("Amounts cannot be negative.")
    whole, _, fraction = cleaned.partition(".")
    if not whole and not fraction:
        raise ValueError("Enter an amount.")
    if not (whole or "0").isdigit() or (fraction and not fraction.isdigit()):
        raise ValueError("Enter a number, like 45 or 45.50.")
    if len(fraction) > digits:
        if digits == 0:
            raise ValueError(f"{currency.upper()} has no minor unit: enter a whole amount.")
        raise ValueError(f"{currency.upper()} has {digits} decimal places at most.")
    value = int(whole or "0") * 10**digits + int((fraction or "0").ljust(digits, "0") or "0")
    if value > 10**9:
        raise ValueError("That amount is too large.")
    return value


_PERCENT = re.compile(r"-?\d+(\.\d+)?")


@dataclass(frozen=True)
class PercentWording:
    """What people are told when a percentage cannot be read: each kind of rate says it its way."""

    unreadable: str
    too_precise: str
    out_of_range: str
    negative: str | None = None  # if set, said of any text starting with "-", before anything else


def percent_to_basis_points(
    text: str | None, wording: PercentWording, blank: int | None = None
) -> int:
    """A percentage typed by a person ('20', '12.5', '7,25 %') as basis points (2000, 1250, 725).

    Up to 2 decimals, from 0 to 100; empty text gives `blank`, or is refused when it is None.
    Raises ValueError with the wording's message.
    """
    cleaned = (text or "").strip().removesuffix("%").strip().replace(",", ".")
    if not cleaned:
        if blank is None:
            raise ValueError(wording.unreadable)
        return blank
    if wording.negative and cleaned.startswith("-"):
        raise ValueError(wording.negative)
    match = _PERCENT.fullmatch(cleaned)
    if not match:
        raise ValueError(wording.unreadable)
    # Decimals are counted in the text, not by rounding: forty digits typed cannot be rounded
    # to hundredths in the decimal context (InvalidOperation), but they are still out of range.
    if len((match.group(1) or "").rstrip("0")) > 3:
        raise ValueError(wording.too_precise)
    value = Decimal(cleaned)
    if not Decimal(0) <= value <= Decimal(100):
        raise ValueError(wording.out_of_range)
    return int(value * 100)
