"""The clinic's clients: the people who are booked, treated and invoiced."""

from __future__ import annotations

import enum
import re
import uuid
from datetime import date, datetime

import phonenumbers
from sqlalchemy import Date, Index, String, Text, event, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import TenantScoped, UTCDateTime, enum_column, tenant_reference, utcnow


class ActivityLevel(enum.StrEnum):
    RECREATIONAL = "recreational"
    REGULAR = "regular"
    COMPETITIVE = "competitive"
    ELITE = "elite"

    @property
    def label(self) -> str:
        return {
            "recreational": "Recreational (now and then)",
            "regular": "Regular (weekly training)",
            "competitive": "Competitive (club or race level)",
            "elite": "Elite or professional",
        }[self.value]


ERASED_NAME = "Erased client"


def _national_digits(phone: str | None) -> str:
    """The digits as dialled at home ("07700900123" for +447700900123), so either spelling of
    a stored international number is found; "" when the number is not international."""
    if not phone or not phone.startswith("+"):
        return ""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return ""
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return re.sub(r"\D", "", national)


def search_text_of(first: str | None, last: str | None, email: str | None, phone: str | None):
    """What search matches against: lowercased name and email, the phone's bare digits, and
    its digits as dialled in its own country.

    One column with one trigram index (PostgreSQL) serves "contains" searches on all of them.
    """
    digits = re.sub(r"\D", "", phone or "")
    parts = [first or "", last or "", email or "", phone or "", digits, _national_digits(phone)]
    return " ".join(p.lower() for p in parts if p)


class Client(TenantScoped):
    __tablename__ = "client"
    __table_args__ = (
        tenant_reference("client", "guardian_id"),
        Index("ix_client_name", "clinic_id", "last_name", "first_name"),
        Index("ix_client_guardian", "clinic_id", "guardian_id"),
        # Looking for a client already on file (clients/records.possible_duplicates) is an
        # equality on the email or the E.164 phone number within the clinic.
        Index("ix_client_email", "clinic_id", "email"),
        Index("ix_client_phone", "clinic_id", "phone"),
        Index(
            "ix_client_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            # No pending list: a search never scans recent inserts one by one (bench/README.md).
            postgresql_with={"fastupdate": "off"},
        ).ddl_if(dialect="postgresql"),
    )

    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(Text)
    emergency_contact_name: Mapped[str | None] = mapped_column(String(120))
    emergency_contact_phone: Mapped[str | None] = mapped_column(String(40))
    gp_name: Mapped[str | None] = mapped_column(String(120))
    gp_practice: Mapped[str | None] = mapped_column(String(200))
    sport: Mapped[str | None] = mapped_column(String(120))
    activity_level: Mapped[ActivityLevel | None] = enum_column(ActivityLevel)
    marketing_consent: Mapped[bool] = mapped_column(default=False, server_default=false())
    marketing_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Family link: a parent or guardian (also a client) who manages this client's records and
    # bookings, receives the intake link when the client has no email, and signs for a minor.
    guardian_id: Mapped[uuid.UUID | None]
    # Lowercased name, email and phone digits: see search_text_of.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the identity was anonymised on request (erasure.py); the row stays for invoices.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def age_on(self, day: date) -> int | None:
        if self.date_of_birth is None:
            return None
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def is_minor_on(self, day: date) -> bool:
        age = self.age_on(day)
        return age is not None and age < 18

    def refresh_search_text(self) -> None:
        self.search_text = search_text_of(self.first_name, self.last_name, self.email, self.phone)


@event.listens_for(Client, "before_insert")
@event.listens_for(Client, "before_update")
def _keep_search_text(_mapper, _connection, target: Client) -> None:
    target.refresh_search_text()
