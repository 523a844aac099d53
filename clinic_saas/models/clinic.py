"""The clinic: the tenant that owns every other record."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import CheckConstraint, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow, uuid7


class Clinic(db.Model):
    __tablename__ = "clinic"
    __table_args__ = (
        CheckConstraint("length(currency) = 3", name="currency_iso"),
        CheckConstraint("length(country) = 2", name="country_iso"),
        CheckConstraint("late_cancellation_hours BETWEEN 0 AND 336", name="late_cancel_window"),
        CheckConstraint("slot_interval_minutes BETWEEN 5 AND 120", name="slot_interval"),
        CheckConstraint("retention_years BETWEEN 1 AND 100", name="retention_range"),
        CheckConstraint("intake_valid_months BETWEEN 1 AND 120", name="intake_validity_range"),
        CheckConstraint("booking_notice_hours BETWEEN 0 AND 336", name="booking_notice_range"),
        CheckConstraint(
            "no_show_fee_minor IS NULL OR no_show_fee_bp IS NULL", name="no_show_fee_one_kind"
        ),
        CheckConstraint(
            "no_show_fee_minor >= 0 AND no_show_fee_bp BETWEEN 0 AND 10000",
            name="no_show_fee_range",
        ),
        CheckConstraint(
            "late_cancellation_fee_minor IS NULL OR late_cancellation_fee_bp IS NULL",
            name="late_fee_one_kind",
        ),
        CheckConstraint(
            "late_cancellation_fee_minor >= 0 AND late_cancellation_fee_bp BETWEEN 0 AND 10000",
            name="late_fee_range",
        ),
        CheckConstraint("payment_terms_days BETWEEN 0 AND 365", name="payment_terms_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    country: Mapped[str] = mapped_column(String(2))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(200))
    tax_registration: Mapped[str | None] = mapped_column(String(40))
    # UK and EU consumer prices include VAT; US prices usually have sales tax added.
    prices_include_tax: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Cancelling closer to the start than this is flagged as a late cancellation.
    late_cancellation_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    # A booking must start at least this long after it is made (0: no minimum).
    booking_notice_hours: Mapped[int] = mapped_column(default=0, server_default="0")
    # Fees charged for a no-show and a late cancellation: an amount in the currency's minor unit,
    # or a share of the service's price in basis points; at most one of each pair, none: no fee.
    no_show_fee_minor: Mapped[int | None] = mapped_column()
    no_show_fee_bp: Mapped[int | None] = mapped_column()
    late_cancellation_fee_minor: Mapped[int | None] = mapped_column()
    late_cancellation_fee_bp: Mapped[int | None] = mapped_column()
    # Free start times are offered on this grid of the clinic's local clock.
    slot_interval_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    # Clinical records are kept this long after the last entry (UK guidance: adults 8 years;
    # children until 25 or 8 years after the last entry, whichever is later). See erasure.py.
    retention_years: Mapped[int] = mapped_column(default=8, server_default="8")
    # An intake older than this is flagged as outdated before the next treatment.
    intake_valid_months: Mapped[int] = mapped_column(default=12, server_default="12")
    # Invoices: the name printed on them (the trading name when empty), the number prefix
    # ("NS" gives NS-2026-000042) and the days a payer has to pay.
    legal_name: Mapped[str | None] = mapped_column(String(200))
    invoice_prefix: Mapped[str] = mapped_column(String(12), default="INV", server_default="INV")
    payment_terms_days: Mapped[int] = mapped_column(default=14, server_default="14")
    # The clinic's own Stripe account (Connect): charges are direct charges on it.
    stripe_account_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_charges_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    stripe_details_submitted: Mapped[bool] = mapped_column(default=False, server_default=false())
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def __repr__(self) -> str:
        return f"<Clinic {self.slug}>"
