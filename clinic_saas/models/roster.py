"""When therapists work: weekly shifts, dated changes to a day, and time off.

Shift times are wall-clock times of the clinic's timezone, so 09:00 stays 09:00 across daylight-
saving changes; they become instants (UTC) only when a particular date is planned.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, Date, Index, String, Time
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
from .staff import Location, Therapist


class Shift(TenantScoped):
    """A recurring weekly shift, e.g. Mondays 09:00-13:00 at Harbour St, from a date on."""

    __tablename__ = "shift"
    __table_args__ = (
        tenant_reference("therapist", "therapist_id", ondelete="CASCADE"),
        tenant_reference("location", "location_id", ondelete="CASCADE"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="valid_range"),
        Index("ix_shift_therapist", "clinic_id", "therapist_id"),
    )

    therapist_id: Mapped[uuid.UUID]
    location_id: Mapped[uuid.UUID]
    weekday: Mapped[int]  # Monday = 0, as date.weekday()
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)

    therapist: Mapped[Therapist] = tenant_relationship("Shift", "Therapist", "therapist_id")
    location: Mapped[Location] = tenant_relationship("Shift", "Location", "location_id")

    def applies_on(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
        )


class DayOverride(TenantScoped):
    """A dated change that replaces a therapist's weekly shifts on one day.

    The rows for (therapist, day) together are that day's hours; one row without times means the
    therapist does not work that day.
    """

    __tablename__ = "day_override"
    __table_args__ = (
        tenant_reference("therapist", "therapist_id", ondelete="CASCADE"),
        tenant_reference("location", "location_id", ondelete="CASCADE"),
        CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL AND location_id IS NULL)"
            " OR (start_time IS NOT NULL AND end_time > start_time AND location_id IS NOT NULL)",
            name="hours_or_day_off",
        ),
        Index("ix_day_override_day", "clinic_id", "on_date"),
    )

    therapist_id: Mapped[uuid.UUID]
    on_date: Mapped[date] = mapped_column(Date)
    location_id: Mapped[uuid.UUID | None]
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str | None] = mapped_column(String(200))

    therapist: Mapped[Therapist] = tenant_relationship("DayOverride", "Therapist", "therapist_id")
    location: Mapped[Location | None] = tenant_relationship(
        "DayOverride", "Location", "location_id"
    )

    @property
    def is_day_off(self) -> bool:
        return self.start_time is None


class TimeOffKind(LabelledEnum):
    HOLIDAY = "holiday"
    SICKNESS = "sickness"
    TRAINING = "training"
    OTHER = "other"


class TimeOff(TenantScoped):
    """Time a therapist is away, as instants: it may start or end mid-shift."""

    __tablename__ = "time_off"
    __table_args__ = (
        tenant_reference("therapist", "therapist_id", ondelete="CASCADE"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_time_off_range", "clinic_id", "therapist_id", "starts_at"),
    )

    therapist_id: Mapped[uuid.UUID]
    kind: Mapped[TimeOffKind] = enum_column(TimeOffKind)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    therapist: Mapped[Therapist] = tenant_relationship("TimeOff", "Therapist", "therapist_id")
