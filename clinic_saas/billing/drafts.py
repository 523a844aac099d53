"""Changes to a draft beyond its lines: who it is addressed to."""

from __future__ import annotations

from ..extensions import db
from ..models import Client, Invoice, InvoiceStatus, Organisation, PayerKind
from .invoices import InvoiceError


def change_payer(invoice: Invoice, payer: Client | Organisation) -> Invoice:
    """Address a draft to another client record or organisation (an issued one never changes)."""
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceError("Only a draft's payer can change: an issued invoice keeps its payer.")
    if isinstance(payer, Organisation):
        if not payer.active:
            raise InvoiceError(f"{payer.name} is archived: restore it before billing it.", "payer")
        invoice.payer_kind = PayerKind.ORGANISATION
        invoice.organisation_id, invoice.payer_client_id = payer.id, None
    else:
        if payer.erased_at is not None:
            raise InvoiceError("That client's identity was erased: bill someone else.", "payer")
        invoice.payer_kind = PayerKind.CLIENT
        invoice.payer_client_id, invoice.organisation_id = payer.id, None
    db.session.flush()
    return invoice
