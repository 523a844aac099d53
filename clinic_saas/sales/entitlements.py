"""What pays for a completed session: a membership period with sessions left, else a package.

Called when an appointment is completed. Memberships come first because their sessions lapse at
the end of each month; then the client's own packages, then a shareable package bought by their
family (their guardian, or their children); among packages, the one expiring soonest first.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from ..clients.family import family_ids
from ..extensions import db
from ..models import (
    Appointment,
    ClientMembership,
    ClientMembershipStatus,
    Clinic,
    MembershipUse,
    PackageRedemption,
    PackageSale,
)
from ..scheduling import booking
from . import memberships, packages


def covering(appointment: Appointment) -> PackageRedemption | MembershipUse | None:
    """What already pays for this appointment, if anything."""
    for model in (MembershipUse, PackageRedemption):
        row = db.session.scalar(
            select(model).where(model.appointment_id == appointment.id, model.reversed_at.is_(None))
        )
        if row is not None:
            return row
    return None


def apply_on_completion(appointment: Appointment, day: date):
    """Use the client's best entitlement for a completed appointment, or None when none fits."""
    already = covering(appointment)
    if already is not None:
        return already
    for membership in db.session.scalars(
        select(ClientMembership).where(
            ClientMembership.client_id == appointment.client_id,
            ClientMembership.status != ClientMembershipStatus.PAUSED,
        )
    ):
        memberships.roll_periods(membership, day)
        if memberships.use_problem(membership, appointment, day) is None:
            return memberships.use(membership, appointment, day)
    for sale in _usable_sales([appointment.client_id], day):
        if packages.redemption_problem(sale, appointment, day) is None:
            return packages.redeem(sale, appointment, day)
    for sale in _usable_sales(family_ids(appointment.client), day, shared_only=True):
        if packages.redemption_problem(sale, appointment, day) is None:
            return packages.redeem(sale, appointment, day)
    return None


def complete_and_apply(
    clinic: Clinic, appointment: Appointment, now: datetime | None = None
) -> PackageRedemption | MembershipUse | None:
    """Complete the appointment, then let a membership or package pay for the session when one
    covers it on the clinic's day of the session."""
    booking.complete(clinic, appointment, now)
    day = appointment.starts_at.astimezone(clinic.tz).date()
    return apply_on_completion(appointment, day)


def _usable_sales(client_ids, day: date, *, shared_only: bool = False) -> list[PackageSale]:
    """The packages of these clients that are neither refunded nor expired, soonest expiry first."""
    ids = list(client_ids)
    if not ids:
        return []
    query = select(PackageSale).where(
        PackageSale.client_id.in_(ids),
        PackageSale.refunded_at.is_(None),
        PackageSale.expires_on >= day,
    )
    if shared_only:
        query = query.where(PackageSale.shareable.is_(True))
    query = query.order_by(PackageSale.expires_on, PackageSale.created_at)
    return list(db.session.scalars(query))
