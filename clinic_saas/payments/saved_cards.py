"""Cards a client agreed to keep on file, with the words they agreed to and when."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Client, Clinic, SavedCard
from ..models.base import utcnow
from . import stripe_gateway

CONSENT_TEXT = (
    "Keep this card on file with {clinic} so that it can be charged for my future payments "
    "(invoices, fees under its cancellation policy and membership renewals). I can ask the clinic "
    "to remove it at any time."
)


def consent_text(clinic: Clinic) -> str:
    """The words the client agrees to by ticking "keep my card"."""
    return CONSENT_TEXT.format(clinic=clinic.name)


def keep(
    clinic: Clinic,
    client: Client,
    gateway: stripe_gateway.Gateway,
    *,
    customer: str,
    payment_method_id: str,
    consent_by: str,
) -> SavedCard:
    """Keep a card (attached to the client's Stripe customer) with the consent given now; once."""
    existing = db.session.scalar(
        select(SavedCard).where(SavedCard.payment_method_id == payment_method_id)
    )
    if existing is not None:
        return existing
    card = gateway.retrieve_payment_method(payment_method_id)
    if not card.customer:  # a succeeded SetupIntent does not always attach it (the emulator)
        card = gateway.attach_payment_method(
            payment_method_id,
            customer=customer,
            idempotency_key=f"attach:{clinic.id}:{client.id}:{payment_method_id}",
        )
    saved = SavedCard(
        client_id=client.id,
        payment_method_id=payment_method_id,
        brand=(card.brand or "card")[:20],
        last4=(card.last4 or "????")[:4],
        exp_month=card.exp_month or 0,
        exp_year=card.exp_year or 0,
        consent_text=consent_text(clinic),
        consent_at=utcnow(),
        consent_by=consent_by,
    )
    try:
        with db.session.begin_nested():
            db.session.add(saved)
    except IntegrityError:  # kept meanwhile by a retried request
        winner = db.session.scalar(
            select(SavedCard).where(SavedCard.payment_method_id == payment_method_id)
        )
        if winner is None:
            raise
        return winner
    return saved
