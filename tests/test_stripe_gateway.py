"""The Stripe gateway against the real emulator, and in Connect mode against a recording server.

The emulator (localstripe through our launcher) answers as Stripe does for customers, intents,
declines, 3-D Secure, refunds and setup intents. Connect cannot run here, so a tiny HTTP server on
loopback stands in for Stripe and records the exact requests the SDK sends.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
import stripe
from flask import current_app

from clinic_saas.payments.errors import (
    CardDeclined,
    GatewayError,
    NotConnected,
    StripeUnavailable,
    WebhookSignatureInvalid,
)
from clinic_saas.payments.onboarding import FakeOnboarding, onboarding
from clinic_saas.payments.stripe_gateway import gateway, platform_fee, verify_webhook
from clinic_saas.refusals import Refusal

from .stripe_emulator import TEST_WEBHOOK_SECRET, signed_event

VISA = "pm_card_visa"


def key(label: str) -> str:
    return f"test:{label}:{uuid.uuid4()}"


@pytest.fixture
def stripe_app(app, stripe_emulator):
    """The test app, pointed at this process's running emulator, inside an app context."""
    with app.app_context():
        yield app


def card(number: str) -> str:
    """A PaymentMethod for a test card number, made on the emulator (as Stripe.js would)."""
    config = current_app.config
    client = stripe.StripeClient(
        config["STRIPE_SECRET_KEY"], base_addresses={"api": config["STRIPE_API_BASE"]}
    )
    params = {
        "type": "card",
        "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
    }
    return client.v1.payment_methods.create(params).id


def new_intent(amount: int = 4500, payment_method: str = VISA, **metadata):
    return gateway().create_payment_intent(
        amount=amount,
        currency="GBP",
        payment_method=payment_method,
        metadata={"clinic_id": "c-1", "invoice_id": "inv-1", **metadata},
        idempotency_key=key("pay"),
    )


# Against the emulator -----------------------------------------------------------------------


def test_a_customer_carries_the_clinic_and_client_in_its_metadata(stripe_app):
    customer = gateway().create_customer(
        name="Ada Runner",
        email="ada@example.com",
        clinic_id="clinic-1",
        client_id="client-7",
        idempotency_key=key("customer"),
    )
    assert customer.id.startswith("cus_")
    assert (customer.name, customer.email) == ("Ada Runner", "ada@example.com")
    assert customer.metadata == {"clinic_id": "clinic-1", "client_id": "client-7"}


def test_an_intent_created_then_confirmed_with_a_visa_succeeds(stripe_app):
    created = new_intent(4500, attempt="1")
    assert created.status == "requires_confirmation"
    assert (created.amount, created.currency, created.amount_received) == (4500, "gbp", 0)
    paid = gateway().confirm_payment_intent(created.id, idempotency_key=key("confirm"))
    assert paid.succeeded and paid.id == created.id
    assert paid.amount_received == 4500
    assert paid.latest_charge and paid.latest_charge.startswith("ch_")
    assert paid.metadata == {"clinic_id": "c-1", "invoice_id": "inv-1", "attempt": "1"}
    again = gateway().retrieve_payment_intent(created.id)
    assert again.succeeded and again.metadata == paid.metadata
    assert isinstance(again.metadata, dict)


def test_a_declined_card_raises_card_declined_naming_the_intent(stripe_app):
    intent = new_intent(3000, payment_method=card("4000000000000341"))
    with pytest.raises(CardDeclined) as declined:
        gateway().confirm_payment_intent(intent.id)
    assert declined.value.intent_id == intent.id
    assert declined.value.status == 402 and isinstance(declined.value, Refusal)
    assert "declined" in str(declined.value)
    after = gateway().retrieve_payment_intent(intent.id)
    assert after.status == "requires_payment_method" and not after.succeeded
    assert "declined" in after.last_error
    assert after.amount_received == 0
    # A declined intent is not retried in place: it is cancelled and a new one made.
    assert gateway().cancel_payment_intent(intent.id).status == "canceled"


@pytest.mark.parametrize(
    ("success", "status"), [(True, "succeeded"), (False, "requires_payment_method")]
)
def test_3d_secure_asks_for_action_and_authentication_decides(
    stripe_app, stripe_emulator, success, status
):
    intent = new_intent(2500, payment_method=card("4000002500003155"))
    challenged = gateway().confirm_payment_intent(intent.id)
    assert challenged.requires_action and not challenged.succeeded
    assert challenged.client_secret
    stripe_emulator.authenticate(intent.id, challenged.client_secret, success=success)
    assert gateway().retrieve_payment_intent(intent.id).status == status


def test_a_partial_refund_has_an_explicit_amount(stripe_app):
    intent = gateway().confirm_payment_intent(new_intent(6000).id)
    refund = gateway().create_refund(
        payment_intent=intent.id,
        amount=1500,
        metadata={"clinic_id": "c-1", "credit_note_id": "cn-1"},
        idempotency_key=key("refund"),
    )
    assert refund.id.startswith("re_")
    assert (refund.amount, refund.currency, refund.status) == (1500, "gbp", "succeeded")
    assert refund.payment_intent == intent.id and refund.charge == intent.latest_charge
    assert refund.metadata == {"clinic_id": "c-1", "credit_note_id": "cn-1"}
    assert [r.id for r in gateway().list_refunds(intent.id)] == [refund.id]
    with pytest.raises(ValueError, match="positive"):
        gateway().create_refund(
            payment_intent=intent.id, amount=0, metadata={}, idempotency_key=key("refund")
        )


def test_a_setup_intent_keeps_the_card_off_session_only_when_asked(stripe_app):
    customer = gateway().create_customer(
        name="Ben", email=None, clinic_id="c", client_id="b", idempotency_key=key("customer")
    )
    kept = gateway().create_setup_intent(
        customer=customer.id, keep_card=True, metadata={"client_id": "b"}, idempotency_key=key("si")
    )
    assert kept.id.startswith("seti_") and kept.client_secret
    assert (kept.usage, kept.customer, kept.metadata) == (
        "off_session",
        customer.id,
        {"client_id": "b"},
    )
    assert gateway().retrieve_setup_intent(kept.id).status == "requires_payment_method"
    once = gateway().create_setup_intent(
        customer=customer.id, keep_card=False, metadata={}, idempotency_key=key("si")
    )
    assert once.usage == "on_session"


def test_a_card_is_read_and_attached_to_a_customer(stripe_app):
    customer = gateway().create_customer(
        name="Cy", email=None, clinic_id="c", client_id="y", idempotency_key=key("customer")
    )
    pm = gateway().retrieve_payment_method(card("4242424242424242"))
    assert (pm.brand, pm.last4, pm.exp_month, pm.exp_year, pm.customer) == (
        "visa",
        "4242",
        12,
        2034,
        None,
    )
    attached = gateway().attach_payment_method(pm.id, customer=customer.id)
    assert attached.customer == customer.id


def test_recent_intents_are_listed_for_reconciliation(stripe_app):
    before = datetime.now(UTC) - timedelta(seconds=5)
    intent = new_intent(1200)
    recent = gateway().list_payment_intents(created_since=before)
    assert intent.id in [i.id for i in recent]
    future = gateway().list_payment_intents(created_since=datetime.now(UTC) + timedelta(hours=1))
    assert future == []


def test_an_emulator_delivery_verifies_with_the_registered_secret(stripe_app, stripe_emulator):
    """The emulator signs its own deliveries as Stripe does: the webhook helper and the check
    agree with it end to end (a local receiver stands in for the app's route)."""
    received: list[tuple[bytes, str]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        stripe_emulator.register_webhook(
            f"http://127.0.0.1:{server.server_port}/webhooks/stripe",
            TEST_WEBHOOK_SECRET,
            endpoint_id="gateway-test",
            events=["payment_intent.succeeded"],
        )
        paid = gateway().confirm_payment_intent(new_intent(800).id)
        deadline = time.monotonic() + 15
        events = []
        while time.monotonic() < deadline and not events:
            for body, signature in list(received):
                event = verify_webhook(body, signature)
                if event["data"]["object"]["id"] == paid.id:
                    events.append(event)
            time.sleep(0.1)
        assert events and events[0]["type"] == "payment_intent.succeeded"
    finally:
        # Registrations outlive the test: point this one at a closed port for good.
        stripe_emulator.register_webhook(
            "http://127.0.0.1:9/", "whsec_gone", endpoint_id="gateway-test"
        )
        server.shutdown()


def test_clearing_the_store_forgets_what_was_made(stripe_app, stripe_emulator):
    intent = new_intent(700)
    stripe_emulator.clear()
    with pytest.raises(GatewayError) as missing:
        gateway().retrieve_payment_intent(intent.id)
    assert not isinstance(missing.value, StripeUnavailable | CardDeclined)


# Webhook signatures -------------------------------------------------------------------------


def test_a_correctly_signed_event_is_accepted_as_a_plain_dict(app_ctx):
    body, headers = signed_event("charge.refunded", {"id": "ch_1", "object": "charge"})
    event = verify_webhook(body, headers["Stripe-Signature"])
    assert type(event) is dict
    assert event["type"] == "charge.refunded" and event["data"]["object"]["id"] == "ch_1"


def test_a_forged_tampered_or_stale_event_is_refused(app_ctx):
    forged, forged_headers = signed_event("payment_intent.succeeded", {}, secret="whsec_guess")
    body, headers = signed_event("payment_intent.succeeded", {"id": "pi_1", "amount": 100})
    stale, stale_headers = signed_event(
        "payment_intent.succeeded", {}, timestamp=int(time.time()) - 301
    )
    cases = [
        (forged, forged_headers["Stripe-Signature"]),
        (body.replace(b'"amount": 100', b'"amount": 1'), headers["Stripe-Signature"]),
        (stale, stale_headers["Stripe-Signature"]),
        (body, None),
        (body, "t=1,v1=nonsense"),
        (b"\xff\xfe", headers["Stripe-Signature"]),
    ]
    for payload, signature in cases:
        with pytest.raises(WebhookSignatureInvalid) as refused:
            verify_webhook(payload, signature)
        assert refused.value.status == 400


def test_a_signed_body_that_is_not_an_event_is_refused(app_ctx):
    for body in ("not json", "[1, 2]", '{"type": "x"}'):
        header = stripe.WebhookSignature.generate_signature_header(body, TEST_WEBHOOK_SECRET)
        with pytest.raises(WebhookSignatureInvalid):
            verify_webhook(body.encode(), header)


# When Stripe cannot be reached --------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_stripe_is_unavailable_after_retries(make_app):
    down = make_app(STRIPE_API_BASE=f"http://127.0.0.1:{closed_port()}")
    with down.app_context():
        with pytest.raises(StripeUnavailable) as unavailable:
            gateway().create_payment_intent(
                amount=1000, currency="GBP", metadata={}, idempotency_key=key("pay")
            )
        with pytest.raises(StripeUnavailable):
            gateway().confirm_payment_intent("pi_anything")
    assert unavailable.value.status == 503
    assert str(unavailable.value).startswith("Card payments are unavailable for a moment")
    assert "nothing was recorded as paid" in str(unavailable.value)


# Money and keys -----------------------------------------------------------------------------


def test_the_platform_fee_is_basis_points_rounded_half_up():
    assert platform_fee(1000, 150) == 15
    assert platform_fee(1234, 150) == 19  # 18.51
    assert platform_fee(100, 50) == 1  # 0.5 rounds up
    assert platform_fee(100, 49) == 0  # 0.49 rounds down
    assert platform_fee(5000, 0) == 0
    assert platform_fee(5000, 10_000) == 5000


def test_idempotency_keys_and_amounts_are_checked_before_stripe_is_called(stripe_app):
    with pytest.raises(ValueError, match="255"):
        gateway().create_customer(
            name="x", email=None, clinic_id="c", client_id="x", idempotency_key="k" * 256
        )
    for amount in (0, -100, 10.5, True):
        with pytest.raises(ValueError, match="positive"):
            gateway().create_payment_intent(
                amount=amount, currency="GBP", metadata={}, idempotency_key=key("pay")
            )
    with pytest.raises(ValueError, match="ISO 4217"):
        gateway().create_payment_intent(
            amount=100, currency="pounds", metadata={}, idempotency_key=key("pay")
        )
    gateway().create_customer(
        name="x", email=None, clinic_id="c", client_id="x", idempotency_key="k" * 255
    )


# Connect: the contract, against a recording stand-in for Stripe -----------------------------


DECLINE = {
    "type": "card_error",
    "code": "card_declined",
    "decline_code": "insufficient_funds",
    "message": "Your card has insufficient funds.",
    "payment_intent": {
        "id": "pi_declined",
        "object": "payment_intent",
        "status": "requires_payment_method",
    },
}


class Recorder:
    """A loopback HTTP server that answers like Stripe and remembers every request."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                path, _, query = self.path.partition("?")
                recorder.requests.append(
                    {
                        "method": self.command,
                        "path": path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "form": dict(parse_qsl(body or query)),
                    }
                )
                status, answer = 200, recorder.answer(self.command, path, dict(parse_qsl(body)))
                if "pi_declined" in path:  # as Stripe declines: the intent named in the error
                    status, answer = 402, {"error": DECLINE}
                elif "pi_broken" in path:
                    status, answer = 500, {"error": {"type": "api_error", "message": "Oops"}}
                payload = json.dumps(answer)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Request-Id", "req_recorded")
                self.end_headers()
                self.wfile.write(payload.encode())

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def answer(method: str, path: str, form: dict) -> dict:
        now = int(time.time())
        if path.startswith("/v1/payment_intents"):
            status = "succeeded" if path.endswith("/confirm") else "requires_confirmation"
            return {
                "id": "pi_recorded",
                "object": "payment_intent",
                "status": status,
                "amount": int(form.get("amount", 1234)),
                "currency": form.get("currency", "gbp"),
                "metadata": {},
                "created": now,
            }
        if path.startswith("/v1/customers"):
            return {"id": "cus_recorded", "object": "customer", "metadata": {}}
        if path.startswith("/v1/refunds"):
            return {"id": "re_recorded", "object": "refund", "amount": 100, "currency": "gbp"}
        if path == "/v1/account_links":
            return {"object": "account_link", "url": "https://connect.stripe.example/setup/x"}
        if path.startswith("/v1/accounts"):
            return {
                "id": "acct_recorded",
                "object": "account",
                "charges_enabled": method == "GET",
                "details_submitted": method == "GET",
            }
        return {"object": "list", "data": [], "has_more": False, "url": path}

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def recorder():
    stand_in = Recorder()
    yield stand_in
    stand_in.close()


def test_connect_mode_charges_on_the_clinics_account_with_the_platform_fee(make_app, recorder):
    connect = make_app(STRIPE_API_BASE=recorder.base, STRIPE_CONNECT=True, PLATFORM_FEE_BP=150)
    with connect.app_context():
        clinic = gateway("acct_clinic_a")
        clinic.create_customer(
            name="Ada", email=None, clinic_id="c", client_id="a", idempotency_key="cus:c:a"
        )
        clinic.create_payment_intent(
            amount=1234,
            currency="GBP",
            customer="cus_recorded",
            payment_method="pm_1",
            metadata={"clinic_id": "c", "invoice_id": "i"},
            idempotency_key="pay:c:i:1",
        )
        clinic.confirm_payment_intent(
            "pi_recorded", off_session=True, idempotency_key="pay:c:i:1:go"
        )
        clinic.create_refund(
            payment_intent="pi_recorded", amount=100, metadata={}, idempotency_key="refund:c:n"
        )
    customer, create, confirm, refund = recorder.requests
    for request in recorder.requests:
        assert request["headers"]["stripe-account"] == "acct_clinic_a"
    assert customer["headers"]["idempotency-key"] == "cus:c:a"
    assert create["path"] == "/v1/payment_intents"
    assert create["headers"]["idempotency-key"] == "pay:c:i:1"
    assert create["form"] == {
        "amount": "1234",
        "currency": "gbp",
        "customer": "cus_recorded",
        "payment_method": "pm_1",
        "payment_method_types[0]": "card",
        "metadata[clinic_id]": "c",
        "metadata[invoice_id]": "i",
        "application_fee_amount": "19",
    }
    assert confirm["path"] == "/v1/payment_intents/pi_recorded/confirm"
    assert confirm["form"] == {"off_session": "true"}
    assert confirm["headers"]["idempotency-key"] == "pay:c:i:1:go"
    assert refund["headers"]["idempotency-key"] == "refund:c:n"
    assert "application_fee_amount" not in refund["form"]


def test_single_account_mode_sends_no_connect_parameter(make_app, recorder):
    single = make_app(STRIPE_API_BASE=recorder.base, STRIPE_CONNECT=False, PLATFORM_FEE_BP=150)
    with single.app_context():
        clinic = gateway("acct_clinic_a")  # the account is ignored without Connect
        clinic.create_payment_intent(
            amount=1234, currency="GBP", metadata={}, idempotency_key="pay:c:i:1"
        )
        clinic.confirm_payment_intent("pi_recorded", off_session=True)
    create, confirm = recorder.requests
    for request in recorder.requests:
        assert "stripe-account" not in request["headers"]
    assert create["headers"]["idempotency-key"] == "pay:c:i:1"
    assert "application_fee_amount" not in create["form"]
    # The emulator refuses off_session on confirm: only Stripe itself gets it.
    assert confirm["form"] == {}


def test_connect_mode_without_a_connected_account_refuses_to_charge(make_app, recorder):
    connect = make_app(STRIPE_API_BASE=recorder.base, STRIPE_CONNECT=True)
    with connect.app_context(), pytest.raises(NotConnected) as refused:
        gateway(None)
    assert refused.value.status == 409 and "Settings" in str(refused.value)
    assert recorder.requests == []


def test_stripe_onboarding_creates_an_account_and_an_account_link(make_app, recorder):
    real = make_app(STRIPE_API_BASE=recorder.base, STRIPE_ONBOARDING="stripe")
    with real.app_context():
        flow = onboarding()
        account = flow.create_account(
            clinic_id="c-1", email="owner@example.com", country="GB", idempotency_key="acct:c-1"
        )
        url = flow.account_link(
            account,
            refresh_url="https://app.example/refresh",
            return_url="https://app.example/back",
        )
        status = flow.account_status(account)
    assert account == "acct_recorded" and url.startswith("https://")
    assert status.charges_enabled and status.details_submitted
    create, link, read = recorder.requests
    assert create["path"] == "/v1/accounts" and create["form"]["type"] == "standard"
    assert create["form"]["metadata[clinic_id]"] == "c-1"
    assert create["headers"]["idempotency-key"] == "acct:c-1"
    assert link["form"] == {
        "account": "acct_recorded",
        "refresh_url": "https://app.example/refresh",
        "return_url": "https://app.example/back",
        "type": "account_onboarding",
    }
    assert (read["method"], read["path"]) == ("GET", "/v1/accounts/acct_recorded")
    for request in recorder.requests:  # onboarding acts as the platform, on no clinic's account
        assert "stripe-account" not in request["headers"]


def test_fake_onboarding_returns_a_local_url_and_a_status_tests_can_flip(app_ctx):
    FakeOnboarding.forget_all()
    flow = onboarding()
    assert isinstance(flow, FakeOnboarding)
    account = flow.create_account(clinic_id="c", email=None, country="GB", idempotency_key="a:c")
    assert (
        flow.create_account(clinic_id="c", email=None, country="GB", idempotency_key="a:c")
        == account
    )
    assert not flow.account_status(account).charges_enabled
    back = "http://127.0.0.1:5000/c/northside/settings/stripe/return"
    assert flow.account_link(account, refresh_url=back + "?again", return_url=back) == back
    assert flow.account_status(account).charges_enabled
    FakeOnboarding.set_status(account, charges_enabled=False, details_submitted=True)
    status = flow.account_status(account)
    assert (status.charges_enabled, status.details_submitted) == (False, True)
    FakeOnboarding.forget_all()


def test_stripes_own_decline_and_server_errors_become_ours(make_app, recorder):
    stand_in = make_app(STRIPE_API_BASE=recorder.base)
    with stand_in.app_context():
        with pytest.raises(CardDeclined) as declined:
            gateway().confirm_payment_intent("pi_declined")
        with pytest.raises(StripeUnavailable):
            gateway().retrieve_payment_intent("pi_broken")
    assert declined.value.intent_id == "pi_declined"
    assert str(declined.value) == "Your card has insufficient funds."
    assert declined.value.code == "card_declined"
