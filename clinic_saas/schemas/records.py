"""A client's whole record (records.export.ClientRecord) as one JSON document."""

from __future__ import annotations

from marshmallow import fields

from .base import ClinicSchema, Instant, Nested
from .clients import ClientSchema, FamilySchema
from .clinical import IntakeSchema, NoteSchema
from .sales import PurchasesSchema
from .scheduling import AppointmentSchema

FORMAT = "clinic_saas client record"
FORMAT_VERSION = 1


class RecordSchema(ClinicSchema):
    """Everything the clinic holds about one person: the export's own audience only."""

    audiences = {
        "export": (
            "format",
            "format_version",
            "exported_at",
            "clinic",
            "client",
            "family",
            "appointments",
            "purchases",
            "intakes",
            "treatment_notes",
        )
    }

    format = fields.Constant(FORMAT)
    format_version = fields.Constant(FORMAT_VERSION)
    exported_at = Instant()
    clinic = fields.Method("_clinic")
    client = Nested(ClientSchema)
    family = Nested(FamilySchema)
    appointments = Nested(AppointmentSchema, many=True)
    purchases = Nested(PurchasesSchema)
    intakes = Nested(IntakeSchema, many=True)
    treatment_notes = Nested(NoteSchema, many=True)

    def _clinic(self, record) -> dict:
        return {
            "name": self.clinic.name,
            "timezone": self.clinic.timezone,
            "currency": self.clinic.currency,
        }
