"""A client's identity and family links, per audience."""

from __future__ import annotations

from marshmallow import fields

from ..models import Client
from .base import ClinicSchema, Day, Instant, Nested

IDENTITY = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "date_of_birth",
    "address",
    "emergency_contact",
    "gp",
    "sport",
    "activity_level",
    "activity_level_label",
    "marketing_consent",
    "marketing_consent_at",
    "created_at",
    "erased_at",
)
# Health-related: for those who may read clinical records, and for the client's own copy.
HEALTH = {"date_of_birth", "gp", "sport", "activity_level", "activity_level_label"}
CONTACT = tuple(name for name in IDENTITY if name not in HEALTH)


class ClientSchema(ClinicSchema):
    """Who the client is and how to reach them; the desk never sees their health details."""

    audiences = {
        "desk": CONTACT,
        "clinical": IDENTITY,
        "export": IDENTITY,
        "api": CONTACT,
    }

    id = fields.UUID()
    first_name = fields.String()
    last_name = fields.String()
    email = fields.String()
    phone = fields.String()
    date_of_birth = Day()
    address = fields.String()
    emergency_contact = fields.Method("_emergency_contact")
    gp = fields.Method("_gp")
    sport = fields.String()
    activity_level = fields.Function(lambda c: c.activity_level.value if c.activity_level else None)
    activity_level_label = fields.Function(
        lambda c: c.activity_level.label if c.activity_level else None
    )
    marketing_consent = fields.Boolean()
    marketing_consent_at = Instant()
    created_at = Instant()
    erased_at = Instant()

    def _emergency_contact(self, client: Client) -> dict:
        return {"name": client.emergency_contact_name, "phone": client.emergency_contact_phone}

    def _gp(self, client: Client) -> dict:
        return {"name": client.gp_name, "practice": client.gp_practice}


class PersonSchema(ClinicSchema):
    """A client named in someone else's record: no more than who they are."""

    audiences = dict.fromkeys(("desk", "clinical", "export", "api"), ("id", "name"))

    id = fields.UUID()
    name = fields.String(attribute="full_name")


class FamilySchema(ClinicSchema):
    """The client's guardian and children (records.export.Family)."""

    audiences = dict.fromkeys(("desk", "clinical", "export", "api"), ("guardian", "children"))

    guardian = Nested(PersonSchema, allow_none=True)
    children = Nested(PersonSchema, many=True)
