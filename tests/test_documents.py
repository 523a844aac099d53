"""Invoices, credit notes and receipts as HTML pages and PDF files, and the emails that carry
them: what they show is what billing computed, and rendering fetches nothing from the network."""

from __future__ import annotations

import os
import re
import socket
import threading
import zlib

import pytest

from clinic_saas import display, tenancy
from clinic_saas.billing import documents, emails, invoices
from clinic_saas.billing.invoices import InvoiceError
from clinic_saas.extensions import db
from clinic_saas.models import Client, Clinic, CreditNote, Invoice, Payment, Role

from .document_samples import bill_client
from .factories import build_schedule


@pytest.fixture(scope="module")
def pdf_ready():
    """WeasyPrint with its system libraries (Pango): under CI a missing one fails the run."""
    try:
        import weasyprint  # noqa: F401
    except OSError as missing:  # pragma: no cover - only on a machine without Pango
        message = (
            f"WeasyPrint cannot load its system libraries ({missing}): run `make install` as "
            "root, or apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


@pytest.fixture
def billed(app, schedule):
    return bill_client(app, schedule)


def _base(clinic_a) -> str:
    return f"/c/{clinic_a.slug}"


def pdf_text(pdf: bytes) -> bytes:
    """The PDF's streams, inflated: its document information (Title, Author) is in there."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    out = []
    for stream in streams:
        try:
            out.append(zlib.decompress(stream))
        except zlib.error:
            out.append(stream)
    return b"\n".join(out)


def _price(amount: int) -> str:
    return display.price(amount, "GBP", "GB")


def _expected_totals(app, schedule, invoice_id):
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            invoice = tenancy.find(Invoice, invoice_id)
            return invoices.totals(invoices.lines_of(invoice))


# Pages and PDFs ----------------------------------------------------------------------------------


def test_the_invoice_page_shows_the_clinic_payer_lines_and_totals_billing_computed(
    app, client, auth, clinic_a, schedule, billed
):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.get(f"{_base(clinic_a)}/invoices/{billed.invoice_id}/document")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    amounts = _expected_totals(app, schedule, billed.invoice_id)
    assert amounts.gross == 6000 + 999 + 1500 and amounts.net + amounts.tax == amounts.gross
    assert f'data-testid="total-net">{_price(amounts.net)}<' in page
    assert f'data-testid="total-tax">{_price(amounts.tax)}<' in page
    assert f'data-testid="total-gross">{_price(amounts.gross)}<' in page
    # Paid 30.00 by card and credited 10.00: the rest is due.
    assert f'data-testid="paid">{_price(3000)}<' in page
    assert f'data-testid="due">{_price(amounts.gross - 3000 - 1000)}<' in page
    assert "Northside Clinics Ltd" in page and "Trading as Northside Sports Massage" in page
    assert "GB123456789" in page and "12 Quay Road" in page
    assert "Ada Runner" in page and "3 Runner Lane" in page
    assert billed.number in page and billed.number == "NS-2026-000001"
    assert "20%" in page and "Kinesiology tape" in page
    assert f"Credit note {billed.credit_note_number}" in page
    assert "Card" in page and "Due" in page and "2 Mar 2026" in page
    assert 'data-testid="mark"' not in page  # issued, partly paid: no stamp
    assert f"/invoices/{billed.invoice_id}/pdf" in page


def test_the_invoice_pdf_is_an_a4_pdf_named_by_its_number(
    app, client, auth, clinic_a, billed, pdf_ready
):
    auth.login_as(Role.OWNER, clinic_a)
    response = client.get(f"{_base(clinic_a)}/invoices/{billed.invoice_id}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'inline; filename="NS-2026-000001.pdf"'
    pdf = response.data
    assert pdf.startswith(b"%PDF-") and len(pdf) > 5000
    inside = pdf_text(pdf)
    assert b"/Title (Invoice NS-2026-000001)" in inside
    assert b"/Author (Northside Clinics Ltd)" in inside
    assert b"/MediaBox [0 0 595.2" in inside  # A4: 210 mm wide
    assert b"DejaVu" in inside  # a system font, embedded


def test_a_draft_has_no_number_and_says_it_is_not_yet_issued(
    app, client, auth, clinic_a, billed, pdf_ready
):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    page = client.get(f"{_base(clinic_a)}/invoices/{billed.draft_id}/document")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "DRAFT - not yet issued" in text and "Draft invoice" in text
    assert 'data-testid="number"' not in text and "NS-2026" not in text
    assert f'data-testid="due">{_price(3500)}<' in text
    pdf = client.get(f"{_base(clinic_a)}/invoices/{billed.draft_id}/pdf")
    assert pdf.data.startswith(b"%PDF-")
    assert re.fullmatch(
        r'inline; filename="draft-invoice-\d{4}-\d\d-\d\d\.pdf"',
        pdf.headers["Content-Disposition"],
    )
    assert b"/Title (Draft invoice)" in pdf_text(pdf.data)


def test_paid_and_void_invoices_are_stamped(app, client, auth, clinic_a, schedule):
    paid = bill_client(app, schedule, paid=7499, credited=1000)
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            draft = tenancy.find(Invoice, paid.draft_id)
            invoices.issue(clinic, draft, today=draft.created_at.date())
            invoices.void(clinic, draft, reason="Booked twice")
            db.session.commit()
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    paid_page = client.get(f"{_base(clinic_a)}/invoices/{paid.invoice_id}/document")
    assert 'data-testid="mark">PAID<' in paid_page.get_data(as_text=True)
    assert f'data-testid="due">{_price(0)}<' in paid_page.get_data(as_text=True)
    void_page = client.get(f"{_base(clinic_a)}/invoices/{paid.draft_id}/document")
    text = void_page.get_data(as_text=True)
    assert 'data-testid="mark">VOID<' in text and "Booked twice" in text
    assert 'data-testid="due"' not in text


def test_the_credit_note_pdf_names_its_number_reason_and_invoice(
    app, client, auth, clinic_a, billed, pdf_ready
):
    auth.login_as(Role.MANAGER, clinic_a)
    response = client.get(f"{_base(clinic_a)}/credit-notes/{billed.credit_note_id}/pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    name = f"{billed.credit_note_number}.pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="{name}"'
    assert f"/Title (Credit note {billed.credit_note_number})".encode() in pdf_text(response.data)
    with app.test_request_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            html = documents.credit_note_html(
                clinic, tenancy.find(CreditNote, billed.credit_note_id)
            )
    assert 'data-testid="reason">Tape not used' in html
    assert "Invoice NS-2026-000001 of 2 Mar 2026" in html
    assert f'data-testid="credited">{_price(1000)}<' in html


def test_a_card_receipt_shows_the_brand_and_last_four_digits(
    app, client, auth, clinic_a, billed, pdf_ready
):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    page = client.get(f"{_base(clinic_a)}/payments/{billed.payment_id}/receipt")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-testid="method">Card · Visa ending 4242<' in text
    assert f'data-testid="amount">{_price(3000)}<' in text
    assert "NS-2026-000001/1" in text and "2 Mar 2026, 15:30" in text
    assert "pi_" in text  # the Stripe reference
    pdf = client.get(f"{_base(clinic_a)}/payments/{billed.payment_id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    expected = 'inline; filename="receipt-NS-2026-000001-1.pdf"'
    assert pdf.headers["Content-Disposition"] == expected
    assert b"/Title (Receipt NS-2026-000001/1)" in pdf_text(pdf.data)


def test_a_therapist_is_refused_every_document(client, auth, clinic_a, billed):
    auth.login_as(Role.THERAPIST, clinic_a)
    base = _base(clinic_a)
    for url in (
        f"{base}/invoices/{billed.invoice_id}/document",
        f"{base}/invoices/{billed.invoice_id}/pdf",
        f"{base}/credit-notes/{billed.credit_note_id}/pdf",
        f"{base}/payments/{billed.payment_id}/receipt",
        f"{base}/payments/{billed.payment_id}/receipt.pdf",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"Ada Runner" not in response.data


def test_another_clinics_documents_are_not_found(client, auth, clinic_a, clinic_b, billed):
    auth.login_as(Role.OWNER, clinic_b)
    for url in (
        f"/c/{clinic_b.slug}/invoices/{billed.invoice_id}/document",
        f"/c/{clinic_b.slug}/invoices/{billed.invoice_id}/pdf",
        f"/c/{clinic_b.slug}/credit-notes/{billed.credit_note_id}/pdf",
        f"/c/{clinic_b.slug}/payments/{billed.payment_id}/receipt",
        f"/c/{clinic_b.slug}/payments/{billed.payment_id}/receipt.pdf",
        f"/c/{clinic_b.slug}/invoices/not-an-id/document",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Ada Runner" not in response.data


# Nothing from the network ------------------------------------------------------------------------


class _Listener:
    """A loopback TCP server that counts who connects to it."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


def test_rendering_a_pdf_fetches_nothing_but_the_apps_own_stylesheet(app, pdf_ready):
    listener = _Listener()
    remote = f"http://127.0.0.1:{listener.port}"
    html = (
        "<!doctype html><html><head><title>T</title>"
        f'<link rel="stylesheet" href="{remote}/x.css">'
        '<link rel="stylesheet" href="/static/documents.css">'
        f"<style>@font-face {{ font-family: X; src: url({remote}/x.woff2) }}</style>"
        f'</head><body><h1 class="doc-title">Hello</h1><img src="{remote}/logo.png">'
        '<img src="/static/../../pyproject.toml"></body></html>'
    )
    try:
        with app.app_context():
            pdf = documents.pdf_of(html)
    finally:
        listener.close()
    assert pdf.startswith(b"%PDF-")
    assert listener.connections == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/static/documents.css",
        "file:///etc/passwd",
        f"{documents.DOCUMENT_ORIGIN}/static/../../pyproject.toml",
        f"{documents.DOCUMENT_ORIGIN}/other/documents.css",
        f"{documents.DOCUMENT_ORIGIN}/static/no-such.css",
    ],
)
def test_the_fetcher_refuses_anything_but_a_static_file(app, url):
    with app.app_context(), pytest.raises(ValueError):
        documents.local_resource(url, app.static_folder, "/static/", dict)


def test_the_fetcher_serves_the_documents_stylesheet_from_disk(app):
    url = f"{documents.DOCUMENT_ORIGIN}/static/documents.css"
    got = documents.local_resource(
        url, app.static_folder, "/static/", lambda url, body, headers: (body, headers)
    )
    assert b"@page" in got[0] and got[1] == {"Content-Type": "text/css"}


# Emails ------------------------------------------------------------------------------------------


def _in_clinic(app, clinic_a, fn):
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            result = fn(clinic)
            db.session.commit()
            return result


def test_the_invoice_email_carries_the_pdf_and_the_pay_link_in_the_clinics_name(
    app, clinic_a, billed, outbox, pdf_ready
):
    pay_url = "https://pay.example.test/pay/some-token"

    def send(clinic):
        clinic.email = "desk@northside.example"
        emails.send_invoice(tenancy.find(Invoice, billed.invoice_id), pay_url)

    _in_clinic(app, clinic_a, send)
    (message,) = outbox()
    assert message.to == "ada@example.com"
    assert message.subject == "Invoice NS-2026-000001 from Northside Sports Massage"
    assert (
        message.sender.startswith("Northside Sports Massage <")
        and message.reply_to == "desk@northside.example"
    )
    due = _price(6000 + 999 + 1500 - 3000 - 1000)
    assert pay_url in message.text and f"Amount due: {due}" in message.text
    assert f'href="{pay_url}"' in message.html and f"Pay {due} online" in message.html
    (attachment,) = message.attachments
    assert attachment.filename == "NS-2026-000001.pdf"
    assert attachment.mimetype == "application/pdf" and attachment.content.startswith(b"%PDF-")


def test_a_paid_invoice_is_sent_without_a_pay_button(app, clinic_a, schedule, outbox, pdf_ready):
    paid = bill_client(app, schedule, paid=7499, credited=1000)
    _in_clinic(
        app,
        clinic_a,
        lambda clinic: emails.send_invoice(tenancy.find(Invoice, paid.invoice_id), "https://x/p"),
    )
    (message,) = outbox()
    assert "paid in full" in message.text and "https://x/p" not in message.text
    assert "https://x/p" not in message.html


def test_drafts_and_payers_without_email_are_not_sent(app, clinic_a, billed, outbox):
    def draft(clinic):
        emails.send_invoice(tenancy.find(Invoice, billed.draft_id), None)

    with pytest.raises(InvoiceError, match="draft invoice is not sent"):
        _in_clinic(app, clinic_a, draft)

    def no_email(clinic):
        tenancy.find(Invoice, billed.invoice_id).payer_email = None
        emails.send_invoice(tenancy.find(Invoice, billed.invoice_id), None)

    with pytest.raises(InvoiceError, match="has no email address"):
        _in_clinic(app, clinic_a, no_email)
    assert outbox() == []


def test_the_receipt_email_names_the_card_and_attaches_the_receipt(
    app, clinic_a, billed, outbox, pdf_ready
):
    _in_clinic(
        app, clinic_a, lambda clinic: emails.send_receipt(tenancy.find(Payment, billed.payment_id))
    )
    (message,) = outbox()
    assert message.to == "ada@example.com"
    assert message.subject == "Receipt for your payment to Northside Sports Massage"
    assert "Card (Visa ending 4242)" in message.text and _price(3000) in message.text
    assert "Visa ending 4242" in message.html
    (attachment,) = message.attachments
    assert attachment.filename == "receipt-NS-2026-000001-1.pdf"
    assert attachment.content.startswith(b"%PDF-")


def test_the_credit_note_email_gives_the_reason_and_what_is_still_due(
    app, clinic_a, billed, outbox, pdf_ready
):
    def send(clinic):
        emails.send_credit_note(tenancy.find(CreditNote, billed.credit_note_id))

    _in_clinic(app, clinic_a, send)
    (message,) = outbox()
    assert (
        message.subject == f"Credit note {billed.credit_note_number} from Northside Sports Massage"
    )
    assert "Reason: Tape not used" in message.text
    assert f"Still due on the invoice: {_price(4499)}" in message.text
    assert message.attachments[0].filename == f"{billed.credit_note_number}.pdf"


def test_an_organisations_invoice_names_each_players_session(app, client, auth, clinic_a, schedule):
    from clinic_saas.models import Organisation

    def club(clinic):
        org = Organisation(name="Harbour RFC", billing_email="treasurer@rfc.example")
        second = Client(first_name="Ben", last_name="Prop", email="ben@example.com")
        db.session.add_all([org, second])
        db.session.flush()
        invoice = invoices.new_draft(clinic, client=None, payer=org, by=None)
        for player in (tenancy.find(Client, schedule.client_id), second):
            invoices.add_line(
                invoice,
                description="Pitch-side massage",
                unit_price_minor=4000,
                client_id=player.id,
            )
        invoices.issue(clinic, invoice, today=clinic.created_at.date())
        return invoice.id

    invoice_id = _in_clinic(app, clinic_a, club)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    text = client.get(f"{_base(clinic_a)}/invoices/{invoice_id}/document").get_data(as_text=True)
    assert "Harbour RFC" in text and "treasurer@rfc.example" in text
    assert "Ada Runner" in text and "Ben Prop" in text


# Support: a fresh pay link from the command line -----------------------------------------------


def test_pay_link_refuses_what_cannot_be_paid(app, clinic_a, clinic_b, schedule):
    paid = bill_client(app, schedule, paid=7499, credited=1000)
    runner = app.test_cli_runner()
    cases = {
        ("NS-2026-000001", "no-such-clinic"): "There is no clinic 'no-such-clinic'.",
        ("NS-2099-000009", clinic_a.slug): "has no invoice numbered NS-2099-000009.",
        (paid.number, clinic_a.slug): f"Invoice {paid.number} is paid: there is nothing to pay.",
    }
    for (number, slug), message in cases.items():
        result = runner.invoke(args=["pay-link", number, "--clinic", slug])
        assert result.exit_code == 1 and message in result.output, result.output
    other = runner.invoke(args=["pay-link", paid.number, "--clinic", clinic_b.slug])
    assert "Harbour" in other.output and "has no invoice numbered" in other.output


def test_pay_link_prints_a_link_for_an_open_invoice(app, clinic_a, billed):
    pytest.importorskip("clinic_saas.payments.pay_links", reason="signed pay links: pay branch")
    result = app.test_cli_runner().invoke(
        args=["pay-link", billed.number.lower(), "--clinic", clinic_a.slug]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith(app.config["PUBLIC_BASE_URL"] + "/pay/")
