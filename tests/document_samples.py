"""An issued invoice with tax, a card payment and a credit note: what documents are made of."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from clinic_saas import tenancy
from clinic_saas.billing import balances, credit_notes, invoices
from clinic_saas.extensions import db
from clinic_saas.models import (
    Client,
    Clinic,
    Payment,
    PaymentChannel,
    PaymentMethod,
)

ISSUED_ON = date(2026, 3, 2)


@dataclass(frozen=True)
class Billed:
    invoice_id: uuid.UUID
    number: str
    payment_id: uuid.UUID
    credit_note_id: uuid.UUID
    credit_note_number: str
    draft_id: uuid.UUID


def bill_client(app, schedule, *, paid: int = 3000, credited: int = 1000) -> Billed:
    """Invoice the schedule's client for a taxed massage and an untaxed fee, issue it, take a
    card payment and credit part of it; also leave a draft."""
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            clinic.legal_name = "Northside Clinics Ltd"
            clinic.address = "12 Quay Road\nPortsmouth PO1 2AB"
            clinic.tax_registration = "GB123456789"
            clinic.invoice_prefix = "NS"
            client = tenancy.find(Client, schedule.client_id)
            client.address = "3 Runner Lane\nSouthsea PO5 1AA"
            invoice = invoices.new_draft(clinic, client=client, payer=client, by=None)
            invoices.add_line(
                invoice,
                description="Sports massage 60",
                unit_price_minor=6000,
                tax_rate_bp=2000,
                tax_name="VAT",
                client_id=client.id,
                service_date=date(2026, 2, 27),
            )
            invoices.add_line(
                invoice,
                description="Kinesiology tape",
                unit_price_minor=333,
                quantity=3,
                tax_rate_bp=2000,
                tax_name="VAT",
            )
            invoices.add_line(invoice, description="Late cancellation fee", unit_price_minor=1500)
            invoices.issue(clinic, invoice, today=ISSUED_ON)
            payment = Payment(
                invoice_id=invoice.id,
                amount_minor=paid,
                currency=clinic.currency,
                method=PaymentMethod.CARD,
                channel=PaymentChannel.DESK,
                stripe_payment_intent_id=f"pi_{uuid.uuid4().hex[:16]}",
                card_brand="visa",
                card_last4="4242",
                taken_at=datetime(2026, 3, 2, 15, 30, tzinfo=UTC),
            )
            db.session.add(payment)
            db.session.flush()
            balances.settle(invoice)
            note = credit_notes.credit(
                clinic,
                invoice,
                amount_minor=credited,
                reason="Tape not used",
                by=None,
                today=ISSUED_ON,
            )
            draft = invoices.new_draft(clinic, client=client, payer=client, by=None)
            invoices.add_line(draft, description="Sports massage 30", unit_price_minor=3500)
            db.session.commit()
            return Billed(invoice.id, invoice.number, payment.id, note.id, note.number, draft.id)


def sample_ids(app, schedule) -> dict[str, str]:
    """The URL parameters of the document routes, for the cross-clinic walk."""
    billed = bill_client(app, schedule)
    return {
        "invoice_id": str(billed.invoice_id),
        "payment_id": str(billed.payment_id),
        "credit_note_id": str(billed.credit_note_id),
    }
