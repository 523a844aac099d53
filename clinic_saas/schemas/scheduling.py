"""Appointments, per audience."""

from __future__ import annotations

from marshmallow import fields

from .base import ClinicSchema, Instant, Money

VISIT = (
    "id",
    "starts_at",
    "ends_at",
    "service",
    "therapist",
    "location",
    "status",
    "status_label",
)
DESK = (
    "price",
    "booking_note",
    "cancelled_at",
    "cancellation_reason",
    "late_cancellation",
)


class AppointmentSchema(ClinicSchema):
    """An appointment with its service, therapist and site by name; the therapist needs no price."""

    audiences = {
        "desk": VISIT + DESK,
        "clinical": (*VISIT, "booking_note"),
        "export": VISIT + DESK,
        "api": VISIT + DESK,
    }

    id = fields.UUID()
    starts_at = Instant()
    ends_at = Instant()
    service = fields.String(attribute="service.name")
    therapist = fields.String(attribute="therapist.display_name")
    location = fields.String(attribute="location.name")
    status = fields.Function(lambda a: a.status.value)
    status_label = fields.Function(lambda a: a.status.label)
    price = Money(attribute="price_minor")
    booking_note = fields.String(attribute="note")
    cancelled_at = Instant()
    cancellation_reason = fields.String()
    late_cancellation = fields.Boolean()
