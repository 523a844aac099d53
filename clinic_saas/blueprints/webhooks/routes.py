"""Stripe's webhook endpoint: CSRF-exempt, the raw body verified against the endpoint secret.

A delivery whose signature does not hold (forged, stale, another secret) is refused with 400 and
changes nothing. A verified event is handled once (payments/webhooks.py) in this request's one
transaction with its id; a repeat is acknowledged with 200. Stripe unreachable while an event is
re-read answers 503, storing nothing, so that Stripe delivers it again.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from ...extensions import csrf
from ...payments import webhooks
from ...payments.errors import GatewayError
from ...payments.stripe_gateway import WebhookSignatureInvalid, verify_webhook
from ...permissions import public
from ...unit_of_work import discard_changes

bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/stripe")
@public
@csrf.exempt
def stripe_event():
    """One Stripe event delivery."""
    try:
        event = verify_webhook(
            request.get_data(cache=False), request.headers.get("Stripe-Signature")
        )
    except WebhookSignatureInvalid as error:
        discard_changes()
        return jsonify(received=False, error=error.message), 400
    try:
        outcome = webhooks.handle(event)
    except webhooks.AlreadyHandled:
        discard_changes()
        return jsonify(received=True, outcome="already handled")
    except GatewayError as error:
        discard_changes()
        return jsonify(received=False, error=error.message), 503
    return jsonify(received=True, outcome=outcome)
