"""Currencies and integer minor units: the only way money is represented in clinic_saas."""

from __future__ import annotations

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


def format_amount(amount_minor: int, currency: str) -> str:
    """Render an integer amount for people: 4500 GBP -> 'GBP 45.00', 4500 JPY -> 'JPY 4,500'."""
    if not isinstance(amount_minor, int):
        raise TypeError("money is an integer number of minor units")
    digits = minor_units(currency)
    sign = "-" if amount_minor < 0 else ""
    whole, frac = divmod(abs(amount_minor), 10**digits)
    text = f"{whole:,}"
    if digits:
        text += f".{frac:0{digits}d}"
    return f"{currency.upper()} {sign}{text}"
