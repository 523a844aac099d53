"""The invoice pages: the list, one invoice and what can be done with it by status, new invoices,
and one-click "Check out" from an appointment, a package sale or a missed session's fee."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from wtforms import SelectChoice

from ... import display, money
from ...billing import balances, credit_notes, drafts, emails, invoices, listing
from ...billing.invoices import AlreadyBilled, InvoiceError
from ...clients import guardian_of
from ...clients.records import clients_by_id
from ...clinic_time import today_in
from ...extensions import db
from ...models import (
    Appointment,
    Client,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Location,
    Organisation,
    PackageSale,
    PayerKind,
    Payment,
    PaymentMethod,
    Refund,
    TaxRate,
)
from ...payments import pay_links, recording
from ...permissions import requires
from ...refusals import Refusal
from ...tenancy import find, get_or_404, parse_id
from ...unit_of_work import discard_changes
from ..forms import OneClickForm
from ..refusal_views import flash_refusal, one_click, place_refusal
from ..submission_views import already_recorded, repeat_of, settle
from .forms import (
    CreditForm,
    DeskPaymentForm,
    InvoiceFilterForm,
    LineForm,
    NewInvoiceForm,
    PayerForm,
    VoidForm,
)

bp = Blueprint("invoices", __name__, url_prefix="/c/<clinic_slug>/invoices")


def _price(amount_minor: int) -> str:
    return display.price(amount_minor, g.clinic.currency, g.clinic.country)


# The list ---------------------------------------------------------------------------------------


def _after(text: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The keyset cursor "<created_at iso>_<id>", or None; a cursor that does not read is a 400."""
    if not text:
        return None
    stamp, _, key = text.rpartition("_")
    try:
        created_at, last_id = datetime.fromisoformat(stamp), uuid.UUID(key)
    except ValueError:
        abort(400)
    if created_at.tzinfo is None:
        abort(400)
    return created_at, last_id


@bp.route("/")
@requires("invoices.view")
def index():
    form = InvoiceFilterForm(request.args)
    if request.args and not form.validate():
        return _index_page(form, listing.Page(), 400)
    since, until = form.issued_from.data, form.issued_to.data
    if since and until and until < since:
        form.issued_to.errors = ["The last day comes before the first."]
        return _index_page(form, listing.Page(), 400)
    filters = listing.Filters(
        status=InvoiceStatus(form.status.data) if form.status.data else None,
        issued_from=form.issued_from.data,
        issued_to=form.issued_to.data,
        q=form.q.data or None,
        payer=PayerKind(form.payer.data) if form.payer.data else None,
    )
    found = listing.page(filters, today=today_in(g.clinic), after=_after(form.after.data))
    return _index_page(form, found)


def _index_page(form: InvoiceFilterForm, found: listing.Page, status: int = 200):
    next_url = None
    args = {k: v for k, v in request.args.items() if k != "after"}
    if found.next_after is not None:
        created_at, last_id = found.next_after
        next_url = url_for(".index", **args, after=f"{created_at.isoformat()}_{last_id}")
    return render_template(
        "invoices/index.html",
        form=form,
        rows=found.rows,
        next_url=next_url,
        first_url=url_for(".index", **args),
        first_page=not form.after.data,
    ), status


# One invoice ------------------------------------------------------------------------------------


def _payer_choices(invoice_client: Client | None) -> list[SelectChoice]:
    """The client, their parent or guardian, and the organisations still billed."""
    choices = []
    if invoice_client is not None:
        choices.append(
            SelectChoice(f"client:{invoice_client.id}", f"{invoice_client.full_name} (the client)")
        )
        guardian = guardian_of(invoice_client)
        if guardian is not None:
            choices.append(
                SelectChoice(f"client:{guardian.id}", f"{guardian.full_name} (parent or guardian)")
            )
    organisations = db.session.scalars(
        select(Organisation).where(Organisation.active.is_(True)).order_by(Organisation.name)
    )
    choices += [SelectChoice(f"organisation:{o.id}", o.name) for o in organisations]
    return choices


def _chosen_payer(value: str | None) -> Client | Organisation | None:
    kind, _, key = (value or "").partition(":")
    model = {"client": Client, "organisation": Organisation}.get(kind)
    return find(model, key) if model is not None else None


def _tax_choices() -> list[SelectChoice]:
    rates = db.session.scalars(
        select(TaxRate).where(TaxRate.active.is_(True)).order_by(TaxRate.rate_bp, TaxRate.name)
    )
    return [SelectChoice("", "No tax")] + [
        SelectChoice(str(r.id), f"{r.name} ({display.percent(r.rate_bp, g.clinic.country)})")
        for r in rates
    ]


def _invoice_or_404(invoice_id: str) -> Invoice:
    return get_or_404(Invoice, invoice_id)


@bp.route("/<invoice_id>")
@requires("invoices.view")
def detail(invoice_id: str):
    return _detail_page(_invoice_or_404(invoice_id))


def _detail_page(
    invoice: Invoice,
    *,
    line_form: LineForm | None = None,
    payer_form: PayerForm | None = None,
    credit_form: CreditForm | None = None,
    void_form: VoidForm | None = None,
    payment_form: DeskPaymentForm | None = None,
    status: int = 200,
):
    today = today_in(g.clinic)
    lines = invoices.lines_of(invoice)
    amounts = invoices.totals(lines)
    balance = balances.of(invoice)
    if invoice.status == InvoiceStatus.DRAFT:
        balance = balances.Balance(amounts.gross, 0, 0)
    payments = list(
        db.session.scalars(
            select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.taken_at)
        )
    )
    refunds = list(
        db.session.scalars(
            select(Refund)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Payment.invoice_id == invoice.id)
            .order_by(Refund.created_at)
        )
    )
    credits = list(
        db.session.scalars(
            select(CreditNote)
            .where(CreditNote.invoice_id == invoice.id)
            .order_by(CreditNote.created_at)
        )
    )
    people = clients_by_id(
        [invoice.client_id, invoice.payer_client_id, *(line.client_id for line in lines)]
    )
    client = people.get(invoice.client_id)
    payer_client = people.get(invoice.payer_client_id)
    if line_form is None:
        line_form = LineForm(formdata=None)
    line_form.tax_rate.choices = _tax_choices()
    if payer_form is None:
        current = (
            f"organisation:{invoice.organisation_id}"
            if invoice.payer_kind == PayerKind.ORGANISATION
            else f"client:{invoice.payer_client_id}"
        )
        payer_form = PayerForm(formdata=None, payer=current)
    payer_form.payer.choices = _payer_choices(client)
    return render_template(
        "invoices/detail.html",
        invoice=invoice,
        clinic=g.clinic,
        lines=lines,
        amounts=amounts,
        balance=balance,
        overdue=listing.is_overdue(invoice, balance, today),
        payments=payments,
        refunds=refunds,
        credits=credits,
        people=people,
        client=client,
        payer_client=payer_client,
        line_form=line_form,
        payer_form=payer_form,
        credit_form=credit_form or CreditForm(formdata=None),
        void_form=void_form or VoidForm(formdata=None),
        payment_form=_with_sites(
            payment_form or DeskPaymentForm(formdata=None, prefix=PAYMENT_PREFIX)
        ),
        action_form=OneClickForm(),
    ), status


# Drafts: lines, payer, issue --------------------------------------------------------------------


@bp.route("/<invoice_id>/lines", methods=["POST"])
@requires("invoices.manage")
def add_line(invoice_id: str):
    invoice = _invoice_or_404(invoice_id)
    form = LineForm()
    form.tax_rate.choices = _tax_choices()
    first = repeat_of(form, "invoice_line")
    if first is not None:
        return already_recorded("The line was added.", url_for(".detail", invoice_id=invoice.id))
    if form.validate_on_submit():
        try:
            price = _amount(form.unit_price.data, "unit_price")
            rate = find(TaxRate, form.tax_rate.data) if form.tax_rate.data else None
            line = invoices.add_line(
                invoice,
                description=form.description.data,
                quantity=form.quantity.data,
                unit_price_minor=price,
                tax_rate_bp=rate.rate_bp if rate else 0,
                tax_name=rate.name if rate else None,
                client_id=invoice.client_id,
                service_date=today_in(g.clinic),
            )
            line.position = len(invoices.lines_of(invoice))
        except Refusal as problem:
            place_refusal(form, problem, otherwise="description")
        else:
            settle(form, line.id)
            flash("Line added.", "success")
            return redirect(url_for(".detail", invoice_id=invoice.id))
    return _detail_page(invoice, line_form=form, status=400)


def _amount(text: str | None, field: str) -> int:
    try:
        return money.parse_amount(text or "", g.clinic.currency)
    except ValueError as error:
        raise InvoiceError(str(error), field) from error


@bp.route("/<invoice_id>/lines/<line_id>/remove", methods=["POST"])
@requires("invoices.manage")
def remove_line(invoice_id: str, line_id: str):
    invoice = _invoice_or_404(invoice_id)
    key = parse_id(line_id)
    line = (
        db.session.scalar(
            select(InvoiceLine).where(InvoiceLine.id == key, InvoiceLine.invoice_id == invoice.id)
        )
        if key is not None
        else None
    )

    def remove() -> str | None:
        if line is None:
            flash("That line is no longer on the invoice.", "info")
            return None
        invoices.remove_line(invoice, line)
        return f"Removed “{line.description}”."

    return one_click(remove, url_for(".detail", invoice_id=invoice.id))


@bp.route("/<invoice_id>/payer", methods=["POST"])
@requires("invoices.manage")
def change_payer(invoice_id: str):
    invoice = _invoice_or_404(invoice_id)
    form = PayerForm()
    form.payer.choices = _payer_choices(
        find(Client, str(invoice.client_id)) if invoice.client_id else None
    )
    if form.validate_on_submit():
        payer = _chosen_payer(form.payer.data)
        if payer is None:
            abort(400)
        try:
            drafts.change_payer(invoice, payer)
        except Refusal as problem:
            place_refusal(form, problem, otherwise="payer")
        else:
            name = payer.name if isinstance(payer, Organisation) else payer.full_name
            flash(f"The invoice is now addressed to {name}.", "success")
            return redirect(url_for(".detail", invoice_id=invoice.id))
    return _detail_page(invoice, payer_form=form, status=400)


@bp.route("/<invoice_id>/issue", methods=["POST"])
@requires("invoices.manage")
def issue(invoice_id: str):
    invoice = _invoice_or_404(invoice_id)

    def issue_it() -> str | None:
        if invoice.status != InvoiceStatus.DRAFT:
            flash(f"Already issued as {invoice.number}.", "info")
            return None
        invoices.issue(g.clinic, invoice, today=today_in(g.clinic))
        return f"Issued {invoice.number}: due {display.day(invoice.due_on)}."

    return one_click(issue_it, url_for(".detail", invoice_id=invoice.id))


# Issued invoices: credit, void ------------------------------------------------------------------


@bp.route("/<invoice_id>/credit", methods=["POST"])
@requires("invoices.manage")
def credit(invoice_id: str):
    invoice = _invoice_or_404(invoice_id)
    form = CreditForm()
    first = repeat_of(form, "credit_note")
    if first is not None:
        note = get_or_404(CreditNote, str(first.object_id))
        return already_recorded(
            f"Credit note {note.number} for {_price(note.amount_minor)}.",
            url_for(".detail", invoice_id=note.invoice_id),
        )
    if form.validate_on_submit():
        try:
            note = credit_notes.credit(
                g.clinic,
                invoice,
                amount_minor=_amount(form.amount.data, "amount"),
                reason=form.reason.data,
                by=g.membership,
                today=today_in(g.clinic),
            )
        except Refusal as problem:
            place_refusal(form, problem, otherwise="amount")
        else:
            settle(form, note.id)
            flash(f"Credit note {note.number} for {_price(note.amount_minor)} issued.", "success")
            return redirect(url_for(".detail", invoice_id=invoice.id))
    return _detail_page(invoice, credit_form=form, status=400)


# Payments at the desk, and sending -------------------------------------------------------------


# The payment form shares the page with the credit note's: its own field names and ids.
PAYMENT_PREFIX = "payment"


def _with_sites(form: DeskPaymentForm) -> DeskPaymentForm:
    form.site.choices = [("", "No site")] + [
        (str(site.id), site.name)
        for site in db.session.scalars(select(Location).order_by(Location.name))
    ]
    return form


@bp.route("/<invoice_id>/payments", methods=["POST"])
@requires("payments.take")
def take_payment(invoice_id: str):
    """Record cash, a terminal payment or a transfer once (the form's one-time key), then mail
    the payer a receipt if asked (sent after the commit, like all mail)."""
    invoice = _invoice_or_404(invoice_id)
    form = _with_sites(DeskPaymentForm(prefix=PAYMENT_PREFIX))
    first = repeat_of(form, "desk_payment")
    if first is not None:
        payment = get_or_404(Payment, str(first.object_id))
        return already_recorded(
            f"{_price(payment.amount_minor)} recorded.",
            url_for(".detail", invoice_id=payment.invoice_id),
        )
    if form.validate_on_submit():
        try:
            payment = recording.record_desk_payment(
                g.clinic,
                invoice,
                amount_minor=_amount(form.amount.data, "amount"),
                method=PaymentMethod(form.method.data),
                reference=form.reference.data or None,
                taken_by=g.membership,
                location_id=parse_id(form.site.data),
            )
            if form.email_receipt.data and invoice.payer_email:
                emails.send_receipt(payment)
        except Refusal as problem:
            place_refusal(form, problem, otherwise="amount")
        else:
            settle(form, payment.id)
            flash(f"{_price(payment.amount_minor)} recorded.", "success")
            return redirect(url_for(".detail", invoice_id=invoice.id))
    return _detail_page(invoice, payment_form=form, status=400)


@bp.route("/<invoice_id>/send", methods=["POST"])
@requires("invoices.manage")
def send(invoice_id: str):
    """Email the payer the invoice with its pay link (sending again is harmless)."""
    invoice = _invoice_or_404(invoice_id)

    def change() -> str:
        due = balances.of(invoice).due
        emails.send_invoice(invoice, pay_links.pay_url(invoice) if due > 0 else None)
        return f"{invoice.number} sent to {invoice.payer_email}."

    return one_click(change, url_for(".detail", invoice_id=invoice.id))


@bp.route("/<invoice_id>/void", methods=["POST"])
@requires("invoices.void")
def void(invoice_id: str):
    invoice = _invoice_or_404(invoice_id)
    form = VoidForm()
    if form.validate_on_submit():
        if invoice.status == InvoiceStatus.VOID:
            flash("This invoice was already voided.", "info")
            return redirect(url_for(".detail", invoice_id=invoice.id))
        try:
            invoices.void(g.clinic, invoice, reason=form.reason.data)
        except Refusal as problem:
            place_refusal(form, problem, otherwise="reason")
        else:
            name = invoice.number or "The draft"
            flash(f"{name} is void: what it billed may be billed again.", "success")
            return redirect(url_for(".detail", invoice_id=invoice.id))
    return _detail_page(invoice, void_form=form, status=400)


# New invoices -----------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@requires("invoices.manage")
def new():
    source = request.form if request.method == "POST" else request.args
    client = find(Client, source.get("client")) if source.get("client") else None
    organisation = (
        find(Organisation, source.get("organisation")) if source.get("organisation") else None
    )
    if source.get("client") and client is None:
        abort(404)
    if source.get("organisation") and organisation is None:
        abort(404)
    if request.method == "GET":
        if client is not None:
            default = f"client:{invoices.payer_for(client, today_in(g.clinic)).id}"
        elif organisation is not None:
            default = f"organisation:{organisation.id}"
        else:
            default = ""
        form = NewInvoiceForm(formdata=None, client=str(client.id) if client else "", payer=default)
        form.payer.choices = _payer_choices(client)
        return render_template("invoices/new.html", form=form, client=client)
    form = NewInvoiceForm()
    form.payer.choices = _payer_choices(client)
    first = repeat_of(form, "invoice")
    if first is not None:
        return already_recorded(
            "The draft was created.", url_for(".detail", invoice_id=first.object_id)
        )
    if form.validate_on_submit():
        payer = _chosen_payer(form.payer.data)
        if payer is None:
            abort(400)
        try:
            invoice = invoices.new_draft(g.clinic, client=client, payer=payer, by=g.membership)
        except Refusal as problem:
            place_refusal(form, problem, otherwise="payer")
        else:
            settle(form, invoice.id)
            flash("Draft created: add its lines, then issue it.", "success")
            return redirect(url_for(".detail", invoice_id=invoice.id))
    return render_template("invoices/new.html", form=form, client=client), 400


# Check out: one click from what was done or sold to its issued invoice --------------------------


def _bill(source: str, make: Callable[[], Invoice], back: str):
    """Open the live invoice that already bills `source`, or draft and issue one."""
    form = OneClickForm()
    if not form.validate_on_submit():
        abort(400)
    existing = invoices.billed_invoice(source)
    if existing is not None:
        flash("This is already on an invoice: here it is.", "info")
        return redirect(url_for(".detail", invoice_id=existing))
    try:
        invoice = make()
        invoices.issue(g.clinic, invoice, today=today_in(g.clinic))
    except AlreadyBilled:  # a concurrent click got there first: show what it made
        discard_changes()
        existing = invoices.billed_invoice(source)
        flash("This is already on an invoice: here it is.", "info")
        return redirect(url_for(".detail", invoice_id=existing) if existing else back)
    except Refusal as problem:
        return flash_refusal(problem, back)
    flash(f"Issued {invoice.number} for {_price(invoice.total_minor)}.", "success")
    return redirect(url_for(".detail", invoice_id=invoice.id))


def _back(default: str) -> str:
    """The page the button was on, when it names one of ours; else `default`."""
    target = request.form.get("next") or ""
    return target if target.startswith("/c/") and "//" not in target else default


@bp.route("/checkout/<appointment_id>", methods=["POST"])
@requires("invoices.manage")
def checkout(appointment_id: str):
    appointment = get_or_404(Appointment, appointment_id)
    back = _back(url_for("appointments.detail", appointment_id=appointment.id))

    def draft() -> Invoice:
        return invoices.for_appointment(
            g.clinic, appointment, by=g.membership, today=today_in(g.clinic)
        )

    return _bill(f"appointment:{appointment.id}", draft, back)


@bp.route("/fee/<appointment_id>", methods=["POST"])
@requires("invoices.manage")
def fee(appointment_id: str):
    appointment = get_or_404(Appointment, appointment_id)
    back = _back(url_for("appointments.detail", appointment_id=appointment.id))
    kind = invoices.FEES.get(appointment.status, ("fee", ""))[0]
    return _bill(
        f"{kind}:{appointment.id}",
        lambda: invoices.for_fee(g.clinic, appointment, by=g.membership, today=today_in(g.clinic)),
        back,
    )


@bp.route("/package-sales/<sale_id>", methods=["POST"])
@requires("invoices.manage")
def package_sale(sale_id: str):
    sale = get_or_404(PackageSale, sale_id)
    back = _back(url_for("sales.client", client_id=sale.client_id))
    return _bill(
        f"package_sale:{sale.id}",
        lambda: invoices.for_package_sale(
            g.clinic, sale, by=g.membership, today=today_in(g.clinic)
        ),
        back,
    )
