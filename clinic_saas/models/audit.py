"""The append-only audit log of clinical records: who read or exported what, when, from where."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantScoped, UTCDateTime, utcnow


class AuditEvent(TenantScoped):
    """One read, export or change of a clinical record.

    client_id is deliberately not a foreign key: the trail must outlive merges and erasures of
    the client it names. detail never holds clinical content, only ids and counts.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_at", "clinic_id", "at"),
        Index("ix_audit_event_client", "clinic_id", "client_id", "at"),
    )

    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    # The actor as shown at the time: a staff member's name and role, or "Client (intake link)".
    actor: Mapped[str] = mapped_column(String(160))
    action: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[uuid.UUID | None]
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[uuid.UUID | None]
    ip_address: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class AppendOnlyError(RuntimeError):
    """The audit log is never edited (PostgreSQL also refuses UPDATE with a trigger, see 0004)."""


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper, _connection, _target) -> None:
    raise AppendOnlyError("audit events are append-only")
