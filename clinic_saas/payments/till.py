"""Closing the day at the desk, and what the clinic is owed.

The till report of a local day (and a site, and a staff member when asked): payments by method and
by who took them, refunds given back that day, the cash that should be in the drawer, and what is
still outstanding on open invoices. Every figure is an aggregate query, so a busy day costs the
same statements as a quiet one.

Aged receivables put each open invoice with something due into a bucket by days past its due date:
current (not yet due), 1-30, 31-60, 61-90 and over 90 days.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from ..billing import balances
from ..clinic_time import day_range
from ..extensions import db
from ..models import (
    Clinic,
    CreditNote,
    Invoice,
    InvoiceStatus,
    Membership,
    Payment,
    PaymentMethod,
    Refund,
    RefundStatus,
    User,
)

OPEN = (InvoiceStatus.ISSUED, InvoiceStatus.PART_PAID)
BUCKETS = ("Current", "1-30 days", "31-60 days", "61-90 days", "Over 90 days")
AGED_LISTED = 500


@dataclass(frozen=True)
class Row:
    label: str
    count: int
    amount: int


@dataclass
class Till:
    day: date
    by_method: list[Row]
    by_staff: list[Row]
    refunds: list[Row]
    taken: int
    refunded: int
    cash_expected: int
    outstanding: int
    outstanding_count: int


def _filters(model, day: date, clinic: Clinic, location_id, taken_by_id, when):
    span = day_range(day, clinic.tz)
    where = [when >= span.start, when < span.end]
    if location_id is not None:
        where.append(Payment.location_id == location_id)
    if taken_by_id is not None:
        where.append(
            (Payment.taken_by_id if model is Payment else Refund.created_by_id) == taken_by_id
        )
    return where


def _outstanding() -> tuple[int, int]:
    """(amount, invoices) still due on open invoices, in three aggregate statements."""
    total, count = db.session.execute(
        select(func.coalesce(func.sum(Invoice.total_minor), 0), func.count(Invoice.id)).where(
            Invoice.status.in_(OPEN)
        )
    ).one()
    paid = db.session.scalar(
        select(func.coalesce(func.sum(Payment.amount_minor), 0))
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(Invoice.status.in_(OPEN))
    )
    refunded = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_minor), 0))
        .join(Payment, Payment.id == Refund.payment_id)
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(Invoice.status.in_(OPEN), Refund.status == RefundStatus.SUCCEEDED)
    )
    credited = db.session.scalar(
        select(func.coalesce(func.sum(CreditNote.amount_minor), 0))
        .join(Invoice, Invoice.id == CreditNote.invoice_id)
        .where(Invoice.status.in_(OPEN))
    )
    return int(total) - int(credited) - (int(paid) - int(refunded)), int(count)


def till(
    clinic: Clinic,
    day: date,
    *,
    location_id: uuid.UUID | None = None,
    taken_by_id: uuid.UUID | None = None,
) -> Till:
    """The day's takings at one site (or all), by one staff member (or all)."""
    paid_where = _filters(Payment, day, clinic, location_id, taken_by_id, Payment.taken_at)
    by_method = [
        Row(PaymentMethod(method).label, count, int(amount))
        for method, count, amount in db.session.execute(
            select(Payment.method, func.count(Payment.id), func.sum(Payment.amount_minor))
            .where(*paid_where)
            .group_by(Payment.method)
            .order_by(Payment.method)
        )
    ]
    by_staff = [
        Row(name or "Paid online or automatically", count, int(amount))
        for name, count, amount in db.session.execute(
            select(User.name, func.count(Payment.id), func.sum(Payment.amount_minor))
            .select_from(Payment)
            .outerjoin(Membership, Membership.id == Payment.taken_by_id)
            .outerjoin(User, User.id == Membership.user_id)
            .where(*paid_where)
            .group_by(User.name)
            .order_by(User.name)
        )
    ]
    refund_where = _filters(Refund, day, clinic, location_id, taken_by_id, Refund.created_at)
    refunds = [
        Row(PaymentMethod(method).label, count, int(amount))
        for method, count, amount in db.session.execute(
            select(Payment.method, func.count(Refund.id), func.sum(Refund.amount_minor))
            .join(Payment, Payment.id == Refund.payment_id)
            .where(*refund_where, Refund.status == RefundStatus.SUCCEEDED)
            .group_by(Payment.method)
            .order_by(Payment.method)
        )
    ]
    cash_label = PaymentMethod.CASH.label
    cash_in = sum(row.amount for row in by_method if row.label == cash_label)
    cash_out = sum(row.amount for row in refunds if row.label == cash_label)
    outstanding, outstanding_count = _outstanding()
    return Till(
        day=day,
        by_method=by_method,
        by_staff=by_staff,
        refunds=refunds,
        taken=sum(row.amount for row in by_method),
        refunded=sum(row.amount for row in refunds),
        cash_expected=cash_in - cash_out,
        outstanding=outstanding,
        outstanding_count=outstanding_count,
    )


@dataclass(frozen=True)
class Owed:
    invoice: Invoice
    due: int
    days_late: int


@dataclass
class Receivables:
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    rows: dict[str, list[Owed]] = field(default_factory=lambda: defaultdict(list))

    @property
    def total(self) -> int:
        return sum(self.buckets.values())


def bucket_of(days_late: int) -> str:
    if days_late <= 0:
        return BUCKETS[0]
    if days_late <= 30:
        return BUCKETS[1]
    if days_late <= 60:
        return BUCKETS[2]
    if days_late <= 90:
        return BUCKETS[3]
    return BUCKETS[4]


def receivables(today: date) -> Receivables:
    """Open invoices with something due, oldest due date first, in their age buckets."""
    open_invoices = db.session.scalars(
        select(Invoice)
        .where(Invoice.status.in_(OPEN))
        .order_by(Invoice.due_on, Invoice.number)
        .limit(AGED_LISTED)
    ).all()
    owed = balances.of_many(open_invoices)
    result = Receivables()
    for invoice in open_invoices:
        due = owed[invoice.id].due
        if due <= 0:
            continue
        days_late = (today - invoice.due_on).days if invoice.due_on else 0
        bucket = bucket_of(days_late)
        result.buckets[bucket] += due
        result.rows[bucket].append(Owed(invoice, due, max(days_late, 0)))
    return result
