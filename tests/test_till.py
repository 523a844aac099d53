"""Closing the day: the till by method, by staff member and site, refunds, cash in the drawer and
what is outstanding; and the aged list of what the clinic is owed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clinic_saas import tenancy
from clinic_saas.billing import balances, invoices
from clinic_saas.clinic_time import today_in
from clinic_saas.extensions import db
from clinic_saas.models import (
    Client,
    Clinic,
    Payment,
    PaymentMethod,
    Refund,
    RefundStatus,
    Role,
)
from clinic_saas.payments import till as tills

from .factories import build_schedule


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


def _invoice(clinic, client_id, amount, issued_on):
    client = tenancy.find(Client, client_id)
    invoice = invoices.new_draft(clinic, client=client, payer=client, by=None)
    invoices.add_line(invoice, description="Sports massage", unit_price_minor=amount)
    invoices.issue(clinic, invoice, today=issued_on)
    return invoice


def _pay(invoice, amount, method, by, at, location_id=None):
    payment = Payment(
        invoice_id=invoice.id,
        amount_minor=amount,
        currency=invoice.currency,
        method=method,
        taken_by_id=by,
        taken_at=at,
        location_id=location_id,
    )
    db.session.add(payment)
    db.session.flush()
    balances.settle(invoice)
    return payment


@pytest.fixture
def day(app, schedule, clinic_a):
    """Today: the receptionist took £60 cash and refunded £10 of it, the owner £45 on the card
    terminal; yesterday's £30 cash is not today's; one invoice is left half paid."""
    reception = clinic_a.member_ids[Role.RECEPTIONIST]
    owner = clinic_a.member_ids[Role.OWNER]

    def build(clinic):
        today = today_in(clinic)
        noon = datetime.combine(today, datetime.min.time(), tzinfo=clinic.tz).replace(hour=12)
        noon = noon.astimezone(UTC)
        first = _invoice(clinic, schedule.client_id, 6000, today)
        cash = _pay(first, 6000, PaymentMethod.CASH, reception, noon, schedule.location_id)
        db.session.add(
            Refund(
                payment_id=cash.id,
                amount_minor=1000,
                status=RefundStatus.SUCCEEDED,
                created_by_id=reception,
                created_at=noon + timedelta(hours=1),
            )
        )
        second = _invoice(clinic, schedule.client_id, 9000, today)
        _pay(second, 4500, PaymentMethod.TERMINAL, owner, noon)
        third = _invoice(clinic, schedule.client_id, 3000, today - timedelta(days=1))
        _pay(third, 3000, PaymentMethod.CASH, reception, noon - timedelta(days=1))
        db.session.flush()
        balances.settle(first)
        return today

    return _on(app, schedule, build)


def test_the_till_counts_the_days_takings_by_method_and_staff(app, schedule, day):
    report = _on(app, schedule, lambda clinic: tills.till(clinic, day))
    assert [(r.label, r.count, r.amount) for r in report.by_method] == [
        ("Cash", 1, 6000),
        ("Card terminal", 1, 4500),
    ]
    assert {r.label: r.amount for r in report.by_staff} == {
        "Owner of Northside Sports Massage": 4500,
        "Receptionist of Northside Sports Massage": 6000,
    }
    assert [(r.label, r.amount) for r in report.refunds] == [("Cash", 1000)]
    assert (report.taken, report.refunded, report.cash_expected) == (10500, 1000, 5000)
    # Open: the first invoice has its £10 refund due again, the second £45 unpaid.
    assert (report.outstanding, report.outstanding_count) == (1000 + 4500, 2)


def test_the_till_narrows_to_a_site_and_to_a_staff_member(app, schedule, clinic_a, day):
    reception = clinic_a.member_ids[Role.RECEPTIONIST]
    at_site = _on(
        app, schedule, lambda clinic: tills.till(clinic, day, location_id=schedule.location_id)
    )
    assert at_site.taken == 6000
    theirs = _on(app, schedule, lambda clinic: tills.till(clinic, day, taken_by_id=reception))
    assert (theirs.taken, theirs.refunded, theirs.cash_expected) == (6000, 1000, 5000)
    yesterday = _on(app, schedule, lambda clinic: tills.till(clinic, day - timedelta(days=1)))
    assert yesterday.taken == 3000 and yesterday.refunds == []


def test_the_owner_sees_everyones_till_and_the_receptionist_only_her_own(
    client, auth, clinic_a, schedule, day
):
    auth.login_as("owner", clinic_a)
    page = client.get(f"/c/{clinic_a.slug}/payments").get_data(as_text=True)
    assert 'data-testid="till-taken">£105.00<' in page
    assert 'data-testid="till-cash">£50.00<' in page
    assert 'name="staff"' in page and 'data-testid="receivables-link"' in page
    auth.logout()
    auth.login_as("receptionist", clinic_a)
    page = client.get(f"/c/{clinic_a.slug}/payments?staff=anyone").get_data(as_text=True)
    assert 'data-testid="till-taken">£60.00<' in page
    assert 'name="staff"' not in page and "receivables-link" not in page
    assert client.get(f"/c/{clinic_a.slug}/payments/receivables").status_code == 403
    auth.logout()
    auth.login_as("therapist", clinic_a)
    assert client.get(f"/c/{clinic_a.slug}/payments").status_code == 403


@pytest.mark.parametrize("query", ["day=2026-02-30", "day=yesterday", "site=not-a-site"])
def test_a_bad_choice_is_a_400_with_the_form(client, auth, clinic_a, schedule, query):
    auth.login_as("owner", clinic_a)
    page = client.get(f"/c/{clinic_a.slug}/payments?{query}")
    assert page.status_code == 400
    assert 'data-testid="till-filters"' in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("days_late", "bucket"),
    [(-3, "Current"), (0, "Current"), (1, "1-30 days"), (31, "31-60 days"), (90, "61-90 days"),
     (91, "Over 90 days")],
)  # fmt: skip
def test_days_past_due_fall_into_their_bucket(days_late, bucket):
    assert tills.bucket_of(days_late) == bucket


def test_receivables_age_what_is_owed_by_due_date(app, client, auth, clinic_a, schedule):
    def build(clinic):
        today = today_in(clinic)
        clinic.payment_terms_days = 14
        _invoice(clinic, schedule.client_id, 5000, today)  # current
        late = _invoice(clinic, schedule.client_id, 8000, today - timedelta(days=60))  # 46 late
        _pay(late, 3000, PaymentMethod.CASH, None, datetime.now(UTC))
        paid = _invoice(clinic, schedule.client_id, 2000, today - timedelta(days=200))
        _pay(paid, 2000, PaymentMethod.CASH, None, datetime.now(UTC))
        return today

    today = _on(app, schedule, build)
    report = _on(app, schedule, lambda clinic: tills.receivables(today))
    assert report.buckets == {
        "Current": 5000,
        "1-30 days": 0,
        "31-60 days": 5000,
        "61-90 days": 0,
        "Over 90 days": 0,
    }
    (late,) = report.rows["31-60 days"]
    assert late.days_late == 46
    auth.login_as("owner", clinic_a)
    page = client.get(f"/c/{clinic_a.slug}/payments/receivables").get_data(as_text=True)
    assert "What the clinic is owed: £100.00" in page
    assert 'data-testid="bucket-2">£50.00<' in page


def test_nothing_owed_says_so(client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    page = client.get(f"/c/{clinic_a.slug}/payments/receivables").get_data(as_text=True)
    assert 'data-testid="nothing-owed"' in page
