"""Emailing documents to whoever pays: an invoice with its pay link, a receipt after a payment,
a credit note. Each email has an HTML and a plain-text part, comes in the clinic's name (replies
go to the clinic's own address), and carries the document as a PDF.

Like all mail, these are queued and go out only when the request's transaction commits. The pay
link is given by the caller (payments/pay_links.py signs it), so this layer knows nothing of
tokens.
"""

from __future__ import annotations

from .. import display, mail
from ..extensions import db
from ..models import Clinic, CreditNote, Invoice, InvoiceStatus, Payment
from . import balances, documents
from .invoices import InvoiceError

SENDABLE = (InvoiceStatus.ISSUED, InvoiceStatus.PART_PAID, InvoiceStatus.PAID)


def _clinic_of(row) -> Clinic:
    return db.session.get(Clinic, row.clinic_id)


def _recipient(invoice: Invoice) -> str:
    if not invoice.payer_email:
        raise InvoiceError(
            f"{invoice.payer_name or 'The payer'} has no email address on this invoice: print "
            "the document instead, or add an email address and issue a new invoice."
        )
    return invoice.payer_email


def _send(clinic: Clinic, to: str, subject: str, template: str, attachment, **context) -> None:
    issuer = documents.issuer(clinic)
    mail.send(
        to,
        subject,
        template,
        sender_name=clinic.name,
        reply_to=clinic.email,
        attachments=(attachment,),
        clinic=clinic,
        issuer=issuer,
        **context,
    )


def _money(clinic: Clinic, amount_minor: int, currency: str) -> str:
    return display.price(amount_minor, currency, clinic.country)


def send_invoice(invoice: Invoice, pay_url: str | None) -> None:
    """Email the payer the issued invoice as a PDF, with a button to pay online while it is due
    (`pay_url`, None to leave the button out)."""
    if invoice.status not in SENDABLE:
        raise InvoiceError(f"A {invoice.status.label.lower()} invoice is not sent.")
    clinic = _clinic_of(invoice)
    to = _recipient(invoice)
    balance = balances.of(invoice)
    pdf = documents.invoice_pdf(clinic, invoice)
    _send(
        clinic,
        to,
        f"Invoice {invoice.number} from {clinic.name}",
        "invoice",
        mail.Attachment(documents.invoice_file_name(invoice, invoice.issued_on), pdf),
        invoice=invoice,
        total=_money(clinic, invoice.total_minor, invoice.currency),
        due=_money(clinic, max(balance.due, 0), invoice.currency),
        owing=balance.due > 0,
        due_on=display.day(invoice.due_on) if invoice.due_on else None,
        pay_url=pay_url if balance.due > 0 else None,
    )


def send_receipt(payment: Payment) -> None:
    """Email the payer the receipt for one payment, as a PDF with a summary in the message."""
    clinic = _clinic_of(payment)
    invoice = db.session.get(Invoice, (clinic.id, payment.invoice_id))
    to = _recipient(invoice)
    context = documents.receipt_context(clinic, payment)
    pdf = documents.receipt_pdf(clinic, payment)
    _send(
        clinic,
        to,
        f"Receipt for your payment to {clinic.name}",
        "receipt",
        mail.Attachment(documents.receipt_file_name(context["number"]), pdf),
        invoice=invoice,
        number=context["number"],
        amount=_money(clinic, payment.amount_minor, payment.currency),
        method=payment.method.label + (f" ({context['card']})" if context["card"] else ""),
        paid_at=display.instant(payment.taken_at, clinic.tz),
        due=_money(clinic, max(context["balance"].due, 0), invoice.currency),
        owing=context["balance"].due > 0,
    )


def send_credit_note(note: CreditNote) -> None:
    """Email the payer a credit note against their invoice, as a PDF."""
    clinic = _clinic_of(note)
    invoice = db.session.get(Invoice, (clinic.id, note.invoice_id))
    to = _recipient(invoice)
    pdf = documents.credit_note_pdf(clinic, note)
    balance = balances.of(invoice)
    _send(
        clinic,
        to,
        f"Credit note {note.number} from {clinic.name}",
        "credit_note",
        mail.Attachment(documents.credit_note_file_name(note), pdf),
        invoice=invoice,
        note=note,
        amount=_money(clinic, note.amount_minor, invoice.currency),
        due=_money(clinic, max(balance.due, 0), invoice.currency),
        owing=balance.due > 0,
    )
