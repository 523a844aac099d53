"""Maintenance memberships: a monthly plan with N sessions a period, and each client's enrolment.

Periods are rows: one is added when the previous one ends (roll_periods), never while the
membership is paused or after it was cancelled. Sessions used are rows too; what is left in a
period is derived from them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Index, String, Text, UniqueConstraint, column
from sqlalchemy.orm import Mapped, mapped_column

from .base import (
    LabelledEnum,
    TenantScoped,
    UTCDateTime,
    enum_column,
    link_table_args,
    tenant_reference,
    tenant_relationship,
    utcnow,
)
from .client import Client
from .menu import TaxRate


class MembershipPlan(TenantScoped):
    __tablename__ = "membership_plan"
    __table_args__ = (
        tenant_reference("tax_rate", "tax_rate_id"),
        CheckConstraint("sessions_per_period BETWEEN 1 AND 31", name="sessions_range"),
        CheckConstraint("price_minor BETWEEN 0 AND 100000000", name="price_range"),
    )

    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    price_minor: Mapped[int]  # per monthly period
    sessions_per_period: Mapped[int]
    tax_rate_id: Mapped[uuid.UUID | None]
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tax_rate: Mapped[TaxRate | None] = tenant_relationship(
        "MembershipPlan", "TaxRate", "tax_rate_id"
    )


class MembershipPlanService(TenantScoped):
    __tablename__ = "membership_plan_service"
    __table_args__ = link_table_args(("membership_plan", "plan_id"), ("service", "service_id"))

    plan_id: Mapped[uuid.UUID]
    service_id: Mapped[uuid.UUID]


class ClientMembershipStatus(LabelledEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"


class ClientMembership(TenantScoped):
    """A client's enrolment in a plan, at the price and allowance of the day they joined."""

    __tablename__ = "client_membership"
    __table_args__ = (
        tenant_reference("membership_plan", "plan_id"),
        tenant_reference("client", "client_id"),
        Index("ix_client_membership_client", "clinic_id", "client_id"),
        # One live (not cancelled) membership per client and plan, even when two enrol at once.
        Index(
            "uq_client_membership_live",
            "clinic_id",
            "client_id",
            "plan_id",
            unique=True,
            sqlite_where=column("status") != "cancelled",
            postgresql_where=column("status") != "cancelled",
        ),
    )

    plan_id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(120))
    price_minor: Mapped[int]
    sessions_per_period: Mapped[int]
    tax_rate_bp: Mapped[int] = mapped_column(default=0)
    started_on: Mapped[date] = mapped_column(Date)
    # Periods run monthly from this date: the start, or the day a pause ended.
    anchor_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ClientMembershipStatus] = enum_column(
        ClientMembershipStatus, default=ClientMembershipStatus.ACTIVE
    )
    paused_on: Mapped[date | None] = mapped_column(Date)
    cancelled_on: Mapped[date | None] = mapped_column(Date)
    # The monthly fee charged on the saved card: failures in a row, and when to try again.
    renewal_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    renewal_retry_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan: Mapped[MembershipPlan] = tenant_relationship(
        "ClientMembership", "MembershipPlan", "plan_id"
    )
    client: Mapped[Client] = tenant_relationship("ClientMembership", "Client", "client_id")


class MembershipPeriod(TenantScoped):
    """One monthly period [starts_on, ends_on) of an enrolment, with its session allowance."""

    __tablename__ = "membership_period"
    __table_args__ = (
        tenant_reference("client_membership", "membership_id", ondelete="CASCADE"),
        UniqueConstraint("clinic_id", "membership_id", "starts_on"),
        CheckConstraint("ends_on > starts_on", name="ends_after_start"),
    )

    membership_id: Mapped[uuid.UUID]
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # exclusive
    sessions_allowed: Mapped[int]


class MembershipUse(TenantScoped):
    """A session of a membership period used for one appointment."""

    __tablename__ = "membership_use"
    __table_args__ = (
        tenant_reference("membership_period", "period_id"),
        tenant_reference("appointment", "appointment_id"),
        Index(
            "uq_membership_use_live",
            "clinic_id",
            "appointment_id",
            unique=True,
            sqlite_where=column("reversed_at").is_(None),
            postgresql_where=column("reversed_at").is_(None),
        ),
    )

    period_id: Mapped[uuid.UUID]
    appointment_id: Mapped[uuid.UUID]
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(200))

    period: Mapped[MembershipPeriod] = tenant_relationship(
        "MembershipUse", "MembershipPeriod", "period_id"
    )
