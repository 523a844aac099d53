"""Maintenance memberships: plans on the menu, enrolments, monthly periods, pauses.

A period runs for one calendar month from the membership's anchor (the start date, or the day a
pause ended): 15 Jan -> 15 Feb, 31 Jan -> 28 Feb. New periods are added by roll_periods when the
previous one has ended, for active memberships only: a paused or cancelled membership lets its
current period run out and gets no new one. Unused sessions do not carry over. Charging each
period is the payments feature's work; this module decides what is owed and allowed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import display
from ..clinic_time import add_months
from ..extensions import db
from ..menu.offers import plan_service_ids
from ..models import (
    Appointment,
    Client,
    ClientMembership,
    ClientMembershipStatus,
    MembershipPeriod,
    MembershipPlan,
    MembershipUse,
)
from ..models.base import utcnow
from ..refusals import Refusal
from .usage import live_counts

ACTIVE, PAUSED, CANCELLED = (
    ClientMembershipStatus.ACTIVE,
    ClientMembershipStatus.PAUSED,
    ClientMembershipStatus.CANCELLED,
)


class MembershipError(Refusal):
    """A membership operation that cannot be done; str() is for people."""


def _new_period(membership: ClientMembership, starts_on: date) -> MembershipPeriod:
    months = 1
    while add_months(membership.anchor_on, months) <= starts_on:
        months += 1
    period = MembershipPeriod(
        membership_id=membership.id,
        starts_on=starts_on,
        ends_on=add_months(membership.anchor_on, months),
        sessions_allowed=membership.sessions_per_period,
    )
    db.session.add(period)
    return period


def enrol(plan: MembershipPlan, client: Client, start_on: date, today: date) -> ClientMembership:
    """Start a client on a plan, at its current price and allowance."""
    if not plan.active:
        raise MembershipError(f"{plan.name} is closed to new members.")
    if start_on < today:
        raise MembershipError("A membership cannot start in the past.")
    already = f"{client.full_name} is already a member of {plan.name}."
    running = db.session.scalar(
        select(ClientMembership).where(
            ClientMembership.client_id == client.id,
            ClientMembership.plan_id == plan.id,
            ClientMembership.status != CANCELLED,
        )
    )
    if running is not None:
        raise MembershipError(already)
    membership = ClientMembership(
        plan_id=plan.id,
        client_id=client.id,
        name=plan.name,
        price_minor=plan.price_minor,
        sessions_per_period=plan.sessions_per_period,
        tax_rate_bp=plan.tax_rate.rate_bp if plan.tax_rate else 0,
        started_on=start_on,
        anchor_on=start_on,
    )
    _insert_live(membership, already)
    _new_period(membership, start_on)
    db.session.flush()
    return membership


# How the database names a second live membership: PostgreSQL names the index, SQLite its columns.
_LIVE_CLASH = ("uq_client_membership_live", "client_membership.plan_id")


def _insert_live(membership: ClientMembership, already: str) -> None:
    """Insert a live membership; one for the same client and plan that a concurrent request
    inserted meanwhile (after the check above) is refused by the database's unique index
    (uq_client_membership_live) and becomes MembershipError(already).

    On PostgreSQL the insert runs under a savepoint, so the rest of the request stays usable. On
    SQLite (where a savepoint may be the outermost transaction, and its release a commit) the
    failed flush spoils the transaction: the caller drops the request's writes, as it does for
    every refusal.
    """
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            with db.session.begin_nested():
                db.session.add(membership)
                db.session.flush()
        else:
            db.session.add(membership)
            db.session.flush()
    except IntegrityError as error:
        if not any(name in str(error.orig) for name in _LIVE_CLASH):
            raise
        raise MembershipError(already) from error


def periods_of(membership: ClientMembership) -> list[MembershipPeriod]:
    return list(
        db.session.scalars(
            select(MembershipPeriod)
            .where(MembershipPeriod.membership_id == membership.id)
            .order_by(MembershipPeriod.starts_on)
        )
    )


def roll_periods(membership: ClientMembership, today: date) -> list[MembershipPeriod]:
    """Add the periods an active membership has entered since its last one (idempotent)."""
    if membership.status != ACTIVE:
        return []
    periods = periods_of(membership)
    added = []
    last_end = periods[-1].ends_on if periods else membership.anchor_on
    while last_end <= today:
        period = _new_period(membership, last_end)
        added.append(period)
        last_end = period.ends_on
    db.session.flush()
    return added


def roll_client(client: Client, today: date) -> list[MembershipPeriod]:
    """Roll the client's active memberships: one statement unless a new month has begun."""
    last_end = (
        select(func.max(MembershipPeriod.ends_on))
        .where(MembershipPeriod.membership_id == ClientMembership.id)
        .scalar_subquery()
    )
    due = db.session.scalars(
        select(ClientMembership).where(
            ClientMembership.client_id == client.id,
            ClientMembership.status == ACTIVE,
            func.coalesce(last_end, ClientMembership.anchor_on) <= today,
        )
    ).all()
    return [period for membership in due for period in roll_periods(membership, today)]


def roll_all(today: date) -> int:
    """Roll every active membership of the bound clinic; returns the periods added."""
    memberships = db.session.scalars(
        select(ClientMembership).where(ClientMembership.status == ACTIVE)
    ).all()
    return sum(len(roll_periods(m, today)) for m in memberships)


def pause(membership: ClientMembership, today: date) -> None:
    if membership.status != ACTIVE:
        state = membership.status.label.lower()
        raise MembershipError(f"Only an active membership can be paused (this one is {state}).")
    membership.status = PAUSED
    membership.paused_on = today
    db.session.flush()


def resume(membership: ClientMembership, today: date) -> None:
    """End a pause: a new period starts today unless the current one is still running."""
    if membership.status != PAUSED:
        raise MembershipError("Only a paused membership can be resumed.")
    membership.status = ACTIVE
    membership.paused_on = None
    periods = periods_of(membership)
    if not periods or periods[-1].ends_on <= today:
        membership.anchor_on = today
        _new_period(membership, today)
    db.session.flush()


def cancel(membership: ClientMembership, today: date) -> None:
    """Stop renewing; the period already running can still be used until it ends."""
    if membership.status == CANCELLED:
        raise MembershipError("This membership is already cancelled.")
    membership.status = CANCELLED
    membership.cancelled_on = today
    db.session.flush()


def period_on(membership: ClientMembership, day: date) -> MembershipPeriod | None:
    return db.session.scalar(
        select(MembershipPeriod).where(
            MembershipPeriod.membership_id == membership.id,
            MembershipPeriod.starts_on <= day,
            MembershipPeriod.ends_on > day,
        )
    )


def sessions_used(period_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Sessions used per membership period, in one query."""
    return live_counts(MembershipUse.period_id, period_ids)


def use_problem(membership: ClientMembership, appointment: Appointment, day: date) -> str | None:
    if appointment.client_id != membership.client_id:
        return f"{membership.name} belongs to another client."
    if appointment.service_id not in plan_service_ids(membership.plan_id):
        return f"{membership.name} does not cover {appointment.service.name}."
    period = period_on(membership, day)
    if period is None:
        return f"{membership.name} has no period running on {display.day(day)}."
    if sessions_used([period.id])[period.id] >= period.sessions_allowed:
        return f"This month's sessions of {membership.name} are all used."
    return None


def use(
    membership: ClientMembership, appointment: Appointment, day: date, now: datetime | None = None
) -> MembershipUse:
    """Count an appointment against the membership period it falls in (once per appointment)."""
    existing = db.session.scalar(
        select(MembershipUse).where(
            MembershipUse.appointment_id == appointment.id, MembershipUse.reversed_at.is_(None)
        )
    )
    if existing is not None:
        return existing
    problem = use_problem(membership, appointment, day)
    if problem:
        raise MembershipError(problem)
    row = MembershipUse(
        period_id=period_on(membership, day).id,
        appointment_id=appointment.id,
        used_at=now or utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return row
