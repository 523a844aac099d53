"""Money received and given back: payments, refunds, card attempts through Stripe, saved cards,
and the Stripe events already handled.

Payments and refunds are append-only. A payment is recorded once: a Stripe payment by its
PaymentIntent id (unique), a desk payment by its form's one-time key (form_submission). A card
attempt is written and committed BEFORE Stripe is called (invariant 3), so a crash or a timeout
between the two leaves a row that the retry, the webhook or reconciliation completes, and never a
second charge.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import LabelledEnum, TenantScoped, UTCDateTime, enum_column, tenant_reference, utcnow
from .billing import AMOUNT_MAX


class PaymentMethod(LabelledEnum):
    CARD = "card"  # through Stripe
    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"
    TERMINAL = "terminal"  # a card machine outside Stripe
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "bank_transfer": "Bank transfer",
            "terminal": "Card terminal",
        }.get(self.value, self.value.capitalize())


class PaymentChannel(LabelledEnum):
    DESK = "desk"
    ONLINE = "online"  # the client's pay link
    AUTOMATIC = "automatic"  # a saved card charged by the clinic (fees, renewals)


class Payment(TenantScoped):
    """Money received against one invoice. Never updated or deleted: refunds are their own rows."""

    __tablename__ = "payment"
    __table_args__ = (
        tenant_reference("invoice", "invoice_id"),
        tenant_reference("membership", "taken_by_id"),
        tenant_reference("location", "location_id"),
        UniqueConstraint("clinic_id", "stripe_payment_intent_id"),
        CheckConstraint(f"amount_minor BETWEEN 1 AND {AMOUNT_MAX}", name="amount_range"),
        Index("ix_payment_invoice", "clinic_id", "invoice_id"),
        Index("ix_payment_taken", "clinic_id", "taken_at"),
    )

    invoice_id: Mapped[uuid.UUID]
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[PaymentMethod] = enum_column(PaymentMethod)
    channel: Mapped[PaymentChannel] = enum_column(PaymentChannel, default=PaymentChannel.DESK)
    reference: Mapped[str | None] = mapped_column(String(120))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255))
    card_brand: Mapped[str | None] = mapped_column(String(20))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    taken_by_id: Mapped[uuid.UUID | None]  # None when the client paid online or a job charged
    location_id: Mapped[uuid.UUID | None]  # the site whose till it belongs to
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RefundStatus(LabelledEnum):
    PENDING = "pending"  # asked of Stripe, not yet confirmed
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refund(TenantScoped):
    """Money given back from one payment: through Stripe for a card payment, recorded for others.

    A refund is written (pending) and committed before Stripe is asked, under an idempotency key
    made of its own id; its status is the only thing that changes afterwards.
    """

    __tablename__ = "refund"
    __table_args__ = (
        tenant_reference("payment", "payment_id"),
        tenant_reference("membership", "created_by_id"),
        UniqueConstraint("clinic_id", "stripe_refund_id"),
        CheckConstraint(f"amount_minor BETWEEN 1 AND {AMOUNT_MAX}", name="amount_range"),
        Index("ix_refund_payment", "clinic_id", "payment_id"),
        Index("ix_refund_created", "clinic_id", "created_at"),
    )

    payment_id: Mapped[uuid.UUID]
    amount_minor: Mapped[int]
    reason: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[RefundStatus] = enum_column(RefundStatus, default=RefundStatus.PENDING)
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255))
    failure: Mapped[str | None] = mapped_column(String(300))
    created_by_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AttemptStatus(LabelledEnum):
    STARTED = "started"  # written, Stripe not yet answered
    REQUIRES_ACTION = "requires_action"  # 3-D Secure in the client's browser
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class CardAttempt(TenantScoped):
    """One try at charging a card for an invoice: one PaymentIntent, never reused after a decline.

    Its id is the idempotency key of every Stripe call it makes, so a retried request reuses the
    intent it already created instead of charging again.
    """

    __tablename__ = "card_attempt"
    __table_args__ = (
        tenant_reference("invoice", "invoice_id"),
        tenant_reference("membership", "started_by_id"),
        UniqueConstraint("clinic_id", "stripe_payment_intent_id"),
        CheckConstraint(f"amount_minor BETWEEN 1 AND {AMOUNT_MAX}", name="amount_range"),
        Index("ix_card_attempt_invoice", "clinic_id", "invoice_id"),
        Index("ix_card_attempt_created", "clinic_id", "created_at"),
    )

    invoice_id: Mapped[uuid.UUID]
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    channel: Mapped[PaymentChannel] = enum_column(PaymentChannel)
    status: Mapped[AttemptStatus] = enum_column(AttemptStatus, default=AttemptStatus.STARTED)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    stripe_payment_method_id: Mapped[str | None] = mapped_column(String(255))
    failure: Mapped[str | None] = mapped_column(String(300))
    started_by_id: Mapped[uuid.UUID | None]
    location_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class StripeCustomer(TenantScoped):
    """The Stripe customer of a client, in the clinic's own Stripe account."""

    __tablename__ = "stripe_customer"
    __table_args__ = (
        tenant_reference("client", "client_id"),
        UniqueConstraint("clinic_id", "client_id"),
        UniqueConstraint("clinic_id", "customer_id"),
    )

    client_id: Mapped[uuid.UUID]
    customer_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedCard(TenantScoped):
    """A card a client agreed to keep on file, with the words they agreed to and when."""

    __tablename__ = "saved_card"
    __table_args__ = (
        tenant_reference("client", "client_id"),
        UniqueConstraint("clinic_id", "payment_method_id"),
        Index("ix_saved_card_client", "clinic_id", "client_id"),
    )

    client_id: Mapped[uuid.UUID]
    payment_method_id: Mapped[str] = mapped_column(String(255))
    brand: Mapped[str] = mapped_column(String(20))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int]
    exp_year: Mapped[int]
    consent_text: Mapped[str] = mapped_column(Text)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_by: Mapped[str] = mapped_column(String(160))  # "Client (pay link)" or a staff name
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StripeEvent(db.Model):
    """A webhook event handled once: its id is the key, written in the same transaction as what
    the event changed. Not clinic-owned: an event is read before its clinic is known."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    clinic_id: Mapped[uuid.UUID | None]  # the clinic it was routed to, None when unknown
    outcome: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
