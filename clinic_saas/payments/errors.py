"""What a card payment can go wrong with, worded for the person at the desk or paying online.

Each is a Refusal, so a view shows it like any other, and one that no view catches answers its
HTTP status: 402 for a decline, 503 while Stripe cannot be reached, 502 for anything else Stripe
refused, 400 for a webhook whose signature does not hold.
"""

from __future__ import annotations

from ..refusals import Refusal

UNAVAILABLE = (
    "Card payments are unavailable for a moment: nothing was recorded as paid. Please try again "
    "in a minute (a retry never charges the card twice), or take another payment method."
)
REFUSED = (
    "The card payment could not be completed: nothing was recorded as paid. Please try again, "
    "or take another payment method."
)
NOT_CONNECTED = (
    "This clinic has not connected its Stripe account yet: the owner connects it in Settings."
)


class GatewayError(Refusal):
    """Stripe refused the request for a reason that is not the card's (HTTP 502)."""

    status = 502

    def __init__(self, message: str = REFUSED, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail  # Stripe's own words, for the log


class CardDeclined(GatewayError):
    """The card was declined (HTTP 402); `intent_id` is the PaymentIntent where it is known."""

    status = 402

    def __init__(
        self, message: str, *, intent_id: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, detail=code)
        self.intent_id = intent_id
        self.code = code


class StripeUnavailable(GatewayError):
    """Stripe did not answer, or answered 5xx or 429, after the SDK's retries (HTTP 503)."""

    status = 503

    def __init__(self, message: str = UNAVAILABLE, *, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)


class NotConnected(GatewayError):
    """Connect mode, and the clinic has no connected Stripe account to charge on (HTTP 409)."""

    status = 409

    def __init__(self, message: str = NOT_CONNECTED) -> None:
        super().__init__(message)


class WebhookSignatureInvalid(Refusal):
    """A webhook whose Stripe-Signature does not hold (forged, stale, or for another secret)."""

    status = 400
