"""Appointments: a client booked with a therapist, for a service, at a site and a time."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text, and_, func
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import (
    LabelledEnum,
    TenantScoped,
    UTCDateTime,
    enum_column,
    tenant_reference,
    tenant_relationship,
    utcnow,
)
from .client import Client
from .menu import Service
from .staff import Location, Room, Therapist
from .user import Membership


class AppointmentStatus(LabelledEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class Appointment(TenantScoped):
    """The therapist is busy from starts_at to blocked_until (the session plus its recovery buffer).

    Two appointments of one therapist, or in one room, that are not cancelled never overlap in
    that span (the buffer is the room's changeover too): PostgreSQL enforces it with exclusion
    constraints, and booking.py checks it under per-therapist and per-room locks on every database
    (SQLite has no such constraint).
    """

    __tablename__ = "appointment"
    __table_args__ = (
        tenant_reference("client", "client_id"),
        tenant_reference("therapist", "therapist_id"),
        tenant_reference("service", "service_id"),
        tenant_reference("location", "location_id"),
        tenant_reference("room", "room_id"),
        tenant_reference("membership", "booked_by_id"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("blocked_until >= ends_at", name="buffer_after_end"),
        Index("ix_appointment_day", "clinic_id", "starts_at"),
        Index("ix_appointment_therapist", "clinic_id", "therapist_id", "starts_at"),
        Index("ix_appointment_client", "clinic_id", "client_id"),
    )

    client_id: Mapped[uuid.UUID]
    therapist_id: Mapped[uuid.UUID]
    service_id: Mapped[uuid.UUID]
    location_id: Mapped[uuid.UUID]
    room_id: Mapped[uuid.UUID | None]
    booked_by_id: Mapped[uuid.UUID | None]
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[AppointmentStatus] = enum_column(
        AppointmentStatus, default=AppointmentStatus.BOOKED
    )
    # The session's price when booked (tier and date applied): what the client was quoted.
    price_minor: Mapped[int | None]
    # A booking note for the desk ("parking at the back"), never clinical information.
    note: Mapped[str | None] = mapped_column(Text)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancellation_reason: Mapped[str | None] = mapped_column(String(200))
    late_cancellation: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = tenant_relationship("Appointment", "Client", "client_id")
    therapist: Mapped[Therapist] = tenant_relationship("Appointment", "Therapist", "therapist_id")
    service: Mapped[Service] = tenant_relationship("Appointment", "Service", "service_id")
    location: Mapped[Location] = tenant_relationship("Appointment", "Location", "location_id")
    room: Mapped[Room | None] = tenant_relationship("Appointment", "Room", "room_id")
    booked_by: Mapped[Membership | None] = tenant_relationship(
        "Appointment", "Membership", "booked_by_id"
    )

    @property
    def is_open(self) -> bool:
        return self.status in (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)


def _no_overlap_constraint() -> ExcludeConstraint:
    """PostgreSQL only (btree_gist): no two live appointments of one therapist overlap."""
    columns = Appointment.__table__.c
    return ExcludeConstraint(
        (columns.clinic_id, "="),
        (columns.therapist_id, "="),
        (func.tstzrange(columns.starts_at, columns.blocked_until), "&&"),
        name="appointment_no_overlap",
        using="gist",
        where=columns.status != AppointmentStatus.CANCELLED.value,
    ).ddl_if(dialect="postgresql")


def _room_no_overlap_constraint() -> ExcludeConstraint:
    """PostgreSQL only (btree_gist): no two live appointments in one room overlap."""
    columns = Appointment.__table__.c
    return ExcludeConstraint(
        (columns.clinic_id, "="),
        (columns.room_id, "="),
        (func.tstzrange(columns.starts_at, columns.blocked_until), "&&"),
        name="appointment_room_no_overlap",
        using="gist",
        where=and_(
            columns.status != AppointmentStatus.CANCELLED.value, columns.room_id.is_not(None)
        ),
    ).ddl_if(dialect="postgresql")


Appointment.__table__.append_constraint(_no_overlap_constraint())
Appointment.__table__.append_constraint(_room_no_overlap_constraint())
