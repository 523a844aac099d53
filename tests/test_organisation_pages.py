"""Clubs, teams and event organisers: their records, one invoice for many players' sessions, and
a statement of what is open; and the invoicing settings those invoices are numbered by."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from clinic_saas import tenancy
from clinic_saas.clients import create_client
from clinic_saas.extensions import db
from clinic_saas.models import (
    Appointment,
    Clinic,
    Invoice,
    InvoiceLine,
    Organisation,
    PayerKind,
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
from .factories import build_schedule

ORGS = "/c/northside/organisations"
SETTINGS = "/c/northside/settings/"


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


def _org(app, clinic_id, **where) -> Organisation | None:
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_id)
        with tenancy.bound_to(clinic):
            found = db.session.scalar(select(Organisation).filter_by(**where))
            if found is not None:
                db.session.expunge(found)
            return found


def _count(app, clinic_id, model) -> int:
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_id)
        with tenancy.bound_to(clinic):
            return db.session.scalar(select(func.count()).select_from(model))


ORG = {
    "name": "Harbour Rugby Club",
    "contact_name": "Sam Treasurer",
    "billing_email": " Treasurer@Rugby.Example ",
    "phone": "07700 900123",
    "address": "1 Pitch Lane\r\nManchester",
}


def test_an_organisation_is_added_with_its_contact_tidied(app, client, auth, clinic_a):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    assert client.get(f"{ORGS}/new").status_code == 200
    added = client.post_form(f"{ORGS}/new", ORG)
    assert added.status_code == 302
    org = _org(app, clinic_a.clinic_id, name="Harbour Rugby Club")
    assert org.billing_email == "treasurer@rugby.example"
    assert org.phone == "+447700900123"
    assert org.address == "1 Pitch Lane\nManchester"
    page = client.get(added.location).get_data(as_text=True)
    assert "Invoice players&#39; sessions" in page or "Invoice players' sessions" in page
    assert client.post_form(f"{ORGS}/new", ORG).status_code == 400  # the same name twice
    assert _count(app, clinic_a.clinic_id, Organisation) == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Give the organisation"),
        ({"name": "Rugby\tClub"}, "name", "one line"),
        ({"name": "R" * 121}, "name", "Use at most 120 characters."),
        ({"billing_email": "not-an-email"}, "billing_email", "Enter a valid email address"),
        ({"phone": "call me"}, "phone", "Enter a phone number of digits"),
        ({"contact_name": "Sam\x07"}, "contact_name", "one line"),
        ({"address": "1 Lane\x1b[31m"}, "address", "control character"),
        ({"notes": "n" * 2001}, "notes", "Use at most 2000 characters."),
    ],
)
def test_bad_organisation_details_are_form_errors(
    app, client, auth, clinic_a, changes, field, message
):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.post_form(f"{ORGS}/new", {**ORG, **changes})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'data-testid="error-{field}"' in page and message in page
    assert _count(app, clinic_a.clinic_id, Organisation) == 0


def test_an_organisation_is_edited_archived_and_restored(app, client, auth, clinic_a):
    org_id = add_organisation(app, clinic_a.clinic_id)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    edited = client.post_form(f"{ORGS}/{org_id}/edit", {**ORG, "name": "Harbour RFC"})
    assert edited.status_code == 302
    assert _org(app, clinic_a.clinic_id, id=org_id).name == "Harbour RFC"
    assert client.post_form(f"{ORGS}/{org_id}/active", {"active": "0"}).status_code == 302
    assert not _org(app, clinic_a.clinic_id, id=org_id).active
    assert b'data-testid="organisation-row"' not in client.get(f"{ORGS}/").data
    assert b'data-testid="organisation-row"' in client.get(f"{ORGS}/?archived=1").data
    assert client.post_form(f"{ORGS}/{org_id}/active", {"active": "2"}).status_code == 400
    assert client.post_form(f"{ORGS}/{org_id}/active", {"active": "1"}).status_code == 302
    assert _org(app, clinic_a.clinic_id, id=org_id).active


def test_a_therapist_sees_no_organisations(app, client, auth, clinic_a):
    org_id = add_organisation(app, clinic_a.clinic_id)
    auth.login_as(Role.THERAPIST, clinic_a)
    assert client.get(f"{ORGS}/").status_code == 403
    assert client.get(f"{ORGS}/{org_id}").status_code == 403
    assert client.post_form(f"{ORGS}/new", ORG).status_code == 403


# Many players' sessions on one invoice -----------------------------------------------------------


def _second_player(app, schedule) -> uuid.UUID:
    def add(clinic):
        return create_client("Priya", "Shah", "priya@example.com", None).id

    return on_clinic(app, schedule.clinic_id, add)


def test_a_club_is_billed_for_its_players_sessions_on_one_invoice_once(
    app, client, auth, clinic_a, schedule
):
    org_id = add_organisation(app, clinic_a.clinic_id)
    first = completed_appointment(app, schedule, price=5000)
    second = completed_appointment(app, schedule, starts_at=PAST + timedelta(hours=2), price=4000)
    player = _second_player(app, schedule)

    def reassign(clinic):
        tenancy.find(Appointment, second).client_id = player

    on_clinic(app, clinic_a.clinic_id, reassign)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    listed = client.get(f"{ORGS}/{org_id}/sessions?start=2026-02-01&end=2026-02-28")
    page = listed.get_data(as_text=True)
    assert listed.status_code == 200 and "Priya Shah" in page and str(first) in page
    data = {
        "sessions": [str(first), str(second)],
        "start": "2026-02-01",
        "end": "2026-02-28",
        "submission_key": str(uuid.uuid4()),
    }
    made = client.post_form(f"{ORGS}/{org_id}/sessions", data)
    again = client.post_form(f"{ORGS}/{org_id}/sessions", data)
    assert made.status_code == again.status_code == 302 and made.location == again.location
    assert _count(app, clinic_a.clinic_id, Invoice) == 1
    assert _count(app, clinic_a.clinic_id, InvoiceLine) == 2
    invoice_page = client.get(made.location).get_data(as_text=True)
    assert "Priya Shah: " in invoice_page and "£90.00" in invoice_page

    # Billed now: listed no more, and a second draft for them is refused with a message.
    after = client.get(f"{ORGS}/{org_id}/sessions?start=2026-02-01&end=2026-02-28")
    assert str(first) not in after.get_data(as_text=True)
    refused = client.post_form(f"{ORGS}/{org_id}/sessions", {**data, "submission_key": ""})
    assert refused.status_code == 400
    twice = client.post_form(
        f"{ORGS}/{org_id}/sessions", {**data, "submission_key": str(uuid.uuid4())}
    )
    assert twice.status_code == 409
    assert "already on an invoice" in twice.get_data(as_text=True)
    assert _count(app, clinic_a.clinic_id, Invoice) == 1


@pytest.mark.parametrize(
    "query",
    ["start=2026-03-01&end=2026-02-01", "start=2024-01-01&end=2026-02-01", "start=x&end=y", ""],
)
def test_a_session_range_that_cannot_be_used_is_a_400(app, client, auth, clinic_a, query):
    org_id = add_organisation(app, clinic_a.clinic_id)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    url = f"{ORGS}/{org_id}/sessions" + (f"?{query}" if query else "?start=")
    assert client.get(url).status_code == 400


def test_no_session_chosen_or_an_unknown_one_is_refused(app, client, auth, clinic_a, schedule):
    org_id = add_organisation(app, clinic_a.clinic_id)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    none = client.post_form(
        f"{ORGS}/{org_id}/sessions", {"start": "2026-02-01", "end": "2026-02-28"}
    )
    assert none.status_code == 400 and "Choose at least one" in none.get_data(as_text=True)
    unknown = client.post_form(f"{ORGS}/{org_id}/sessions", {"sessions": str(uuid.uuid4())})
    assert unknown.status_code == 404
    assert client.post_form(f"{ORGS}/{org_id}/sessions", {"sessions": "x"}).status_code == 400
    assert _count(app, clinic_a.clinic_id, Invoice) == 0


# The statement ----------------------------------------------------------------------------------


def _club_invoice(app, schedule, org_id, starts_at) -> uuid.UUID:
    billed = add_draft(app, schedule, starts_at=starts_at)

    def readdress(clinic):
        invoice = tenancy.find(Invoice, billed.invoice_id)
        invoice.payer_kind, invoice.payer_client_id = PayerKind.ORGANISATION, None
        invoice.organisation_id = org_id

    on_clinic(app, schedule.clinic_id, readdress)
    issue(app, schedule.clinic_id, billed.invoice_id, today=date(2026, 1, 5))
    return billed.invoice_id


def test_the_statement_lists_open_invoices_in_constant_statements(
    app, client, auth, clinic_a, schedule, count_queries
):
    org_id = add_organisation(app, clinic_a.clinic_id)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    url = f"{ORGS}/{org_id}/statement"
    empty = client.get(url).get_data(as_text=True)
    assert "Nothing is open" in empty
    _club_invoice(app, schedule, org_id, PAST)
    one, page = count_queries(lambda: client.get(url))
    assert page.data.count(b'data-testid="statement-line"') == 1
    for n in range(1, 20):
        _club_invoice(app, schedule, org_id, PAST + timedelta(days=7 * n))
    twenty, page = count_queries(lambda: client.get(url))
    text = page.get_data(as_text=True)
    assert text.count('data-testid="statement-line"') == 20
    assert one == twenty
    assert re.search(r'data-testid="open-total">£1,200.00<', text)
    assert re.search(r'data-testid="overdue-total">£1,200.00<', text)  # due 19 Jan 2026
    show = client.get(f"{ORGS}/{org_id}").get_data(as_text=True)
    assert "Open balance £1,200.00" in show


# Settings: what invoices are issued as ---------------------------------------------------------


def _settings(**changes) -> dict:
    return {
        "clinic_name": "Northside Sports Massage",
        "timezone": "Europe/London",
        "currency": "GBP",
        "country": "GB",
        "retention_years": "8",
        "intake_valid_months": "12",
        "legal_name": "Northside Therapy Ltd",
        "invoice_prefix": "ns",
        "payment_terms_days": "30",
        **changes,
    }


def test_invoicing_settings_number_and_date_the_invoices(app, client, auth, clinic_a, schedule):
    auth.login_as(Role.OWNER, clinic_a)
    assert client.post_form(SETTINGS, _settings()).status_code == 302
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        assert (clinic.legal_name, clinic.invoice_prefix, clinic.payment_terms_days) == (
            "Northside Therapy Ltd",
            "NS",
            30,
        )
    billed = add_draft(app, schedule)
    number = issue(app, clinic_a.clinic_id, billed.invoice_id, today=date(2026, 3, 2))
    assert number == "NS-2026-000001"
    page = client.get(f"/c/northside/invoices/{billed.invoice_id}").get_data(as_text=True)
    assert "Northside Therapy Ltd" in page and "1 Apr 2026" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"invoice_prefix": ""}, "invoice_prefix", "Use 1 to 12 letters or digits"),
        ({"invoice_prefix": "NS-"}, "invoice_prefix", "Use 1 to 12 letters or digits"),
        ({"invoice_prefix": "ABCDEFGHIJKLM"}, "invoice_prefix", "Use 1 to 12 letters or digits"),
        ({"invoice_prefix": "NÖ"}, "invoice_prefix", "Use 1 to 12 letters or digits"),
        ({"payment_terms_days": "-1"}, "payment_terms_days", "from 0 to 365"),
        ({"payment_terms_days": "366"}, "payment_terms_days", "from 0 to 365"),
        ({"payment_terms_days": ""}, "payment_terms_days", "from 0 to 365"),
        ({"payment_terms_days": "soon"}, "payment_terms_days", "Not a valid integer value."),
        ({"legal_name": "L" * 201}, "legal_name", "Use at most 200 characters."),
        ({"legal_name": "Ltd\nPlc"}, "legal_name", "one line"),
    ],
)
def test_bad_invoicing_settings_are_form_errors(
    app, client, auth, clinic_a, changes, field, message
):
    auth.login_as(Role.OWNER, clinic_a)
    response = client.post_form(SETTINGS, _settings(**changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'data-testid="error-{field}"' in page and message in page
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        assert (clinic.invoice_prefix, clinic.payment_terms_days) == ("INV", 14)
