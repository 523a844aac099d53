"""Connecting a clinic's own Stripe account (Connect onboarding), behind one small interface.

On Stripe itself, StripeOnboarding (in stripe_gateway) creates the account and a single-use
Account Link to Stripe's forms. The emulator has no Connect, so development and the tests use
FakeOnboarding, chosen by STRIPE_ONBOARDING ("fake" anywhere but production, which refuses it).
"""

from __future__ import annotations

import hashlib
import threading
from typing import Protocol

from flask import current_app

from .stripe_gateway import AccountStatus, stripe_onboarding


class Onboarding(Protocol):
    """What the Settings pages need to connect a clinic's Stripe account and show its status."""

    def create_account(
        self, *, clinic_id: object, email: str | None, country: str, idempotency_key: str
    ) -> str: ...

    def account_link(self, account: str, *, refresh_url: str, return_url: str) -> str: ...

    def account_status(self, account: str) -> AccountStatus: ...


class FakeOnboarding:
    """Onboarding without Stripe, for development and tests.

    Accounts live in this process only. The same idempotency key gives the same account, as on
    Stripe. An Account Link leads straight back to `return_url`, as if the owner had filled in
    Stripe's forms at once, and the account can then take charges; tests set any other status
    with `set_status`.
    """

    _accounts: dict[str, AccountStatus] = {}  # shared by every instance in the process
    _lock = threading.Lock()

    def create_account(
        self, *, clinic_id: object, email: str | None, country: str, idempotency_key: str
    ) -> str:
        """A new (or, for a repeated key, the same) account that cannot take charges yet."""
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]
        account = f"acct_fake_{digest}"
        with self._lock:
            self._accounts.setdefault(account, AccountStatus(account))
        return account

    def account_link(self, account: str, *, refresh_url: str, return_url: str) -> str:
        """Our own return address: the owner "completes" onboarding by following it."""
        self.set_status(account, charges_enabled=True, details_submitted=True)
        return return_url

    def account_status(self, account: str) -> AccountStatus:
        """The account's status; one this process never created cannot take charges."""
        with self._lock:
            return self._accounts.get(account, AccountStatus(account))

    @classmethod
    def set_status(cls, account: str, *, charges_enabled: bool, details_submitted: bool) -> None:
        """Flip an account's status, as Stripe's account.updated would report it."""
        with cls._lock:
            cls._accounts[account] = AccountStatus(account, charges_enabled, details_submitted)

    @classmethod
    def forget_all(cls) -> None:
        """Drop every fake account (tests start from none)."""
        with cls._lock:
            cls._accounts.clear()


def onboarding() -> Onboarding:
    """The configured onboarding: Stripe's Account Links, or the fake."""
    if current_app.config["STRIPE_ONBOARDING"] == "fake":
        return FakeOnboarding()
    return stripe_onboarding()
