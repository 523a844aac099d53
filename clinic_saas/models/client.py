"""The clinic's clients: the people who are booked, treated and invoiced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantScoped, UTCDateTime, utcnow


class Client(TenantScoped):
    __tablename__ = "client"
    __table_args__ = (Index("ix_client_name", "clinic_id", "last_name", "first_name"),)

    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
