"""Invoices, credit notes and receipts as pages and as PDF files, for the clinic's desk."""

from __future__ import annotations

from flask import Blueprint, Response, g, url_for

from ...billing import documents
from ...clinic_time import today_in
from ...models import CreditNote, Invoice, Payment
from ...permissions import requires
from ...tenancy import get_or_404

bp = Blueprint("documents", __name__, url_prefix="/c/<clinic_slug>")


def _pdf(content: bytes, file_name: str) -> Response:
    return Response(
        content,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{file_name}"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/invoices/<invoice_id>/document")
@requires("invoices.view")
def invoice_page(invoice_id: str):
    invoice = get_or_404(Invoice, invoice_id)
    pdf_url = url_for(".invoice_pdf", invoice_id=invoice.id)
    return documents.invoice_html(g.clinic, invoice, pdf_url=pdf_url)


@bp.route("/invoices/<invoice_id>/pdf")
@requires("invoices.view")
def invoice_pdf(invoice_id: str):
    invoice = get_or_404(Invoice, invoice_id)
    name = documents.invoice_file_name(invoice, today_in(g.clinic))
    return _pdf(documents.invoice_pdf(g.clinic, invoice), name)


@bp.route("/credit-notes/<credit_note_id>/pdf")
@requires("invoices.view")
def credit_note_pdf(credit_note_id: str):
    note = get_or_404(CreditNote, credit_note_id)
    name = documents.credit_note_file_name(note)
    return _pdf(documents.credit_note_pdf(g.clinic, note), name)


@bp.route("/payments/<payment_id>/receipt")
@requires("invoices.view")
def receipt_page(payment_id: str):
    payment = get_or_404(Payment, payment_id)
    pdf_url = url_for(".receipt_pdf", payment_id=payment.id)
    return documents.receipt_html(g.clinic, payment, pdf_url=pdf_url)


@bp.route("/payments/<payment_id>/receipt.pdf")
@requires("invoices.view")
def receipt_pdf(payment_id: str):
    payment = get_or_404(Payment, payment_id)
    invoice = get_or_404(Invoice, payment.invoice_id)
    name = documents.receipt_file_name(documents.receipt_number(payment, invoice))
    return _pdf(documents.receipt_pdf(g.clinic, payment), name)
