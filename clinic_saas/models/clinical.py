"""Clinical records: intake forms and their answers, red-flag acknowledgements, SOAP notes.

Everything a client told us about their health, and everything a therapist wrote about them, is
held in Encrypted* columns (crypto.py). Plain columns hold only what the desk may see: that an
intake exists, when it was signed, whether it raised a flag, whether a note is signed.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, String, Text, UniqueConstraint, event, false
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto import EncryptedJSON, EncryptedText
from ..extensions import db
from .base import TenantScoped, UTCDateTime, enum_column, tenant_reference, utcnow


class ImmutableRecordError(RuntimeError):
    """An attempt to change what must never change once written (a signature, a signed note)."""


class IntakeTemplate(TenantScoped):
    """One version of the clinic's intake form. Versions are never edited: a change is a new one.

    `questions` is a list of question dicts (see clinical/templates.py for the shape); answers
    point at the version they answered, so an old answer is always read against its own wording.
    """

    __tablename__ = "intake_template"
    __table_args__ = (
        tenant_reference("membership", "created_by_id"),
        UniqueConstraint("clinic_id", "version", name="uq_intake_template_version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(120))
    questions: Mapped[list[dict]] = mapped_column(JSON)
    consent_text: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IntakeLink(TenantScoped):
    """A one-time link to fill in the intake: emailed, or opened at the desk on a clinic device.

    The URL carries a signed token naming the clinic, this row and a random secret whose hash is
    stored here; the row records expiry and use, so a link works once and only until it expires.
    """

    __tablename__ = "intake_link"
    __table_args__ = (
        tenant_reference("client", "client_id"),
        tenant_reference("membership", "created_by_id"),
        Index("ix_intake_link_client", "clinic_id", "client_id"),
    )

    client_id: Mapped[uuid.UUID]
    created_by_id: Mapped[uuid.UUID | None]
    channel: Mapped[str] = mapped_column(String(10))  # "email" or "desk"
    sent_to: Mapped[str | None] = mapped_column(String(254))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IntakeResponse(TenantScoped):
    """A completed, signed intake. Append-only: a later intake is a new row."""

    __tablename__ = "intake_response"
    __table_args__ = (
        tenant_reference("client", "client_id"),
        tenant_reference("intake_template", "template_id"),
        tenant_reference("intake_link", "link_id"),
        Index("ix_intake_response_client", "clinic_id", "client_id", "signed_at"),
    )

    client_id: Mapped[uuid.UUID]
    template_id: Mapped[uuid.UUID]
    link_id: Mapped[uuid.UUID | None]
    # {question key: answer}; the shape of each answer is set by the question's kind.
    answers: Mapped[dict] = mapped_column(EncryptedJSON)
    # Contraindications found in the answers: [{"level", "code", "label", "site", "detail"}].
    flags: Mapped[list[dict]] = mapped_column(EncryptedJSON)
    has_flags: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The most serious flag's level ("absolute", "local", "doctor", "caution"), or None without
    # flags. It says no more than has_flags does to the desk: that a flag exists and whether it
    # stops treatment, never which condition. None with has_flags: an intake stored before the
    # column existed whose flags the migration could not read (see 0008_flag_level).
    flag_level: Mapped[str | None] = mapped_column(String(10))
    signed_name: Mapped[str] = mapped_column(String(120))
    signed_by_guardian: Mapped[bool] = mapped_column(default=False, server_default=false())
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_via: Mapped[str] = mapped_column(String(10))  # "email" or "desk"
    ip_address: Mapped[str | None] = mapped_column(String(45))


class FlagAcknowledgement(TenantScoped):
    """A therapist confirms having read the client's flags (or the lack of an intake) for one
    appointment; the note for that appointment can be written only after this."""

    __tablename__ = "flag_acknowledgement"
    __table_args__ = (
        tenant_reference("appointment", "appointment_id", ondelete="CASCADE"),
        tenant_reference("intake_response", "response_id"),
        tenant_reference("membership", "membership_id"),
        UniqueConstraint("clinic_id", "appointment_id", name="uq_flag_ack_appointment"),
    )

    appointment_id: Mapped[uuid.UUID]
    response_id: Mapped[uuid.UUID | None]
    membership_id: Mapped[uuid.UUID]
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoteStatus(enum.StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"


class TreatmentNote(TenantScoped):
    """The SOAP note of one appointment. Signed means locked: corrections are NoteAmendments."""

    __tablename__ = "treatment_note"
    __table_args__ = (
        tenant_reference("appointment", "appointment_id"),
        tenant_reference("client", "client_id"),
        tenant_reference("membership", "author_id"),
        tenant_reference("membership", "signed_by_id"),
        UniqueConstraint("clinic_id", "appointment_id", name="uq_treatment_note_appointment"),
        Index("ix_treatment_note_client", "clinic_id", "client_id"),
    )

    appointment_id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    author_id: Mapped[uuid.UUID]
    # See clinical/notes.py for the keys (subjective, pain_before, regions, techniques, ...).
    content: Mapped[dict] = mapped_column(EncryptedJSON)
    status: Mapped[NoteStatus] = enum_column(NoteStatus, length=10, default=NoteStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_by_id: Mapped[uuid.UUID | None]

    @property
    def is_signed(self) -> bool:
        return self.status == NoteStatus.SIGNED


class NoteAmendment(TenantScoped):
    """A dated correction to a signed note; the original stays as it was signed."""

    __tablename__ = "note_amendment"
    __table_args__ = (
        tenant_reference("treatment_note", "note_id"),
        tenant_reference("membership", "author_id"),
        Index("ix_note_amendment_note", "clinic_id", "note_id", "created_at"),
    )

    note_id: Mapped[uuid.UUID]
    author_id: Mapped[uuid.UUID]
    text: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Columns that may change on an otherwise immutable row: re-encryption under a new key rewrites
# the ciphertext of the same plaintext, and erasure removes whole rows (never edits them).
_REENCRYPTABLE = {"answers", "flags", "content", "text"}


def _changed(target, names) -> list[str]:
    state = db.inspect(target)
    return [n for n in names if state.attrs[n].history.has_changes()]


@event.listens_for(IntakeResponse, "before_update")
def _intake_response_is_append_only(_mapper, _connection, target) -> None:
    columns = [c.key for c in db.inspect(IntakeResponse).column_attrs]
    changed = _changed(target, [c for c in columns if c not in _REENCRYPTABLE])
    if changed:
        raise ImmutableRecordError(f"a signed intake cannot be changed ({', '.join(changed)})")


@event.listens_for(NoteAmendment, "before_update")
def _amendment_is_append_only(_mapper, _connection, target) -> None:
    columns = [c.key for c in db.inspect(NoteAmendment).column_attrs]
    changed = _changed(target, [c for c in columns if c not in _REENCRYPTABLE])
    if changed:
        raise ImmutableRecordError("an amendment cannot be changed once written")


@event.listens_for(TreatmentNote, "before_update")
def _signed_note_is_locked(_mapper, _connection, target) -> None:
    state = db.inspect(target)
    status = state.attrs.status.history
    was_signed = (status.deleted and status.deleted[0] == NoteStatus.SIGNED) or (
        not status.has_changes() and target.status == NoteStatus.SIGNED
    )
    if not was_signed:
        return
    columns = [c.key for c in db.inspect(TreatmentNote).column_attrs]
    changed = _changed(target, [c for c in columns if c != "content"])
    if changed or _content_changed(state):
        raise ImmutableRecordError("a signed note is locked: add an amendment instead")


def _content_changed(state) -> bool:
    history = state.attrs.content.history
    if not history.has_changes():
        return False
    old = history.deleted[0] if history.deleted else None
    new = history.added[0] if history.added else None
    return old != new  # re-encryption assigns an equal dict
