"""Charging a card for one invoice: one CardAttempt, one PaymentIntent, committed in that order.

Invariant 3 in practice. An attempt is written and committed (unit_of_work.commit_intent) before
Stripe is called; the PaymentIntent is created WITHOUT confirming, under the idempotency key
`pay:{clinic}:{invoice}:{attempt}`, and its id is committed before it is confirmed. So:

- a retried request for the same attempt finds the intent already created and re-reads or
  confirms that one: the card is never charged twice;
- Stripe unreachable (StripeUnavailable) leaves the attempt as it was committed, nothing recorded
  as paid, for the retry, the webhook or reconciliation to complete;
- a decline marks the attempt failed with the card's message (and cancels its intent); a new try
  is a new attempt with a new intent, as Stripe will not retry a declined intent in place;
- `requires_action` (3-D Secure) keeps the attempt for the browser, which then asks `refresh`;
- only `succeeded` is paid, recorded through recording.record_card_payment.

A card payment is started for exactly the balance due, never more (see recording.py's policy).
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..billing import balances
from ..extensions import db
from ..models import (
    AttemptStatus,
    CardAttempt,
    Client,
    Clinic,
    Invoice,
    Membership,
    Payment,
    PaymentChannel,
    StripeCustomer,
)
from ..models.base import utcnow
from ..refusals import Conflict, Refusal
from ..unit_of_work import commit_intent
from . import recording, stripe_gateway
from .errors import CardDeclined, GatewayError

FAILURE_MAX = 300
NOT_COMPLETED = (
    "The card's security check was not completed, so nothing was taken. Try again, or use "
    "another card."
)
NOT_PAID = "The card payment did not go through: nothing was taken. Try again, or use another card."


class CardPaymentRefused(Refusal):
    """A card payment that cannot start or continue as asked; nothing was charged."""


class AttemptClosed(CardPaymentRefused, Conflict):
    """The attempt already ended (declined, failed or paid): start a new one (HTTP 409)."""


@dataclass(frozen=True)
class Outcome:
    """Where an attempt stands after a step: succeeded, requires_action, failed or processing."""

    status: str
    attempt: CardAttempt
    message: str | None = None
    client_secret: str | None = None  # for confirmCardPayment when requires_action
    payment: Payment | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


def gateway_for(clinic: Clinic) -> stripe_gateway.Gateway:
    """The gateway of the clinic's Stripe account (its connected account under Connect)."""
    return stripe_gateway.gateway(clinic.stripe_account_id)


def idempotency_key(attempt: CardAttempt, step: str = "") -> str:
    key = f"pay:{attempt.clinic_id}:{attempt.invoice_id}:{attempt.id}"
    return f"{key}:{step}" if step else key


def customer_for(clinic: Clinic, client: Client) -> str:
    """The Stripe customer id of a client, created once (a unique row per client).

    Creating a customer cannot be rolled back, but an orphan customer costs nothing and the
    idempotency key (our ids) makes Stripe answer a retry with the same one.
    """
    row = db.session.scalar(select(StripeCustomer).where(StripeCustomer.client_id == client.id))
    if row is not None:
        return row.customer_id
    customer = gateway_for(clinic).create_customer(
        name=client.full_name,
        email=client.email,
        clinic_id=clinic.id,
        client_id=client.id,
        idempotency_key=f"customer:{clinic.id}:{client.id}",
    )
    row = StripeCustomer(client_id=client.id, customer_id=customer.id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # created meanwhile by another request: use that one
        winner = db.session.scalar(
            select(StripeCustomer).where(StripeCustomer.client_id == client.id)
        )
        if winner is None:
            raise
        return winner.customer_id
    return row.customer_id


def _payable_due(invoice: Invoice) -> int:
    if invoice.status not in recording.PAYABLE:
        raise CardPaymentRefused(
            {
                "draft": "This invoice has not been issued yet.",
                "void": "This invoice is void: nothing can be paid on it.",
                "paid": "This invoice is already paid.",
            }.get(invoice.status.value, "This invoice cannot be paid.")
        )
    due = balances.of(invoice).due
    if due <= 0:
        raise CardPaymentRefused("This invoice is already paid.")
    return due


def open_attempt(
    clinic: Clinic,
    invoice: Invoice,
    *,
    channel: PaymentChannel,
    started_by: Membership | None,
    location_id: uuid.UUID | None,
) -> CardAttempt:
    """A new attempt at paying the invoice's balance by card (flushed, not committed)."""
    due = _payable_due(invoice)
    attempt = CardAttempt(
        invoice_id=invoice.id,
        amount_minor=due,
        currency=invoice.currency,
        channel=channel,
        status=AttemptStatus.STARTED,
        started_by_id=started_by.id if started_by is not None else None,
        location_id=location_id,
    )
    db.session.add(attempt)
    db.session.flush()
    return attempt


def prepare_card(
    clinic: Clinic, attempt: CardAttempt, *, customer: str | None, keep_card: bool
) -> stripe_gateway.SetupIntent:
    """A SetupIntent for the page's card element (usage off_session when the card is kept)."""
    return gateway_for(clinic).create_setup_intent(
        customer=customer,
        keep_card=keep_card,
        metadata={
            "clinic_id": clinic.id,
            "invoice_id": attempt.invoice_id,
            "attempt_id": attempt.id,
        },
        idempotency_key=idempotency_key(attempt, "setup"),
    )


def _fail(attempt: CardAttempt, message: str) -> None:
    attempt.status = AttemptStatus.FAILED
    attempt.failure = message[:FAILURE_MAX]
    db.session.flush()


def _card_of(clinic: Clinic, intent: stripe_gateway.PaymentIntent):
    if not intent.payment_method:
        return None
    try:
        return gateway_for(clinic).retrieve_payment_method(intent.payment_method)
    except GatewayError:
        return None  # the brand and last four are nice to have; the payment stands without


def settle_intent(
    clinic: Clinic,
    attempt: CardAttempt,
    intent: stripe_gateway.PaymentIntent,
    *,
    taken_by: Membership | None = None,
) -> Outcome:
    """Move the attempt to where its PaymentIntent stands, recording the payment on success."""
    if intent.succeeded:
        payment = recording.record_card_payment(
            clinic,
            intent,
            channel=attempt.channel,
            taken_by=taken_by,
            location_id=attempt.location_id,
            card=_card_of(clinic, intent),
        )
        attempt.status = AttemptStatus.SUCCEEDED
        attempt.failure = None
        db.session.flush()
        return Outcome("succeeded", attempt, payment=payment)
    if intent.requires_action:
        attempt.status = AttemptStatus.REQUIRES_ACTION
        db.session.flush()
        return Outcome("requires_action", attempt, client_secret=intent.client_secret)
    if intent.status == "processing":
        return Outcome("processing", attempt, "The payment is being processed.")
    if attempt.status == AttemptStatus.REQUIRES_ACTION:
        message = intent.last_error or NOT_COMPLETED
    else:
        message = intent.last_error or NOT_PAID
    _fail(attempt, message)
    return Outcome("failed", attempt, message)


def charge(
    clinic: Clinic,
    invoice: Invoice,
    attempt: CardAttempt,
    *,
    payment_method: str,
    customer: str | None,
    taken_by: Membership | None = None,
    off_session: bool = False,
) -> Outcome:
    """Charge the attempt's card for the balance; a retry of the same attempt never charges twice.

    CardDeclined becomes a failed attempt (an Outcome); StripeUnavailable propagates, with the
    attempt committed as far as it got.
    """
    if attempt.invoice_id != invoice.id:
        raise CardPaymentRefused("This payment attempt is for another invoice.")
    if attempt.status in (AttemptStatus.FAILED, AttemptStatus.SUCCEEDED):
        raise AttemptClosed("This payment attempt has already ended: reload the page to pay again.")
    gw = gateway_for(clinic)
    if attempt.stripe_payment_intent_id is None:
        attempt.amount_minor = _payable_due(invoice)
        attempt.stripe_payment_method_id = payment_method
        attempt.updated_at = utcnow()
        commit_intent()  # our intent first (invariant 3)
        intent = gw.create_payment_intent(
            amount=attempt.amount_minor,
            currency=attempt.currency,
            metadata={
                "clinic_id": clinic.id,
                "invoice_id": invoice.id,
                "attempt_id": attempt.id,
            },
            idempotency_key=idempotency_key(attempt),
            customer=customer,
            payment_method=payment_method,
        )
        attempt.stripe_payment_intent_id = intent.id
        commit_intent()
    else:
        intent = gw.retrieve_payment_intent(attempt.stripe_payment_intent_id)
    if intent.status == "requires_confirmation":
        try:
            intent = gw.confirm_payment_intent(
                intent.id,
                off_session=off_session,
                idempotency_key=idempotency_key(attempt, "confirm"),
            )
        except CardDeclined as declined:
            _fail(attempt, declined.message)
            # A declined intent is never charged; cancelling it only tidies Stripe's list.
            with contextlib.suppress(GatewayError):
                gw.cancel_payment_intent(
                    intent.id, idempotency_key=idempotency_key(attempt, "cancel")
                )
            return Outcome("failed", attempt, declined.message)
    return settle_intent(clinic, attempt, intent, taken_by=taken_by)


def refresh(clinic: Clinic, attempt: CardAttempt, *, taken_by: Membership | None = None) -> Outcome:
    """Re-read the attempt's PaymentIntent (after 3-D Secure in the browser) and settle it."""
    if attempt.status == AttemptStatus.SUCCEEDED:
        payment = recording.payment_for_intent(attempt.stripe_payment_intent_id or "")
        return Outcome("succeeded", attempt, payment=payment)
    if attempt.status == AttemptStatus.FAILED:
        return Outcome("failed", attempt, attempt.failure or NOT_PAID)
    if attempt.stripe_payment_intent_id is None:
        raise AttemptClosed("This payment attempt never reached the card: start again.")
    intent = gateway_for(clinic).retrieve_payment_intent(attempt.stripe_payment_intent_id)
    return settle_intent(clinic, attempt, intent, taken_by=taken_by)


def attempt_for_intent(intent_id: str) -> CardAttempt | None:
    """The attempt that created a PaymentIntent, if it was ours."""
    return db.session.scalar(
        select(CardAttempt).where(CardAttempt.stripe_payment_intent_id == intent_id)
    )
