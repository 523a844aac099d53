"""Organisations the clinic bills (clubs, teams, event organisers): their records, their
invoices, one invoice for many players' sessions, and a statement of what is open."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from ...billing import listing, organisations
from ...clients import search_clients
from ...clinic_time import today_in
from ...extensions import db
from ...models import Appointment, Organisation
from ...permissions import requires
from ...refusals import Refusal
from ...tenancy import get_or_404, parse_id
from ...unit_of_work import discard_changes
from ..forms import SwitchForm
from ..refusal_views import one_click, place_refusal
from ..submission_views import already_recorded, repeat_of, settle
from .forms import BillSessionsForm, OrganisationForm, SessionRangeForm

bp = Blueprint("organisations", __name__, url_prefix="/c/<clinic_slug>/organisations")

INVOICES_SHOWN = 50


@bp.route("/")
@requires("invoices.view")
def index():
    archived = request.args.get("archived") == "1"
    return render_template(
        "organisations/index.html",
        organisations=organisations.listed(include_archived=archived),
        archived=archived,
    )


@bp.route("/new", methods=["GET", "POST"])
@requires("organisations.manage")
def new():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = organisations.save(None, **form.values())
        except Refusal as problem:
            place_refusal(form, problem, otherwise="name")
        else:
            flash(f"{organisation.name} was added.", "success")
            return redirect(url_for(".show", organisation_id=organisation.id))
    status = 400 if request.method == "POST" else 200
    return render_template("organisations/form.html", form=form, organisation=None), status


@bp.route("/<organisation_id>/edit", methods=["GET", "POST"])
@requires("organisations.manage")
def edit(organisation_id: str):
    organisation = get_or_404(Organisation, organisation_id)
    form = OrganisationForm(obj=organisation)
    if form.validate_on_submit():
        try:
            organisations.save(organisation, **form.values())
        except Refusal as problem:
            place_refusal(form, problem, otherwise="name")
        else:
            flash(f"{organisation.name} was saved.", "success")
            return redirect(url_for(".show", organisation_id=organisation.id))
    status = 400 if request.method == "POST" else 200
    return render_template("organisations/form.html", form=form, organisation=organisation), status


@bp.route("/<organisation_id>/active", methods=["POST"])
@requires("organisations.manage")
def set_active(organisation_id: str):
    organisation = get_or_404(Organisation, organisation_id)
    form = SwitchForm()

    def switch() -> str:
        organisations.set_active(organisation, form.on)
        if form.on:
            return f"{organisation.name} is billed again."
        return f"{organisation.name} is archived: its invoices stay, new ones cannot be made."

    return one_click(switch, url_for(".show", organisation_id=organisation.id), form=form)


@bp.route("/<organisation_id>")
@requires("invoices.view")
def show(organisation_id: str):
    organisation = get_or_404(Organisation, organisation_id)
    today = today_in(g.clinic)
    found = listing.page(
        listing.Filters(organisation_id=organisation.id), today=today, size=INVOICES_SHOWN
    )
    open_rows = [r for r in found.rows if r.balance.due > 0 and r.invoice.number]
    return render_template(
        "organisations/show.html",
        organisation=organisation,
        rows=found.rows,
        more=found.next_after is not None,
        owed=sum(r.balance.due for r in open_rows),
        switch_form=SwitchForm(formdata=None),
    )


@bp.route("/<organisation_id>/statement")
@requires("invoices.view")
def statement(organisation_id: str):
    organisation = get_or_404(Organisation, organisation_id)
    today = today_in(g.clinic)
    rows = listing.open_of_organisation(organisation.id, today=today)
    return render_template(
        "organisations/statement.html",
        organisation=organisation,
        clinic=g.clinic,
        rows=rows,
        today=today,
        owed=sum(r.balance.due for r in rows),
        overdue=sum(r.balance.due for r in rows if r.overdue),
    )


# Many players' sessions on one invoice -----------------------------------------------------------


@bp.route("/<organisation_id>/sessions", methods=["GET", "POST"])
@requires("invoices.manage")
def sessions(organisation_id: str):
    organisation = get_or_404(Organisation, organisation_id)
    if request.method == "POST":
        return _bill_sessions(organisation)
    return _sessions_page(organisation, request.args or None)


def _sessions_page(organisation: Organisation, args, problem: str | None = None, status=200):
    today = today_in(g.clinic)
    last_month_end = today.replace(day=1) - timedelta(days=1)
    chooser = SessionRangeForm(args, start=last_month_end.replace(day=1), end=last_month_end)
    found = []
    if chooser.validate():
        client_ids = None
        if chooser.q.data:
            client_ids = [c.id for c in search_clients(chooser.q.data, limit=50)]
        try:
            found = organisations.unbilled_sessions(
                g.clinic, start=chooser.start.data, end=chooser.end.data, client_ids=client_ids
            )
        except Refusal as refused:
            place_refusal(chooser, refused, otherwise="end")
            status = 400
    else:
        status = 400
    return render_template(
        "organisations/sessions.html",
        organisation=organisation,
        chooser=chooser,
        found=found,
        problem=problem,
        form=BillSessionsForm(formdata=None),
    ), status


def _bill_sessions(organisation: Organisation):
    form = BillSessionsForm()
    first = repeat_of(form, "club_invoice")
    if first is not None:
        return already_recorded(
            f"The draft to {organisation.name} was made.",
            url_for("invoices.detail", invoice_id=first.object_id),
        )
    if not form.validate_on_submit():
        abort(400)
    keys = [parse_id(value) for value in form.sessions.data or []]
    if any(key is None for key in keys):
        abort(400)
    chosen = list(
        db.session.scalars(
            select(Appointment).where(Appointment.id.in_(keys)).order_by(Appointment.starts_at)
        )
    )
    if len(chosen) != len(set(keys)):
        abort(404)
    try:
        invoice = organisations.invoice_sessions(g.clinic, organisation, chosen, by=g.membership)
    except Refusal as problem:
        discard_changes()
        return _sessions_page(
            organisation, request.form, problem=str(problem), status=problem.status
        )
    settle(form, invoice.id)
    flash(
        f"Draft to {organisation.name} with {len(chosen)} sessions: check it, then issue it.",
        "success",
    )
    return redirect(url_for("invoices.detail", invoice_id=invoice.id))
