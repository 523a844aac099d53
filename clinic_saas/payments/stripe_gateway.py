"""The one module that speaks to Stripe: a small typed API over `stripe.StripeClient`.

Everything the rest of the app gets back is one of the frozen dataclasses below, never a Stripe
object, and every Stripe error becomes one of payments.errors. The client comes from the app's
configuration (STRIPE_SECRET_KEY, STRIPE_API_BASE), never from the global `stripe.api_key`, and
retries network failures twice (the client's own default is a single attempt).

Connect (STRIPE_CONNECT true): charges are direct charges on the clinic's own account, so every
call carries `stripe_account=<the clinic's account>` and a PaymentIntent carries the platform's
`application_fee_amount` (PLATFORM_FEE_BP of the amount, rounded half up). In single-account mode,
as against the local emulator, which knows no Connect, neither is sent. Parameters that only real
Stripe accepts (the emulator refuses them with 400) are sent only when the server is Stripe itself
or Connect is on.

Idempotency keys come from the caller, built from our own ids (`pay:{clinic}:{invoice}:{n}`), so a
retried request replays Stripe's first answer instead of charging again. The emulator ignores
them: our own records must still dedupe.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import stripe
from flask import current_app

from ..config import STRIPE_LIVE_API_BASE
from .errors import CardDeclined, GatewayError, NotConnected, StripeUnavailable
from .errors import WebhookSignatureInvalid as WebhookSignatureInvalid

log = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY = 255
WEBHOOK_TOLERANCE_SECONDS = 300
NETWORK_RETRIES = 2
PAGE_SIZE = 100

T = TypeVar("T")


# What the app gets back ---------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    """A Stripe customer."""

    id: str
    name: str | None = None
    email: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SetupIntent:
    """A SetupIntent: the page confirms it with `client_secret` to save a card."""

    id: str
    status: str
    client_secret: str | None = None
    customer: str | None = None
    payment_method: str | None = None
    usage: str | None = None
    last_error: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class PaymentMethod:
    """A card as Stripe holds it: enough to show "Visa ending 4242, expires 12/30"."""

    id: str
    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    customer: str | None = None


@dataclass(frozen=True)
class PaymentIntent:
    """A PaymentIntent. Only `succeeded` means paid; "no error but not succeeded" is not paid."""

    id: str
    status: str
    amount: int
    currency: str
    amount_received: int = 0
    customer: str | None = None
    payment_method: str | None = None
    latest_charge: str | None = None
    client_secret: str | None = None
    last_error: str | None = None
    created: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def requires_action(self) -> bool:
        """The card asks for 3-D Secure: the page calls confirmCardPayment(client_secret)."""
        return self.status == "requires_action"


@dataclass(frozen=True)
class Refund:
    """A refund of (part of) a payment."""

    id: str
    amount: int
    currency: str
    status: str
    payment_intent: str | None = None
    charge: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountStatus:
    """A connected account: may it take charges, has the owner finished Stripe's forms."""

    id: str
    charges_enabled: bool = False
    details_submitted: bool = False


def _id(value: Any) -> str | None:
    """An id from a field that holds an id, an expanded object, or nothing."""
    if isinstance(value, Mapping):
        return value.get("id")
    return value or None


def _metadata(data: Mapping) -> dict[str, str]:
    return {str(k): str(v) for k, v in (data.get("metadata") or {}).items()}


def _error_message(data: Mapping, key: str) -> str | None:
    error = data.get(key) or {}
    return error.get("message") if isinstance(error, Mapping) else None


def _customer(data: Mapping) -> Customer:
    return Customer(data["id"], data.get("name"), data.get("email"), _metadata(data))


def _setup_intent(data: Mapping) -> SetupIntent:
    return SetupIntent(
        id=data["id"],
        status=data["status"],
        client_secret=data.get("client_secret"),
        customer=_id(data.get("customer")),
        payment_method=_id(data.get("payment_method")),
        usage=data.get("usage"),
        last_error=_error_message(data, "last_setup_error"),
        metadata=_metadata(data),
    )


def _payment_method(data: Mapping) -> PaymentMethod:
    card = data.get("card") or {}
    return PaymentMethod(
        id=data["id"],
        brand=card.get("brand"),
        last4=card.get("last4"),
        exp_month=card.get("exp_month"),
        exp_year=card.get("exp_year"),
        customer=_id(data.get("customer")),
    )


def _payment_intent(data: Mapping) -> PaymentIntent:
    status = data["status"]
    received = data.get("amount_received")
    if received is None:  # the emulator leaves it out: all of it once succeeded, else nothing
        received = data["amount"] if status == "succeeded" else 0
    return PaymentIntent(
        id=data["id"],
        status=status,
        amount=data["amount"],
        currency=data["currency"],
        amount_received=received,
        customer=_id(data.get("customer")),
        payment_method=_id(data.get("payment_method")),
        latest_charge=_id(data.get("latest_charge")),
        client_secret=data.get("client_secret"),
        last_error=_error_message(data, "last_payment_error"),
        created=data.get("created"),
        metadata=_metadata(data),
    )


def _refund(data: Mapping) -> Refund:
    return Refund(
        id=data["id"],
        amount=data["amount"],
        currency=data["currency"],
        status=data.get("status") or "pending",
        payment_intent=_id(data.get("payment_intent")),
        charge=_id(data.get("charge")),
        metadata=_metadata(data),
    )


# Checks and money ---------------------------------------------------------------------------


def platform_fee(amount: int, basis_points: int) -> int:
    """The platform's fee on `amount` minor units: amount x basis_points / 10,000, rounded half
    up to a whole minor unit (1,234 at 150 bp is 18.51, so 19)."""
    return (amount * basis_points + 5_000) // 10_000


def _key(idempotency_key: str) -> str:
    if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise ValueError(f"an idempotency key has 1 to {MAX_IDEMPOTENCY_KEY} characters")
    return idempotency_key


def _amount(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("an amount is a positive whole number of minor units")
    return amount


def _currency(currency: str) -> str:
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        raise ValueError("a currency is an ISO 4217 code")
    return currency.lower()


def _stringify(metadata: Mapping[str, object] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (metadata or {}).items()}


def _translate(error: stripe.StripeError, intent_id: str | None = None) -> GatewayError:
    """Our error for Stripe's, worded for people; Stripe's own words go to the log."""
    if isinstance(error, stripe.CardError):
        # Stripe names the intent in the error (the emulator does not): an id or an object.
        known = getattr(error.error, "payment_intent", None) if error.error else None
        if hasattr(known, "to_dict"):
            known = known.to_dict()
        return CardDeclined(
            error.user_message or "The card was declined.",
            intent_id=_id(known) or intent_id,
            code=error.code,
        )
    status = error.http_status or 0
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError) or status >= 500:
        return StripeUnavailable(detail=str(error))
    return GatewayError(detail=f"{status} {error.user_message or error}")


def _calling(call: Callable[[], Any], intent_id: str | None = None) -> dict:
    """Run one Stripe call and give back its object as a plain dict, or raise one of ours."""
    try:
        return call().to_dict()
    except stripe.StripeError as error:
        translated = _translate(error, intent_id)
        log.warning(
            "Stripe call failed: %s (%s, request %s)",
            translated.detail,
            type(error).__name__,
            error.request_id,
        )
        raise translated from error


def _client(secret: str, base: str) -> stripe.StripeClient:
    """One client per key and address, kept on the app (it holds the HTTP connection pool)."""
    clients = current_app.extensions.setdefault("stripe_clients", {})
    if (secret, base) not in clients:
        clients[(secret, base)] = stripe.StripeClient(
            secret, base_addresses={"api": base}, max_network_retries=NETWORK_RETRIES
        )
    return clients[(secret, base)]


# The gateway --------------------------------------------------------------------------------


class Gateway:
    """Stripe as the app uses it, for one clinic's account (Connect) or the one account."""

    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        account: str | None = None,
        platform_fee_bp: int = 0,
        full_api: bool = False,
    ) -> None:
        self._client = client
        self.account = account  # None in single-account mode: no Connect parameter is sent
        self.platform_fee_bp = platform_fee_bp
        # Stripe itself (or Connect, which only Stripe has): parameters the emulator refuses.
        self.full_api = full_api or account is not None

    def _options(self, idempotency_key: str | None = None) -> dict:
        options: dict[str, str] = {}
        if self.account:
            options["stripe_account"] = self.account
        if idempotency_key is not None:
            options["idempotency_key"] = _key(idempotency_key)
        return options

    # Customers

    def create_customer(
        self,
        *,
        name: str,
        email: str | None,
        clinic_id: object,
        client_id: object,
        idempotency_key: str,
    ) -> Customer:
        """A Stripe customer for one of the clinic's clients."""
        params: dict[str, Any] = {
            "name": name,
            "metadata": {"clinic_id": str(clinic_id), "client_id": str(client_id)},
        }
        if email:
            params["email"] = email
        options = self._options(idempotency_key)
        return _customer(_calling(lambda: self._client.v1.customers.create(params, options)))

    # Saved cards

    def create_setup_intent(
        self,
        *,
        customer: str | None,
        keep_card: bool,
        metadata: Mapping[str, object],
        idempotency_key: str,
    ) -> SetupIntent:
        """A SetupIntent for the card element; `keep_card` (the client agreed to keep it on
        file) makes it usable off-session later, otherwise it serves this payment only. Without
        a customer (an organisation paying) the card serves this payment only."""
        params: dict[str, Any] = {
            "payment_method_types": ["card"],
            "usage": "off_session" if keep_card and customer else "on_session",
            "metadata": _stringify(metadata),
        }
        if customer:
            params["customer"] = customer
        options = self._options(idempotency_key)
        return _setup_intent(
            _calling(lambda: self._client.v1.setup_intents.create(params, options))
        )

    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupIntent:
        """The SetupIntent as Stripe has it now."""
        options = self._options()
        return _setup_intent(
            _calling(lambda: self._client.v1.setup_intents.retrieve(setup_intent_id, None, options))
        )

    def retrieve_payment_method(self, payment_method_id: str) -> PaymentMethod:
        """A card's brand, last four digits, expiry and customer."""
        options = self._options()
        return _payment_method(
            _calling(
                lambda: self._client.v1.payment_methods.retrieve(payment_method_id, None, options)
            )
        )

    def attach_payment_method(
        self, payment_method_id: str, *, customer: str, idempotency_key: str | None = None
    ) -> PaymentMethod:
        """Keep a card on the customer (a succeeded SetupIntent does not always attach it)."""
        params = {"customer": customer}
        options = self._options(idempotency_key)
        return _payment_method(
            _calling(
                lambda: self._client.v1.payment_methods.attach(payment_method_id, params, options)
            )
        )

    # Payments

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        metadata: Mapping[str, object],
        idempotency_key: str,
        customer: str | None = None,
        payment_method: str | None = None,
    ) -> PaymentIntent:
        """A PaymentIntent, NOT confirmed: store its id, then `confirm_payment_intent`, so that a
        decline still leaves the id in our records (the emulator's decline does not name it)."""
        amount = _amount(amount)
        params: dict[str, Any] = {
            "amount": amount,
            "currency": _currency(currency),
            "payment_method_types": ["card"],
            "metadata": _stringify(metadata),
        }
        if customer:
            params["customer"] = customer
        if payment_method:
            params["payment_method"] = payment_method
        if self.account and self.platform_fee_bp:
            params["application_fee_amount"] = platform_fee(amount, self.platform_fee_bp)
        options = self._options(idempotency_key)
        return _payment_intent(
            _calling(lambda: self._client.v1.payment_intents.create(params, options))
        )

    def confirm_payment_intent(
        self,
        payment_intent_id: str,
        *,
        off_session: bool = False,
        idempotency_key: str | None = None,
    ) -> PaymentIntent:
        """Charge the intent's card. A decline raises CardDeclined naming the intent; a card
        that asks for 3-D Secure comes back `requires_action`.

        `off_session` (a saved card charged while the client is away) is sent to Stripe itself
        only: the emulator refuses it on confirm, and treats every confirm the same anyway."""
        params = {"off_session": True} if off_session and self.full_api else None
        options = self._options(idempotency_key)
        return _payment_intent(
            _calling(
                lambda: self._client.v1.payment_intents.confirm(payment_intent_id, params, options),
                intent_id=payment_intent_id,
            )
        )

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        """The PaymentIntent as Stripe has it now: re-read it rather than trust an event's order."""
        options = self._options()
        return _payment_intent(
            _calling(
                lambda: self._client.v1.payment_intents.retrieve(payment_intent_id, None, options),
                intent_id=payment_intent_id,
            )
        )

    def cancel_payment_intent(
        self, payment_intent_id: str, *, idempotency_key: str | None = None
    ) -> PaymentIntent:
        """Cancel an intent that will not be paid (a declined attempt is never retried in place)."""
        options = self._options(idempotency_key)
        return _payment_intent(
            _calling(
                lambda: self._client.v1.payment_intents.cancel(payment_intent_id, None, options),
                intent_id=payment_intent_id,
            )
        )

    def list_payment_intents(self, *, created_since: datetime) -> list[PaymentIntent]:
        """PaymentIntents created at or after `created_since`, for reconciliation.

        Stripe filters by `created` itself; the emulator refuses that filter, so there the whole
        list is read and filtered here (it lists oldest first, Stripe newest first)."""
        since = int(created_since.timestamp())
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        if self.full_api:
            params["created"] = {"gte": since}
        options = self._options()

        def read_all():
            page = self._client.v1.payment_intents.list(params, options)
            return [item.to_dict() for item in page.auto_paging_iter()]

        try:
            items = read_all()
        except stripe.StripeError as error:
            raise _translate(error) from error
        intents = [_payment_intent(item) for item in items if (item.get("created") or 0) >= since]
        return sorted(intents, key=lambda intent: (intent.created or 0, intent.id))

    # Refunds

    def create_refund(
        self,
        *,
        payment_intent: str,
        amount: int,
        metadata: Mapping[str, object],
        idempotency_key: str,
    ) -> Refund:
        """Refund `amount` of a payment. The amount is always explicit: without one the emulator
        refunds the whole charge again. Checking it against what is refundable is the caller's."""
        params = {
            "payment_intent": payment_intent,
            "amount": _amount(amount),
            "metadata": _stringify(metadata),
        }
        options = self._options(idempotency_key)
        return _refund(_calling(lambda: self._client.v1.refunds.create(params, options)))

    def list_refunds(self, payment_intent: str) -> list[Refund]:
        """Every refund of one payment."""
        params = {"payment_intent": payment_intent, "limit": PAGE_SIZE}
        options = self._options()
        try:
            page = self._client.v1.refunds.list(params, options)
            items = [item.to_dict() for item in page.auto_paging_iter()]
        except stripe.StripeError as error:
            raise _translate(error) from error
        return [_refund(item) for item in items]


def full_api(config: Mapping) -> bool:
    """Whether the configured server is Stripe itself, or Connect is on (only Stripe has it)."""
    return bool(config.get("STRIPE_CONNECT")) or config["STRIPE_API_BASE"] == STRIPE_LIVE_API_BASE


def gateway(account: str | None = None) -> Gateway:
    """The gateway of the current app's configuration; in Connect mode, for the clinic's
    connected `account` (without one nothing can be charged: NotConnected)."""
    config = current_app.config
    connect = bool(config.get("STRIPE_CONNECT"))
    if connect and not account:
        raise NotConnected()
    return Gateway(
        _client(config["STRIPE_SECRET_KEY"], config["STRIPE_API_BASE"]),
        account=account if connect else None,
        platform_fee_bp=int(config.get("PLATFORM_FEE_BP") or 0) if connect else 0,
        full_api=full_api(config),
    )


# Webhooks -----------------------------------------------------------------------------------


def verify_webhook(
    payload: bytes,
    signature: str | None,
    secret: str | None = None,
    tolerance: int = WEBHOOK_TOLERANCE_SECONDS,
) -> dict:
    """The event of a webhook delivery as a plain dict, once its Stripe-Signature header holds
    for the raw body and the endpoint secret (default: STRIPE_WEBHOOK_SECRET) within
    `tolerance` seconds; otherwise WebhookSignatureInvalid."""
    secret = secret if secret is not None else current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not signature:
        raise WebhookSignatureInvalid("No Stripe-Signature header.")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature, secret, tolerance)
    except UnicodeDecodeError as error:
        raise WebhookSignatureInvalid("The webhook body is not UTF-8 text.") from error
    except stripe.SignatureVerificationError as error:
        raise WebhookSignatureInvalid(f"The webhook signature does not hold: {error}") from error
    try:
        event = json.loads(text)
    except ValueError as error:
        raise WebhookSignatureInvalid("The signed webhook body is not JSON.") from error
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise WebhookSignatureInvalid("The signed webhook body is not a Stripe event.")
    return event


# Connect onboarding through Stripe ----------------------------------------------------------


class StripeOnboarding:
    """Onboarding by Account Links on Stripe itself (payments.onboarding.Onboarding)."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def create_account(
        self, *, clinic_id: object, email: str | None, country: str, idempotency_key: str
    ) -> str:
        """A Standard connected account for the clinic; its id."""
        params: dict[str, Any] = {
            "type": "standard",
            "country": country,
            "metadata": {"clinic_id": str(clinic_id)},
        }
        if email:
            params["email"] = email
        options = {"idempotency_key": _key(idempotency_key)}
        return _calling(lambda: self._client.v1.accounts.create(params, options))["id"]

    def account_link(self, account: str, *, refresh_url: str, return_url: str) -> str:
        """A single-use, short-lived address of Stripe's onboarding forms for the owner."""
        params = {
            "account": account,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "type": "account_onboarding",
        }
        return _calling(lambda: self._client.v1.account_links.create(params))["url"]

    def account_status(self, account: str) -> AccountStatus:
        """Whether the account may take charges yet."""
        data = _calling(lambda: self._client.v1.accounts.retrieve(account))
        return AccountStatus(
            data["id"], bool(data.get("charges_enabled")), bool(data.get("details_submitted"))
        )


def stripe_onboarding() -> StripeOnboarding:
    """Onboarding through the configured Stripe server, as the platform (no stripe_account)."""
    config = current_app.config
    return StripeOnboarding(_client(config["STRIPE_SECRET_KEY"], config["STRIPE_API_BASE"]))
