"""Where and by whom the work is done: sites, their rooms, and therapists' bookable profiles."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import (
    LabelledEnum,
    TenantScoped,
    UTCDateTime,
    tenant_reference,
    tenant_relationship,
    utcnow,
)
from .user import Membership


class Technique(LabelledEnum):
    """The techniques of sports massage (DOMAIN.md); clinics may add their own names."""

    KNEADING = "kneading"
    CUPPING = "cupping"
    TRIGGER_POINTING = "trigger_pointing"
    HACKING = "hacking"
    WRINGING = "wringing"
    VIBRATION = "vibration"


class ServiceCategory(enum.StrEnum):
    """When the work is given (DOMAIN.md); a clinic may add categories of its own."""

    PRE_EVENT = "pre_event"
    POST_EVENT = "post_event"
    REHAB = "rehab"
    MAINTENANCE = "maintenance"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").capitalize()


# Calendar colours are names of a fixed palette (CSS classes), never free CSS: the CSP allows no
# inline style, and the palette keeps the day view readable.
CALENDAR_COLOURS = ("teal", "indigo", "orange", "pink", "green", "blue", "purple", "brown")


class Location(TenantScoped):
    """A site of the clinic, e.g. 'Harbour St'."""

    __tablename__ = "location"
    __table_args__ = (UniqueConstraint("clinic_id", "name"),)

    name: Mapped[str] = mapped_column(String(80))
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Room(TenantScoped):
    __tablename__ = "room"
    __table_args__ = (
        tenant_reference("location", "location_id", ondelete="CASCADE"),
        UniqueConstraint("clinic_id", "location_id", "name"),
    )

    location_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped under the booking lock: serialises the bookings of one room on every database.
    schedule_version: Mapped[int] = mapped_column(default=0)

    location: Mapped[Location] = tenant_relationship("Room", "Location", "location_id")


class Therapist(TenantScoped):
    """A bookable person: one profile however many sites they work at."""

    __tablename__ = "therapist"
    __table_args__ = (
        tenant_reference("membership", "membership_id"),
        tenant_reference("price_tier", "tier_id"),
        CheckConstraint("commission_rate_bp BETWEEN 0 AND 10000", name="commission_range"),
        Index("uq_therapist_membership", "clinic_id", "membership_id", unique=True),
    )

    membership_id: Mapped[uuid.UUID | None]
    display_name: Mapped[str] = mapped_column(String(80))
    bio: Mapped[str | None] = mapped_column(Text)
    qualifications: Mapped[str | None] = mapped_column(Text)
    # A registered health professional's massage can be VAT-exempt in the UK (DOMAIN.md).
    registered_health_professional: Mapped[bool] = mapped_column(default=False)
    techniques: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    calendar_colour: Mapped[str] = mapped_column(String(20), default="teal")
    commission_rate_bp: Mapped[int] = mapped_column(default=0)
    tier_id: Mapped[uuid.UUID | None]  # a price tier, e.g. senior; none: standard prices
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped under the booking lock: serialises bookings per therapist on every database.
    schedule_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    membership: Mapped[Membership | None] = tenant_relationship(
        "Therapist", "Membership", "membership_id"
    )

    @property
    def colour(self) -> str:
        return self.calendar_colour if self.calendar_colour in CALENDAR_COLOURS else "teal"
