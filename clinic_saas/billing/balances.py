"""What an invoice still owes, derived from the append-only payments, refunds and credit notes.

    balance = total - credited - (paid - refunded)

Only succeeded refunds count; a pending refund still counts as paid until Stripe confirms it. The
invoice's status column caches where the balance stands (issued, partly paid, paid) and is moved
only by `settle`, in the same transaction as the payment, refund or credit that changed it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..models import CreditNote, Invoice, InvoiceStatus, Payment, Refund, RefundStatus

SETTLED_STATES = (InvoiceStatus.ISSUED, InvoiceStatus.PART_PAID, InvoiceStatus.PAID)


@dataclass(frozen=True)
class Balance:
    total: int
    paid: int  # received, less what was refunded
    credited: int

    @property
    def due(self) -> int:
        return self.total - self.credited - self.paid

    @property
    def refundable(self) -> int:
        return self.paid


def _sums(model, column, key, ids: list[uuid.UUID], *where) -> dict[uuid.UUID, int]:
    rows = db.session.execute(
        select(key, func.coalesce(func.sum(column), 0)).where(key.in_(ids), *where).group_by(key)
    )
    return {invoice_id: int(amount) for invoice_id, amount in rows}


def of_many(invoices: Iterable[Invoice]) -> dict[uuid.UUID, Balance]:
    """Balances of many invoices in three statements, whatever their number."""
    invoices = list(invoices)
    ids = [invoice.id for invoice in invoices]
    if not ids:
        return {}
    paid = _sums(Payment, Payment.amount_minor, Payment.invoice_id, ids)
    refunded_rows = db.session.execute(
        select(Payment.invoice_id, func.coalesce(func.sum(Refund.amount_minor), 0))
        .join(Refund, Refund.payment_id == Payment.id)
        .where(Payment.invoice_id.in_(ids), Refund.status == RefundStatus.SUCCEEDED)
        .group_by(Payment.invoice_id)
    )
    refunded = {invoice_id: int(amount) for invoice_id, amount in refunded_rows}
    credited = _sums(CreditNote, CreditNote.amount_minor, CreditNote.invoice_id, ids)
    return {
        invoice.id: Balance(
            total=invoice.total_minor,
            paid=paid.get(invoice.id, 0) - refunded.get(invoice.id, 0),
            credited=credited.get(invoice.id, 0),
        )
        for invoice in invoices
    }


def of(invoice: Invoice) -> Balance:
    return of_many([invoice])[invoice.id]


def settle(invoice: Invoice) -> Balance:
    """Move an issued invoice's status to where its balance now stands."""
    balance = of(invoice)
    if invoice.status in SETTLED_STATES:
        if balance.due <= 0:
            invoice.status = InvoiceStatus.PAID
        elif balance.paid > 0 or balance.credited > 0:
            invoice.status = InvoiceStatus.PART_PAID
        else:
            invoice.status = InvoiceStatus.ISSUED
        db.session.flush()
    return balance
