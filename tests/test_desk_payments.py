"""Taking money at the desk on the invoice page: cash, a card terminal or a transfer, recorded
once, never above what is due, with a receipt mailed to the payer; and sending the invoice with
its pay link."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import Clinic, Invoice, InvoiceStatus, Payment, PaymentMethod, Role

from .billing_factories import add_draft, issue
from .factories import build_schedule

INVOICES = "/c/northside/invoices"


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


@pytest.fixture
def issued(app, schedule):
    billed = add_draft(app, schedule, price=6000)
    issue(app, schedule.clinic_id, billed.invoice_id)
    return billed.invoice_id


def _read(app, clinic_id, fn):
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_id)
        with tenancy.bound_to(clinic):
            return fn()


def _payments(app, schedule) -> list[tuple]:
    return _read(
        app,
        schedule.clinic_id,
        lambda: [
            (p.amount_minor, p.method, p.reference, p.taken_by_id, p.location_id)
            for p in db.session.scalars(select(Payment).order_by(Payment.taken_at))
        ],
    )


def _status(app, schedule, invoice_id) -> InvoiceStatus:
    return _read(app, schedule.clinic_id, lambda: tenancy.find(Invoice, invoice_id).status)


def _pay(client, invoice_id, **fields):
    data = {
        "amount": "20.00",
        "method": "cash",
        "reference": "",
        "site": "",
        "email_receipt": "y",
        "submission_key": str(uuid.uuid4()),
    } | fields
    data = {f"payment-{name}": value for name, value in data.items()}
    return client.post_form(f"{INVOICES}/{invoice_id}/payments", data)


def test_the_desk_records_part_then_the_rest_and_mails_receipts(
    app, client, auth, clinic_a, schedule, issued, outbox
):
    auth.login_as("receptionist", clinic_a)
    page = client.get(f"{INVOICES}/{issued}").get_data(as_text=True)
    assert 'data-testid="payment-form"' in page
    first = _pay(client, issued, amount="20", site=str(schedule.location_id))
    assert first.status_code == 302
    assert _status(app, schedule, issued) == InvoiceStatus.PART_PAID
    second = _pay(client, issued, amount="40.00", method="terminal", reference="T-0042")
    assert second.status_code == 302
    assert _status(app, schedule, issued) == InvoiceStatus.PAID
    reception = clinic_a.member_ids[Role.RECEPTIONIST]
    assert _payments(app, schedule) == [
        (2000, PaymentMethod.CASH, None, reception, schedule.location_id),
        (4000, PaymentMethod.TERMINAL, "T-0042", reception, None),
    ]
    receipts = [m for m in outbox() if "receipt" in m.subject.lower()]
    assert len(receipts) == 2 and all(m.to == "ada@example.com" for m in receipts)


def test_a_double_click_records_once(app, client, auth, clinic_a, schedule, issued):
    auth.login_as("receptionist", clinic_a)
    key = str(uuid.uuid4())
    assert _pay(client, issued, submission_key=key).status_code == 302
    assert _pay(client, issued, submission_key=key).status_code == 302
    assert len(_payments(app, schedule)) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "0"}, "above zero"),
        ({"amount": "-5"}, ""),
        ({"amount": "60.01"}, "due"),
        ({"amount": "abc"}, ""),
        ({"method": "card"}, ""),
        ({"site": "not-a-site"}, ""),
    ],
)
def test_bad_payments_are_refused_with_a_message_and_nothing_recorded(
    app, client, auth, clinic_a, schedule, issued, fields, message
):
    auth.login_as("receptionist", clinic_a)
    refused = _pay(client, issued, **fields)
    assert refused.status_code == 400
    assert message in refused.get_data(as_text=True)
    assert _payments(app, schedule) == []


def test_a_draft_takes_no_payment_and_a_therapist_none_at_all(
    app, client, auth, clinic_a, schedule
):
    billed = add_draft(app, schedule)
    auth.login_as("receptionist", clinic_a)
    assert 'data-testid="payment-form"' not in client.get(
        f"{INVOICES}/{billed.invoice_id}"
    ).get_data(as_text=True)
    assert _pay(client, billed.invoice_id).status_code == 400
    auth.logout()
    auth.login_as("therapist", clinic_a)
    assert _pay(client, billed.invoice_id).status_code in (403, 404)
    count = _read(
        app, schedule.clinic_id, lambda: db.session.scalar(select(func.count(Payment.id)))
    )
    assert count == 0


def test_sending_the_invoice_mails_the_payer_its_pay_link(
    app, client, auth, clinic_a, schedule, issued, outbox
):
    auth.login_as("receptionist", clinic_a)
    sent = client.post_form(f"{INVOICES}/{issued}/send")
    assert sent.status_code == 302
    (message,) = [m for m in outbox() if "invoice" in m.subject.lower()]
    assert message.to == "ada@example.com"
    assert "/pay/" in message.text
