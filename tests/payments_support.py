"""Helpers for the payment tests: an issued invoice, and the browser's part of the card flow done
against the real emulator (what Stripe.js's confirmCardSetup and confirmCardPayment do)."""

from __future__ import annotations

import re
from datetime import date

import stripe
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.billing import invoices
from clinic_saas.extensions import db
from clinic_saas.models import Client, Clinic, Invoice
from clinic_saas.payments.pay_links import token_for

from .stripe_emulator import TEST_SECRET_KEY

TODAY = date(2031, 3, 3)


def issued_invoice(app, clinic_fixture, amounts=(6000,), *, issue=True, email="ann@example.com"):
    """An invoice of the clinic for a new client (one line per amount); (invoice id, token)."""
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            client = Client(first_name="Ann", last_name="Runner", email=email)
            db.session.add(client)
            db.session.flush()
            invoice = invoices.new_draft(clinic, client=client, payer=client, by=None)
            for n, amount in enumerate(amounts, start=1):
                invoices.add_line(
                    invoice, description=f"Sports massage {n}", unit_price_minor=amount
                )
            if issue:
                invoices.issue(clinic, invoice, today=TODAY)
            token = token_for(invoice)
            invoice_id = invoice.id
            db.session.commit()
    return invoice_id, token


def on_clinic(app, clinic_fixture, fn):
    """Run fn(clinic) bound to the clinic, commit, and give back its result."""
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            result = fn(clinic)
            db.session.commit()
            return result


def invoice_of(app, clinic_fixture, invoice_id) -> Invoice:
    def read(clinic):
        invoice = tenancy.find(Invoice, invoice_id)
        db.session.expunge(invoice)
        return invoice

    return on_clinic(app, clinic_fixture, read)


def rows(app, clinic_fixture, model):
    def read(clinic):
        found = list(db.session.scalars(select(model)))
        for row in found:
            db.session.expunge(row)
        return found

    return on_clinic(app, clinic_fixture, read)


def stripe_client(emulator) -> stripe.StripeClient:
    return stripe.StripeClient(TEST_SECRET_KEY, base_addresses={"api": emulator.base_url})


def new_card(emulator, number: str) -> str:
    """A PaymentMethod for a test card number, as Stripe.js makes it from the card element."""
    params = {
        "type": "card",
        "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
    }
    return stripe_client(emulator).v1.payment_methods.create(params).id


def confirm_setup(emulator, client_secret: str, number: str) -> str:
    """confirmCardSetup: confirm the SetupIntent with a card (completing 3-D Secure); its id."""
    sc = stripe_client(emulator)
    setup_id = re.match(r"^(seti_\w+?)_secret_", client_secret).group(1)
    setup = sc.v1.setup_intents.confirm(
        setup_id, {"payment_method": new_card(emulator, number), "client_secret": client_secret}
    )
    if setup.status == "requires_action":
        setup = sc.v1.setup_intents.confirm(setup_id, {"client_secret": client_secret})
    assert setup.status == "succeeded", setup.status
    return setup.id


def pay_post(client, token: str, step: str, **fields):
    """A POST of the pay page's script: the CSRF token in its header, answered with JSON."""
    return client.post(
        f"/pay/{token}/{step}",
        data=fields,
        headers={"X-CSRFToken": client.csrf_token(), "Accept": "application/json"},
    )


def pay_with(client, emulator, token: str, number: str, *, keep_card: bool = False):
    """The page's whole flow up to the charge answer: start, confirmCardSetup, charge."""
    started = pay_post(client, token, "start", keep_card="1" if keep_card else "0")
    assert started.status_code == 200, started.get_json()
    body = started.get_json()
    setup_id = confirm_setup(emulator, body["client_secret"], number)
    answer = pay_post(
        client,
        token,
        "charge",
        attempt=body["attempt"],
        setup_intent=setup_id,
        keep_card="1" if keep_card else "0",
    )
    return body["attempt"], answer
