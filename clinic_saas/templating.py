"""Everything templates may call, registered in one place: display filters and page globals.

Filters show a value the way display.py writes it, in the bound clinic's timezone, currency and
country (g.clinic); a template without a bound clinic passes them explicitly. Views and presenters
call display.* directly.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from datetime import time as clock_time

from flask import Flask, g

from . import clinic_time, display
from .blueprints.intake.routes import intake_panel
from .blueprints.notes.routes import treatment_history
from .clinical import intake
from .menu.pricing import price_for
from .models import Clinic, Service
from .navigation import clinic_nav
from .permissions import can, may_book_with

NOT_PRICED = "not priced yet"


def _tz(tz: tzinfo | None) -> tzinfo | None:
    """The timezone to show instants in: the one asked for, else the bound clinic's."""
    if tz is not None:
        return tz
    clinic = g.get("clinic")
    return clinic.tz if clinic is not None else None


def day(value: date | datetime | None, tz: tzinfo | None = None, empty: str = "") -> str:
    """{{ on|day }} -> '3 Mar 2026'."""
    return empty if value is None else display.day(value, _tz(tz))


def phone(value: str | None, country: str | None = None) -> str:
    """{{ client.phone|phone }} -> '07700 900123' (national in the bound clinic's country)."""
    if country is None:
        clinic = g.get("clinic")
        country = clinic.country if clinic is not None else None
    return display.phone(value, country)


def weekday_day(value: date | datetime | None, tz: tzinfo | None = None, empty: str = "") -> str:
    """{{ on|weekday_day }} -> 'Tue 3 Mar 2026'."""
    return empty if value is None else display.weekday_day(value, _tz(tz))


def long_day(value: date | datetime | None, tz: tzinfo | None = None) -> str:
    """{{ on|long_day }} -> 'Tuesday 3 March 2026'."""
    return "" if value is None else display.long_day(value, _tz(tz))


def short_day(value: date | datetime | None, tz: tzinfo | None = None) -> str:
    """{{ on|short_day }} -> 'Tue 3 Mar'."""
    return "" if value is None else display.short_day(value, _tz(tz))


def day_month(value: date | datetime, tz: tzinfo | None = None) -> str:
    """{{ monday|day_month }} -> '3 Mar'."""
    return display.day_month(value, _tz(tz))


def time(value: datetime | clock_time | None, tz: tzinfo | None = None) -> str:
    """{{ appointment.starts_at|time }} -> '10:00' on the clinic's clock."""
    return "" if value is None else display.time(value, _tz(tz))


def instant(value: datetime | None, tz: tzinfo | None = None, empty: str = "") -> str:
    """{{ event.at|instant }} -> 'Tue 3 Mar 2026, 10:00' in the clinic's time."""
    return empty if value is None else display.instant(value, _tz(tz))


def clock_on_day(value: datetime | None, tz: tzinfo | None = None) -> str:
    """{{ note.signed_at|clock_on_day }} -> '10:05 on Mon 2 Jun 2031'."""
    return "" if value is None else display.clock_on_day(value, _tz(tz))


def local(value: datetime, tz: tzinfo | None = None) -> datetime:
    """{{ (a.starts_at|local).date() }}: an instant on the clinic's wall clock."""
    zone = _tz(tz)
    if zone is None:
        raise ValueError("an instant is local only to a clinic's timezone")  # not the server's
    return clinic_time.local(value, zone)


def price(
    amount_minor: int | None,
    currency: str | None = None,
    country: str | None = None,
    empty: str = "",
) -> str:
    """{{ 4500|price }} -> '£45.00' in the bound clinic's currency, unless one is given."""
    if amount_minor is None:
        return empty
    clinic = g.get("clinic")
    if clinic is None and currency is None:
        raise ValueError("a price needs its currency when no clinic is bound")
    return display.price(
        amount_minor, currency or clinic.currency, country or (clinic.country if clinic else "")
    )


def percent(basis_points: int, country: str | None = None) -> str:
    """{{ rate.rate_bp|percent }} -> '12.5%'."""
    clinic = g.get("clinic")
    return display.percent(basis_points, country or (clinic.country if clinic else "GB"))


def price_today(service: Service, clinic: Clinic | None = None) -> str:
    """The service's standard price in force today, or 'not priced yet'."""
    clinic = clinic or g.clinic
    amount = price_for(service, clinic_time.today_in(clinic))
    return NOT_PRICED if amount is None else display.price(amount, clinic.currency, clinic.country)


FILTERS = {
    "day": day,
    "weekday_day": weekday_day,
    "long_day": long_day,
    "short_day": short_day,
    "day_month": day_month,
    "time": time,
    "instant": instant,
    "clock_on_day": clock_on_day,
    "local": local,
    "price": price,
    "amount_input": display.amount_input,
    "percent": percent,
    "basis_points": display.basis_points,
    "flag_tone": display.flag_tone,
    "phone": phone,
}

GLOBALS = {
    "can": can,
    "may_book_with": may_book_with,
    "clinic_nav": clinic_nav,
    "current_clinic": lambda: g.get("clinic"),
    "current_membership": lambda: g.get("membership"),
    "price_today": price_today,
    # The client's page shows these panels, whichever blueprint renders it.
    "intake_panel": intake_panel,
    "treatment_history": treatment_history,
    # The intake form's question macros (templates/intake/_questions.html), on the client's page
    # and on the owner's preview alike.
    "intake_field": intake.field_name,
    "intake_checklist": intake.checklist_groups,
    "intake_level_heading": intake.LEVEL_HEADINGS.get,
    "intake_limits": intake.FormLimits(),
}


def init_app(app: Flask) -> None:
    """Register the filters and globals on the app's Jinja environment."""
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(GLOBALS)
