"""The desk checks out a completed session, adds a line to a club's draft, issues it, and reads
the club's statement; the pages are photographed at desk and phone sizes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from clinic_saas import tenancy
from clinic_saas.billing import invoices
from clinic_saas.models import Invoice, Organisation, PayerKind
from tests.billing_factories import PAST, add_draft, completed_appointment, issue, on_clinic
from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD
from tests.factories import build_schedule

pytestmark = pytest.mark.browser

SIZES = {"desk": (1280, 900), "phone": (390, 844)}
SHOTS = ARTIFACTS / "invoices"


def _photograph(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _club_with_an_overdue_invoice(app, schedule):
    def add(clinic):
        club = Organisation(
            name="Harbour Rugby Club",
            contact_name="Sam Treasurer",
            billing_email="treasurer@rugby.example",
            address="1 Pitch Lane\nManchester",
        )
        from clinic_saas.extensions import db

        db.session.add(club)
        db.session.flush()
        return club.id

    club_id = on_clinic(app, schedule.clinic_id, add)
    billed = add_draft(app, schedule, starts_at=PAST + timedelta(days=7))

    def readdress(clinic):
        invoice = tenancy.find(Invoice, billed.invoice_id)
        invoice.payer_kind, invoice.payer_client_id = PayerKind.ORGANISATION, None
        invoice.organisation_id = club_id

    on_clinic(app, schedule.clinic_id, readdress)
    issue(app, schedule.clinic_id, billed.invoice_id, today=PAST.date())
    return club_id


def test_the_desk_checks_out_a_session_and_reads_a_clubs_statement(page: Page, app, clinic_a):
    schedule = build_schedule(app, clinic_a)
    appointment_id = completed_appointment(app, schedule, price=6000)
    club_id = _club_with_an_overdue_invoice(app, schedule)
    assert invoices.REASON_MAX  # the page's limits come from the domain

    page.goto("/login")
    page.get_by_label("Email").fill(clinic_a.email("receptionist"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/c/northside/")

    page.goto(f"/c/northside/appointments/{appointment_id}")
    page.get_by_test_id("billing").get_by_role("button", name="Check out").click()
    expect(page.get_by_text("Issued INV-")).to_be_visible()
    expect(page.get_by_test_id("invoice-status")).to_have_text("Issued")
    expect(page.get_by_test_id("balance")).to_have_text("£60.00")
    _photograph(page, "detail-issued")

    credit = page.get_by_test_id("credit-form")
    credit.get_by_label("Amount").fill("15")
    credit.get_by_label("Reason").fill("Session cut short")
    credit.get_by_role("button", name="Issue credit note").click()
    expect(page.get_by_test_id("balance")).to_have_text("£45.00")
    expect(page.get_by_test_id("credit-note")).to_contain_text("Session cut short")

    page.get_by_test_id("clinic-nav").get_by_role("link", name="Invoices").click()
    expect(page.get_by_test_id("invoice-row")).to_have_count(2)
    expect(page.get_by_test_id("overdue")).to_have_count(1)
    _photograph(page, "list")

    page.get_by_test_id("organisations-link").click()
    page.get_by_role("link", name="Harbour Rugby Club").click()
    expect(page.get_by_test_id("owed")).to_contain_text("£60.00")
    _photograph(page, "organisation")

    page.get_by_test_id("statement-link").click()
    expect(page.get_by_test_id("statement-line")).to_have_count(1)
    expect(page.get_by_test_id("open-total")).to_have_text("£60.00")
    _photograph(page, "statement")

    page.goto(f"/c/northside/invoices/new?organisation={club_id}")
    page.get_by_role("button", name="Create draft").click()
    page.get_by_label("Description").fill("Pitch-side cover, 3 hours")
    page.get_by_label("Unit price").fill("120")
    page.get_by_role("button", name="Add line").click()
    expect(page.get_by_test_id("invoice-line")).to_have_count(1)
    expect(page.get_by_test_id("total")).to_have_text("£120.00")
    _photograph(page, "detail-draft")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Issue invoice").click()
    expect(page.get_by_test_id("invoice-status")).to_have_text("Issued")
