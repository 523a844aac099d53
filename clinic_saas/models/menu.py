"""What the clinic sells. A service carries the duration and recovery buffer of a booking."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantScoped, UTCDateTime, tenant_reference, tenant_relationship, utcnow
from .staff import Therapist


class Service(TenantScoped):
    __tablename__ = "service"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="duration_range"),
        CheckConstraint("buffer_minutes BETWEEN 0 AND 120", name="buffer_range"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
    )

    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)
    duration_minutes: Mapped[int]
    # Room changeover and notes after the session: the therapist is not bookable during it.
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    price_minor: Mapped[int] = mapped_column(default=0)
    bookable_online: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def blocked_minutes(self) -> int:
        return self.duration_minutes + self.buffer_minutes


class ServiceTherapist(TenantScoped):
    """Who offers which service."""

    __tablename__ = "service_therapist"
    __table_args__ = (
        tenant_reference("service", "service_id", ondelete="CASCADE"),
        tenant_reference("therapist", "therapist_id", ondelete="CASCADE"),
        UniqueConstraint("clinic_id", "service_id", "therapist_id"),
    )

    service_id: Mapped[uuid.UUID]
    therapist_id: Mapped[uuid.UUID]

    service: Mapped[Service] = tenant_relationship("ServiceTherapist", "Service", "service_id")
    therapist: Mapped[Therapist] = tenant_relationship(
        "ServiceTherapist", "Therapist", "therapist_id"
    )
