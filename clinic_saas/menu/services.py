"""Keeping the menu: services, their categories and order, tax rates, price tiers, tax setting.

Functions flush and never commit (the request commits once). Each refusal is a MenuError whose
message is for people and whose `field` names the form field it belongs beside, if any.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, func, select

from ..extensions import db
from ..models import (
    Category,
    Clinic,
    PriceTier,
    Service,
    ServicePrice,
    ServiceTherapist,
    TaxRate,
    TaxTreatment,
    Therapist,
)
from ..money import PercentWording
from ..refusals import Refusal
from .pricing import PricingError, cancel_scheduled_price, schedule_price

# Rows named uniquely per clinic, and rows the staff put in order by hand.
_Named = Category | PriceTier | TaxRate
_Ordered = Service | Category

DURATION_MINUTES = (5, 480)
BUFFER_MINUTES = (0, 120)
MAX_BASIS_POINTS = 10_000
MAX_PRICE_MINOR = 100_000_000  # the database's own limit (service_price.price_range)
TAX_RATE_PERCENT = PercentWording(
    unreadable="Enter the rate as a percentage, e.g. 20 or 12.5.",
    too_precise="Use at most 2 decimals, e.g. 12.5 or 8.25.",
    out_of_range="A tax rate is at most 100%.",
    negative="A tax rate cannot be negative.",
)


class MenuError(Refusal):
    """A menu change that cannot be made; str() is for people, `field` is the form field."""


# Services -----------------------------------------------------------------------------------


def _check_name(name: str, field: str = "name", longest: int = 120) -> str:
    name = (name or "").strip()
    if not name:
        raise MenuError("Give it a name.", field)
    if len(name) > longest:
        raise MenuError(f"Keep the name to {longest} characters.", field)
    return name


def _check_timing(duration_minutes: int, buffer_minutes: int) -> None:
    low, high = DURATION_MINUTES
    if not isinstance(duration_minutes, int) or not low <= duration_minutes <= high:
        raise MenuError(f"A session lasts from {low} to {high} minutes.", "duration_minutes")
    low, high = BUFFER_MINUTES
    if not isinstance(buffer_minutes, int) or not low <= buffer_minutes <= high:
        raise MenuError(f"The buffer is from {low} to {high} minutes.", "buffer_minutes")


def _check_price(price_minor: int) -> None:
    if not isinstance(price_minor, int) or isinstance(price_minor, bool) or price_minor < 0:
        raise MenuError("A price is an amount of zero or more.", "price")
    if price_minor > MAX_PRICE_MINOR:
        raise MenuError("That price is too large for one session.", "price")


def _check_category(key: str) -> str:
    if db.session.scalar(select(Category.id).where(Category.key == key)) is None:
        raise MenuError("Choose a category of this menu.", "category")
    return key


def _check_tax_rate(tax_rate_id: uuid.UUID | None, current: uuid.UUID | None) -> uuid.UUID | None:
    """A tax rate of this clinic; a deactivated one only where the service already has it."""
    if tax_rate_id is None:
        return None
    rate = db.session.scalar(select(TaxRate).where(TaxRate.id == tax_rate_id))
    if rate is None or (not rate.active and rate.id != current):
        raise MenuError("Choose one of the clinic's tax rates, or no tax.", "tax_rate")
    return rate.id


def _check_therapists(therapist_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    wanted = set(therapist_ids)
    if wanted:
        found = set(db.session.scalars(select(Therapist.id).where(Therapist.id.in_(wanted))))
        if found != wanted:
            raise MenuError("Choose therapists of this clinic.", "therapists")
    return wanted


def _offer_by(service: Service, wanted: set[uuid.UUID]) -> None:
    """Exactly these therapists offer the service from now on."""
    offered = {
        row.therapist_id: row
        for row in db.session.scalars(
            select(ServiceTherapist).where(ServiceTherapist.service_id == service.id)
        )
    }
    for therapist_id, row in offered.items():
        if therapist_id not in wanted:
            db.session.delete(row)
    for therapist_id in wanted - offered.keys():
        db.session.add(ServiceTherapist(service_id=service.id, therapist_id=therapist_id))
    db.session.flush()


def create_service(
    clinic: Clinic,
    *,
    name: str,
    category: str,
    duration_minutes: int,
    price_minor: int,
    today: date,
    buffer_minutes: int = 0,
    description: str | None = None,
    tax_rate_id: uuid.UUID | None = None,
    bookable_online: bool = True,
    active: bool = True,
    therapist_ids: Iterable[uuid.UUID] = (),
) -> Service:
    """Put a service on the menu, last in its category, with its standard price from today."""
    name = _check_name(name)
    _check_timing(duration_minutes, buffer_minutes)
    _check_price(price_minor)
    category = _check_category(category)
    tax_rate_id = _check_tax_rate(tax_rate_id, None)
    wanted = _check_therapists(therapist_ids)
    service = Service(
        name=name,
        category=category,
        description=(description or "").strip() or None,
        duration_minutes=duration_minutes,
        buffer_minutes=buffer_minutes,
        tax_rate_id=tax_rate_id,
        bookable_online=bookable_online,
        active=active,
        position=_next_position(Service),
    )
    db.session.add(service)
    db.session.flush()
    set_price(clinic, service, price_minor, today, today)
    _offer_by(service, wanted)
    return service


def update_service(
    service: Service,
    *,
    name: str,
    category: str,
    duration_minutes: int,
    buffer_minutes: int,
    description: str | None,
    tax_rate_id: uuid.UUID | None,
    bookable_online: bool,
    active: bool,
    therapist_ids: Iterable[uuid.UUID],
) -> Service:
    """Change what a service is; its price changes are dated, through the prices page."""
    name = _check_name(name)
    _check_timing(duration_minutes, buffer_minutes)
    category = _check_category(category)
    tax_rate_id = _check_tax_rate(tax_rate_id, service.tax_rate_id)
    wanted = _check_therapists(therapist_ids)
    service.category = category
    service.tax_rate_id = tax_rate_id
    service.name = name
    service.description = (description or "").strip() or None
    service.duration_minutes = duration_minutes
    service.buffer_minutes = buffer_minutes
    service.bookable_online = bookable_online
    service.active = active
    db.session.flush()
    _offer_by(service, wanted)
    return service


def menu_order(*criteria: ColumnElement[bool]) -> list[Service]:
    """Services as the menu lists them (by category order, position, name), filtered if asked."""
    return list(
        db.session.scalars(
            select(Service)
            .outerjoin(
                Category,
                (Category.clinic_id == Service.clinic_id) & (Category.key == Service.category),
            )
            .where(*criteria)
            .order_by(Category.position, Category.name, Service.position, Service.name, Service.id)
        )
    )


def active_services() -> list[Service]:
    """Services that can be chosen now, in their order on the menu's pages (position, name)."""
    return list(
        db.session.scalars(
            select(Service).where(Service.active.is_(True)).order_by(Service.position, Service.name)
        )
    )


def move_service(service: Service, direction: str) -> bool:
    """Swap a service with its neighbour in its category; False when it is already at that end."""
    if direction not in ("up", "down"):
        raise MenuError("Move a service up or down.")
    ordered = menu_order()
    siblings = [row for row in ordered if row.category == service.category]
    return _swap_with_neighbour(service, ordered, siblings, direction)


def _next_position(model: type[_Ordered] | type[PriceTier]) -> int:
    """A new row goes last: one after the highest position the clinic has."""
    last = db.session.scalar(select(func.max(model.position)))
    return (last if last is not None else -1) + 1


def _swap_with_neighbour(row: _Ordered, ordered: list, siblings: list, direction: str) -> bool:
    """Renumber the whole order, so that ties from imports sort out, then swap row and neighbour."""
    for position, item in enumerate(ordered):
        item.position = position
    index = siblings.index(row)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(siblings):
        db.session.flush()
        return False
    neighbour = siblings[other]
    row.position, neighbour.position = neighbour.position, row.position
    db.session.flush()
    return True


# Categories ---------------------------------------------------------------------------------


def _unique_name(model: type[_Named], name: str, current: _Named | None, noun: str) -> str:
    """A checked name that no other row of the model has, whatever its case."""
    name = _check_name(name, longest=60)
    _refuse_name_clash(model, name, current, noun)
    return name


def _refuse_name_clash(model: type[_Named], name: str, current: _Named | None, noun: str) -> None:
    clash = db.session.scalar(select(model).where(func.lower(model.name) == name.lower()).limit(1))
    if clash is not None and clash is not current:
        raise MenuError(f"There is already a {noun} called {clash.name}.", "name")


def _key_from(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:32]
    return key or "category"


def add_category(name: str) -> Category:
    """A category of the clinic's own, listed last; its key is fixed from its first name."""
    name = _unique_name(Category, name, None, "category")
    base = _key_from(name)
    taken = set(db.session.scalars(select(Category.key).where(Category.key.like(f"{base}%"))))
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    category = Category(key=key, name=name, position=_next_position(Category))
    db.session.add(category)
    db.session.flush()
    return category


def rename_category(category: Category, name: str) -> Category:
    """A new name; services keep pointing at it through its unchanging key."""
    category.name = _unique_name(Category, name, category, "category")
    db.session.flush()
    return category


def ordered_categories() -> list[Category]:
    """The clinic's categories in menu order."""
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


def move_category(category: Category, direction: str) -> bool:
    """Swap a category with its neighbour on the menu; False when it is already at that end."""
    if direction not in ("up", "down"):
        raise MenuError("Move a category up or down.")
    ordered = ordered_categories()
    return _swap_with_neighbour(category, ordered, ordered, direction)


def delete_category(category: Category) -> None:
    """Remove an unused category; one in use says which services to move first."""
    users = list(
        db.session.scalars(
            select(Service.name).where(Service.category == category.key).order_by(Service.name)
        )
    )
    if users:
        listed = ", ".join(users[:10]) + (f" and {len(users) - 10} more" if len(users) > 10 else "")
        raise MenuError(
            f"{category.name} is used by {listed}. Move "
            f"{'that service' if len(users) == 1 else 'those services'} to another category "
            "first (inactive services count too)."
        )
    db.session.delete(category)
    db.session.flush()


# Tax ----------------------------------------------------------------------------------------


def save_tax_rate(
    tax_rate: TaxRate | None, *, name: str, rate_bp: int, treatment: TaxTreatment
) -> TaxRate:
    """Add or change a tax rate; exempt and zero-rated carry no rate at all."""
    name = _check_name(name, longest=60)
    treatment = TaxTreatment(treatment)
    if treatment is not TaxTreatment.STANDARD:
        rate_bp = 0
    if not isinstance(rate_bp, int) or not 0 <= rate_bp <= MAX_BASIS_POINTS:
        raise MenuError("A tax rate is from 0% to 100%.", "rate")
    _refuse_name_clash(TaxRate, name, tax_rate, "tax rate")
    if tax_rate is None:
        tax_rate = TaxRate(name=name, rate_bp=rate_bp, treatment=treatment, active=True)
        db.session.add(tax_rate)
    tax_rate.name = name
    tax_rate.rate_bp = rate_bp
    tax_rate.treatment = treatment
    db.session.flush()
    return tax_rate


def set_tax_rate_active(tax_rate: TaxRate, active: bool) -> list[str]:
    """Offer a rate for new choices or not; returns the services that still use it."""
    tax_rate.active = active
    db.session.flush()
    return list(
        db.session.scalars(
            select(Service.name).where(Service.tax_rate_id == tax_rate.id).order_by(Service.name)
        )
    )


def set_prices_include_tax(clinic: Clinic, include: bool) -> None:
    """Whether menu prices are what the client pays (UK, EU) or have tax added (US)."""
    clinic.prices_include_tax = bool(include)
    db.session.flush()


# Price tiers --------------------------------------------------------------------------------


def add_tier(name: str) -> PriceTier:
    """A level of therapist with prices of its own, e.g. 'Senior'."""
    name = _unique_name(PriceTier, name, None, "tier")
    tier = PriceTier(name=name, position=_next_position(PriceTier))
    db.session.add(tier)
    db.session.flush()
    return tier


def rename_tier(tier: PriceTier, name: str) -> PriceTier:
    """A new name; the tier's prices and therapists stay with it."""
    tier.name = _unique_name(PriceTier, name, tier, "tier")
    db.session.flush()
    return tier


def set_tier_therapists(tier: PriceTier, therapist_ids: Iterable[uuid.UUID]) -> None:
    """Exactly these therapists are in the tier; bookings already made keep their price."""
    wanted = _check_therapists(therapist_ids)
    for therapist in db.session.scalars(
        select(Therapist).where((Therapist.tier_id == tier.id) | Therapist.id.in_(wanted))
    ):
        therapist.tier_id = tier.id if therapist.id in wanted else None
    db.session.flush()


def set_price(
    clinic: Clinic,
    service: Service,
    price_minor: int,
    effective_from: date,
    today: date,
    tier: PriceTier | None = None,
) -> ServicePrice:
    """Schedule a standard or tier price from a date on (never backdated)."""
    _check_price(price_minor)
    if effective_from < today:
        raise MenuError(
            "A price change cannot be backdated: sessions and packages already sold keep the "
            "price they were sold at. Choose today or a later date.",
            "effective_from",
        )
    try:
        return schedule_price(
            clinic, service, price_minor, effective_from, today, tier.id if tier else None
        )
    except PricingError as error:
        raise MenuError(str(error), "price") from error


def withdraw_price(row: ServicePrice, today: date) -> None:
    """Take back a price change that has not come into force yet."""
    try:
        cancel_scheduled_price(row, today)
    except PricingError as error:
        raise MenuError(str(error)) from error
