"""The client's own details, confirmed in the intake: date of birth, address, emergency contact
and GP.

The intake shows what the clinic has on record and the client corrects or completes it. Each
value is checked exactly as the desk's edit form checks it. A field the client leaves empty keeps
what the record holds: a link anyone might hold never erases what the clinic already knows. What
changed is written to the record and to its history (an audit event naming the fields, not their
values), in the same transaction as the signed intake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from .. import display
from ..clinical import audit
from ..extensions import db
from ..models import AuditEvent, Client
from .records import (
    ADDRESS_MAX,
    CONTACT_NAME_MAX,
    GP_NAME_MAX,
    GP_PRACTICE_MAX,
    PHONE_MAX,
    ClientError,
    check_field,
    update_client,
)

# The fields the intake asks for, in the order it shows them, with their labels and lengths.
DETAILS = {
    "date_of_birth": "Date of birth",
    "address": "Address",
    "emergency_contact_name": "Emergency contact's name",
    "emergency_contact_phone": "Emergency contact's phone",
    "gp_name": "GP's name",
    "gp_practice": "GP practice",
}
MAX_LENGTHS = {
    "address": ADDRESS_MAX,
    "emergency_contact_name": CONTACT_NAME_MAX,
    "emergency_contact_phone": PHONE_MAX,
    "gp_name": GP_NAME_MAX,
    "gp_practice": GP_PRACTICE_MAX,
}
ACTION = "client.details"


def field_name(name: str) -> str:
    """The posted field of a detail (kept apart from the questions' q-* fields)."""
    return f"d-{name}"


@dataclass
class Details:
    """What the client typed (shown again on a refusal), the checked values, and the problems."""

    typed: dict[str, str] = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def on_record(client: Client, country: str | None) -> Details:
    """The form prefilled from the record, numbers written as people dial them in `country`."""
    typed = {}
    for name in DETAILS:
        value = getattr(client, name)
        if name == "emergency_contact_phone":
            typed[name] = display.phone(value, country)
        else:
            typed[name] = value.isoformat() if hasattr(value, "isoformat") else (value or "")
    return Details(typed=typed)


def read(client: Client, form: Mapping) -> Details:
    """Check each posted detail on its own, then the emergency contact as a pair (a name and the
    number that reaches that person), counting what the record keeps for a field left empty."""
    details = Details()
    for name in DETAILS:
        raw = form.get(field_name(name))
        details.typed[name] = raw if isinstance(raw, str) else ""
        try:
            value = check_field(name, details.typed[name])
        except ClientError as problem:
            details.errors[name] = problem.message
            continue
        if value is not None:
            details.values[name] = value
    contact_name, contact_phone = (
        details.values.get(name, getattr(client, name))
        for name in ("emergency_contact_name", "emergency_contact_phone")
    )
    if contact_name and not contact_phone and "emergency_contact_phone" not in details.errors:
        details.errors["emergency_contact_phone"] = "Give a phone number for this person too."
    if contact_phone and not contact_name and "emergency_contact_name" not in details.errors:
        details.errors["emergency_contact_name"] = "Give this person's name too."
    return details


def confirm(client: Client, details: Details, *, actor: str) -> list[str]:
    """Write what changed to the record and its history; the names of the changed fields."""
    changed = {
        name: value for name, value in details.values.items() if getattr(client, name) != value
    }
    if not changed:
        return []
    update_client(client, **changed)
    audit.record(
        ACTION,
        client_id=client.id,
        subject_type="client",
        subject_id=client.id,
        detail={"fields": list(changed)},
        actor=actor,
    )
    return list(changed)


def _in_a_sentence(label: str) -> str:
    return label if label.startswith("GP") else label[0].lower() + label[1:]


@dataclass(frozen=True)
class Confirmation:
    """The latest time the client changed their details in an intake, and what they changed."""

    at: object
    fields: list[str]

    @property
    def described(self) -> str:
        labels = [_in_a_sentence(DETAILS.get(name, name.replace("_", " "))) for name in self.fields]
        if len(labels) > 1:
            return f"{', '.join(labels[:-1])} and {labels[-1]}"
        return labels[0] if labels else "details"


def latest_change(client: Client) -> Confirmation | None:
    """For the record's page: one indexed look-up of the latest such event."""
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.client_id == client.id, AuditEvent.action == ACTION)
        .order_by(AuditEvent.at.desc())
        .limit(1)
    )
    if event is None:
        return None
    return Confirmation(at=event.at, fields=list((event.detail or {}).get("fields", [])))
