"""Prepaid courses of sessions: the package on the menu, its sales to clients, and their use.

A sale keeps its own snapshot (name, sessions, price, tax, expiry, sharing): later menu changes
never alter it. A sale's balance is derived from its redemptions, never stored.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Index, String, Text, column
from sqlalchemy.orm import Mapped, mapped_column

from .base import (
    TenantScoped,
    UTCDateTime,
    link_table_args,
    tenant_reference,
    tenant_relationship,
    utcnow,
)
from .client import Client
from .menu import TaxRate


class Package(TenantScoped):
    """On the menu: N sessions of some services for one price, valid for some months."""

    __tablename__ = "package"
    __table_args__ = (
        tenant_reference("tax_rate", "tax_rate_id"),
        CheckConstraint("sessions_count BETWEEN 1 AND 100", name="sessions_range"),
        CheckConstraint("validity_months BETWEEN 1 AND 60", name="validity_range"),
        CheckConstraint("price_minor BETWEEN 0 AND 100000000", name="price_range"),
    )

    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    sessions_count: Mapped[int]
    price_minor: Mapped[int]
    validity_months: Mapped[int]
    shareable: Mapped[bool] = mapped_column(default=False)  # with the buyer's family
    tax_rate_id: Mapped[uuid.UUID | None]
    bookable_online: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tax_rate: Mapped[TaxRate | None] = tenant_relationship("Package", "TaxRate", "tax_rate_id")


class PackageService(TenantScoped):
    """A service a package's sessions can be used for."""

    __tablename__ = "package_service"
    __table_args__ = link_table_args(("package", "package_id"), ("service", "service_id"))

    package_id: Mapped[uuid.UUID]
    service_id: Mapped[uuid.UUID]


class PackageSale(TenantScoped):
    """A package sold to a client, on the terms and at the price of that day."""

    __tablename__ = "package_sale"
    __table_args__ = (
        tenant_reference("package", "package_id"),
        tenant_reference("client", "client_id"),
        tenant_reference("membership", "sold_by_id"),
        CheckConstraint("sessions_total >= 1", name="sessions_positive"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint(
            "refund_minor IS NULL OR (refund_minor >= 0 AND refund_minor <= price_minor)",
            name="refund_range",
        ),
        CheckConstraint("expires_on >= sold_on", name="expires_after_sale"),
        Index("ix_package_sale_client", "clinic_id", "client_id"),
    )

    package_id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    sold_by_id: Mapped[uuid.UUID | None]
    name: Mapped[str] = mapped_column(String(120))
    sessions_total: Mapped[int]
    price_minor: Mapped[int]
    tax_rate_bp: Mapped[int] = mapped_column(default=0)
    shareable: Mapped[bool] = mapped_column(default=False)
    sold_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)  # the last day it can be used, clinic-local
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refund_minor: Mapped[int | None]

    package: Mapped[Package] = tenant_relationship("PackageSale", "Package", "package_id")
    client: Mapped[Client] = tenant_relationship("PackageSale", "Client", "client_id")


class PackageRedemption(TenantScoped):
    """One session of a sold package used for one appointment; reversal keeps the row."""

    __tablename__ = "package_redemption"
    __table_args__ = (
        tenant_reference("package_sale", "sale_id"),
        tenant_reference("appointment", "appointment_id"),
        Index(
            "uq_package_redemption_live",
            "clinic_id",
            "appointment_id",
            unique=True,
            sqlite_where=column("reversed_at").is_(None),
            postgresql_where=column("reversed_at").is_(None),
        ),
        Index("ix_package_redemption_sale", "clinic_id", "sale_id"),
    )

    sale_id: Mapped[uuid.UUID]
    appointment_id: Mapped[uuid.UUID]
    redeemed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sale: Mapped[PackageSale] = tenant_relationship("PackageRedemption", "PackageSale", "sale_id")
