"""Stripe webhook events: each handled once, in the same transaction as what it changed.

`handle(event)` takes an event whose signature the view has verified. Its id is written first
(StripeEvent, the id is the primary key): a repeat finds it and changes nothing, and two deliveries
racing collide on the key, so one of them rolls back whole (AlreadyHandled). The event is routed to
its clinic by `event.account` (Connect), else by `metadata.clinic_id` of its object, else by the
payment or refund it names. Handlers re-read the object from Stripe, or refuse to move a status
backwards, rather than trust the order events arrive in.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import mail, tenancy
from ..billing import balances
from ..extensions import db
from ..models import (
    AttemptStatus,
    Clinic,
    Invoice,
    Membership,
    Payment,
    PaymentChannel,
    Refund,
    RefundStatus,
    Role,
    StripeEvent,
)
from . import card, recording
from .recording import PaymentRefused

log = logging.getLogger(__name__)

OUTCOME_MAX = 2000
REFUND_STATUSES = {
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
}


class AlreadyHandled(Exception):
    """The event was handled by another delivery meanwhile: acknowledge, change nothing."""


def _object(event: dict) -> dict:
    data = event.get("data") or {}
    obj = data.get("object") if isinstance(data, dict) else None
    return obj if isinstance(obj, dict) else {}


def _id_of(value) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _live_keys() -> bool:
    """Whether this installation runs on Stripe's live keys (a test event must not pay here)."""
    return str(current_app.config.get("STRIPE_SECRET_KEY") or "").startswith(
        ("sk_live_", "rk_live_")
    )


def already_handled(event_id: str) -> bool:
    return db.session.get(StripeEvent, event_id) is not None


def _clinic_for(event: dict) -> Clinic | None:
    """The clinic an event concerns (platform work: read across clinics, then bind one)."""
    obj = _object(event)
    with tenancy.platform_access():
        account = event.get("account") or (
            obj.get("id") if event.get("type", "").startswith("account.") else None
        )
        if isinstance(account, str) and account:
            clinic = db.session.scalar(select(Clinic).where(Clinic.stripe_account_id == account))
            if clinic is not None:
                return clinic
        metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        clinic_id = tenancy.parse_id(metadata.get("clinic_id"))
        if clinic_id is not None:
            return db.session.get(Clinic, clinic_id)
        intent_id = _id_of(obj.get("payment_intent"))
        if intent_id:
            clinic_id = db.session.scalar(
                select(Payment.clinic_id).where(Payment.stripe_payment_intent_id == intent_id)
            )
        if clinic_id is None and obj.get("object") == "refund" and _id_of(obj.get("id")):
            clinic_id = db.session.scalar(
                select(Refund.clinic_id).where(Refund.stripe_refund_id == obj["id"])
            )
        return db.session.get(Clinic, clinic_id) if clinic_id is not None else None


def handle(event: dict) -> str:
    """Apply one verified event once; the outcome in words (stored with the event id)."""
    event_id, event_type = event["id"], str(event.get("type") or "")
    if already_handled(event_id):
        return "already handled"
    clinic = _clinic_for(event)
    row = StripeEvent(
        id=event_id[:255], type=event_type[:100], clinic_id=clinic.id if clinic else None
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError as error:
        raise AlreadyHandled(event_id) from error
    handler = HANDLERS.get(event_type)
    if bool(event.get("livemode")) != _live_keys():
        outcome = "ignored: live and test mode differ from this installation's keys"
    elif handler is None:
        outcome = "ignored: not an event we act on"
    elif clinic is None:
        outcome = "ignored: no clinic of ours"
    else:
        with tenancy.bound_to(clinic):
            outcome = handler(clinic, _object(event))
    row.outcome = outcome[:OUTCOME_MAX]
    db.session.flush()
    return outcome


# Handlers: each takes the bound clinic and the event's object, and says what it did -------------


def _payment_succeeded(clinic: Clinic, obj: dict) -> str:
    intent_id = _id_of(obj.get("id"))
    if not intent_id:
        return "ignored: no payment intent"
    intent = card.gateway_for(clinic).retrieve_payment_intent(intent_id)
    if not intent.succeeded:
        return f"{intent_id} is {intent.status} at Stripe now: nothing recorded"
    if "invoice_id" not in intent.metadata:
        return f"{intent_id} names no invoice: not ours"
    attempt = card.attempt_for_intent(intent_id)
    existing = recording.payment_for_intent(intent_id)
    try:
        if attempt is not None:
            card.settle_intent(clinic, attempt, intent)
        else:
            recording.record_card_payment(
                clinic, intent, channel=PaymentChannel.ONLINE, taken_by=None, location_id=None
            )
    except PaymentRefused as refused:
        return f"{intent_id} not recorded: {refused.message}"
    return f"{intent_id} already recorded" if existing else f"{intent_id} recorded"


def _payment_failed(clinic: Clinic, obj: dict) -> str:
    intent_id = _id_of(obj.get("id"))
    attempt = card.attempt_for_intent(intent_id) if intent_id else None
    if attempt is None:
        return f"{intent_id}: no attempt of ours"
    if attempt.status in (AttemptStatus.SUCCEEDED, AttemptStatus.FAILED):
        return f"{intent_id}: attempt already {attempt.status.value}"
    intent = card.gateway_for(clinic).retrieve_payment_intent(intent_id)
    outcome = card.settle_intent(clinic, attempt, intent)
    return f"{intent_id}: attempt {outcome.attempt.status.value}"


def _refund_update(clinic: Clinic, refund_obj: dict) -> str:
    refund_id = _id_of(refund_obj.get("id"))
    status = REFUND_STATUSES.get(str(refund_obj.get("status")))
    if not refund_id or status is None:
        return "ignored: no refund status"
    refund = db.session.scalar(select(Refund).where(Refund.stripe_refund_id == refund_id))
    if refund is None:
        log.warning("Stripe refund %s of clinic %s is not ours", refund_id, clinic.id)
        return f"unknown refund {refund_id}: noted"
    # A final status never goes back to pending: a late "pending" event changes nothing.
    if status == RefundStatus.PENDING or refund.status == status:
        return f"{refund_id} stays {refund.status.value}"
    refund.status = status
    if status == RefundStatus.FAILED:
        reason = refund_obj.get("failure_reason") or "refused by the bank"
        refund.failure = f"Stripe could not refund: {reason}"[:300]
    db.session.flush()
    payment = tenancy.find(Payment, refund.payment_id)
    invoice = tenancy.find(Invoice, payment.invoice_id) if payment is not None else None
    if invoice is not None:
        balances.settle(invoice)
    return f"{refund_id} {status.value}"


def _refund_event(clinic: Clinic, obj: dict) -> str:
    return _refund_update(clinic, obj)


def _charge_refunded(clinic: Clinic, obj: dict) -> str:
    listed = obj.get("refunds")
    refunds = listed.get("data") if isinstance(listed, dict) else None
    if not refunds:
        return "charge refunded: no refunds listed, noted"
    return "; ".join(_refund_update(clinic, item) for item in refunds if isinstance(item, dict))


def _tell_owners(clinic: Clinic, subject: str, template: str, **context) -> None:
    owners = db.session.scalars(
        select(Membership).where(Membership.role == Role.OWNER, Membership.active.is_(True))
    )
    for owner in owners:
        mail.send(owner.user.email, subject, template, clinic=clinic, owner=owner, **context)


def _dispute(clinic: Clinic, obj: dict, *, opened: bool) -> str:
    intent_id = _id_of(obj.get("payment_intent"))
    payment = recording.payment_for_intent(intent_id) if intent_id else None
    if payment is None:
        return f"dispute {obj.get('id')}: no payment of ours"
    invoice = tenancy.find(Invoice, payment.invoice_id)
    status = str(obj.get("status") or "")
    lost = status == "lost"
    invoice.disputed = opened or lost
    db.session.flush()
    amount = obj.get("amount") if isinstance(obj.get("amount"), int) else payment.amount_minor
    _tell_owners(
        clinic,
        f"Card payment disputed: invoice {invoice.number}"
        if opened
        else f"Dispute closed ({status or 'closed'}): invoice {invoice.number}",
        "payment_dispute",
        invoice=invoice,
        payment=payment,
        amount=amount,
        opened=opened,
        status=status,
        reason=str(obj.get("reason") or ""),
    )
    return f"invoice {invoice.number} {'disputed' if invoice.disputed else 'dispute closed'}"


def _dispute_created(clinic: Clinic, obj: dict) -> str:
    return _dispute(clinic, obj, opened=True)


def _dispute_closed(clinic: Clinic, obj: dict) -> str:
    return _dispute(clinic, obj, opened=False)


def _setup_succeeded(clinic: Clinic, obj: dict) -> str:
    return f"setup intent {obj.get('id')} succeeded: noted"


def _account_updated(clinic: Clinic, obj: dict) -> str:
    if obj.get("id") != clinic.stripe_account_id:
        return "ignored: not the clinic's account"
    clinic.stripe_charges_enabled = bool(obj.get("charges_enabled"))
    clinic.stripe_details_submitted = bool(obj.get("details_submitted"))
    db.session.flush()
    return f"charges enabled: {clinic.stripe_charges_enabled}"


HANDLERS = {
    "payment_intent.succeeded": _payment_succeeded,
    "payment_intent.payment_failed": _payment_failed,
    "charge.refunded": _charge_refunded,
    "refund.created": _refund_event,
    "refund.updated": _refund_event,
    "refund.failed": _refund_event,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
    "setup_intent.succeeded": _setup_succeeded,
    "account.updated": _account_updated,
}
