"""Packages and maintenance plans as the menu offers them: their terms and the services they cover.

What was sold (package sales, enrolments, sessions used) lives in sales/; a sale keeps its own
snapshot, so changing an offer here never changes what a client already bought.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import (
    MembershipPlan,
    MembershipPlanService,
    Package,
    PackageService,
    Service,
    TaxRate,
)
from ..money import divide_half_up
from ..refusals import Refusal
from .pricing import prices_on


class OfferError(Refusal):
    """A package or plan that cannot be saved as asked; `field` names the argument refused."""


def _check_package_terms(sessions_count: int, price_minor: int, validity_months: int) -> None:
    if not 1 <= sessions_count <= 100:
        raise OfferError("A package has between 1 and 100 sessions.", "sessions_count")
    if not 0 <= price_minor <= 100_000_000:
        raise OfferError("Enter a price of zero or more.", "price_minor")
    if not 1 <= validity_months <= 60:
        raise OfferError("A package is valid for 1 to 60 months.", "validity_months")


def _link_services(link_model, owner_column: str, owner_id: uuid.UUID, service_ids) -> None:
    """Make the offer cover exactly these services, keeping links that stay."""
    owner = getattr(link_model, owner_column)
    links = db.session.scalars(select(link_model).where(owner == owner_id)).all()
    wanted = set(service_ids)
    for link in links:
        if link.service_id not in wanted:
            db.session.delete(link)
    have = {link.service_id for link in links}
    db.session.add_all(
        link_model(**{owner_column: owner_id, "service_id": sid}) for sid in wanted - have
    )
    db.session.flush()


def save_package(
    package: Package | None,
    *,
    name: str,
    sessions_count: int,
    price_minor: int,
    validity_months: int,
    service_ids: Iterable[uuid.UUID],
    tax_rate: TaxRate | None = None,
    shareable: bool = False,
    description: str | None = None,
    bookable_online: bool = True,
    active: bool = True,
) -> Package:
    """Create or change a package on the menu; packages already sold keep their own terms."""
    service_ids = list(dict.fromkeys(service_ids))
    _check_package_terms(sessions_count, price_minor, validity_months)
    if not service_ids:
        raise OfferError("Choose at least one service the sessions can be used for.", "service_ids")
    if not name.strip():
        raise OfferError("Give the package a name.", "name")
    if package is None:
        package = Package(name=name.strip(), sessions_count=0, price_minor=0, validity_months=1)
        db.session.add(package)
    package.name = name.strip()
    package.sessions_count = sessions_count
    package.price_minor = price_minor
    package.validity_months = validity_months
    package.tax_rate_id = tax_rate.id if tax_rate else None
    package.shareable = shareable
    package.description = description
    package.bookable_online = bookable_online
    package.active = active
    db.session.flush()
    _link_services(PackageService, "package_id", package.id, service_ids)
    return package


def package_service_ids(package_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The services each package's sessions can be used for."""
    ids = list(package_ids)
    result: dict[uuid.UUID, set[uuid.UUID]] = {pid: set() for pid in ids}
    if ids:
        for package_id, service_id in db.session.execute(
            select(PackageService.package_id, PackageService.service_id).where(
                PackageService.package_id.in_(ids)
            )
        ):
            result[package_id].add(service_id)
    return result


def save_plan(
    plan: MembershipPlan | None,
    *,
    name: str,
    price_minor: int,
    sessions_per_period: int,
    service_ids: Iterable[uuid.UUID],
    tax_rate: TaxRate | None = None,
    description: str | None = None,
    active: bool = True,
) -> MembershipPlan:
    """Create or change a plan; members keep the price and allowance they joined at."""
    service_ids = list(dict.fromkeys(service_ids))
    if not name.strip():
        raise OfferError("Give the plan a name.", "name")
    if not 0 <= price_minor <= 100_000_000:
        raise OfferError("Enter a monthly price of zero or more.", "price_minor")
    if not 1 <= sessions_per_period <= 31:
        raise OfferError("A plan includes 1 to 31 sessions a month.", "sessions_per_period")
    if not service_ids:
        raise OfferError("Choose at least one service the sessions can be used for.", "service_ids")
    if plan is None:
        plan = MembershipPlan(name=name.strip(), price_minor=0, sessions_per_period=1)
        db.session.add(plan)
    plan.name = name.strip()
    plan.price_minor = price_minor
    plan.sessions_per_period = sessions_per_period
    plan.tax_rate_id = tax_rate.id if tax_rate else None
    plan.description = description
    plan.active = active
    db.session.flush()
    _link_services(MembershipPlanService, "plan_id", plan.id, service_ids)
    return plan


def plan_service_ids(plan_id: uuid.UUID) -> set[uuid.UUID]:
    """The services a plan's monthly sessions can be used for."""
    return set(
        db.session.scalars(
            select(MembershipPlanService.service_id).where(MembershipPlanService.plan_id == plan_id)
        )
    )


@dataclass(frozen=True)
class PackageValue:
    """A package priced at nothing, or dearer a session than its dearest service bought alone."""

    free: bool
    per_session_minor: int
    service_name: str | None = None
    service_price_minor: int | None = None


def questionable_value(package: Package, day: date) -> PackageValue | None:
    """Whether a saved package's price deserves a second look (it is saved all the same)."""
    per_session = divide_half_up(package.price_minor, package.sessions_count)
    if package.price_minor == 0:
        return PackageValue(free=True, per_session_minor=0)
    service_ids = package_service_ids([package.id])[package.id]
    prices = prices_on(service_ids, day)
    priced = [(prices[(sid, None)], sid) for sid in service_ids if (sid, None) in prices]
    if not priced:
        return None
    dearest_price, dearest_id = max(priced)
    if per_session <= dearest_price:
        return None
    service = db.session.get(Service, (package.clinic_id, dearest_id))
    return PackageValue(False, per_session, service.name if service else None, dearest_price)
