"""Recording money received: the one idempotent path for card payments, and desk payments.

A card payment is recorded by `record_card_payment` whichever way its success is learnt: the pay
page's confirm, the desk, the `payment_intent.succeeded` webhook or reconciliation. It is keyed by
the PaymentIntent id, unique per clinic in the database, so a second call, a duplicate webhook or
two of them racing record it once: the loser's insert fails inside a savepoint and the payment
already there is returned.

Overpayment policy: a card payment is never STARTED for more than the balance due (payments/card.py
charges exactly the balance and refuses a settled invoice). If one still arrives above the balance
(two devices paid at once, or a desk payment landed while the client was paying online), the money
was taken, so it is recorded as received and the invoice shows "overpaid by X: refund" (see
`overpaid_by`); the clinic refunds the difference. A card payment in another currency than the
invoice's is refused and nothing is recorded: that is never our intent, and reconciliation or the
owner deals with it at Stripe. Desk payments (cash, bank transfer, a terminal, other) are refused
above the balance, at zero or below, and on a draft or void invoice.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import tenancy
from ..billing import balances
from ..billing.balances import Balance
from ..extensions import db
from ..models import (
    AttemptStatus,
    CardAttempt,
    Clinic,
    Invoice,
    InvoiceStatus,
    Membership,
    Payment,
    PaymentChannel,
    PaymentMethod,
)
from ..models.billing import AMOUNT_MAX
from ..refusals import Conflict, Refusal
from . import stripe_gateway

REFERENCE_MAX = 120
PAYABLE = (InvoiceStatus.ISSUED, InvoiceStatus.PART_PAID)


class PaymentRefused(Refusal):
    """A payment that cannot be recorded as asked; nothing was recorded."""


class CurrencyMismatch(PaymentRefused, Conflict):
    """Money in another currency than the invoice's (HTTP 409)."""


def overpaid_by(balance: Balance) -> int:
    """How much was received above what the invoice asked for (0 when not overpaid)."""
    return max(0, -balance.due)


def _invoice_of(clinic: Clinic, intent: stripe_gateway.PaymentIntent) -> Invoice:
    if intent.metadata.get("clinic_id") != str(clinic.id):
        raise PaymentRefused("This card payment does not belong to this clinic.")
    invoice = tenancy.find(Invoice, intent.metadata.get("invoice_id"))
    if invoice is None:
        raise PaymentRefused("This card payment names no invoice of this clinic.")
    return invoice


def payment_for_intent(intent_id: str) -> Payment | None:
    """The payment recorded for a PaymentIntent, if any."""
    return db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id))


def _mark_attempt_succeeded(intent_id: str) -> None:
    attempt = db.session.scalar(
        select(CardAttempt).where(CardAttempt.stripe_payment_intent_id == intent_id)
    )
    if attempt is not None and attempt.status != AttemptStatus.SUCCEEDED:
        attempt.status = AttemptStatus.SUCCEEDED
        attempt.failure = None


def record_card_payment(
    clinic: Clinic,
    intent: stripe_gateway.PaymentIntent,
    *,
    channel: PaymentChannel,
    taken_by: Membership | None,
    location_id: uuid.UUID | None,
    card: stripe_gateway.PaymentMethod | None = None,
) -> Payment:
    """Record a succeeded PaymentIntent against the invoice its metadata names, once.

    A second call for the same intent (or a racing one) records nothing and returns the payment
    already there. Refused, recording nothing: an intent that has not succeeded, another clinic's,
    and one in another currency than the invoice's.
    """
    if not intent.succeeded:
        raise PaymentRefused("This card payment has not gone through: nothing was recorded.")
    existing = payment_for_intent(intent.id)
    if existing is not None:
        return existing
    invoice = _invoice_of(clinic, intent)
    if intent.currency.upper() != invoice.currency.upper():
        raise CurrencyMismatch(
            f"This card payment is in {intent.currency.upper()}, the invoice in "
            f"{invoice.currency}: nothing was recorded."
        )
    amount = intent.amount_received or intent.amount
    payment = Payment(
        invoice_id=invoice.id,
        amount_minor=amount,
        currency=invoice.currency,
        method=PaymentMethod.CARD,
        channel=channel,
        stripe_payment_intent_id=intent.id,
        stripe_charge_id=intent.latest_charge,
        card_brand=(card.brand or None) if card else None,
        card_last4=(card.last4 or None) if card else None,
        taken_by_id=taken_by.id if taken_by is not None else None,
        location_id=location_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(payment)
    except IntegrityError:
        # Recorded meanwhile by another request (the webhook, the page's retry): keep that one.
        existing = payment_for_intent(intent.id)
        if existing is None:
            raise
        return existing
    _mark_attempt_succeeded(intent.id)
    balances.settle(invoice)
    return payment


def record_desk_payment(
    clinic: Clinic,
    invoice: Invoice,
    *,
    amount_minor: int,
    method: PaymentMethod,
    reference: str | None,
    taken_by: Membership | None,
    location_id: uuid.UUID | None,
) -> Payment:
    """Record cash, a bank transfer, an outside terminal or another method: never Stripe."""
    if method == PaymentMethod.CARD:
        raise PaymentRefused("A card payment through Stripe is taken with the card, not recorded.")
    if invoice.status == InvoiceStatus.DRAFT:
        raise PaymentRefused("Issue the invoice before taking a payment on it.")
    if invoice.status == InvoiceStatus.VOID:
        raise PaymentRefused("This invoice is void: nothing can be paid on it.")
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise PaymentRefused("Enter an amount above zero.", "amount")
    due = balances.of(invoice).due
    if due <= 0:
        raise PaymentRefused("This invoice is already paid.", "amount")
    if amount_minor > min(due, AMOUNT_MAX):
        raise PaymentRefused(
            "That is more than the balance due: take at most the balance.", "amount"
        )
    reference = " ".join((reference or "").split()) or None
    if reference is not None and len(reference) > REFERENCE_MAX:
        raise PaymentRefused(f"Use at most {REFERENCE_MAX} characters.", "reference")
    payment = Payment(
        invoice_id=invoice.id,
        amount_minor=amount_minor,
        currency=invoice.currency,
        method=method,
        channel=PaymentChannel.DESK,
        reference=reference,
        taken_by_id=taken_by.id if taken_by is not None else None,
        location_id=location_id,
    )
    db.session.add(payment)
    db.session.flush()
    balances.settle(invoice)
    return payment


def payments_of(invoice: Invoice) -> list[Payment]:
    """The payments received on an invoice, oldest first."""
    return list(
        db.session.scalars(
            select(Payment)
            .where(Payment.invoice_id == invoice.id)
            .order_by(Payment.taken_at, Payment.id)
        )
    )
