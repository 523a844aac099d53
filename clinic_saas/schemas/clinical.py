"""Intakes and treatment notes, per audience: the desk sees that they exist, never their content."""

from __future__ import annotations

from marshmallow import fields

from .base import ClinicSchema, Instant, Nested

CLINICAL = ("clinical", "export", "api")
INTAKE_FIELDS = (
    "id",
    "form",
    "questions",
    "flags",
    "consent_text",
    "signed_name",
    "signed_by_guardian",
    "signed_at",
    "submitted_via",
)
NOTE_FIELDS = (
    "id",
    "appointment_id",
    "appointment_starts_at",
    "status",
    "author",
    "created_at",
    "updated_at",
    "signed_at",
    "signed_by",
    "content",
    "amendments",
)


def _desk_sees_only(desk: tuple[str, ...], clinical: tuple[str, ...]) -> dict:
    """The desk sees that a record exists; clinical staff, export and the API see its content."""
    return {"desk": desk, **dict.fromkeys(CLINICAL, clinical)}


class AnswerSchema(ClinicSchema):
    """One question of an intake form with the client's answer, raw and as people read it."""

    audiences = dict.fromkeys(CLINICAL, ("key", "section", "label", "answer", "answer_text"))

    key = fields.String()
    section = fields.String()
    label = fields.String()
    answer = fields.Raw()
    answer_text = fields.String()


class IntakeSchema(ClinicSchema):
    """A signed intake (records.export.Intake): the form, its answers, red flags and consent."""

    audiences = _desk_sees_only(("id", "form", "signed_at"), INTAKE_FIELDS)

    id = fields.UUID(attribute="response.id")
    form = fields.Function(lambda i: {"title": i.template.title, "version": i.template.version})
    questions = Nested(AnswerSchema, many=True)
    flags = fields.List(fields.Dict())
    consent_text = fields.String(attribute="template.consent_text")
    signed_name = fields.String(attribute="response.signed_name")
    signed_by_guardian = fields.Boolean(attribute="response.signed_by_guardian")
    signed_at = Instant(attribute="response.signed_at")
    submitted_via = fields.String(attribute="response.submitted_via")


class AmendmentSchema(ClinicSchema):
    """An amendment added to a signed note (records.export.Amendment)."""

    audiences = dict.fromkeys(CLINICAL, ("id", "created_at", "author", "text"))

    id = fields.UUID(attribute="amendment.id")
    created_at = Instant(attribute="amendment.created_at")
    author = fields.String()
    text = fields.String(attribute="amendment.text")


class NoteSchema(ClinicSchema):
    """A treatment note (records.export.Note) with its authors by name and its amendments."""

    audiences = _desk_sees_only(("id", "appointment_id", "status"), NOTE_FIELDS)

    id = fields.UUID(attribute="note.id")
    appointment_id = fields.UUID(attribute="note.appointment_id")
    appointment_starts_at = Instant()
    status = fields.Function(lambda n: n.note.status.value)
    author = fields.String()
    created_at = Instant(attribute="note.created_at")
    updated_at = Instant(attribute="note.updated_at")
    signed_at = Instant(attribute="note.signed_at")
    signed_by = fields.String()
    content = fields.Raw(attribute="note.content")
    amendments = Nested(AmendmentSchema, many=True)
