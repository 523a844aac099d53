"""Invoices in the domain: drafted from what was sold or done, numbered gaplessly when issued,
never changed once issued, voided or credited with a reason, and each thing billed once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.billing import balances, credit_notes, invoices, numbering
from clinic_saas.extensions import db
from clinic_saas.models import (
    Appointment,
    AppointmentStatus,
    Client,
    Clinic,
    Invoice,
    InvoiceStatus,
    Organisation,
    Payment,
    PaymentMethod,
    Service,
    TaxRate,
)

from .factories import add_appointment, build_schedule

TODAY = date(2026, 3, 2)
PAST = datetime(2026, 2, 23, 10, tzinfo=UTC)  # a Monday, inside the schedule's shifts


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


def _on(app, schedule, fn):
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            result = fn(clinic)
            db.session.commit()
            return result


def _completed(app, schedule, starts_at=PAST, price=6000) -> object:
    appointment_id = add_appointment(app, schedule, starts_at)

    def complete(clinic):
        row = tenancy.find(Appointment, appointment_id)
        row.status = AppointmentStatus.COMPLETED
        row.price_minor = price

    _on(app, schedule, complete)
    return appointment_id


def _invoice_for(app, schedule, appointment_id):
    def draft(clinic):
        appointment = tenancy.find(Appointment, appointment_id)
        return invoices.for_appointment(clinic, appointment, by=None, today=TODAY).id

    return _on(app, schedule, draft)


def _issue(app, schedule, invoice_id, today=TODAY):
    def issue(clinic):
        invoice = tenancy.find(Invoice, invoice_id)
        invoices.issue(clinic, invoice, today=today)
        return invoice.number

    return _on(app, schedule, issue)


def test_a_completed_session_is_invoiced_at_its_quoted_price_with_its_tax(app, schedule):
    def vat(clinic):
        rate = TaxRate(name="VAT 20%", rate_bp=2000)
        db.session.add(rate)
        db.session.flush()
        tenancy.find(Service, schedule.service_id).tax_rate_id = rate.id

    _on(app, schedule, vat)
    appointment_id = _completed(app, schedule, price=6000)
    invoice_id = _invoice_for(app, schedule, appointment_id)

    def check(clinic):
        invoice = tenancy.find(Invoice, invoice_id)
        (line,) = invoices.lines_of(invoice)
        assert invoice.status == InvoiceStatus.DRAFT and invoice.number is None
        assert invoice.payer_client_id == schedule.client_id
        assert line.description == "Sports massage 60 with Tom Turner"
        assert (line.unit_price_minor, line.tax_rate_bp, line.tax_name) == (6000, 2000, "VAT 20%")
        # Prices include tax: the gross is exact and the tax carved out, rounded once per line.
        assert (line.net_minor, line.tax_minor, line.gross_minor) == (5000, 1000, 6000)
        assert line.source == f"appointment:{appointment_id}"
        assert line.service_date == date(2026, 2, 23)

    _on(app, schedule, check)


def test_a_session_not_completed_is_not_invoiced(app, schedule):
    appointment_id = add_appointment(app, schedule, PAST)
    with pytest.raises(invoices.InvoiceError, match="Only a completed session"):
        _invoice_for(app, schedule, appointment_id)


def test_a_minors_session_is_addressed_to_the_parent(app, schedule):
    def family(clinic):
        parent = Client(first_name="Jo", last_name="Runner", email="jo@example.com")
        db.session.add(parent)
        db.session.flush()
        child = tenancy.find(Client, schedule.client_id)
        child.guardian_id = parent.id
        child.date_of_birth = date(2015, 1, 1)
        return parent.id

    parent_id = _on(app, schedule, family)
    invoice_id = _invoice_for(app, schedule, _completed(app, schedule))
    number = _issue(app, schedule, invoice_id)
    assert number

    def check(clinic):
        invoice = tenancy.find(Invoice, invoice_id)
        assert invoice.payer_client_id == parent_id
        assert invoice.client_id == schedule.client_id
        assert invoice.payer_name == "Jo Runner" and invoice.payer_email == "jo@example.com"

    _on(app, schedule, check)


def test_a_session_is_billed_once_until_its_invoice_is_voided(app, schedule):
    appointment_id = _completed(app, schedule)
    first = _invoice_for(app, schedule, appointment_id)
    with pytest.raises(invoices.AlreadyBilled) as refused:
        _invoice_for(app, schedule, appointment_id)
    assert refused.value.invoice_id == first and refused.value.status == 409
    _issue(app, schedule, first)
    with pytest.raises(invoices.AlreadyBilled):
        _invoice_for(app, schedule, appointment_id)

    def void(clinic):
        invoices.void(clinic, tenancy.find(Invoice, first), reason="Wrong client")

    _on(app, schedule, void)
    second = _invoice_for(app, schedule, appointment_id)
    assert second != first


def test_issuing_numbers_invoices_in_order_and_fixes_totals_and_due_date(app, schedule):
    def prefix(clinic):
        clinic.invoice_prefix = "NS"
        clinic.payment_terms_days = 30

    _on(app, schedule, prefix)
    numbers = []
    for day in range(3):
        appointment_id = _completed(app, schedule, PAST + timedelta(days=day), price=4500)
        numbers.append(_issue(app, schedule, _invoice_for(app, schedule, appointment_id)))
    assert numbers == ["NS-2026-000001", "NS-2026-000002", "NS-2026-000003"]

    def check(clinic):
        invoice = db.session.scalar(select(Invoice).where(Invoice.number == "NS-2026-000002"))
        assert invoice.status == InvoiceStatus.ISSUED
        assert (invoice.issued_on, invoice.due_on) == (TODAY, TODAY + timedelta(days=30))
        assert invoice.total_minor == 4500
        with pytest.raises(invoices.InvoiceError, match="never changes"):
            invoices.add_line(invoice, description="Extra", unit_price_minor=100)
        with pytest.raises(invoices.InvoiceError, match="cannot be issued"):
            invoices.issue(clinic, invoice, today=TODAY)

    _on(app, schedule, check)


def test_a_new_year_starts_at_one_and_drafts_take_no_number(app, schedule):
    first = _issue(app, schedule, _invoice_for(app, schedule, _completed(app, schedule)))
    draft = _invoice_for(app, schedule, _completed(app, schedule, PAST + timedelta(days=1)))
    nye = _completed(app, schedule, PAST + timedelta(days=2))
    later = _issue(app, schedule, _invoice_for(app, schedule, nye), today=date(2027, 1, 4))
    assert (first, later) == ("INV-2026-000001", "INV-2027-000001")
    assert _on(app, schedule, lambda clinic: tenancy.find(Invoice, draft).number) is None


def test_an_empty_or_zero_invoice_is_not_issued(app, schedule):
    def attempt(clinic):
        client = tenancy.find(Client, schedule.client_id)
        invoice = invoices.new_draft(clinic, client=client, payer=client, by=None)
        with pytest.raises(invoices.InvoiceError, match="at least one line"):
            invoices.issue(clinic, invoice, today=TODAY)
        invoices.add_line(invoice, description="Goodwill", unit_price_minor=0)
        with pytest.raises(invoices.InvoiceError, match="for nothing"):
            invoices.issue(clinic, invoice, today=TODAY)

    _on(app, schedule, attempt)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"description": "   "}, "Describe"),
        ({"quantity": 0}, "quantity"),
        ({"unit_price_minor": -1}, "negative"),
        ({"unit_price_minor": 10**9}, "too large"),
        ({"tax_rate_bp": 10_001}, "tax rate"),
    ],
)
def test_bad_lines_are_refused(app, schedule, changes, message):
    def attempt(clinic):
        client = tenancy.find(Client, schedule.client_id)
        invoice = invoices.new_draft(clinic, client=client, payer=client, by=None)
        values = {"description": "Taping", "unit_price_minor": 500} | changes
        with pytest.raises(invoices.InvoiceError, match=message):
            invoices.add_line(invoice, **values)

    _on(app, schedule, attempt)


def test_a_club_is_billed_for_several_players_on_one_invoice(app, schedule):
    def club(clinic):
        org = Organisation(name="Harriers AC", billing_email="treasurer@harriers.example")
        db.session.add(org)
        player = Client(first_name="Sam", last_name="Osei", email="sam@example.com")
        db.session.add(player)
        db.session.flush()
        invoice = invoices.new_draft(clinic, client=None, payer=org, by=None)
        for client_id in (schedule.client_id, player.id):
            invoices.add_line(
                invoice, description="Pre-event flush", unit_price_minor=3500, client_id=client_id
            )
        invoices.issue(clinic, invoice, today=TODAY)
        return invoice.payer_name, invoice.payer_email, invoice.total_minor

    assert _on(app, schedule, club) == ("Harriers AC", "treasurer@harriers.example", 7000)


def _pay(app, schedule, invoice_id, amount):
    def pay(clinic):
        invoice = tenancy.find(Invoice, invoice_id)
        db.session.add(
            Payment(
                invoice_id=invoice.id,
                amount_minor=amount,
                currency="GBP",
                method=PaymentMethod.CASH,
            )
        )
        db.session.flush()
        return balances.settle(invoice)

    return _on(app, schedule, pay)


def test_an_invoice_with_money_received_is_not_voided(app, schedule):
    invoice_id = _invoice_for(app, schedule, _completed(app, schedule))
    _issue(app, schedule, invoice_id)
    _pay(app, schedule, invoice_id, 1000)

    def void(clinic):
        invoice = tenancy.find(Invoice, invoice_id)
        with pytest.raises(invoices.InvoiceError, match="refund it"):
            invoices.void(clinic, invoice, reason="Changed my mind")
        assert invoice.status == InvoiceStatus.PART_PAID

    _on(app, schedule, void)


def test_credit_notes_lower_what_is_due_up_to_the_balance(app, schedule):
    invoice_id = _invoice_for(app, schedule, _completed(app, schedule, price=6000))
    _issue(app, schedule, invoice_id)
    assert _pay(app, schedule, invoice_id, 2000).due == 4000

    def credit(clinic):
        invoice = tenancy.find(Invoice, invoice_id)
        with pytest.raises(invoices.InvoiceError, match="at most what is still due"):
            credit_notes.credit(
                clinic, invoice, amount_minor=4001, reason="Discount", by=None, today=TODAY
            )
        with pytest.raises(invoices.InvoiceError, match="above zero"):
            credit_notes.credit(
                clinic, invoice, amount_minor=0, reason="Discount", by=None, today=TODAY
            )
        with pytest.raises(invoices.InvoiceError, match="Say what"):
            credit_notes.credit(clinic, invoice, amount_minor=100, reason=" ", by=None, today=TODAY)
        first = credit_notes.credit(
            clinic, invoice, amount_minor=1500, reason="Session cut short", by=None, today=TODAY
        )
        assert first.number == "INV-CN-2026-000001"
        assert invoice.status == InvoiceStatus.PART_PAID
        second = credit_notes.credit(
            clinic, invoice, amount_minor=2500, reason="Goodwill", by=None, today=TODAY
        )
        assert second.number == "INV-CN-2026-000002"
        assert invoice.status == InvoiceStatus.PAID
        assert balances.of(invoice).due == 0

    _on(app, schedule, credit)


def test_fifty_invoices_issued_at_once_are_numbered_1_to_50_without_gap_or_repeat(app, schedule):
    count = 50 if db_is_postgres(app) else 8  # SQLite serialises writers; the rule is the same
    drafts = []

    def make(clinic):
        client = tenancy.find(Client, schedule.client_id)
        for _ in range(count):
            invoice = invoices.new_draft(clinic, client=client, payer=client, by=None)
            invoices.add_line(invoice, description="Taping", unit_price_minor=500)
            drafts.append(invoice.id)

    _on(app, schedule, make)
    barrier = threading.Barrier(count)
    numbers, errors = [], []
    lock = threading.Lock()

    def issue(invoice_id):
        # All start together; they then share the pool's 15 connections, so dozens of issues
        # still overlap around the counter row.
        barrier.wait(timeout=30)
        with app.app_context():
            clinic = db.session.get(Clinic, schedule.clinic_id)
            tenancy.bind(clinic)
            try:
                invoice = tenancy.find(Invoice, invoice_id)
                invoices.issue(clinic, invoice, today=TODAY)
                db.session.commit()
                with lock:
                    numbers.append(invoice.number)
            except Exception as error:
                db.session.rollback()
                with lock:
                    errors.append(repr(error))
            finally:
                tenancy.unbind()
                db.session.remove()

    threads = [threading.Thread(target=issue, args=(i,)) for i in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    expected = [numbering.format_number("INV", "", 2026, n) for n in range(1, count + 1)]
    assert sorted(numbers) == expected


def db_is_postgres(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_a_session_paid_from_a_package_is_not_invoiced_again(app, schedule):
    from clinic_saas.models import Package, PackageRedemption, PackageSale

    appointment_id = _completed(app, schedule)

    def redeem(clinic):
        package = Package(
            name="Rehab course", sessions_count=3, price_minor=15000, validity_months=3
        )
        db.session.add(package)
        db.session.flush()
        sale = PackageSale(
            package_id=package.id,
            client_id=schedule.client_id,
            name="Rehab course",
            sessions_total=3,
            price_minor=15000,
            sold_on=TODAY - timedelta(days=30),
            expires_on=TODAY + timedelta(days=60),
        )
        db.session.add(sale)
        db.session.flush()
        db.session.add(PackageRedemption(sale_id=sale.id, appointment_id=appointment_id))

    _on(app, schedule, redeem)
    with pytest.raises(invoices.InvoiceError, match="paid for by a package or a membership"):
        _invoice_for(app, schedule, appointment_id)
