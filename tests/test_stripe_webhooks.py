"""Stripe's webhooks and reconciliation against the real emulator: an event is handled once, a
forged or stale one changes nothing, events out of order end in the right state, and
`flask stripe-reconcile` repairs a payment whose webhook never came, once."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import (
    AttemptStatus,
    CardAttempt,
    Clinic,
    InvoiceStatus,
    Payment,
    PaymentChannel,
    Refund,
    RefundStatus,
    StripeEvent,
)
from clinic_saas.payments import recording
from clinic_saas.payments.errors import CardDeclined
from clinic_saas.payments.stripe_gateway import gateway

from .payments_support import (
    confirm_setup,
    invoice_of,
    issued_invoice,
    on_clinic,
    pay_post,
    pay_with,
    rows,
)
from .stripe_emulator import signed_event

VISA = "4242424242424242"


def events(app) -> list[StripeEvent]:
    with app.app_context(), tenancy.platform_access():
        return list(db.session.scalars(select(StripeEvent)))


def deliver(client, event_type, obj, **kwargs):
    body, headers = signed_event(event_type, obj, **kwargs)
    return client.post("/webhooks/stripe", data=body, headers=headers)


def paid_at_stripe(app, clinic_a, invoice_id, amount=6000, card="pm_card_visa"):
    """A PaymentIntent for the invoice paid at Stripe, which we have not heard of."""

    def pay(clinic):
        gw = gateway()
        intent = gw.create_payment_intent(
            amount=amount,
            currency="GBP",
            metadata={"clinic_id": clinic.id, "invoice_id": invoice_id},
            idempotency_key=f"test:{uuid.uuid4()}",
            payment_method=card,
        )
        return gw.confirm_payment_intent(intent.id).id

    return on_clinic(app, clinic_a, pay)


def intent_object(app, clinic_a, intent_id, invoice_id):
    return {
        "id": intent_id,
        "object": "payment_intent",
        "status": "succeeded",
        "metadata": {"clinic_id": str(clinic_a.clinic_id), "invoice_id": str(invoice_id)},
    }


def test_a_duplicated_webhook_records_one_payment(app, client, clinic_a, stripe_emulator):
    invoice_id, _ = issued_invoice(app, clinic_a, (6000,))
    intent_id = paid_at_stripe(app, clinic_a, invoice_id)
    obj = intent_object(app, clinic_a, intent_id, invoice_id)
    first = deliver(client, "payment_intent.succeeded", obj, event_id="evt_dup_1")
    again = deliver(client, "payment_intent.succeeded", obj, event_id="evt_dup_1")
    other = deliver(client, "payment_intent.succeeded", obj, event_id="evt_dup_2")
    assert first.status_code == again.status_code == other.status_code == 200
    assert first.get_json()["outcome"] == f"{intent_id} recorded"
    assert again.get_json()["outcome"] == "already handled"
    assert other.get_json()["outcome"] == f"{intent_id} already recorded"
    [payment] = rows(app, clinic_a, Payment)
    assert payment.amount_minor == 6000 and payment.channel == PaymentChannel.ONLINE
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PAID
    assert sorted(e.id for e in events(app)) == ["evt_dup_1", "evt_dup_2"]


@pytest.mark.parametrize("forgery", ["wrong secret", "stale", "no header", "altered body"])
def test_a_forged_or_stale_signature_is_refused_and_changes_nothing(
    app, client, clinic_a, stripe_emulator, forgery
):
    invoice_id, _ = issued_invoice(app, clinic_a, (6000,))
    intent_id = paid_at_stripe(app, clinic_a, invoice_id)
    obj = intent_object(app, clinic_a, intent_id, invoice_id)
    kwargs = {
        "wrong secret": {"secret": "whsec_someone_else"},
        "stale": {"timestamp": int(time.time()) - 3600},
    }.get(forgery, {})
    body, headers = signed_event("payment_intent.succeeded", obj, **kwargs)
    if forgery == "no header":
        headers.pop("Stripe-Signature")
    if forgery == "altered body":
        body = body.replace(b"payment_intent.succeeded", b"payment_intent.succeeded ")
    answer = client.post("/webhooks/stripe", data=body, headers=headers)
    assert answer.status_code == 400
    assert rows(app, clinic_a, Payment) == [] and events(app) == []


def test_an_unknown_event_is_acknowledged_and_ignored(app, client, clinic_a):
    answer = deliver(client, "customer.created", {"id": "cus_1", "object": "customer"})
    assert answer.status_code == 200 and answer.get_json()["outcome"].startswith("ignored")
    assert [e.type for e in events(app)] == ["customer.created"]


def test_a_late_failure_event_never_undoes_a_payment(app, client, clinic_a, stripe_emulator):
    invoice_id, token = issued_invoice(app, clinic_a, (6000,))
    _attempt, answer = pay_with(client, stripe_emulator, token, VISA)
    assert answer.get_json()["status"] == "succeeded"
    [attempt] = rows(app, clinic_a, CardAttempt)
    obj = intent_object(app, clinic_a, attempt.stripe_payment_intent_id, invoice_id)
    late = deliver(client, "payment_intent.payment_failed", {**obj, "status": "failed"})
    assert late.status_code == 200
    assert rows(app, clinic_a, CardAttempt)[0].status == AttemptStatus.SUCCEEDED
    assert len(rows(app, clinic_a, Payment)) == 1
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PAID


def test_a_stale_failure_event_for_an_intent_that_succeeded_records_it(
    app, client, clinic_a, stripe_emulator
):
    """The page's answer was lost and the first event to arrive is an old failure: the handler
    re-reads the intent, finds it paid, and records it."""
    invoice_id, token = issued_invoice(app, clinic_a, (6000,))
    started = pay_post(client, token, "start").get_json()
    setup_id = confirm_setup(stripe_emulator, started["client_secret"], VISA)
    from .payments_support import stripe_client

    payment_method = stripe_client(stripe_emulator).v1.setup_intents.retrieve(setup_id)

    def paid_but_unheard(clinic):
        attempt = tenancy.find(CardAttempt, started["attempt"])
        gw = gateway()
        intent = gw.create_payment_intent(
            amount=6000,
            currency="GBP",
            metadata={"clinic_id": clinic.id, "invoice_id": invoice_id, "attempt_id": attempt.id},
            idempotency_key=f"pay:{clinic.id}:{invoice_id}:{attempt.id}",
            payment_method=payment_method.payment_method,
        )
        attempt.stripe_payment_intent_id = intent.id
        return gw.confirm_payment_intent(intent.id).id

    intent_id = on_clinic(app, clinic_a, paid_but_unheard)
    obj = intent_object(app, clinic_a, intent_id, invoice_id)
    deliver(client, "payment_intent.payment_failed", {**obj, "status": "requires_payment_method"})
    assert rows(app, clinic_a, CardAttempt)[0].status == AttemptStatus.SUCCEEDED
    assert [p.stripe_payment_intent_id for p in rows(app, clinic_a, Payment)] == [intent_id]


def _refund_on_record(app, clinic_a, stripe_emulator, status=RefundStatus.PENDING):
    invoice_id, _ = issued_invoice(app, clinic_a, (6000,))
    intent_id = paid_at_stripe(app, clinic_a, invoice_id)

    def record(clinic):
        gw = gateway()
        payment = recording.record_card_payment(
            clinic,
            gw.retrieve_payment_intent(intent_id),
            channel=PaymentChannel.ONLINE,
            taken_by=None,
            location_id=None,
        )
        refund = Refund(payment_id=payment.id, amount_minor=2000, status=status)
        db.session.add(refund)
        db.session.flush()
        refund.stripe_refund_id = f"re_{uuid.uuid4().hex[:12]}"
        return refund.stripe_refund_id

    return invoice_id, intent_id, on_clinic(app, clinic_a, record)


def test_refund_events_settle_our_refund_and_a_late_pending_changes_nothing(
    app, client, clinic_a, stripe_emulator
):
    invoice_id, intent_id, refund_id = _refund_on_record(app, clinic_a, stripe_emulator)
    refund = {
        "id": refund_id,
        "object": "refund",
        "amount": 2000,
        "currency": "gbp",
        "payment_intent": intent_id,
        "metadata": {"clinic_id": str(clinic_a.clinic_id)},
    }
    assert deliver(client, "refund.updated", {**refund, "status": "succeeded"}).status_code == 200
    assert rows(app, clinic_a, Refund)[0].status == RefundStatus.SUCCEEDED
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PART_PAID
    deliver(client, "refund.created", {**refund, "status": "pending"})
    assert rows(app, clinic_a, Refund)[0].status == RefundStatus.SUCCEEDED
    # charge.refunded lists its refunds; an unknown one is noted, never invented.
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": intent_id,
        "refunds": {"data": [{"id": "re_unknown", "object": "refund", "status": "succeeded"}]},
    }
    noted = deliver(client, "charge.refunded", charge)
    assert noted.status_code == 200 and "unknown refund re_unknown" in noted.get_json()["outcome"]
    assert len(rows(app, clinic_a, Refund)) == 1


def test_a_failed_refund_event_marks_it_failed(app, client, clinic_a, stripe_emulator):
    _invoice_id, intent_id, refund_id = _refund_on_record(app, clinic_a, stripe_emulator)
    obj = {
        "id": refund_id,
        "object": "refund",
        "status": "failed",
        "failure_reason": "expired_or_canceled_card",
        "payment_intent": intent_id,
    }
    assert deliver(client, "refund.failed", obj).status_code == 200
    [refund] = rows(app, clinic_a, Refund)
    assert refund.status == RefundStatus.FAILED and "expired_or_canceled_card" in refund.failure


def test_a_dispute_flags_the_invoice_and_tells_the_owner(
    app, client, clinic_a, stripe_emulator, outbox
):
    invoice_id, _ = issued_invoice(app, clinic_a, (6000,))
    intent_id = paid_at_stripe(app, clinic_a, invoice_id)
    deliver(client, "payment_intent.succeeded", intent_object(app, clinic_a, intent_id, invoice_id))
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 6000,
        "payment_intent": intent_id,
        "reason": "fraudulent",
        "status": "needs_response",
    }
    assert deliver(client, "charge.dispute.created", dispute).status_code == 200
    assert invoice_of(app, clinic_a, invoice_id).disputed
    [message] = [m for m in outbox() if m.to == clinic_a.email("owner")]
    assert "disputed" in message.subject and "fraudulent" in message.text
    deliver(client, "charge.dispute.closed", {**dispute, "status": "won"})
    assert not invoice_of(app, clinic_a, invoice_id).disputed
    assert any("won" in m.subject for m in outbox())


def test_account_updated_sets_whether_the_clinic_can_take_charges(app, client, clinic_a):
    def connect(clinic):
        clinic.stripe_account_id = "acct_northside"

    on_clinic(app, clinic_a, connect)
    obj = {
        "id": "acct_northside",
        "object": "account",
        "charges_enabled": True,
        "details_submitted": True,
    }
    answer = deliver(client, "account.updated", obj, account="acct_northside")
    assert answer.status_code == 200
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        assert clinic.stripe_charges_enabled and clinic.stripe_details_submitted


def test_the_emulators_own_delivery_records_the_payment(
    app, clinic_a, stripe_emulator, live_server
):
    stripe_emulator.register_webhook(
        f"{live_server}/webhooks/stripe",
        endpoint_id="pay-webhook-test",
        events=["payment_intent.succeeded"],
    )
    try:
        invoice_id, _ = issued_invoice(app, clinic_a, (6000,))
        intent_id = paid_at_stripe(app, clinic_a, invoice_id)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not rows(app, clinic_a, Payment):
            time.sleep(0.2)
    finally:
        # Registrations outlive the test: point this one at a closed port for good.
        stripe_emulator.register_webhook(
            "http://127.0.0.1:9/", "whsec_gone", endpoint_id="pay-webhook-test"
        )
    [payment] = rows(app, clinic_a, Payment)
    assert payment.stripe_payment_intent_id == intent_id
    assert any(e.type == "payment_intent.succeeded" for e in events(app))


# Reconciliation -----------------------------------------------------------------------------------


def reconcile(app, since="3d"):
    result = app.test_cli_runner().invoke(args=["stripe-reconcile", "--since", since])
    return result.exit_code, result.output


def test_reconciliation_repairs_a_payment_whose_webhook_never_came_once(
    app, clinic_a, stripe_emulator
):
    stripe_emulator.clear()
    invoice_id, _ = issued_invoice(app, clinic_a, (6000,))
    intent_id = paid_at_stripe(app, clinic_a, invoice_id)
    code, output = reconcile(app)
    assert code == 0, output
    assert f"recorded {intent_id} (6000 GBP)" in output and "1 change(s)." in output
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PAID
    code, output = reconcile(app)
    assert code == 0 and output.strip() == "Nothing changed."
    assert len(rows(app, clinic_a, Payment)) == 1


def test_reconciliation_marks_an_attempt_whose_card_was_declined(
    app, client, clinic_a, stripe_emulator
):
    stripe_emulator.clear()
    invoice_id, token = issued_invoice(app, clinic_a, (6000,))
    started = pay_post(client, token, "start").get_json()

    def declined_unheard(clinic):
        attempt = tenancy.find(CardAttempt, started["attempt"])
        gw = gateway()
        intent = gw.create_payment_intent(
            amount=6000,
            currency="GBP",
            metadata={"clinic_id": clinic.id, "invoice_id": invoice_id, "attempt_id": attempt.id},
            idempotency_key=f"pay:{clinic.id}:{invoice_id}:{attempt.id}",
            payment_method="pm_card_chargeCustomerFail",
        )
        attempt.stripe_payment_intent_id = intent.id
        db.session.commit()
        with pytest.raises(CardDeclined):
            gw.confirm_payment_intent(intent.id)

    on_clinic(app, clinic_a, declined_unheard)
    code, output = reconcile(app)
    assert code == 0 and "marked failed" in output, output
    assert rows(app, clinic_a, CardAttempt)[0].status == AttemptStatus.FAILED
    assert reconcile(app)[1].strip() == "Nothing changed."
    assert rows(app, clinic_a, Payment) == []


def test_reconciliation_refuses_a_malformed_window(app):
    code, output = reconcile(app, since="three days")
    assert code != 0 and "3d" in output


def test_a_live_event_on_test_keys_changes_nothing(app, client, clinic_a, stripe_emulator):
    import stripe

    from .stripe_emulator import TEST_WEBHOOK_SECRET

    invoice_id, _ = issued_invoice(app, clinic_a, (6000,))
    intent_id = paid_at_stripe(app, clinic_a, invoice_id)
    body, _ = signed_event(
        "payment_intent.succeeded", intent_object(app, clinic_a, intent_id, invoice_id)
    )
    body = body.replace(b'"livemode": false', b'"livemode": true')
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), TEST_WEBHOOK_SECRET)
    answer = client.post(
        "/webhooks/stripe",
        data=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )
    assert answer.status_code == 200 and "live and test mode" in answer.get_json()["outcome"]
    assert rows(app, clinic_a, Payment) == []
