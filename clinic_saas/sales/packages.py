"""Packages: defining them, selling them, using their sessions, expiry and pro-rata refunds."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import select

from .. import display
from ..clients import family
from ..clinic_time import add_months
from ..extensions import db
from ..menu.offers import package_service_ids
from ..models import (
    Appointment,
    Client,
    Membership,
    Package,
    PackageRedemption,
    PackageSale,
)
from ..models.base import utcnow
from ..money import divide_half_up
from ..refusals import Refusal
from .usage import live_counts

# Shown to staff before they refund; refund_quote applies it.
REFUND_POLICY = (
    "Unused sessions are refunded at the package's own per-session price, that is price x "
    "unused / total, rounded half up to the minor unit. An expired package has no refund; a "
    "refunded package cannot be used any more."
)


class PackageError(Refusal):
    """A package operation that cannot be done; str() is for people."""


def sell(
    package: Package, client: Client, today: date, sold_by: Membership | None = None
) -> PackageSale:
    """Sell a package at today's terms."""
    if not package.active:
        raise PackageError(f"{package.name} is no longer on sale.")
    sale = PackageSale(
        package_id=package.id,
        client_id=client.id,
        sold_by_id=sold_by.id if sold_by else None,
        name=package.name,
        sessions_total=package.sessions_count,
        price_minor=package.price_minor,
        tax_rate_bp=package.tax_rate.rate_bp if package.tax_rate else 0,
        shareable=package.shareable,
        sold_on=today,
        expires_on=expiry_for(package, today),
    )
    db.session.add(sale)
    db.session.flush()
    return sale


def expiry_for(package: Package, sold_on: date) -> date:
    """The last day of use: the day before the same date `validity_months` later."""
    return add_months(sold_on, package.validity_months) - timedelta(days=1)


def sessions_used(sale_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Sessions used per package sale, in one query."""
    return live_counts(PackageRedemption.sale_id, sale_ids)


def balance(sale: PackageSale) -> int:
    return sale.sessions_total - sessions_used([sale.id])[sale.id]


def status(sale: PackageSale, used: int, today: date) -> str:
    """'refunded', 'used up', 'expired' or 'active', in that order of precedence."""
    if sale.refunded_at is not None:
        return "refunded"
    if used >= sale.sessions_total:
        return "used up"
    if today > sale.expires_on:
        return "expired"
    return "active"


def _shared_with(sale: PackageSale, client_id: uuid.UUID) -> bool:
    """A shareable package may pay for its buyer's family: their guardian or their children."""
    return sale.shareable and family.related(sale.client_id, client_id)


def redemption_problem(sale: PackageSale, appointment: Appointment, day: date) -> str | None:
    """Why this sale cannot pay for this appointment's session, or None when it can."""
    used = sessions_used([sale.id])[sale.id]
    state = status(sale, used, day)
    if state != "active":
        return f"{sale.name} is {state}."
    if appointment.client_id != sale.client_id and not _shared_with(sale, appointment.client_id):
        return f"{sale.name} belongs to another client."
    services = package_service_ids([sale.package_id])[sale.package_id]
    if appointment.service_id not in services:
        return f"{sale.name} does not cover {appointment.service.name}."
    return None


def redeem(
    sale: PackageSale, appointment: Appointment, day: date, now: datetime | None = None
) -> PackageRedemption:
    """Use one session of a package for an appointment (once per appointment)."""
    existing = db.session.scalar(
        select(PackageRedemption).where(
            PackageRedemption.appointment_id == appointment.id,
            PackageRedemption.reversed_at.is_(None),
        )
    )
    if existing is not None:
        if existing.sale_id == sale.id:
            return existing  # asked twice: recorded once
        raise PackageError("This appointment was already paid for with another package.")
    problem = redemption_problem(sale, appointment, day)
    if problem:
        raise PackageError(problem)
    row = PackageRedemption(
        sale_id=sale.id, appointment_id=appointment.id, redeemed_at=now or utcnow()
    )
    db.session.add(row)
    db.session.flush()
    return row


def reverse(redemption: PackageRedemption, now: datetime | None = None) -> None:
    """Give a session back (a redemption made by mistake); the row stays, marked reversed."""
    if redemption.reversed_at is not None:
        return
    sale = db.session.scalar(select(PackageSale).where(PackageSale.id == redemption.sale_id))
    if sale is not None and sale.refunded_at is not None:
        raise PackageError("The package has been refunded: its sessions cannot change now.")
    redemption.reversed_at = now or utcnow()
    db.session.flush()


def refund_quote(sale: PackageSale, today: date) -> int:
    """What REFUND_POLICY gives back today."""
    used = sessions_used([sale.id])[sale.id]
    state = status(sale, used, today)
    if state == "refunded":
        raise PackageError("This package has already been refunded.")
    if state == "expired":
        raise PackageError(
            f"{sale.name} expired on {display.day(sale.expires_on)}: no refund is due."
        )
    unused = sale.sessions_total - used
    return divide_half_up(sale.price_minor * unused, sale.sessions_total)


def refund(sale: PackageSale, today: date, now: datetime | None = None) -> int:
    """Refund the unused sessions pro rata and close the package."""
    amount = refund_quote(sale, today)
    sale.refund_minor = amount
    sale.refunded_at = now or utcnow()
    db.session.flush()
    return amount
