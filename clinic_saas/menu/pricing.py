"""What a service costs on a given day, for a given therapist's tier.

Prices are dated rows (ServicePrice); the one in force is the newest whose effective_from has
come. A tier price, where one exists, wins over the standard price of the same date or earlier.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Clinic, Service, ServicePrice
from ..refusals import Refusal


class PricingError(Refusal):
    """A price change that cannot be made; str() is for people."""


def prices_on(
    service_ids: Iterable[uuid.UUID], day: date
) -> dict[tuple[uuid.UUID, uuid.UUID | None], int]:
    """{(service id, tier id or None): price} in force on `day`, for many services in one query."""
    ids = list(service_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ServicePrice.service_id, ServicePrice.tier_id, ServicePrice.price_minor)
        .where(ServicePrice.service_id.in_(ids), ServicePrice.effective_from <= day)
        .order_by(ServicePrice.effective_from, ServicePrice.created_at)
    ).all()
    result: dict[tuple[uuid.UUID, uuid.UUID | None], int] = {}
    for service_id, tier_id, price in rows:
        result[(service_id, tier_id)] = price  # later rows overwrite earlier ones
    return result


def price_for(service: Service, day: date, tier_id: uuid.UUID | None = None) -> int | None:
    """The price of one service on one day: the tier's if it has one, else the standard one."""
    prices = prices_on([service.id], day)
    if tier_id is not None and (service.id, tier_id) in prices:
        return prices[(service.id, tier_id)]
    return prices.get((service.id, None))


def in_force_ids(history: Iterable[ServicePrice], today: date) -> set[uuid.UUID]:
    """The row in force today for the standard price and for each tier, from a service's price
    history newest first (as its prices page lists it), so the page can mark them."""
    seen: dict[uuid.UUID | None, uuid.UUID] = {}
    for row in history:
        if row.effective_from <= today and row.tier_id not in seen:
            seen[row.tier_id] = row.id
    return set(seen.values())


def upcoming_changes(service_ids: Iterable[uuid.UUID], day: date) -> list[ServicePrice]:
    """Price changes scheduled after `day`, soonest first."""
    ids = list(service_ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(ServicePrice)
            .where(ServicePrice.service_id.in_(ids), ServicePrice.effective_from > day)
            .order_by(ServicePrice.effective_from)
        )
    )


def schedule_price(
    clinic: Clinic,
    service: Service,
    price_minor: int,
    effective_from: date,
    today: date,
    tier_id: uuid.UUID | None = None,
) -> ServicePrice:
    """Set a price from a date on; never backdated, because what was sold keeps its price."""
    if not isinstance(price_minor, int) or price_minor < 0:
        raise PricingError("A price is a positive amount, or zero for a free service.")
    if price_minor > 100_000_000:
        raise PricingError("That price is too large.")
    if effective_from < today:
        raise PricingError(
            "A price change cannot be backdated: sessions and packages already sold keep the "
            "price they were sold at. Choose today or a later date."
        )
    existing = db.session.scalar(
        select(ServicePrice).where(
            ServicePrice.service_id == service.id,
            ServicePrice.effective_from == effective_from,
            ServicePrice.tier_id.is_(None) if tier_id is None else ServicePrice.tier_id == tier_id,
        )
    )
    if existing is not None:
        existing.price_minor = price_minor  # the same day's change, corrected
        row = existing
    else:
        row = ServicePrice(
            service_id=service.id,
            tier_id=tier_id,
            price_minor=price_minor,
            effective_from=effective_from,
        )
        db.session.add(row)
    db.session.flush()
    current_app.logger.info(
        "price of %s set to %s from %s (tier %s)", service.id, price_minor, effective_from, tier_id
    )
    return row


def cancel_scheduled_price(row: ServicePrice, today: date) -> None:
    if row.effective_from <= today:
        raise PricingError("A price already in force cannot be withdrawn; schedule a new one.")
    db.session.delete(row)
    db.session.flush()
