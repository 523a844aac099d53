"""The clinic's own Stripe account: connecting it (Connect onboarding) and knowing its status.

Charges are direct charges on the clinic's account once it can take them; the platform's fee is
the operator's setting (PLATFORM_FEE_BP). Creating the account is idempotent by a key made of the
clinic's id, so a retry after a failure finds the same account instead of making a second one.
"""

from __future__ import annotations

from flask import current_app

from ..extensions import db
from ..models import Clinic
from .onboarding import onboarding


def connect_mode() -> bool:
    """Whether charges go to each clinic's connected account (real Stripe), or to the one
    platform account (the emulator, which has no Connect)."""
    return bool(current_app.config["STRIPE_CONNECT"])


def onboarding_link(clinic: Clinic, *, refresh_url: str, return_url: str) -> str:
    """Where the owner fills in Stripe's forms; the clinic's account is created on first use."""
    service = onboarding()
    if clinic.stripe_account_id is None:
        clinic.stripe_account_id = service.create_account(
            clinic_id=clinic.id,
            email=clinic.email,
            country=clinic.country,
            idempotency_key=f"connect:{clinic.id}",
        )
        db.session.flush()
    return service.account_link(
        clinic.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )


def refresh_status(clinic: Clinic) -> bool:
    """Read the account's status from Stripe into the clinic; whether it can take charges."""
    if clinic.stripe_account_id is None:
        return False
    status = onboarding().account_status(clinic.stripe_account_id)
    clinic.stripe_charges_enabled = status.charges_enabled
    clinic.stripe_details_submitted = status.details_submitted
    db.session.flush()
    return status.charges_enabled


def can_take_cards(clinic: Clinic) -> bool:
    """Cards can be charged: always through the platform account in single-account mode, and
    in Connect mode once the clinic's own account can take charges."""
    return not connect_mode() or (
        clinic.stripe_account_id is not None and clinic.stripe_charges_enabled
    )


def account_for(clinic: Clinic) -> str | None:
    """The connected account every Stripe call for this clinic names (None without Connect)."""
    return clinic.stripe_account_id if connect_mode() else None
