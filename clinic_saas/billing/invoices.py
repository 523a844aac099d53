"""Drafting, issuing and voiding invoices.

Shaped like scheduling/booking.book: explicit keyword inputs including the clinic, every check
before any write, the counter lock taken only when everything else is known to be right, and
errors written for people. Allowed status changes are data (TRANSITIONS).

A draft's lines may change; an issued invoice's never do. A thing is billed once: each line made
from an appointment, a sale, a membership period or a fee carries a `source`, unique among the
lines of invoices that are not void, so the database refuses a second invoice for it even when two
requests race.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .. import money
from ..clients.family import guardian_of
from ..extensions import db
from ..menu.pricing import price_for
from ..models import (
    Appointment,
    AppointmentStatus,
    Client,
    ClientMembership,
    Clinic,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Membership,
    MembershipPeriod,
    Organisation,
    PackageSale,
    PayerKind,
    Service,
)
from ..models.base import utcnow
from ..models.billing import AMOUNT_MAX
from ..refusals import Conflict, Refusal
from . import balances, numbering, prepaid

DESCRIPTION_MAX = 200
QUANTITY_MAX = 1000
LINES_MAX = 200
NOTES_MAX = 2000
REASON_MAX = 200

# The changes an invoice's status may make by hand; payments move issued <-> part paid <-> paid.
TRANSITIONS = {
    InvoiceStatus.DRAFT: {InvoiceStatus.ISSUED, InvoiceStatus.VOID},
    InvoiceStatus.ISSUED: {InvoiceStatus.VOID},
}


class InvoiceError(Refusal):
    """An invoice that cannot be drafted, changed, issued or voided as asked."""


class AlreadyBilled(InvoiceError, Conflict):
    """The appointment, sale, period or fee is already on a live invoice (HTTP 409)."""

    def __init__(self, message: str, invoice_id: uuid.UUID | None = None):
        super().__init__(message)
        self.invoice_id = invoice_id


# Payers -------------------------------------------------------------------------------------------


def payer_for(client: Client, on: date) -> Client:
    """Who pays for a client's care by default: a minor's parent or guardian, else the client."""
    guardian = guardian_of(client)
    minor = client.date_of_birth is None or client.is_minor_on(on)
    if guardian is not None and guardian.erased_at is None and minor:
        return guardian
    return client


def new_draft(
    clinic: Clinic,
    *,
    client: Client | None,
    payer: Client | Organisation,
    by: Membership | None,
) -> Invoice:
    """An empty draft addressed to `payer` (a client record or an organisation)."""
    if isinstance(payer, Organisation):
        if not payer.active:
            raise InvoiceError(f"{payer.name} is archived: restore it before billing it.")
        invoice = Invoice(payer_kind=PayerKind.ORGANISATION, organisation_id=payer.id)
    else:
        if payer.erased_at is not None:
            raise InvoiceError("That client's identity was erased: bill someone else.")
        invoice = Invoice(payer_kind=PayerKind.CLIENT, payer_client_id=payer.id)
    invoice.client_id = client.id if client is not None else None
    invoice.currency = clinic.currency
    invoice.prices_include_tax = clinic.prices_include_tax
    invoice.status = InvoiceStatus.DRAFT
    invoice.created_by_id = by.id if by is not None else None
    db.session.add(invoice)
    db.session.flush()
    return invoice


# Lines --------------------------------------------------------------------------------------------


def lines_of(invoice: Invoice) -> list[InvoiceLine]:
    return list(
        db.session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(InvoiceLine.position, InvoiceLine.id)
        )
    )


def _check_line(description: str, quantity: int, unit_price_minor: int, tax_rate_bp: int) -> str:
    description = " ".join((description or "").split())
    if not description:
        raise InvoiceError("Describe what the line is for.", "description")
    if len(description) > DESCRIPTION_MAX:
        raise InvoiceError(f"Use at most {DESCRIPTION_MAX} characters.", "description")
    if not isinstance(quantity, int) or not 1 <= quantity <= QUANTITY_MAX:
        raise InvoiceError(f"The quantity is a whole number from 1 to {QUANTITY_MAX}.", "quantity")
    if not isinstance(unit_price_minor, int) or unit_price_minor < 0:
        raise InvoiceError("The price cannot be negative.", "unit_price")
    if unit_price_minor > AMOUNT_MAX:
        raise InvoiceError("That price is too large for one line.", "unit_price")
    if not 0 <= tax_rate_bp <= 10_000:
        raise InvoiceError("A tax rate is between 0% and 100%.", "tax_rate")
    return description


def add_line(
    invoice: Invoice,
    *,
    description: str,
    unit_price_minor: int,
    quantity: int = 1,
    tax_rate_bp: int = 0,
    tax_name: str | None = None,
    client_id: uuid.UUID | None = None,
    service_date: date | None = None,
    source: str | None = None,
) -> InvoiceLine:
    """A line on a draft, its amounts computed once (rounded per line, half up)."""
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceError("An issued invoice never changes: correct it with a credit note.")
    description = _check_line(description, quantity, unit_price_minor, tax_rate_bp)
    count = db.session.scalar(
        select(func.count(InvoiceLine.id)).where(InvoiceLine.invoice_id == invoice.id)
    )
    if count >= LINES_MAX:
        raise InvoiceError(f"An invoice has at most {LINES_MAX} lines: start another one.")
    amounts = money.line_amounts(
        quantity, unit_price_minor, tax_rate_bp, invoice.prices_include_tax
    )
    line = InvoiceLine(
        invoice_id=invoice.id,
        position=count,
        description=description,
        quantity=quantity,
        unit_price_minor=unit_price_minor,
        tax_rate_bp=tax_rate_bp,
        tax_name=tax_name if tax_rate_bp else None,
        client_id=client_id,
        service_date=service_date,
        net_minor=amounts.net,
        tax_minor=amounts.tax,
        gross_minor=amounts.gross,
        source=source,
        live=True,
    )
    if source is not None:
        _refuse_billed_twice(source)
    try:
        with db.session.begin_nested():
            db.session.add(line)
    except IntegrityError as error:  # a concurrent request billed it first
        raise AlreadyBilled(_BILLED) from error
    return line


_BILLED = "This is already on an invoice: open that invoice instead."


def _refuse_billed_twice(source: str) -> None:
    existing = db.session.scalar(
        select(InvoiceLine.invoice_id).where(InvoiceLine.source == source, InvoiceLine.live)
    )
    if existing is not None:
        raise AlreadyBilled(_BILLED, existing)


def remove_line(invoice: Invoice, line: InvoiceLine) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceError("An issued invoice never changes: correct it with a credit note.")
    if line.invoice_id != invoice.id:
        raise InvoiceError("That line is not on this invoice.")
    db.session.delete(line)
    db.session.flush()


def totals(lines: list[InvoiceLine]) -> money.LineAmounts:
    """The invoice's net, tax and gross: the sums of its lines' own rounded amounts."""
    return money.LineAmounts(
        net=sum(line.net_minor for line in lines),
        tax=sum(line.tax_minor for line in lines),
        gross=sum(line.gross_minor for line in lines),
    )


def billed_invoice(source: str) -> uuid.UUID | None:
    """The live invoice that bills `source`, if any."""
    return db.session.scalar(
        select(InvoiceLine.invoice_id).where(InvoiceLine.source == source, InvoiceLine.live)
    )


# What can be billed -------------------------------------------------------------------------------


def _service_tax(service: Service) -> tuple[int, str | None]:
    rate = service.tax_rate
    if rate is None:
        return 0, None
    return rate.rate_bp, rate.name


def for_appointment(
    clinic: Clinic, appointment: Appointment, *, by: Membership | None, today: date
) -> Invoice:
    """A draft for a completed session, at the price the client was quoted when booking."""
    if appointment.status != AppointmentStatus.COMPLETED:
        raise InvoiceError("Only a completed session is invoiced: complete it first.")
    source = f"appointment:{appointment.id}"
    _refuse_billed_twice(source)
    refuse_prepaid([appointment.id])
    client = db.session.get(Client, (clinic.id, appointment.client_id))
    service = appointment.service
    price = appointment.price_minor
    local_day = appointment.starts_at.astimezone(clinic.tz).date()
    if price is None:
        price = price_for(service, local_day, appointment.therapist.tier_id)
    if price is None:
        raise InvoiceError(f"{service.name} has no price on {local_day}: set one on the menu.")
    rate, tax_name = _service_tax(service)
    invoice = new_draft(clinic, client=client, payer=payer_for(client, today), by=by)
    add_line(
        invoice,
        description=f"{service.name} with {appointment.therapist.display_name}",
        unit_price_minor=price,
        tax_rate_bp=rate,
        tax_name=tax_name,
        client_id=client.id,
        service_date=local_day,
        source=source,
    )
    return invoice


def refuse_prepaid(appointment_ids: Iterable[uuid.UUID]) -> None:
    """Sessions paid from a package or a membership are not invoiced again."""
    if prepaid.prepaid_ids(appointment_ids):
        raise InvoiceError(prepaid.PREPAID, "sessions")


def for_package_sale(
    clinic: Clinic, sale: PackageSale, *, by: Membership | None, today: date
) -> Invoice:
    source = f"package_sale:{sale.id}"
    _refuse_billed_twice(source)
    client = db.session.get(Client, (clinic.id, sale.client_id))
    invoice = new_draft(clinic, client=client, payer=payer_for(client, today), by=by)
    add_line(
        invoice,
        description=f"{sale.name} ({sale.sessions_total} sessions)",
        unit_price_minor=sale.price_minor,
        tax_rate_bp=sale.tax_rate_bp,
        tax_name="Tax" if sale.tax_rate_bp else None,
        client_id=client.id,
        service_date=sale.sold_on,
        source=source,
    )
    return invoice


def for_membership_period(
    clinic: Clinic,
    membership: ClientMembership,
    period: MembershipPeriod,
    *,
    by: Membership | None,
    today: date,
) -> Invoice:
    source = f"membership_period:{period.id}"
    _refuse_billed_twice(source)
    client = db.session.get(Client, (clinic.id, membership.client_id))
    invoice = new_draft(clinic, client=client, payer=payer_for(client, today), by=by)
    last_day = period.ends_on - timedelta(days=1)
    add_line(
        invoice,
        description=f"{membership.name}: {period.starts_on:%-d %b} to {last_day:%-d %b %Y}",
        unit_price_minor=membership.price_minor,
        tax_rate_bp=membership.tax_rate_bp,
        tax_name="Tax" if membership.tax_rate_bp else None,
        client_id=client.id,
        service_date=period.starts_on,
        source=source,
    )
    return invoice


FEES = {
    AppointmentStatus.NO_SHOW: ("no_show_fee", "No-show fee"),
    AppointmentStatus.CANCELLED: ("late_cancellation_fee", "Late cancellation fee"),
}


def fee_amount(clinic: Clinic, appointment: Appointment) -> int | None:
    """The clinic's fee for this missed or late-cancelled session, None when it charges none."""
    if appointment.status == AppointmentStatus.NO_SHOW:
        fixed, share = clinic.no_show_fee_minor, clinic.no_show_fee_bp
    elif appointment.status == AppointmentStatus.CANCELLED and appointment.late_cancellation:
        fixed, share = clinic.late_cancellation_fee_minor, clinic.late_cancellation_fee_bp
    else:
        return None
    if fixed is not None:
        return fixed or None
    if share is not None and appointment.price_minor:
        return money.divide_half_up(appointment.price_minor * share, 10_000) or None
    return None


def for_fee(
    clinic: Clinic, appointment: Appointment, *, by: Membership | None, today: date
) -> Invoice:
    """A draft for the no-show or late-cancellation fee of the clinic's policy (no tax: a fee
    for a service not received is compensation, outside the scope of VAT in the UK)."""
    if appointment.status not in FEES:
        raise InvoiceError("Only a no-show or a late cancellation carries a fee.")
    amount = fee_amount(clinic, appointment)
    if amount is None:
        raise InvoiceError("The clinic charges no fee for this: see Settings, cancellation policy.")
    kind, label = FEES[appointment.status]
    source = f"{kind}:{appointment.id}"
    _refuse_billed_twice(source)
    client = db.session.get(Client, (clinic.id, appointment.client_id))
    local_day = appointment.starts_at.astimezone(clinic.tz).date()
    invoice = new_draft(clinic, client=client, payer=payer_for(client, today), by=by)
    add_line(
        invoice,
        description=f"{label}: {appointment.service.name} on {local_day:%-d %b %Y}",
        unit_price_minor=amount,
        client_id=client.id,
        service_date=local_day,
        source=source,
    )
    return invoice


# Issuing and voiding ------------------------------------------------------------------------------


def _payer_details(clinic: Clinic, invoice: Invoice) -> tuple[str, str | None, str | None]:
    if invoice.payer_kind == PayerKind.ORGANISATION:
        org = db.session.get(Organisation, (clinic.id, invoice.organisation_id))
        return org.name, org.billing_email, org.address
    payer = db.session.get(Client, (clinic.id, invoice.payer_client_id))
    return payer.full_name, payer.email, payer.address


_VERBS = {InvoiceStatus.ISSUED: "issued", InvoiceStatus.VOID: "voided"}


def _move(invoice: Invoice, to: InvoiceStatus) -> None:
    if to not in TRANSITIONS.get(invoice.status, set()):
        raise InvoiceError(f"A {invoice.status.label.lower()} invoice cannot be {_VERBS[to]}.")


def issue(clinic: Clinic, invoice: Invoice, *, today: date, notes: str | None = None) -> Invoice:
    """Number the draft, fix its totals and the payer's details, and set its due date."""
    _move(invoice, InvoiceStatus.ISSUED)
    lines = lines_of(invoice)
    if not lines:
        raise InvoiceError("Add at least one line before issuing the invoice.")
    amounts = totals(lines)
    if amounts.gross <= 0:
        raise InvoiceError("An invoice for nothing is not issued: add a priced line or void it.")
    if notes is not None and len(notes) > NOTES_MAX:
        raise InvoiceError(f"Use at most {NOTES_MAX} characters for the notes.", "notes")
    name, email, address = _payer_details(clinic, invoice)
    _sequence, number = numbering.next_number(clinic, "invoice", today.year)
    invoice.number = number
    invoice.status = InvoiceStatus.ISSUED
    invoice.issued_on = today
    invoice.due_on = today + timedelta(days=clinic.payment_terms_days)
    invoice.issued_at = utcnow()
    invoice.payer_name, invoice.payer_email, invoice.payer_address = name, email, address
    invoice.net_minor, invoice.tax_minor, invoice.total_minor = (
        amounts.net,
        amounts.tax,
        amounts.gross,
    )
    if notes is not None:
        invoice.notes = notes.strip() or None
    db.session.flush()
    return invoice


def void(clinic: Clinic, invoice: Invoice, *, reason: str) -> Invoice:
    """Cancel a draft, or an issued invoice with nothing paid on it. Its number stays used (a
    voided invoice is kept and shown as void), and what it billed may be billed again."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvoiceError("Say why the invoice is voided.", "reason")
    if len(reason) > REASON_MAX:
        raise InvoiceError(f"Use at most {REASON_MAX} characters.", "reason")
    if invoice.status != InvoiceStatus.DRAFT and balances.of(invoice).paid > 0:
        raise InvoiceError(
            "Money was received on this invoice: refund it, or issue a credit note, instead."
        )
    _move(invoice, InvoiceStatus.VOID)
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = utcnow()
    invoice.void_reason = reason
    db.session.execute(
        update(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice.id)
        .values(live=False)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return invoice
