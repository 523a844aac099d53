"""Recording money: a card payment once whatever the number of calls, refused in another currency,
kept and flagged above the balance; desk payments refused at zero, above the balance, on a draft
or void invoice."""

from __future__ import annotations

import uuid

import pytest

from clinic_saas import tenancy
from clinic_saas.billing import balances, invoices
from clinic_saas.models import Invoice, InvoiceStatus, Payment, PaymentChannel, PaymentMethod
from clinic_saas.payments import recording
from clinic_saas.payments.recording import CurrencyMismatch, PaymentRefused
from clinic_saas.payments.stripe_gateway import PaymentIntent, gateway

from .payments_support import invoice_of, issued_invoice, on_clinic, rows


def succeeded_intent(clinic, invoice_id, amount, currency="GBP") -> PaymentIntent:
    """A PaymentIntent paid on the emulator, naming the invoice as ours do."""
    gw = gateway()
    intent = gw.create_payment_intent(
        amount=amount,
        currency=currency,
        metadata={"clinic_id": clinic.id, "invoice_id": invoice_id},
        idempotency_key=f"test:{uuid.uuid4()}",
        payment_method="pm_card_visa",
    )
    return gw.confirm_payment_intent(intent.id)


def test_a_card_payment_is_recorded_once_however_often_it_is_reported(
    app, clinic_a, stripe_emulator
):
    invoice_id, _ = issued_invoice(app, clinic_a, (6000,))

    def twice(clinic):
        intent = succeeded_intent(clinic, invoice_id, 6000)
        first = recording.record_card_payment(
            clinic, intent, channel=PaymentChannel.ONLINE, taken_by=None, location_id=None
        )
        second = recording.record_card_payment(
            clinic, intent, channel=PaymentChannel.ONLINE, taken_by=None, location_id=None
        )
        return first.id, second.id

    first, second = on_clinic(app, clinic_a, twice)
    assert first == second
    assert len(rows(app, clinic_a, Payment)) == 1
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PAID


def test_a_card_payment_in_another_currency_is_refused(app, clinic_a, stripe_emulator):
    invoice_id, _ = issued_invoice(app, clinic_a, (6000,))

    def in_euros(clinic):
        intent = succeeded_intent(clinic, invoice_id, 6000, currency="EUR")
        with pytest.raises(CurrencyMismatch, match="EUR"):
            recording.record_card_payment(
                clinic, intent, channel=PaymentChannel.ONLINE, taken_by=None, location_id=None
            )

    on_clinic(app, clinic_a, in_euros)
    assert rows(app, clinic_a, Payment) == []
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.ISSUED


def test_an_intent_not_succeeded_or_of_another_clinic_is_not_recorded(
    app, clinic_a, clinic_b, stripe_emulator
):
    invoice_id, _ = issued_invoice(app, clinic_a, (6000,))
    pending = PaymentIntent(
        id="pi_pending", status="requires_action", amount=6000, currency="gbp", metadata={}
    )

    def refused(clinic):
        with pytest.raises(PaymentRefused, match="not gone through"):
            recording.record_card_payment(
                clinic, pending, channel=PaymentChannel.ONLINE, taken_by=None, location_id=None
            )
        return succeeded_intent(clinic, invoice_id, 6000)

    intent = on_clinic(app, clinic_a, refused)

    def elsewhere(clinic):
        with pytest.raises(PaymentRefused, match="does not belong"):
            recording.record_card_payment(
                clinic, intent, channel=PaymentChannel.ONLINE, taken_by=None, location_id=None
            )

    on_clinic(app, clinic_b, elsewhere)
    assert rows(app, clinic_a, Payment) == [] and rows(app, clinic_b, Payment) == []


def test_money_above_the_balance_is_kept_and_shown_as_overpaid(
    app, client, clinic_a, stripe_emulator
):
    invoice_id, token = issued_invoice(app, clinic_a, (4000,))

    def paid_twice(clinic):
        for _ in range(2):
            recording.record_card_payment(
                clinic,
                succeeded_intent(clinic, invoice_id, 4000),
                channel=PaymentChannel.ONLINE,
                taken_by=None,
                location_id=None,
            )
        return balances.of(tenancy.find(Invoice, invoice_id))

    balance = on_clinic(app, clinic_a, paid_twice)
    assert balance.due == -4000 and recording.overpaid_by(balance) == 4000
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PAID
    receipt = client.get(f"/pay/{token}/receipt").get_data(as_text=True)
    assert "£40.00 more than was due" in receipt


def _desk(app, clinic_a, invoice_id, amount, method=PaymentMethod.CASH, reference=None):
    def take(clinic):
        return recording.record_desk_payment(
            clinic,
            tenancy.find(Invoice, invoice_id),
            amount_minor=amount,
            method=method,
            reference=reference,
            taken_by=None,
            location_id=None,
        ).amount_minor

    return on_clinic(app, clinic_a, take)


@pytest.mark.parametrize(
    ("amount", "message"),
    [(0, "above zero"), (-100, "above zero"), (6001, "more than the balance")],
)
def test_a_desk_payment_of_zero_negative_or_above_the_balance_is_refused(
    app, clinic_a, amount, message
):
    invoice_id, _ = issued_invoice(app, clinic_a, (6000,))
    with pytest.raises(PaymentRefused, match=message):
        _desk(app, clinic_a, invoice_id, amount)
    assert rows(app, clinic_a, Payment) == []


def test_desk_payments_part_pay_then_pay_and_refuse_card_draft_and_void(app, clinic_a):
    invoice_id, _ = issued_invoice(app, clinic_a, (6000,))
    assert _desk(app, clinic_a, invoice_id, 2000, reference="  till  1 ") == 2000
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PART_PAID
    assert _desk(app, clinic_a, invoice_id, 4000, PaymentMethod.BANK_TRANSFER) == 4000
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PAID
    with pytest.raises(PaymentRefused, match="already paid"):
        _desk(app, clinic_a, invoice_id, 1)
    assert [p.reference for p in rows(app, clinic_a, Payment)].count("till 1") == 1

    other_id, _ = issued_invoice(app, clinic_a, (6000,), email="b@example.com")
    with pytest.raises(PaymentRefused, match="taken with the card"):
        _desk(app, clinic_a, other_id, 100, PaymentMethod.CARD)
    draft_id, _ = issued_invoice(app, clinic_a, (6000,), issue=False, email="c@example.com")
    with pytest.raises(PaymentRefused, match="Issue the invoice"):
        _desk(app, clinic_a, draft_id, 100)

    def void(clinic):
        invoices.void(clinic, tenancy.find(Invoice, other_id), reason="Wrong client")

    on_clinic(app, clinic_a, void)
    with pytest.raises(PaymentRefused, match="void"):
        _desk(app, clinic_a, other_id, 100)
    assert len(rows(app, clinic_a, Payment)) == 2


@pytest.mark.parametrize("reports", [2, 4])
def test_racing_reports_of_one_card_payment_record_it_once(app, clinic_a, stripe_emulator, reports):
    """The page's confirm, the webhook and reconciliation at the same moment: one payment."""
    import threading

    from clinic_saas.extensions import db
    from clinic_saas.models import Clinic

    invoice_id, _ = issued_invoice(app, clinic_a, (6000,))
    intent = on_clinic(app, clinic_a, lambda clinic: succeeded_intent(clinic, invoice_id, 6000))
    barrier = threading.Barrier(reports)
    recorded: list[object] = []
    lock = threading.Lock()

    def report():
        with app.app_context():
            clinic = db.session.get(Clinic, clinic_a.clinic_id)
            with tenancy.bound_to(clinic):
                barrier.wait()
                try:
                    payment = recording.record_card_payment(
                        clinic,
                        intent,
                        channel=PaymentChannel.ONLINE,
                        taken_by=None,
                        location_id=None,
                    )
                    db.session.commit()
                    result = payment.id
                finally:
                    db.session.remove()
            with lock:
                recorded.append(result)

    threads = [threading.Thread(target=report) for _ in range(reports)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(recorded) == reports and len(set(recorded)) == 1
    assert len(rows(app, clinic_a, Payment)) == 1
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PAID
