"""Reconciliation: repair what lost webhooks missed, from Stripe's own list of recent payments.

For each recent PaymentIntent that names one of our clinics and invoices: a succeeded one we have
not recorded is recorded through recording.record_card_payment (the same path as the webhook); an
attempt still open whose intent has failed or been cancelled is marked failed; an attempt that
succeeded at Stripe but not here is completed. It changes nothing the second time round, so it is
safe to run any number of times; it says what it changed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from .. import tenancy
from ..extensions import db
from ..models import AttemptStatus, Clinic, PaymentChannel
from . import card, recording, stripe_gateway
from .recording import PaymentRefused

ENDED = ("canceled", "requires_payment_method")


def _clinics(connect: bool) -> list[tuple[Clinic, str | None]]:
    with tenancy.platform_access():
        clinics = list(db.session.scalars(select(Clinic).where(Clinic.active.is_(True))))
    if connect:
        return [
            (clinic, clinic.stripe_account_id) for clinic in clinics if clinic.stripe_account_id
        ]
    return [(clinic, None) for clinic in clinics]


def _repair(clinic: Clinic, intent: stripe_gateway.PaymentIntent) -> str | None:
    """What was changed for one intent of this clinic, or None."""
    attempt = card.attempt_for_intent(intent.id)
    if intent.succeeded:
        if recording.payment_for_intent(intent.id) is not None:
            if attempt is not None and attempt.status != AttemptStatus.SUCCEEDED:
                attempt.status = AttemptStatus.SUCCEEDED
                db.session.flush()
                return f"{clinic.slug}: attempt of {intent.id} marked succeeded"
            return None
        try:
            if attempt is not None:
                outcome = card.settle_intent(clinic, attempt, intent)
                payment = outcome.payment
            else:
                payment = recording.record_card_payment(
                    clinic, intent, channel=PaymentChannel.ONLINE, taken_by=None, location_id=None
                )
        except PaymentRefused as refused:
            return f"{clinic.slug}: {intent.id} not recorded: {refused.message}"
        return (
            f"{clinic.slug}: recorded {intent.id} ({payment.amount_minor} "
            f"{payment.currency}) on invoice {intent.metadata.get('invoice_id')}"
        )
    if attempt is None or attempt.status in (AttemptStatus.SUCCEEDED, AttemptStatus.FAILED):
        return None
    if intent.status in ENDED and (intent.status == "canceled" or intent.last_error):
        card.settle_intent(clinic, attempt, intent)
        return f"{clinic.slug}: attempt of {intent.id} marked failed ({intent.status})"
    return None


def reconcile(since: datetime, *, connect: bool) -> list[str]:
    """Repair our records from the PaymentIntents created since `since`; what changed."""
    changes: list[str] = []
    pairs = _clinics(connect)
    by_id = {str(clinic.id): clinic for clinic, _ in pairs}
    accounts = {account for _, account in pairs} if connect else {None}
    for account in sorted(accounts, key=lambda a: a or ""):
        gateway = stripe_gateway.gateway(account)
        for intent in gateway.list_payment_intents(created_since=since):
            clinic = by_id.get(intent.metadata.get("clinic_id", ""))
            if clinic is None or "invoice_id" not in intent.metadata:
                continue
            if connect and clinic.stripe_account_id != account:
                continue  # an intent names a clinic whose account it is not in: not ours
            with tenancy.bound_to(clinic):
                change = _repair(clinic, intent)
            if change:
                changes.append(change)
    return changes
