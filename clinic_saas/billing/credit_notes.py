"""Credit notes: the one way to correct an issued invoice, which itself never changes.

A credit note lowers what the payer owes by an amount, with a reason, under its own gapless
number (NS-CN-2026-000003). It credits at most what is still due: to give back money already
received, refund the payment (payments/refunds.py), then credit what remains if needed. The tax
part of a credit is the invoice's own proportion of tax, rounded half up.
"""

from __future__ import annotations

from datetime import date

from .. import display, money
from ..extensions import db
from ..models import Clinic, CreditNote, Invoice, InvoiceStatus, Membership
from . import balances, numbering
from .invoices import REASON_MAX, InvoiceError

CREDITABLE = (InvoiceStatus.ISSUED, InvoiceStatus.PART_PAID)


def credit(
    clinic: Clinic,
    invoice: Invoice,
    *,
    amount_minor: int,
    reason: str,
    by: Membership | None,
    today: date,
) -> CreditNote:
    """Issue a credit note of `amount_minor` against an issued invoice."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvoiceError("Say what the credit corrects.", "reason")
    if len(reason) > REASON_MAX:
        raise InvoiceError(f"Use at most {REASON_MAX} characters.", "reason")
    if invoice.status not in CREDITABLE:
        raise InvoiceError(
            f"A {invoice.status.label.lower()} invoice cannot be credited: only an issued one "
            "with something still due."
        )
    if not isinstance(amount_minor, int) or amount_minor <= 0:
        raise InvoiceError("Enter an amount above zero.", "amount")
    due = balances.of(invoice).due
    if amount_minor > due:
        raise InvoiceError(
            "A credit note covers at most what is still due "
            f"({display.price(due, invoice.currency, clinic.country)}): refund a payment to give "
            "money back.",
            "amount",
        )
    tax = money.divide_half_up(amount_minor * invoice.tax_minor, invoice.total_minor)
    _sequence, number = numbering.next_number(clinic, "credit_note", today.year)
    note = CreditNote(
        invoice_id=invoice.id,
        number=number,
        amount_minor=amount_minor,
        tax_minor=min(tax, amount_minor),
        reason=reason,
        issued_on=today,
        created_by_id=by.id if by is not None else None,
    )
    db.session.add(note)
    db.session.flush()
    balances.settle(invoice)
    return note
