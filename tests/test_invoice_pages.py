"""The invoice pages as each role uses them: checking out, drafting, issuing, crediting, voiding,
listing, and bad input answered with a message and a 4xx, never a 500 or a second record."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from clinic_saas import tenancy
from clinic_saas.billing import balances, credit_notes, invoices
from clinic_saas.clinic_time import today_in
from clinic_saas.extensions import db
from clinic_saas.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    PackageRedemption,
    Role,
)

from .billing_factories import (
    PAST,
    add_draft,
    add_organisation,
    completed_appointment,
    issue,
    on_clinic,
)
from .factories import add_appointment, build_menu, build_schedule

INVOICES = "/c/northside/invoices"


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


def _invoice(app, clinic_id, invoice_id) -> Invoice:
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_id)
        with tenancy.bound_to(clinic):
            invoice = tenancy.find(Invoice, invoice_id)
            db.session.expunge(invoice)
            return invoice


def _count(app, clinic_id, model, *where) -> int:
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_id)
        with tenancy.bound_to(clinic):
            return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _invoice_id_in(location: str) -> str:
    match = re.search(r"/invoices/([0-9a-f-]{36})$", location)
    assert match, location
    return match.group(1)


# Who may see and do what -------------------------------------------------------------------------


def test_a_therapist_cannot_open_the_invoices(app, client, auth, clinic_a, schedule):
    billed = add_draft(app, schedule)
    auth.login_as(Role.THERAPIST, clinic_a)
    assert client.get(f"{INVOICES}/").status_code == 403
    assert client.get(f"{INVOICES}/{billed.invoice_id}").status_code == 403
    response = client.post_form(f"{INVOICES}/checkout/{billed.appointment_id}")
    assert response.status_code == 403
    assert b'href="/c/northside/invoices/"' not in client.get("/c/northside/").data


def test_the_desk_sees_invoices_in_the_navigation(client, auth, clinic_a):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    assert b'href="/c/northside/invoices/"' in client.get("/c/northside/").data


def test_a_receptionist_issues_and_credits_but_cannot_void(app, client, auth, clinic_a, schedule):
    billed = add_draft(app, schedule)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    url = f"{INVOICES}/{billed.invoice_id}"
    assert client.post_form(f"{url}/issue").status_code == 302
    invoice = _invoice(app, clinic_a.clinic_id, billed.invoice_id)
    assert invoice.status == InvoiceStatus.ISSUED and invoice.number.endswith("-000001")

    credited = client.post_form(f"{url}/credit", {"amount": "10", "reason": "Shorter session"})
    assert credited.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Shorter session" in page and "Partly paid" in page and "£50.00" in page
    assert "void-form" not in page

    refused = client.post_form(f"{url}/void", {"reason": "Wrong client"})
    assert refused.status_code == 403
    assert _invoice(app, clinic_a.clinic_id, billed.invoice_id).status == InvoiceStatus.PART_PAID


def test_an_owner_voids_with_a_reason_that_the_invoice_then_shows(
    app, client, auth, clinic_a, schedule
):
    billed = add_draft(app, schedule)
    issue(app, clinic_a.clinic_id, billed.invoice_id)
    auth.login_as(Role.OWNER, clinic_a)
    url = f"{INVOICES}/{billed.invoice_id}"
    missing = client.post_form(f"{url}/void", {"reason": "  "})
    assert missing.status_code == 400
    assert "Say why the invoice is voided." in missing.get_data(as_text=True)
    assert client.post_form(f"{url}/void", {"reason": "Booked twice"}).status_code == 302
    again = client.post_form(f"{url}/void", {"reason": "Booked twice"})
    assert again.status_code == 302  # a second click changes nothing and says so
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="void-reason"' in page and "Booked twice" in page
    # What it billed can be checked out again, on a new invoice.
    again = client.post_form(f"{INVOICES}/checkout/{billed.appointment_id}")
    assert _invoice_id_in(again.location) != str(billed.invoice_id)


# Check out ---------------------------------------------------------------------------------------


def test_check_out_issues_one_invoice_however_often_it_is_clicked(
    app, client, auth, clinic_a, schedule
):
    appointment_id = completed_appointment(app, schedule, price=6000)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    detail = client.get(f"/c/northside/appointments/{appointment_id}").get_data(as_text=True)
    assert f"{INVOICES}/checkout/{appointment_id}" in detail

    first = client.post_form(f"{INVOICES}/checkout/{appointment_id}")
    second = client.post_form(f"{INVOICES}/checkout/{appointment_id}")
    assert first.status_code == second.status_code == 302
    assert _invoice_id_in(first.location) == _invoice_id_in(second.location)
    assert _count(app, clinic_a.clinic_id, Invoice) == 1
    invoice = _invoice(app, clinic_a.clinic_id, _invoice_id_in(first.location))
    assert invoice.status == InvoiceStatus.ISSUED and invoice.total_minor == 6000
    page = client.get(first.location).get_data(as_text=True)
    assert "Tom Turner" in page and "£60.00" in page


def test_check_out_from_the_day_view(app, client, auth, clinic_a, schedule):
    appointment_id = completed_appointment(app, schedule)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    day = client.get("/c/northside/appointments/?date=2026-02-23").get_data(as_text=True)
    assert f"{INVOICES}/checkout/{appointment_id}" in day
    done = client.post_form(
        f"{INVOICES}/checkout/{appointment_id}", {"next": "/c/northside/appointments/"}
    )
    assert done.status_code == 302 and "/invoices/" in done.location


def test_a_session_not_completed_is_not_checked_out(app, client, auth, clinic_a, schedule):
    booked = add_appointment(app, schedule, PAST)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.post_form(f"{INVOICES}/checkout/{booked}", follow_redirects=True)
    assert "Only a completed session is invoiced" in response.get_data(as_text=True)
    assert _count(app, clinic_a.clinic_id, Invoice) == 0


def test_a_session_a_package_paid_for_is_not_invoiced_again(app, client, auth, clinic_a, schedule):
    menu = build_menu(app, schedule)
    appointment_id = completed_appointment(app, schedule)

    def redeem(clinic):
        db.session.add(PackageRedemption(sale_id=menu.sale_id, appointment_id=appointment_id))

    on_clinic(app, clinic_a.clinic_id, redeem)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.post_form(f"{INVOICES}/checkout/{appointment_id}", follow_redirects=True)
    assert "paid for by a package or a membership" in response.get_data(as_text=True)
    assert _count(app, clinic_a.clinic_id, Invoice) == 0


def test_a_no_show_fee_is_invoiced_under_the_clinics_policy(app, client, auth, clinic_a, schedule):
    appointment_id = add_appointment(app, schedule, PAST)

    def no_show(clinic):
        clinic.no_show_fee_minor = 2500
        tenancy.find(Appointment, appointment_id).status = AppointmentStatus.NO_SHOW

    on_clinic(app, clinic_a.clinic_id, no_show)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    detail = client.get(f"/c/northside/appointments/{appointment_id}").get_data(as_text=True)
    assert "Invoice the fee" in detail and "£25.00" in detail
    done = client.post_form(f"{INVOICES}/fee/{appointment_id}")
    invoice = _invoice(app, clinic_a.clinic_id, _invoice_id_in(done.location))
    assert invoice.total_minor == 2500 and invoice.status == InvoiceStatus.ISSUED


def test_a_package_sale_is_invoiced_from_the_sales_page(app, client, auth, clinic_a, schedule):
    menu = build_menu(app, schedule)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    page = client.get(f"/c/northside/sales/clients/{schedule.client_id}").get_data(as_text=True)
    assert f"{INVOICES}/package-sales/{menu.sale_id}" in page
    first = client.post_form(f"{INVOICES}/package-sales/{menu.sale_id}")
    second = client.post_form(f"{INVOICES}/package-sales/{menu.sale_id}")
    assert _invoice_id_in(first.location) == _invoice_id_in(second.location)
    invoice = _invoice(app, clinic_a.clinic_id, _invoice_id_in(first.location))
    assert invoice.total_minor == 30000 and invoice.tax_minor == 5000  # VAT included


# Drafts ------------------------------------------------------------------------------------------


def test_a_draft_gets_an_ad_hoc_line_priced_as_typed_with_the_clinics_tax(
    app, client, auth, clinic_a, schedule
):
    menu = build_menu(app, schedule)
    billed = add_draft(app, schedule)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    url = f"{INVOICES}/{billed.invoice_id}"
    key = str(uuid.uuid4())
    line = {
        "description": "Kinesiology tape",
        "quantity": "2",
        "unit_price": "4.50",
        "tax_rate": str(menu.tax_rate_id),
        "submission_key": key,
    }
    assert client.post_form(f"{url}/lines", line).status_code == 302
    assert client.post_form(f"{url}/lines", line).status_code == 302  # the same key again
    lines = _count(
        app, clinic_a.clinic_id, InvoiceLine, InvoiceLine.invoice_id == billed.invoice_id
    )
    assert lines == 2
    page = client.get(url).get_data(as_text=True)
    assert "Kinesiology tape" in page and "£9.00" in page and "£1.50" in page  # VAT in 9.00


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"unit_price": "abc"}, "Enter a number, like 45 or 45.50."),
        ({"unit_price": "-5"}, "Amounts cannot be negative."),
        ({"unit_price": "4.555"}, "GBP has 2 decimal places at most."),
        ({"quantity": "0"}, "Enter a number from 1 to 1000."),
        ({"quantity": "lots"}, "Not a valid integer value."),
        ({"description": ""}, "Describe what the line is for."),
        ({"description": "Tape\nand more"}, "Keep this to one line"),
        ({"tax_rate": "not-a-rate"}, "Not a valid choice."),
    ],
)
def test_a_line_that_cannot_be_read_is_a_form_error(
    app, client, auth, clinic_a, schedule, changes, message
):
    billed = add_draft(app, schedule)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    line = {"description": "Tape", "quantity": "1", "unit_price": "4.50", **changes}
    response = client.post_form(f"{INVOICES}/{billed.invoice_id}/lines", line)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    lines = _count(
        app, clinic_a.clinic_id, InvoiceLine, InvoiceLine.invoice_id == billed.invoice_id
    )
    assert lines == 1


def test_a_line_is_removed_once_and_an_issued_invoice_keeps_its_lines(
    app, client, auth, clinic_a, schedule
):
    billed = add_draft(app, schedule)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    url = f"{INVOICES}/{billed.invoice_id}/lines/{billed.line_id}/remove"
    assert client.post_form(url).status_code == 302
    assert client.post_form(url).status_code == 302  # already gone: said, not a 500
    assert _count(app, clinic_a.clinic_id, InvoiceLine) == 0
    refused = client.post_form(f"{INVOICES}/{billed.invoice_id}/issue", follow_redirects=True)
    assert "Add at least one line" in refused.get_data(as_text=True)

    other = add_draft(app, schedule, starts_at=PAST + timedelta(days=1))
    issue(app, clinic_a.clinic_id, other.invoice_id)
    client.post_form(f"{INVOICES}/{other.invoice_id}/lines/{other.line_id}/remove")
    assert _count(app, clinic_a.clinic_id, InvoiceLine, InvoiceLine.id == other.line_id) == 1


def test_a_draft_is_readdressed_to_a_club_and_issued_to_its_snapshot(
    app, client, auth, clinic_a, schedule
):
    billed = add_draft(app, schedule)
    club = add_organisation(app, clinic_a.clinic_id)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    url = f"{INVOICES}/{billed.invoice_id}"
    bad = client.post_form(f"{url}/payer", {"payer": f"organisation:{uuid.uuid4()}"})
    assert bad.status_code == 400
    assert client.post_form(f"{url}/payer", {"payer": f"organisation:{club}"}).status_code == 302
    client.post_form(f"{url}/issue")
    invoice = _invoice(app, clinic_a.clinic_id, billed.invoice_id)
    assert invoice.organisation_id == club and invoice.payer_name == "Harbour Rugby Club"
    refused = client.post_form(f"{url}/payer", {"payer": f"client:{schedule.client_id}"})
    assert refused.status_code == 400
    assert _invoice(app, clinic_a.clinic_id, billed.invoice_id).organisation_id == club


def test_a_new_invoice_for_a_client_is_made_once(app, client, auth, clinic_a, schedule):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    page = client.get(f"{INVOICES}/new?client={schedule.client_id}")
    assert page.status_code == 200
    key = str(uuid.uuid4())
    data = {"client": str(schedule.client_id), "payer": f"client:{schedule.client_id}"}
    first = client.post_form(f"{INVOICES}/new", {**data, "submission_key": key})
    second = client.post_form(f"{INVOICES}/new", {**data, "submission_key": key})
    assert first.location == second.location
    assert _count(app, clinic_a.clinic_id, Invoice) == 1
    assert client.get(f"{INVOICES}/new?client={uuid.uuid4()}").status_code == 404
    assert client.post_form(f"{INVOICES}/new", {"payer": "client:nope"}).status_code == 400


# Credit notes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "Enter an amount above zero."),
        ("-1", "Amounts cannot be negative."),
        ("61", "A credit note covers at most what is still due"),
        ("ten", "Enter a number, like 45 or 45.50."),
    ],
)
def test_a_credit_that_cannot_be_given_is_a_form_error(
    app, client, auth, clinic_a, schedule, amount, message
):
    billed = add_draft(app, schedule)
    issue(app, clinic_a.clinic_id, billed.invoice_id)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.post_form(
        f"{INVOICES}/{billed.invoice_id}/credit", {"amount": amount, "reason": "Goodwill"}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(app, clinic_a.clinic_id, CreditNote) == 0


def test_a_credit_note_sent_twice_is_recorded_once(app, client, auth, clinic_a, schedule):
    billed = add_draft(app, schedule)
    issue(app, clinic_a.clinic_id, billed.invoice_id)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    data = {"amount": "60", "reason": "Goodwill", "submission_key": str(uuid.uuid4())}
    url = f"{INVOICES}/{billed.invoice_id}/credit"
    assert client.post_form(url, data).status_code == 302
    again = client.post_form(url, data, follow_redirects=True)
    assert "Already recorded" in again.get_data(as_text=True)
    assert _count(app, clinic_a.clinic_id, CreditNote) == 1
    assert _invoice(app, clinic_a.clinic_id, billed.invoice_id).status == InvoiceStatus.PAID


def test_a_credit_without_its_one_time_key_is_refused(app, client, auth, clinic_a, schedule):
    billed = add_draft(app, schedule)
    issue(app, clinic_a.clinic_id, billed.invoice_id)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.post(
        f"{INVOICES}/{billed.invoice_id}/credit",
        data={"csrf_token": client.csrf_token(), "amount": "5", "reason": "Goodwill"},
    )
    assert response.status_code == 400
    assert _count(app, clinic_a.clinic_id, CreditNote) == 0


# The list ----------------------------------------------------------------------------------------


def _many_issued(app, schedule, count: int, start=PAST) -> list:
    ids = []
    for n in range(count):
        billed = add_draft(app, schedule, starts_at=start + timedelta(days=7 * n))
        issue(app, schedule.clinic_id, billed.invoice_id)
        ids.append(billed.invoice_id)
    return ids


def test_the_list_reads_the_same_number_of_statements_for_1_or_20_invoices(
    app, client, auth, clinic_a, schedule, count_queries
):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    _many_issued(app, schedule, 1)
    one, page = count_queries(lambda: client.get(f"{INVOICES}/"))
    assert page.status_code == 200 and page.data.count(b'data-testid="invoice-row"') == 1
    _many_issued(app, schedule, 19, start=PAST + timedelta(days=7))
    twenty, page = count_queries(lambda: client.get(f"{INVOICES}/"))
    assert page.data.count(b'data-testid="invoice-row"') == 20
    assert one == twenty


def test_the_list_pages_by_keyset_newest_first(app, client, auth, clinic_a, schedule):
    ids = _many_issued(app, schedule, 27)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    first = client.get(f"{INVOICES}/?status=issued").get_data(as_text=True)
    shown = re.findall(r'data-invoice="([0-9a-f-]+)"', first)
    assert len(shown) == 25 and shown[0] == str(ids[-1])
    next_url = re.search(r'href="([^"]+)" data-testid="next-page"', first).group(1)
    second = client.get(next_url.replace("&amp;", "&")).get_data(as_text=True)
    rest = re.findall(r'data-invoice="([0-9a-f-]+)"', second)
    assert set(rest) | set(shown) == {str(i) for i in ids} and len(rest) == 2
    assert 'data-testid="next-page"' not in second


def test_the_list_filters_by_status_payer_client_and_dates(app, client, auth, clinic_a, schedule):
    issued = add_draft(app, schedule)
    issue(app, clinic_a.clinic_id, issued.invoice_id, today=date(2026, 3, 2))
    draft = add_draft(app, schedule, starts_at=PAST + timedelta(days=1))
    auth.login_as(Role.RECEPTIONIST, clinic_a)

    def shown(query: str) -> set[str]:
        response = client.get(f"{INVOICES}/?{query}")
        assert response.status_code == 200, query
        return set(re.findall(r'data-invoice="([0-9a-f-]+)"', response.get_data(as_text=True)))

    both = {str(issued.invoice_id), str(draft.invoice_id)}
    assert shown("status=draft") == {str(draft.invoice_id)}
    assert shown("status=issued") == {str(issued.invoice_id)}
    assert shown("payer=client") == both
    assert shown("payer=organisation") == set()
    assert shown("q=Nobody+Here") == set()
    assert shown("issued_from=2026-03-01&issued_to=2026-03-31") == {str(issued.invoice_id)}
    assert shown("issued_from=2026-04-01") == set()


@pytest.mark.parametrize(
    "query",
    [
        "status=lost",
        "payer=aliens",
        "issued_from=yesterday",
        "issued_from=1900-01-01",
        "issued_from=2026-03-02&issued_to=2026-03-01",
        "after=garbage",
        f"after=2026-01-01T00:00:00_{uuid.UUID(int=1)}",  # a cursor without its timezone
        f"q={'x' * 101}",
    ],
)
def test_a_filter_that_cannot_be_read_is_a_400(client, auth, clinic_a, query):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    assert client.get(f"{INVOICES}/?{query}").status_code == 400


def test_an_overdue_invoice_is_marked(app, client, auth, clinic_a, schedule):
    billed = add_draft(app, schedule)
    issue(app, clinic_a.clinic_id, billed.invoice_id, today=date(2026, 1, 5))
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    assert b'data-testid="overdue"' in client.get(f"{INVOICES}/").data


def test_the_client_page_lists_their_invoices_and_what_they_owe(
    app, client, auth, clinic_a, schedule
):
    billed = add_draft(app, schedule)
    issue(app, clinic_a.clinic_id, billed.invoice_id)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    page = client.get(f"/c/northside/clients/{schedule.client_id}").get_data(as_text=True)
    assert 'data-testid="client-invoices"' in page and str(billed.invoice_id) in page
    assert "Owes <strong>£60.00</strong>" in page
    auth.logout()
    auth.login_as(Role.THERAPIST, clinic_a)
    page = client.get(f"/c/northside/clients/{schedule.client_id}").get_data(as_text=True)
    assert 'data-testid="client-invoices"' not in page


def test_balances_on_the_page_follow_the_domain(app, client, auth, clinic_a, schedule):
    billed = add_draft(app, schedule)
    issue(app, clinic_a.clinic_id, billed.invoice_id)

    def credit(clinic):
        invoice = tenancy.find(Invoice, billed.invoice_id)
        credit_notes.credit(
            clinic, invoice, amount_minor=1500, reason="x", by=None, today=today_in(clinic)
        )
        return balances.of(invoice).due

    assert on_clinic(app, clinic_a.clinic_id, credit) == 4500
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    page = client.get(f"{INVOICES}/{billed.invoice_id}").get_data(as_text=True)
    assert re.search(r'data-testid="balance">£45.00<', page)
    assert invoices.REASON_MAX == 200


def test_unknown_ids_are_404(client, auth, clinic_a):
    auth.login_as(Role.OWNER, clinic_a)
    assert client.get(f"{INVOICES}/{uuid.uuid4()}").status_code == 404
    assert client.get(f"{INVOICES}/not-an-id").status_code == 404
    assert client.post_form(f"{INVOICES}/checkout/{uuid.uuid4()}").status_code == 404
