"""Invoices and who they are addressed to: organisations the clinic bills, the per-clinic number
counter, invoice lines and credit notes.

An invoice is drafted, then issued (it gets its number then, never before), and may be voided.
Once issued its lines never change: each line is a snapshot of description, quantity, unit price
and tax rate, with the amounts computed once (money.line_amounts, rounded per line). What has been
paid is derived from the append-only payments, refunds and credit notes (models/payments.py); the
status column caches that derivation and is kept in step by billing/ in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    column,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import (
    LabelledEnum,
    TenantScoped,
    UTCDateTime,
    enum_column,
    tenant_reference,
    tenant_relationship,
    utcnow,
)
from .client import Client

AMOUNT_MAX = 100_000_000  # minor units: a million pounds on one line is a typing mistake


class Organisation(TenantScoped):
    """A club, team or event organiser the clinic bills for its members' sessions."""

    __tablename__ = "organisation"
    __table_args__ = (UniqueConstraint("clinic_id", "name"),)

    name: Mapped[str] = mapped_column(String(120))
    contact_name: Mapped[str | None] = mapped_column(String(120))
    billing_email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(Text)
    tax_registration: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DocumentCounter(TenantScoped):
    """The last number given to a kind of document ("invoice", "credit_note") in a year.

    Numbers are gapless and unique: they are taken by incrementing this row under a row lock
    (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers) in the transaction that
    issues the document, so a rolled-back issue gives its number back.
    """

    __tablename__ = "document_counter"
    __table_args__ = (
        UniqueConstraint("clinic_id", "kind", "year"),
        CheckConstraint("last_number >= 0", name="last_number_not_negative"),
    )

    kind: Mapped[str] = mapped_column(String(20))
    year: Mapped[int]
    last_number: Mapped[int] = mapped_column(default=0)


class InvoiceStatus(LabelledEnum):
    DRAFT = "draft"
    ISSUED = "issued"  # nothing paid yet
    PART_PAID = "part_paid"
    PAID = "paid"
    VOID = "void"

    @property
    def label(self) -> str:
        return {"part_paid": "Partly paid"}.get(self.value, self.value.capitalize())


class PayerKind(LabelledEnum):
    CLIENT = "client"  # the client, or a parent or guardian: another client record
    ORGANISATION = "organisation"


class Invoice(TenantScoped):
    """A bill to one payer. `client_id` is whose care it is for (None on a club's invoice that
    covers several players: each line then names its client)."""

    __tablename__ = "invoice"
    __table_args__ = (
        tenant_reference("client", "client_id"),
        tenant_reference("client", "payer_client_id"),
        tenant_reference("organisation", "organisation_id"),
        tenant_reference("membership", "created_by_id"),
        UniqueConstraint("clinic_id", "number"),
        CheckConstraint(
            "(payer_kind = 'client' AND payer_client_id IS NOT NULL AND organisation_id IS NULL)"
            " OR (payer_kind = 'organisation' AND organisation_id IS NOT NULL"
            " AND payer_client_id IS NULL)",
            name="one_payer",
        ),
        CheckConstraint("(status = 'draft') = (number IS NULL)", name="numbered_once_issued"),
        CheckConstraint("due_on IS NULL OR issued_on IS NULL OR due_on >= issued_on", name="due"),
        Index("ix_invoice_listing", "clinic_id", "created_at", "id"),
        Index("ix_invoice_status", "clinic_id", "status", "due_on"),
        Index("ix_invoice_client", "clinic_id", "client_id"),
        Index("ix_invoice_payer_client", "clinic_id", "payer_client_id"),
        Index("ix_invoice_organisation", "clinic_id", "organisation_id"),
    )

    number: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[InvoiceStatus] = enum_column(InvoiceStatus, default=InvoiceStatus.DRAFT)
    client_id: Mapped[uuid.UUID | None]
    payer_kind: Mapped[PayerKind] = enum_column(PayerKind, default=PayerKind.CLIENT)
    payer_client_id: Mapped[uuid.UUID | None]
    organisation_id: Mapped[uuid.UUID | None]
    # The payer as addressed when issued: a later change of address never alters the document.
    payer_name: Mapped[str | None] = mapped_column(String(200))
    payer_email: Mapped[str | None] = mapped_column(String(254))
    payer_address: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    prices_include_tax: Mapped[bool] = mapped_column(default=True)
    issued_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(String(200))
    # Fixed at issue from the lines (billing/totals.py); drafts compute them on the fly.
    net_minor: Mapped[int] = mapped_column(default=0)
    tax_minor: Mapped[int] = mapped_column(default=0)
    total_minor: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str | None] = mapped_column(Text)
    disputed: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_by_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client | None] = tenant_relationship("Invoice", "Client", "client_id")
    organisation: Mapped[Organisation | None] = tenant_relationship(
        "Invoice", "Organisation", "organisation_id"
    )


class InvoiceLine(TenantScoped):
    """One line: a snapshot that a later price or menu change never alters.

    `source` names what the line bills ("appointment:<id>", "package_sale:<id>",
    "membership_period:<id>", "no_show_fee:<appointment id>", "late_cancellation_fee:<id>"), and a
    thing is billed on at most one live invoice: the unique index counts only lines of invoices
    that are not void (`live` turns false when its invoice is voided).
    """

    __tablename__ = "invoice_line"
    __table_args__ = (
        tenant_reference("invoice", "invoice_id", ondelete="CASCADE"),
        tenant_reference("client", "client_id"),
        CheckConstraint("quantity BETWEEN 1 AND 1000", name="quantity_range"),
        CheckConstraint(f"unit_price_minor BETWEEN 0 AND {AMOUNT_MAX}", name="unit_price_range"),
        CheckConstraint("tax_rate_bp BETWEEN 0 AND 10000", name="tax_rate_range"),
        CheckConstraint("net_minor + tax_minor = gross_minor", name="amounts_add_up"),
        Index("ix_invoice_line_invoice", "clinic_id", "invoice_id", "position"),
        Index(
            "ux_invoice_line_live_source",
            "clinic_id",
            "source",
            unique=True,
            postgresql_where=and_(column("live"), column("source").is_not(None)),
            sqlite_where=and_(column("live"), column("source").is_not(None)),
        ),
    )

    invoice_id: Mapped[uuid.UUID]
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[uuid.UUID | None]  # whose session: a club's invoice names each player
    service_date: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(default=1)
    unit_price_minor: Mapped[int]
    tax_rate_bp: Mapped[int] = mapped_column(default=0)
    tax_name: Mapped[str | None] = mapped_column(String(60))
    net_minor: Mapped[int]
    tax_minor: Mapped[int]
    gross_minor: Mapped[int]
    source: Mapped[str | None] = mapped_column(String(80))
    live: Mapped[bool] = mapped_column(default=True, server_default=true())


class CreditNote(TenantScoped):
    """A correction of an issued invoice: it lowers what the payer owes. Append-only; numbered
    from its own gapless sequence when created."""

    __tablename__ = "credit_note"
    __table_args__ = (
        tenant_reference("invoice", "invoice_id"),
        tenant_reference("membership", "created_by_id"),
        UniqueConstraint("clinic_id", "number"),
        CheckConstraint(f"amount_minor BETWEEN 1 AND {AMOUNT_MAX}", name="amount_range"),
        CheckConstraint("tax_minor >= 0 AND tax_minor <= amount_minor", name="tax_range"),
        Index("ix_credit_note_invoice", "clinic_id", "invoice_id"),
    )

    invoice_id: Mapped[uuid.UUID]
    number: Mapped[str] = mapped_column(String(40))
    amount_minor: Mapped[int]  # gross, in the invoice's currency
    tax_minor: Mapped[int] = mapped_column(default=0)  # the tax part, in the invoice's proportion
    reason: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
