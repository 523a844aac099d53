"""Reference data for a clinic's country and timezone choices."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

# ISO 3166-1 alpha-2 codes of the markets clinic_saas sells to.
COUNTRIES: dict[str, str] = {
    "AE": "United Arab Emirates", "AT": "Austria", "AU": "Australia", "BE": "Belgium",
    "BG": "Bulgaria", "BR": "Brazil", "CA": "Canada", "CH": "Switzerland", "CL": "Chile",
    "CY": "Cyprus", "CZ": "Czechia", "DE": "Germany", "DK": "Denmark", "EE": "Estonia",
    "ES": "Spain", "FI": "Finland", "FR": "France", "GB": "United Kingdom", "GR": "Greece",
    "HK": "Hong Kong", "HR": "Croatia", "HU": "Hungary", "IE": "Ireland", "IL": "Israel",
    "IN": "India", "IS": "Iceland", "IT": "Italy", "JP": "Japan", "KR": "South Korea",
    "LT": "Lithuania", "LU": "Luxembourg", "LV": "Latvia", "MT": "Malta", "MX": "Mexico",
    "MY": "Malaysia", "NL": "Netherlands", "NO": "Norway", "NZ": "New Zealand",
    "PL": "Poland", "PT": "Portugal", "RO": "Romania", "SA": "Saudi Arabia", "SE": "Sweden",
    "SG": "Singapore", "SI": "Slovenia", "SK": "Slovakia", "TH": "Thailand", "TR": "Turkey",
    "US": "United States", "ZA": "South Africa",
}  # fmt: skip


@cache
def timezone_names() -> tuple[str, ...]:
    """IANA zones people pick from: Area/City names, without legacy aliases like 'GB' or 'EST'."""
    return tuple(sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/")))
