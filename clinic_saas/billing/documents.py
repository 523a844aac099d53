"""Invoices, credit notes and receipts as documents: one Jinja template each, rendered as an HTML
page for the screen and, through WeasyPrint, as an A4 PDF for email and print.

The documents show only what is stored: an issued invoice's payer block and amounts are its own
snapshot, so a document rendered next year reads as the one sent today (a draft, which has no
snapshot yet, shows its payer as things stand and says it is not yet issued). PDF rendering
fetches nothing over the network: the only resources a document may load are the app's own
static files, read from disk; any other address is refused.
"""

from __future__ import annotations

import mimetypes
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, has_request_context, render_template, url_for
from sqlalchemy import func, select
from werkzeug.security import safe_join

from ..extensions import db
from ..models import (
    Client,
    Clinic,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Organisation,
    PayerKind,
    Payment,
    PaymentMethod,
    Refund,
    RefundStatus,
)
from ..refusals import Refusal
from . import balances
from .invoices import lines_of, totals

# Where a document's relative and root-relative addresses resolve while it becomes a PDF: a name
# that never resolves (RFC 2606), mapped by LocalOnlyFetcher to the static folder on disk.
DOCUMENT_ORIGIN = "https://documents.invalid"
STYLESHEET = "documents.css"

PDF_UNAVAILABLE = (
    "PDF documents cannot be made on this server: its system libraries for WeasyPrint (Pango) "
    "are missing. The page itself still shows the document; the README says what to install."
)


class PdfUnavailable(Refusal):
    """WeasyPrint cannot load its system libraries: the server, not the request, is at fault."""

    status = 503


@dataclass(frozen=True)
class TaxBand:
    name: str | None
    rate_bp: int
    net: int
    tax: int


@dataclass(frozen=True)
class Party:
    """Who a document is from or to, as printed."""

    name: str
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    tax_registration: str | None = None
    website: str | None = None
    trading_name: str | None = None


# Who ---------------------------------------------------------------------------------------------


def issuer(clinic: Clinic) -> Party:
    """The clinic as its documents name it: its legal name, else its trading name."""
    legal = (clinic.legal_name or "").strip()
    return Party(
        name=legal or clinic.name,
        trading_name=clinic.name if legal and legal != clinic.name else None,
        address=clinic.address,
        email=clinic.email,
        phone=clinic.phone,
        tax_registration=clinic.tax_registration,
        website=clinic.website,
    )


def payer(clinic: Clinic, invoice: Invoice) -> Party:
    """The payer as the invoice addresses them: the snapshot taken at issue, or, on a draft,
    the payer's details today."""
    if invoice.status != InvoiceStatus.DRAFT and invoice.payer_name:
        return Party(invoice.payer_name, invoice.payer_address, invoice.payer_email)
    if invoice.payer_kind == PayerKind.ORGANISATION:
        org = db.session.get(Organisation, (clinic.id, invoice.organisation_id))
        return Party(org.name, org.address, org.billing_email, org.phone, org.tax_registration)
    person = db.session.get(Client, (clinic.id, invoice.payer_client_id))
    return Party(person.full_name, person.address, person.email)


# What --------------------------------------------------------------------------------------------


def tax_bands(lines: list[InvoiceLine]) -> list[TaxBand]:
    """Net and tax per rate, in the order the rates first appear: each the sum of its lines'
    own rounded amounts, so the bands add up to the invoice's totals exactly."""
    bands: dict[tuple[str | None, int], list[int]] = {}
    for line in lines:
        sums = bands.setdefault((line.tax_name, line.tax_rate_bp), [0, 0])
        sums[0] += line.net_minor
        sums[1] += line.tax_minor
    return [TaxBand(name, rate, net, tax) for (name, rate), (net, tax) in bands.items()]


def _client_names(clinic: Clinic, lines: list[InvoiceLine]) -> dict[uuid.UUID, str]:
    ids = {line.client_id for line in lines if line.client_id is not None}
    if not ids:
        return {}
    rows = db.session.scalars(select(Client).where(Client.id.in_(ids)))
    return {row.id: row.full_name for row in rows}


def _payments_of(invoice: Invoice) -> list[Payment]:
    return list(
        db.session.scalars(
            select(Payment)
            .where(Payment.invoice_id == invoice.id)
            .order_by(Payment.taken_at, Payment.id)
        )
    )


def _credit_notes_of(invoice: Invoice) -> list[CreditNote]:
    return list(
        db.session.scalars(
            select(CreditNote)
            .where(CreditNote.invoice_id == invoice.id)
            .order_by(CreditNote.issued_on, CreditNote.number)
        )
    )


def _mark(invoice: Invoice, due: int) -> str | None:
    if invoice.status == InvoiceStatus.DRAFT:
        return "DRAFT - not yet issued"
    if invoice.status == InvoiceStatus.VOID:
        return "VOID"
    if invoice.status == InvoiceStatus.PAID or due <= 0:
        return "PAID"
    return None


def invoice_context(clinic: Clinic, invoice: Invoice) -> dict:
    """Everything the invoice template shows, computed here so the template only displays."""
    lines = lines_of(invoice)
    amounts = totals(lines)
    if invoice.status == InvoiceStatus.DRAFT:
        balance = balances.Balance(total=amounts.gross, paid=0, credited=0)
    else:
        balance = balances.of(invoice)
    show_clients = invoice.payer_kind == PayerKind.ORGANISATION or any(
        line.client_id not in (None, invoice.client_id) for line in lines
    )
    return {
        "clinic": clinic,
        "issuer": issuer(clinic),
        "payer": payer(clinic, invoice),
        "invoice": invoice,
        "title": f"Invoice {invoice.number}" if invoice.number else "Draft invoice",
        "lines": lines,
        "client_names": _client_names(clinic, lines) if show_clients else {},
        "totals": amounts,
        "bands": tax_bands(lines),
        "balance": balance,
        "payments": _payments_of(invoice) if invoice.status != InvoiceStatus.DRAFT else [],
        "credit_notes": _credit_notes_of(invoice),
        "mark": _mark(invoice, balance.due),
        "currency": invoice.currency,
        "country": clinic.country,
    }


def credit_note_context(clinic: Clinic, note: CreditNote) -> dict:
    invoice = db.session.get(Invoice, (clinic.id, note.invoice_id))
    return {
        "clinic": clinic,
        "issuer": issuer(clinic),
        "payer": payer(clinic, invoice),
        "note": note,
        "invoice": invoice,
        "title": f"Credit note {note.number}",
        "net": note.amount_minor - note.tax_minor,
        "currency": invoice.currency,
        "country": clinic.country,
    }


def receipt_number(payment: Payment, invoice: Invoice) -> str:
    """The receipt's reference: the invoice's number and the payment's place among its payments
    ('NS-2026-000042/2' for the second)."""
    earlier = db.session.scalar(
        select(func.count(Payment.id)).where(
            Payment.invoice_id == invoice.id,
            (Payment.taken_at < payment.taken_at)
            | ((Payment.taken_at == payment.taken_at) & (Payment.id < payment.id)),
        )
    )
    return f"{invoice.number}/{earlier + 1}"


def receipt_context(clinic: Clinic, payment: Payment) -> dict:
    invoice = db.session.get(Invoice, (clinic.id, payment.invoice_id))
    refunded = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
            Refund.payment_id == payment.id, Refund.status == RefundStatus.SUCCEEDED
        )
    )
    number = receipt_number(payment, invoice)
    card = payment.method == PaymentMethod.CARD and payment.card_last4
    return {
        "clinic": clinic,
        "issuer": issuer(clinic),
        "payer": payer(clinic, invoice),
        "payment": payment,
        "invoice": invoice,
        "number": number,
        "title": f"Receipt {number}",
        "card": f"{(payment.card_brand or 'Card').title()} ending {payment.card_last4}"
        if card
        else None,
        "reference": payment.reference or payment.stripe_payment_intent_id,
        "refunded": int(refunded),
        "balance": balances.of(invoice),
        "currency": payment.currency,
        "country": clinic.country,
    }


# File names --------------------------------------------------------------------------------------


def invoice_file_name(invoice: Invoice, today: date) -> str:
    return f"{invoice.number}.pdf" if invoice.number else f"draft-invoice-{today:%Y-%m-%d}.pdf"


def credit_note_file_name(note: CreditNote) -> str:
    return f"{note.number}.pdf"


def receipt_file_name(number: str) -> str:
    return "receipt-" + number.replace("/", "-") + ".pdf"


# Rendering ---------------------------------------------------------------------------------------


def _render(template: str, context: dict, page: dict) -> str:
    for_pdf = page.get("for_pdf", False)
    if has_request_context() and not for_pdf:
        stylesheet = url_for("static", filename=STYLESHEET)
    else:  # what the PDF fetcher maps to the static folder, with no request needed (mail, jobs)
        stylesheet = f"{current_app.static_url_path}/{STYLESHEET}"
    screen = dict.fromkeys(("pdf_url", "back_url", "back_label", "pay_url", "mark"))
    values = screen | context | page | {"for_pdf": for_pdf, "stylesheet": stylesheet}
    return render_template(f"documents/{template}", **values)


def invoice_html(clinic: Clinic, invoice: Invoice, **page) -> str:
    """The invoice as HTML; `page` adds what only the screen shows (pdf_url, back_url, pay_url)."""
    return _render("invoice.html", invoice_context(clinic, invoice), page)


def credit_note_html(clinic: Clinic, note: CreditNote, **page) -> str:
    return _render("credit_note.html", credit_note_context(clinic, note), page)


def receipt_html(clinic: Clinic, payment: Payment, **page) -> str:
    return _render("receipt.html", receipt_context(clinic, payment), page)


def invoice_pdf(clinic: Clinic, invoice: Invoice) -> bytes:
    return pdf_of(invoice_html(clinic, invoice, for_pdf=True))


def credit_note_pdf(clinic: Clinic, note: CreditNote) -> bytes:
    return pdf_of(credit_note_html(clinic, note, for_pdf=True))


def receipt_pdf(clinic: Clinic, payment: Payment) -> bytes:
    return pdf_of(receipt_html(clinic, payment, for_pdf=True))


def pdf_of(html: str) -> bytes:
    """An A4 PDF of a document's HTML, with nothing fetched beyond the app's static files."""
    try:
        import weasyprint  # its import loads Pango: a server without it still serves the pages
    except OSError as missing:
        current_app.logger.error("WeasyPrint cannot load its libraries: %s", missing)
        raise PdfUnavailable(PDF_UNAVAILABLE) from missing
    fetcher = _local_fetcher(weasyprint)
    return weasyprint.HTML(
        string=html, base_url=DOCUMENT_ORIGIN + "/", url_fetcher=fetcher
    ).write_pdf()


def _local_fetcher(weasyprint):
    static = Path(current_app.static_folder)
    prefix = (current_app.static_url_path or "/static").rstrip("/") + "/"

    class LocalOnlyFetcher(weasyprint.urls.URLFetcher):
        """Serves the app's static files from disk and refuses every other address."""

        def fetch(self, url, headers=None):
            return local_resource(url, static, prefix, weasyprint.urls.URLFetcherResponse)

    return LocalOnlyFetcher()


def local_resource(url: str, static: Path, prefix: str, response):
    """The static file that `url` names under DOCUMENT_ORIGIN, or ValueError for anything else
    (another host, another scheme, a path outside the static folder)."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != DOCUMENT_ORIGIN or not parts.path.startswith(prefix):
        raise ValueError(f"documents load nothing from outside the app: {url}")
    path = safe_join(str(static), unquote(parts.path[len(prefix) :]))
    if path is None or not Path(path).is_file():
        raise ValueError(f"no such static file: {url}")
    body = Path(path).read_bytes()
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return response(url, body=body, headers={"Content-Type": kind})
