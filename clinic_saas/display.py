"""Text for people: days, clock times, instants, prices and percentages, one way each.

Money and percentages are written the way the clinic's country writes numbers (Babel, from the
clinic's country). Days and times use fixed patterns and English names, because the back office is
written in English: Babel's `en` keeps 'Sep' where some English locales write 'Sept', and the
server's own locale (strftime's %b) never leaks in. Amounts stay integers in minor units everywhere
else; the number of decimals comes from money.minor_units (our ISO 4217 table), not from Babel's,
so that what is stored, parsed and shown always agrees.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, tzinfo
from datetime import time as clock_time
from decimal import Decimal
from enum import Enum
from functools import lru_cache

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import format_percent

from .money import minor_units

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
WORDS = Locale.parse("en")  # the language of the back office's month and weekday names

DAY = "d MMM y"  # 3 Mar 2026
WEEKDAY_DAY = "EEE d MMM y"  # Tue 3 Mar 2026
LONG_DAY = "EEEE d MMMM y"  # Tuesday 3 March 2026
SHORT_DAY = "EEE d MMM"  # Tue 3 Mar
DAY_MONTH = "d MMM"  # 3 Mar
CLOCK = "HH:mm"  # 10:00
PERCENT = "#,##0.##%"  # 12.5%, 20%

# Bootstrap colour of each red-flag level: absolute stops treatment, local changes it, the rest
# informs.
FLAG_TONES: dict[str, str] = {
    "absolute": "danger",
    "local": "warning",
    "doctor": "info",
    "caution": "info",
}


@lru_cache(maxsize=256)
def locale_for(country: str) -> Locale:
    """The locale numbers are written in for a clinic's country (English for most, else en_GB)."""
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


def _local_date(value: date | datetime, tz: tzinfo | None) -> date:
    """A date as is, or the clinic's calendar day of an instant (which needs the clinic's tz)."""
    if isinstance(value, datetime):
        if tz is None:
            raise ValueError("an instant is shown on a day only in a clinic's timezone")
        return value.astimezone(tz).date()
    return value


def day(value: date | datetime, tz: tzinfo | None = None) -> str:
    """'3 Mar 2026': how the back office writes a date."""
    return format_date(_local_date(value, tz), DAY, locale=WORDS)


def weekday_day(value: date | datetime, tz: tzinfo | None = None) -> str:
    """'Tue 3 Mar 2026': a date whose weekday matters (rosters, time off)."""
    return format_date(_local_date(value, tz), WEEKDAY_DAY, locale=WORDS)


def long_day(value: date | datetime, tz: tzinfo | None = None) -> str:
    """'Tuesday 3 March 2026': a day as a page's heading."""
    return format_date(_local_date(value, tz), LONG_DAY, locale=WORDS)


def short_day(value: date | datetime, tz: tzinfo | None = None) -> str:
    """'Tue 3 Mar': a day near enough that its year goes without saying."""
    return format_date(_local_date(value, tz), SHORT_DAY, locale=WORDS)


def day_month(value: date | datetime, tz: tzinfo | None = None) -> str:
    """'3 Mar': the first day of a range whose last day carries the year."""
    return format_date(_local_date(value, tz), DAY_MONTH, locale=WORDS)


def time(value: datetime | clock_time, tz: tzinfo | None = None) -> str:
    """'10:00': an instant on the clinic's clock, or a wall-clock time as is."""
    if isinstance(value, datetime):
        if tz is None:
            raise ValueError("an instant is shown on a clock only in a clinic's timezone")
        value = value.astimezone(tz)
    return format_time(value, CLOCK, locale=WORDS)


def instant(value: datetime, tz: tzinfo) -> str:
    """'Tue 3 Mar 2026, 10:00': a stored UTC instant in the clinic's own time."""
    return f"{weekday_day(value, tz)}, {time(value, tz)}"


def clock_on_day(value: datetime, tz: tzinfo) -> str:
    """'10:05 on Mon 2 Jun 2031': an instant inside a sentence ('signed at ...')."""
    return f"{time(value, tz)} on {weekday_day(value, tz)}"


def price(amount_minor: int, currency: str, country: str) -> str:
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


def basis_points(value: int) -> str:
    """1250 -> '12.5', 1000 -> '10': a rate in basis points as a person types the percentage."""
    whole, fraction = divmod(value, 100)
    return str(whole) if not fraction else f"{whole}.{fraction:02d}".rstrip("0")


def percent(value: int, country: str = "GB") -> str:
    """1250 basis points -> '12.5%' (in GB; '12,5%' where the country writes decimals so)."""
    return format_percent(Decimal(value).scaleb(-4), PERCENT, locale=locale_for(country))


def flag_tone(level: Enum | str) -> str:
    """The Bootstrap colour a red-flag level is shown in."""
    return FLAG_TONES[level.value if isinstance(level, Enum) else level]


def count(number: int, singular: str, plural: str | None = None) -> str:
    """'1 appointment', '2 appointments', '0 appointments': a number with its noun as it is said.

    `plural` is for nouns that do not just take an s ('1 child', '2 children').
    """
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def phone(value: str | None, country: str | None = None) -> str:
    """A stored number (E.164) as people dial it: '07700 900123' at home in the clinic's
    country, '+33 1 23 45 67 89' from abroad; anything else as it was stored."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        return value
    home = country is not None and number.country_code == phonenumbers.country_code_for_region(
        country
    )
    style = phonenumbers.PhoneNumberFormat.NATIONAL if home else None
    return phonenumbers.format_number(number, style or phonenumbers.PhoneNumberFormat.INTERNATIONAL)
