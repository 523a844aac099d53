"""What the clinic sells: categories, services with dated prices, tax rates and price tiers.

A service's price is not a column of the service: it is the newest ServicePrice whose
effective_from has come, for the therapist's tier or else the standard price. What was sold
keeps its own snapshot, so a later price change never alters it.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    insert,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import (
    TenantScoped,
    UTCDateTime,
    enum_column,
    link_table_args,
    tenant_reference,
    tenant_relationship,
    utcnow,
    uuid7,
)
from .clinic import Clinic
from .staff import Therapist

# The four kinds of sports-massage work (DOMAIN.md): every clinic starts with them.
DEFAULT_CATEGORIES = (
    ("pre_event", "Pre-event"),
    ("post_event", "Post-event"),
    ("rehab", "Rehab"),
    ("maintenance", "Maintenance"),
)


class Category(TenantScoped):
    """When the work is given; services refer to it by (clinic_id, key)."""

    __tablename__ = "service_category"
    __table_args__ = (UniqueConstraint("clinic_id", "key"), UniqueConstraint("clinic_id", "name"))

    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(default=0)
    built_in: Mapped[bool] = mapped_column(default=False)


@event.listens_for(Clinic, "after_insert")
def _give_new_clinic_default_categories(mapper, connection, clinic: Clinic) -> None:
    """Every clinic, however created, starts with the four categories of sports massage."""
    connection.execute(
        insert(Category.__table__),
        [
            {
                "clinic_id": clinic.id,
                "id": uuid7(),
                "key": key,
                "name": name,
                "position": position,
                "built_in": True,
            }
            for position, (key, name) in enumerate(DEFAULT_CATEGORIES)
        ],
    )


class TaxTreatment(enum.StrEnum):
    STANDARD = "standard"
    ZERO_RATED = "zero_rated"
    # e.g. massage by a registered health professional under UK VAT (DOMAIN.md)
    EXEMPT = "exempt"

    @property
    def label(self) -> str:
        return {"standard": "Standard", "zero_rated": "Zero-rated", "exempt": "Exempt"}[self.value]


class TaxRate(TenantScoped):
    __tablename__ = "tax_rate"
    __table_args__ = (
        UniqueConstraint("clinic_id", "name"),
        CheckConstraint("rate_bp BETWEEN 0 AND 10000", name="rate_range"),
        CheckConstraint("treatment = 'standard' OR rate_bp = 0", name="no_rate_unless_standard"),
    )

    name: Mapped[str] = mapped_column(String(60))
    rate_bp: Mapped[int]  # basis points: 2000 = 20%
    treatment: Mapped[TaxTreatment] = enum_column(TaxTreatment, default=TaxTreatment.STANDARD)
    active: Mapped[bool] = mapped_column(default=True)


class PriceTier(TenantScoped):
    """A level of therapist whose sessions have their own prices, e.g. 'Senior'."""

    __tablename__ = "price_tier"
    __table_args__ = (UniqueConstraint("clinic_id", "name"),)

    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(default=0)


class Service(TenantScoped):
    __tablename__ = "service"
    __table_args__ = (
        ForeignKeyConstraint(
            ["clinic_id", "category"], ["service_category.clinic_id", "service_category.key"]
        ),
        tenant_reference("tax_rate", "tax_rate_id"),
        CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="duration_range"),
        CheckConstraint("buffer_minutes BETWEEN 0 AND 120", name="buffer_range"),
    )

    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(40))  # Category.key of this clinic
    description: Mapped[str | None] = mapped_column(Text)
    duration_minutes: Mapped[int]
    # Room changeover and notes after the session: the therapist is not bookable during it.
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    tax_rate_id: Mapped[uuid.UUID | None]  # none: the clinic charges no tax on it
    bookable_online: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tax_rate: Mapped[TaxRate | None] = tenant_relationship("Service", "TaxRate", "tax_rate_id")

    @property
    def blocked_minutes(self) -> int:
        return self.duration_minutes + self.buffer_minutes


class ServicePrice(TenantScoped):
    """A price of a service from a date on, standard (no tier) or for one price tier."""

    __tablename__ = "service_price"
    __table_args__ = (
        tenant_reference("service", "service_id", ondelete="CASCADE"),
        tenant_reference("price_tier", "tier_id", ondelete="CASCADE"),
        CheckConstraint("price_minor BETWEEN 0 AND 100000000", name="price_range"),
        Index("ix_service_price_lookup", "clinic_id", "service_id", "effective_from"),
    )

    service_id: Mapped[uuid.UUID]
    tier_id: Mapped[uuid.UUID | None]
    price_minor: Mapped[int]
    effective_from: Mapped[date] = mapped_column(Date)  # clinic-local date
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tier: Mapped[PriceTier | None] = tenant_relationship("ServicePrice", "PriceTier", "tier_id")


class ServiceTherapist(TenantScoped):
    """Who offers which service."""

    __tablename__ = "service_therapist"
    __table_args__ = link_table_args(("service", "service_id"), ("therapist", "therapist_id"))

    service_id: Mapped[uuid.UUID]
    therapist_id: Mapped[uuid.UUID]

    service: Mapped[Service] = tenant_relationship("ServiceTherapist", "Service", "service_id")
    therapist: Mapped[Therapist] = tenant_relationship(
        "ServiceTherapist", "Therapist", "therapist_id"
    )
