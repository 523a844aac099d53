"""The sales desk: packages and memberships sold to clients, their use, pauses and refunds."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from ... import display
from ...clients import ClientError, create_client, possible_duplicates, search_clients
from ...clinic_time import today_in
from ...extensions import db
from ...menu import offers
from ...models import (
    Appointment,
    Client,
    ClientMembership,
    ClientMembershipStatus,
    MembershipPeriod,
    MembershipPlan,
    Package,
    PackageRedemption,
    PackageSale,
    Service,
)
from ...permissions import requires
from ...sales import memberships, packages
from ...sales.memberships import MembershipError
from ...sales.packages import PackageError
from ...sales.purchases import purchases_of
from ...tenancy import find, get_or_404, parse_id
from ...unit_of_work import discard_changes
from ..duplicate_offer import CHOICE, NEW_ANYWAY, chosen_existing, new_chosen_anyway
from ..forms import ClientSearchForm, OneClickForm
from ..refusal_views import one_click, place_refusal
from ..submission_views import already_recorded, repeat_of, settle
from .forms import (
    ChoosePackageForm,
    EnrolForm,
    RefundForm,
    SalesNewClientForm,
    SellForm,
)

bp = Blueprint("sales", __name__, url_prefix="/c/<clinic_slug>/sales")

RECENT_SALES = 20
MEMBERS_LISTED = 50
# Package states (packages.status) and membership states, as Bootstrap badges.
STATUS_BADGES = {
    "active": "text-bg-success",
    "used up": "text-bg-secondary",
    "expired": "text-bg-warning",
    "refunded": "text-bg-dark",
    "paused": "text-bg-warning",
    "cancelled": "text-bg-secondary",
}


def _price(amount_minor: int) -> str:
    return display.price(amount_minor, g.clinic.currency, g.clinic.country)


def _terms(package: Package) -> str:
    """The terms shown when confirming a sale, as one value the confirmation posts back."""
    return f"{package.sessions_count}/{package.price_minor}/{package.validity_months}"


def _period_text(period: MembershipPeriod) -> str:
    """A period as people say it, with its last day (ends_on is the first day after it)."""
    return f"{display.day(period.starts_on)} to {display.day(period.ends_on - timedelta(days=1))}"


@bp.context_processor
def _template_helpers() -> dict:
    return {
        "badge": STATUS_BADGES.get,
        "period_text": _period_text,
    }


def _active_packages() -> list[Package]:
    return list(
        db.session.scalars(
            select(Package).where(Package.active.is_(True)).order_by(Package.position, Package.name)
        )
    )


def _active_plans() -> list[MembershipPlan]:
    return list(
        db.session.scalars(
            select(MembershipPlan)
            .where(MembershipPlan.active.is_(True))
            .order_by(MembershipPlan.position, MembershipPlan.name)
        )
    )


# The desk: find a client, recent sales, members --------------------------------------------------


@bp.route("/")
@requires("sales.manage")
def index():
    return _index_page(SalesNewClientForm(formdata=None))


def _index_page(
    new_client: SalesNewClientForm, status: int = 200, duplicates: list[Client] | None = None
):
    search = ClientSearchForm(request.args)
    q = (search.q.data or "").strip()[:100]
    today = today_in(g.clinic)
    recent = db.session.scalars(
        select(PackageSale)
        .options(joinedload(PackageSale.client))
        .order_by(PackageSale.created_at.desc())
        .limit(RECENT_SALES)
    ).all()
    used = packages.sessions_used(s.id for s in recent)
    active = ClientMembership.status == ClientMembershipStatus.ACTIVE
    members = db.session.scalars(
        select(ClientMembership)
        .options(joinedload(ClientMembership.client))
        .where(active)
        .order_by(ClientMembership.started_on.desc(), ClientMembership.created_at.desc())
        .limit(MEMBERS_LISTED)
    ).all()
    member_count = len(members)
    if member_count == MEMBERS_LISTED:
        member_count = db.session.scalar(select(func.count(ClientMembership.id)).where(active))
    return render_template(
        "sales/index.html",
        search=search,
        q=q,
        matches=search_clients(q) if q else [],
        new_client=new_client,
        duplicates=duplicates or [],
        choice=CHOICE,
        new_anyway=NEW_ANYWAY,
        recent=[
            {
                "sale": s,
                "left": s.sessions_total - used[s.id],
                "status": packages.status(s, used[s.id], today),
            }
            for s in recent
        ],
        members=members,
        member_count=member_count,
    ), status


@bp.route("/clients/new", methods=["POST"])
@requires("sales.manage")
def new_client():
    form = SalesNewClientForm()
    first = repeat_of(form, "client")
    if first is not None:
        added = get_or_404(Client, str(first.object_id))
        return already_recorded(
            f"{added.full_name} was added.", url_for(".client", client_id=added.id)
        )
    if form.validate_on_submit():
        existing = chosen_existing()
        if existing is not None:
            discard_changes()  # the one-time key stays free: nothing was added
            flash(f"Nothing was added: {existing.full_name} is on file.", "info")
            return redirect(url_for(".client", client_id=existing.id))
        duplicates = (
            []
            if new_chosen_anyway()
            else possible_duplicates(
                g.clinic,
                email=form.email.data,
                phone=form.phone.data,
                first_name=form.first_name.data,
                last_name=form.last_name.data,
            )
        )
        if duplicates:
            discard_changes()  # the same one-time key comes back with the choice
            return _index_page(form, duplicates=duplicates)
        try:
            client = create_client(
                form.first_name.data, form.last_name.data, form.email.data, form.phone.data
            )
        except ClientError as problem:
            place_refusal(form, problem, otherwise="first_name")
        else:
            settle(form, client.id)
            flash(f"{client.full_name} was added. Sell them a package or a membership.", "success")
            return redirect(url_for(".client", client_id=client.id))
    return _index_page(form, status=400)


# One client: what they bought, and what can be done with it --------------------------------------


@bp.route("/clients/<client_id>")
@requires("sales.manage")
def client(client_id: str):
    return _client_page(get_or_404(Client, client_id))


def _client_page(client: Client, *, enrol_form: EnrolForm | None = None, status: int = 200):
    """Everything the client bought, in a fixed number of statements however much that is."""
    today = today_in(g.clinic)
    memberships.roll_client(client, today)
    bought = purchases_of(client, today)
    sellable = _active_packages()
    plans = _active_plans()
    chooser = ChoosePackageForm(formdata=None)
    chooser.package.choices = _package_choices(sellable)
    if enrol_form is None:
        enrol_form = EnrolForm(formdata=None, start_on=today)
    enrol_form.plan.choices = _plan_choices(plans)
    return render_template(
        "sales/client.html",
        client=client,
        today=today,
        sales=bought.packages[::-1],  # newest first
        history=_sessions_used_by_sale([s.id for s in bought.packages]),
        enrolments=bought.memberships[::-1],
        chooser=chooser,
        enrol_form=enrol_form,
        action_form=OneClickForm(),
    ), status


def _package_choices(rows: list[Package]) -> list[SelectChoice]:
    return [SelectChoice("", "Choose a package…")] + [
        SelectChoice(str(p.id), f"{p.name} · {p.sessions_count} sessions · {_price(p.price_minor)}")
        for p in rows
    ]


def _plan_choices(rows: list[MembershipPlan]) -> list[SelectChoice]:
    return [SelectChoice("", "Choose a plan…")] + [
        SelectChoice(
            str(p.id),
            f"{p.name} · {p.sessions_per_period} a month · {_price(p.price_minor)} a month",
        )
        for p in rows
    ]


def _sessions_used_by_sale(sale_ids: list[uuid.UUID]) -> dict[uuid.UUID, list]:
    """Each sale's used (and given back) sessions with their appointments, in one statement."""
    history: dict[uuid.UUID, list] = defaultdict(list)
    if not sale_ids:
        return history
    rows = db.session.execute(
        select(PackageRedemption, Appointment)
        .join(Appointment, Appointment.id == PackageRedemption.appointment_id)
        .options(joinedload(Appointment.service), joinedload(Appointment.therapist))
        .where(PackageRedemption.sale_id.in_(sale_ids))
        .order_by(Appointment.starts_at.desc(), PackageRedemption.redeemed_at.desc())
    ).all()
    for redemption, appointment in rows:
        history[redemption.sale_id].append((redemption, appointment))
    return history


# Selling a package: choose, confirm the terms, sell ----------------------------------------------


@bp.route("/clients/<client_id>/sell", methods=["GET", "POST"])
@requires("sales.manage")
def sell(client_id: str):
    client = get_or_404(Client, client_id)
    today = today_in(g.clinic)
    if request.method == "GET":
        return _sell_page(client, today)
    form = SellForm()
    first = repeat_of(form, "package_sale")
    if first is not None:
        sold = get_or_404(PackageSale, str(first.object_id))
        return already_recorded(
            f"{sold.name} was sold to {sold.client.full_name} on {display.day(sold.sold_on)}.",
            url_for(".client", client_id=sold.client_id),
        )
    package = find(Package, form.package.data) if form.validate_on_submit() else None
    if package is None:
        abort(400)
    if form.terms.data != _terms(package):
        error = "The package's terms changed while this page was open: check them again."
        return _sell_page(client, today, package=package, error=error, status=409)
    try:
        sale = packages.sell(package, client, today, sold_by=g.membership)
    except PackageError as problem:
        discard_changes()
        return _sell_page(client, today, package=package, error=str(problem), status=400)
    settle(form, sale.id)
    flash(
        f"Sold {sale.name} to {client.full_name}: {sale.sessions_total} sessions for "
        f"{_price(sale.price_minor)}, to use by {display.day(sale.expires_on)}.",
        "success",
    )
    return redirect(url_for(".client", client_id=client.id))


def _sell_page(
    client: Client,
    today: date,
    *,
    package: Package | None = None,
    error: str | None = None,
    status: int = 200,
):
    sellable = _active_packages()
    chooser = ChoosePackageForm(request.args if request.method == "GET" else None)
    chooser.package.choices = _package_choices(sellable)
    if request.method == "GET" and "package" in request.args:
        if chooser.validate():
            package = next(p for p in sellable if str(p.id) == chooser.package.data)
        else:
            status = 400
    elif package is not None:
        chooser.package.data = str(package.id)
    covered = []
    if package is not None:
        covered = sorted(_service_names(package), key=str.lower)
    return render_template(
        "sales/sell.html",
        client=client,
        chooser=chooser,
        package=package,
        covered=covered,
        expires_on=packages.expiry_for(package, today) if package else None,
        form=SellForm(
            formdata=None,
            package=str(package.id) if package else "",
            terms=_terms(package) if package else "",
        ),
        error=error,
    ), status


def _service_names(package: Package) -> list[str]:
    ids = offers.package_service_ids([package.id])[package.id]
    if not ids:
        return []
    return list(db.session.scalars(select(Service.name).where(Service.id.in_(ids))))


# Refunds and sessions given back (owners and managers) -------------------------------------------


@bp.route("/packages/<sale_id>/refund", methods=["GET", "POST"])
@requires("sales.refund")
def refund(sale_id: str):
    sale = get_or_404(PackageSale, sale_id)
    today = today_in(g.clinic)
    used = packages.sessions_used([sale.id])[sale.id]
    try:
        quote, problem = packages.refund_quote(sale, today), None
    except PackageError as refused:
        discard_changes()
        quote, problem = None, str(refused)
    if request.method == "GET":
        return _refund_page(sale, used, quote, problem, today)
    form = RefundForm()
    first = repeat_of(form, "package_refund")
    if first is not None:
        refunded = get_or_404(PackageSale, str(first.object_id))
        return already_recorded(
            f"{refunded.name} was refunded: {_price(refunded.refund_minor or 0)} to pay back to "
            f"{refunded.client.full_name}.",
            url_for(".client", client_id=refunded.client_id),
        )
    if not form.validate_on_submit():
        abort(400)
    if quote is None:
        return _refund_page(sale, used, quote, problem, today, status=409)
    if form.quoted.data != str(quote):
        problem = "The refund due changed while this page was open (a session was used or given "
        problem += "back): check the amount again."
        return _refund_page(sale, used, quote, problem, today, status=409)
    try:
        amount = packages.refund(sale, today)
    except PackageError as refused:
        discard_changes()
        return _refund_page(sale, used, None, str(refused), today, status=400)
    settle(form, sale.id)
    flash(
        f"{sale.name} was refunded: pay {_price(amount)} back to {sale.client.full_name}. "
        "Its sessions can no longer be used.",
        "success",
    )
    return redirect(url_for(".client", client_id=sale.client_id))


def _refund_page(sale, used, quote, problem, today, status: int = 200):
    return render_template(
        "sales/refund.html",
        sale=sale,
        client=sale.client,
        used=used,
        unused=sale.sessions_total - used,
        state=packages.status(sale, used, today),
        quote=quote,
        problem=problem,
        policy=packages.REFUND_POLICY,
        form=RefundForm(formdata=None, quoted=str(quote) if quote is not None else ""),
    ), status


@bp.route("/packages/<sale_id>/sessions/<appointment_id>/give-back", methods=["POST"])
@requires("sales.refund")
def give_back(sale_id: str, appointment_id: str):
    sale = get_or_404(PackageSale, sale_id)
    key = parse_id(appointment_id)
    if key is None:
        abort(404)
    used = db.session.scalars(
        select(PackageRedemption).where(
            PackageRedemption.sale_id == sale.id, PackageRedemption.appointment_id == key
        )
    ).all()
    if not used:
        abort(404)
    live = next((r for r in used if r.reversed_at is None), None)

    def reverse() -> str | None:
        if live is None:
            flash("That session was already given back.", "info")
            return None
        packages.reverse(live)
        return f"The session was given back to {sale.name}: {packages.balance(sale)} left."

    return one_click(reverse, url_for(".client", client_id=sale.client_id))


# Memberships: enrol, pause, resume, cancel -------------------------------------------------------


@bp.route("/clients/<client_id>/enrol", methods=["POST"])
@requires("sales.manage")
def enrol(client_id: str):
    client = get_or_404(Client, client_id)
    today = today_in(g.clinic)
    form = EnrolForm()
    first = repeat_of(form, "membership")
    if first is not None:
        enrolled = get_or_404(ClientMembership, str(first.object_id))
        return already_recorded(
            f"{client.full_name} is a member of {enrolled.name} from "
            f"{display.day(enrolled.started_on)}.",
            url_for(".client", client_id=enrolled.client_id),
        )
    plans = _active_plans()
    form.plan.choices = _plan_choices(plans)
    if form.validate_on_submit():
        plan = next(p for p in plans if str(p.id) == form.plan.data)
        try:
            membership = memberships.enrol(plan, client, form.start_on.data, today)
        except MembershipError as problem:
            place_refusal(form, problem)
        else:
            settle(form, membership.id)
            starts = (
                "today" if membership.started_on == today else display.day(membership.started_on)
            )
            flash(
                f"{client.full_name} is now a member of {membership.name}, from {starts}: "
                f"{membership.sessions_per_period} a month for {_price(membership.price_minor)}.",
                "success",
            )
            return redirect(url_for(".client", client_id=client.id))
    return _client_page(client, enrol_form=form, status=400)


def _change_membership(enrolment_id: str, change: Callable, done: str):
    """A one-click change of a membership; a change it cannot take is explained, not applied."""
    membership = get_or_404(ClientMembership, enrolment_id)
    name, client_id = membership.name, membership.client_id

    def change_it() -> str:
        change(membership, today_in(g.clinic))
        return done.format(name=name)

    return one_click(change_it, url_for(".client", client_id=client_id))


@bp.route("/memberships/<enrolment_id>/pause", methods=["POST"])
@requires("sales.manage")
def pause(enrolment_id: str):
    return _change_membership(
        enrolment_id,
        memberships.pause,
        "{name} is paused: the current month runs out and no new one starts until it is resumed.",
    )


@bp.route("/memberships/<enrolment_id>/resume", methods=["POST"])
@requires("sales.manage")
def resume(enrolment_id: str):
    return _change_membership(enrolment_id, memberships.resume, "{name} is running again.")


@bp.route("/memberships/<enrolment_id>/cancel", methods=["POST"])
@requires("sales.manage")
def cancel(enrolment_id: str):
    return _change_membership(
        enrolment_id,
        memberships.cancel,
        "{name} is cancelled: the current month can still be used until it ends.",
    )
