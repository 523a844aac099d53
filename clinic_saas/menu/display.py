"""Prices as people read them: the clinic's currency, written the way its own country writes it.

Amounts stay integers in minor units everywhere else; this module only turns one into text. The
number of decimals comes from money.minor_units (our table of ISO 4217), not from Babel's, so that
what is stored, parsed and shown always agrees.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from ..money import minor_units

# Countries whose clients read prices in a language other than English.
COUNTRY_LOCALES: dict[str, str] = {
    "GB": "en_GB",
    "IE": "en_IE",
    "US": "en_US",
    "DE": "de_DE",
    "AT": "de_AT",
    "FR": "fr_FR",
    "ES": "es_ES",
    "IT": "it_IT",
    "NL": "nl_NL",
    "PT": "pt_PT",
    "JP": "ja_JP",
}
FALLBACK_LOCALE = "en_GB"
# Not strftime's %b, which follows the server's locale.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=256)
def locale_for(country: str) -> Locale:
    """The locale prices are written in for a clinic's country (English for most, else en_GB)."""
    code = (country or "").strip().upper()
    known = COUNTRY_LOCALES.get(code)
    if known:
        return Locale.parse(known)
    if len(code) == 2 and code.isalpha():
        try:
            locale = Locale.parse(f"en_{code}")
        except (UnknownLocaleError, ValueError):
            locale = None
        # Babel quietly maps a territory it does not know to a likely one: keep only an exact hit.
        if locale is not None and locale.territory == code:
            return locale
    return Locale.parse(FALLBACK_LOCALE)


def format_price(amount_minor: int, currency: str, country: str) -> str:
    """4500 GBP in GB -> '£45.00'; 5500 JPY in JP -> '￥5,500'; 4500 EUR in DE -> '45,00 €'."""
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool):
        raise TypeError("money is an integer number of minor units")
    digits = minor_units(currency)
    locale = locale_for(country)
    pattern = copy.copy(locale.currency_formats["standard"])  # the locale's own is shared
    pattern.frac_prec = (digits, digits)
    value = Decimal(amount_minor).scaleb(-digits)  # exact: never through a float
    return pattern.apply(value, locale, currency=currency.upper(), currency_digits=False)


def amount_input(amount_minor: int, currency: str) -> str:
    """An amount as a person types it into a form: 4500 GBP -> '45.00', 5500 JPY -> '5500'."""
    digits = minor_units(currency)
    whole, fraction = divmod(amount_minor, 10**digits)
    return f"{whole}.{fraction:0{digits}d}" if digits else str(whole)


def day_text(day: date) -> str:
    """A date the way the back office writes it: '1 Jan 2027'."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def instant_text(instant: datetime, tz: tzinfo) -> str:
    """An instant in a clinic's own time, the way the back office writes it: 'Tue 3 Mar 2026,
    10:00'."""
    local = instant.astimezone(tz)
    return f"{local:%a} {day_text(local.date())}, {local:%H:%M}"
