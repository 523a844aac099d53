"""One-time keys of the forms that record something: a repeat of a form records nothing new.

A form that records (a sale, an enrolment, a refund) carries a key issued when its page was
rendered. The request that records claims the key in the same transaction as its write; the key is
unique per clinic, so a double click or a resent request finds the first claim instead of writing
again, even when both arrive at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantScoped, UTCDateTime, utcnow


class FormSubmission(TenantScoped):
    """A form's key and what its first submission recorded (`kind`, `object_id`)."""

    __tablename__ = "form_submission"
    __table_args__ = (UniqueConstraint("clinic_id", "key"),)

    key: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(40))
    # Set by the request that claimed the key, before it commits: None only while it runs.
    object_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
