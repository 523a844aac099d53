"""What one client bought: their package sales and memberships, with what is used and left.

The sales desk, the client's record export and the API all read a client's purchases through
purchases_of, in a fixed number of statements however many sales and periods there are.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from ..extensions import db
from ..models import (
    Client,
    ClientMembership,
    ClientMembershipStatus,
    MembershipPeriod,
    MembershipUse,
    PackageRedemption,
    PackageSale,
)
from .packages import status
from .usage import live_counts


@dataclass(frozen=True)
class PackagePurchase:
    """A package sale as of one day: its terms, sessions used and left, and its state."""

    id: uuid.UUID
    name: str
    sold_on: date
    expires_on: date  # the last day it can be used
    sessions_total: int
    sessions_used: int
    price_minor: int
    tax_rate_bp: int
    shareable: bool
    refunded_at: datetime | None
    refund_minor: int | None
    status: str  # packages.status: 'active', 'used up', 'expired' or 'refunded'

    @property
    def sessions_left(self) -> int:
        return self.sessions_total - self.sessions_used


@dataclass(frozen=True)
class PeriodUse:
    """One monthly period of a membership and the sessions used in it."""

    id: uuid.UUID
    starts_on: date
    ends_on: date  # exclusive: the first day after the period
    sessions_allowed: int
    sessions_used: int

    @property
    def sessions_left(self) -> int:
        return max(self.sessions_allowed - self.sessions_used, 0)


@dataclass(frozen=True)
class MembershipPurchase:
    """A membership as of one day: its terms, status and periods (oldest first)."""

    id: uuid.UUID
    name: str  # the plan's name when the client enrolled
    status: ClientMembershipStatus
    started_on: date
    paused_on: date | None
    cancelled_on: date | None
    price_minor: int  # per monthly period
    tax_rate_bp: int
    sessions_per_period: int
    periods: tuple[PeriodUse, ...]
    current: PeriodUse | None  # the period running on the day asked about
    next_start: date | None  # the first day of a period that has not begun yet

    @property
    def sessions_used(self) -> int:
        return sum(p.sessions_used for p in self.periods)


@dataclass(frozen=True)
class Purchases:
    """A client's package sales and memberships, oldest first."""

    packages: tuple[PackagePurchase, ...]
    memberships: tuple[MembershipPurchase, ...]


def purchases_of(client: Client, today: date) -> Purchases:
    """The client's purchases as of today, in five statements whatever their number."""
    return Purchases(_package_purchases(client.id, today), _membership_purchases(client.id, today))


def _package_purchases(client_id: uuid.UUID, today: date) -> tuple[PackagePurchase, ...]:
    sales = db.session.scalars(
        select(PackageSale)
        .where(PackageSale.client_id == client_id)
        .order_by(PackageSale.sold_on, PackageSale.created_at, PackageSale.id)
    ).all()
    used = live_counts(PackageRedemption.sale_id, [s.id for s in sales])
    return tuple(
        PackagePurchase(
            id=s.id,
            name=s.name,
            sold_on=s.sold_on,
            expires_on=s.expires_on,
            sessions_total=s.sessions_total,
            sessions_used=used[s.id],
            price_minor=s.price_minor,
            tax_rate_bp=s.tax_rate_bp,
            shareable=s.shareable,
            refunded_at=s.refunded_at,
            refund_minor=s.refund_minor,
            status=status(s, used[s.id], today),
        )
        for s in sales
    )


def _membership_purchases(client_id: uuid.UUID, today: date) -> tuple[MembershipPurchase, ...]:
    enrolments = db.session.scalars(
        select(ClientMembership)
        .where(ClientMembership.client_id == client_id)
        .order_by(ClientMembership.started_on, ClientMembership.created_at, ClientMembership.id)
    ).all()
    periods = _periods_by_membership([m.id for m in enrolments])
    return tuple(_membership_purchase(m, periods[m.id], today) for m in enrolments)


def _periods_by_membership(
    membership_ids: list[uuid.UUID],
) -> dict[uuid.UUID, list[PeriodUse]]:
    """Each membership's periods with their sessions used, oldest first, in two statements."""
    found: dict[uuid.UUID, list[PeriodUse]] = defaultdict(list)
    if not membership_ids:
        return found
    rows = db.session.scalars(
        select(MembershipPeriod)
        .where(MembershipPeriod.membership_id.in_(membership_ids))
        .order_by(MembershipPeriod.starts_on, MembershipPeriod.id)
    ).all()
    used = live_counts(MembershipUse.period_id, [p.id for p in rows])
    for p in rows:
        found[p.membership_id].append(
            PeriodUse(p.id, p.starts_on, p.ends_on, p.sessions_allowed, used[p.id])
        )
    return found


def _membership_purchase(
    membership: ClientMembership, periods: list[PeriodUse], today: date
) -> MembershipPurchase:
    return MembershipPurchase(
        id=membership.id,
        name=membership.name,
        status=membership.status,
        started_on=membership.started_on,
        paused_on=membership.paused_on,
        cancelled_on=membership.cancelled_on,
        price_minor=membership.price_minor,
        tax_rate_bp=membership.tax_rate_bp,
        sessions_per_period=membership.sessions_per_period,
        periods=tuple(periods),
        current=next((p for p in periods if p.starts_on <= today < p.ends_on), None),
        next_start=min((p.starts_on for p in periods if p.starts_on > today), default=None),
    )
