"""The menu: what the clinic sells and at what price; owners and managers change it, all see it.

The services and their prices are here; categories, tax and price tiers have a module each, on
the same `bp`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from wtforms import SelectChoice

from ... import display
from ...clinic_time import today_in
from ...extensions import db
from ...menu import services as menu
from ...menu.pricing import in_force_ids, prices_on, upcoming_changes
from ...menu.services import MenuError
from ...models import (
    PriceTier,
    Service,
    ServicePrice,
    ServiceTherapist,
    TaxRate,
    Therapist,
)
from ...permissions import requires
from ...staff.therapists import ordered_therapists
from ...tenancy import get_or_404
from ...unit_of_work import discard_changes
from ..forms import OneClickForm
from ..refusal_views import one_click, place_refusal
from .forms import (
    MoveForm,
    NewServiceForm,
    PriceForm,
    ServiceForm,
)

bp = Blueprint("menu", __name__, url_prefix="/c/<clinic_slug>/menu")

HISTORY_ROWS = 200


def _percent(rate: TaxRate) -> str:
    return display.percent(rate.rate_bp, g.clinic.country)


def _today() -> date:
    return today_in(g.clinic)


def _tiers() -> list[PriceTier]:
    return list(db.session.scalars(select(PriceTier).order_by(PriceTier.position, PriceTier.name)))


def _tax_rates() -> list[TaxRate]:
    return list(db.session.scalars(select(TaxRate).order_by(TaxRate.active.desc(), TaxRate.name)))


# The menu -----------------------------------------------------------------------------------


@bp.route("/")
@requires("menu.view")
def index():
    today = _today()
    categories = menu.ordered_categories()
    services = menu.menu_order()
    ids = [s.id for s in services]
    current = prices_on(ids, today)
    upcoming: dict[uuid.UUID, list[ServicePrice]] = defaultdict(list)
    for change in upcoming_changes(ids, today):
        upcoming[change.service_id].append(change)
    offered_by: dict[uuid.UUID, list[str]] = defaultdict(list)
    for service_id, name in db.session.execute(
        select(ServiceTherapist.service_id, Therapist.display_name)
        .join(Therapist, Therapist.id == ServiceTherapist.therapist_id)
        .where(Therapist.active.is_(True))
        .order_by(Therapist.display_name)
    ):
        offered_by[service_id].append(name)
    by_category: dict[str, list[Service]] = defaultdict(list)
    for service in services:
        by_category[service.category].append(service)
    tiers = _tiers()
    return render_template(
        "menu/index.html",
        categories=categories,
        by_category=by_category,
        service_count=len(services),
        current=current,
        upcoming=upcoming,
        offered_by=offered_by,
        tax_rates={rate.id: rate for rate in _tax_rates()},
        tiers=tiers,
        tier_names={tier.id: tier.name for tier in tiers},
        clinic=g.clinic,
        today=today,
        has_packages="packages.index" in current_app.view_functions,
    )


@bp.route("/<service_id>/move", methods=["POST"])
@requires("menu.manage")
def move_service(service_id: str):
    service = get_or_404(Service, service_id)
    form = MoveForm()

    def move() -> None:
        menu.move_service(service, form.direction.data)

    return one_click(move, url_for("menu.index", _anchor=f"service-{service.id}"), form=form)


# One service --------------------------------------------------------------------------------


def _prepare_service_form(form: ServiceForm, service: Service | None) -> ServiceForm:
    """Offer this clinic's categories, active tax rates and therapists (and what it has now)."""
    form.category.choices = [SelectChoice(c.key, c.name) for c in menu.ordered_categories()]
    current_rate = service.tax_rate_id if service else None
    form.tax_rate.choices = [SelectChoice("", "No tax")] + [
        SelectChoice(str(r.id), f"{r.name} · {_percent(r)} · {r.treatment.label}")
        for r in _tax_rates()
        if r.active or r.id == current_rate
    ]
    ticked = set(form.therapists.data or [])
    form.therapists.choices = [
        SelectChoice(str(t.id), t.display_name if t.active else f"{t.display_name} (inactive)")
        for t in ordered_therapists()
        if t.active or str(t.id) in ticked
    ]
    if len(form.tax_rate.choices) == 1:
        form.tax_rate.description = (
            "No tax rates yet: add them under Tax if the clinic charges tax."
        )
    if isinstance(form, NewServiceForm):
        form.price.for_currency(g.clinic.currency)
        form.price.description += " The standard price from today; later changes are dated."
    return form


def _service_values(form: ServiceForm) -> dict:
    return {
        "name": form.name.data,
        "category": form.category.data,
        "description": form.description.data,
        "duration_minutes": form.duration_minutes.data,
        "buffer_minutes": form.buffer_minutes.data,
        "tax_rate_id": uuid.UUID(form.tax_rate.data) if form.tax_rate.data else None,
        "bookable_online": form.bookable_online.data,
        "active": form.active.data,
        "therapist_ids": [uuid.UUID(value) for value in form.therapists.data or []],
    }


def _status(*forms) -> int:
    return 400 if any(f.errors or f.form_errors for f in forms if f is not None) else 200


@bp.route("/new", methods=["GET", "POST"])
@requires("menu.manage")
def new_service():
    form = _prepare_service_form(NewServiceForm(), None)
    if form.validate_on_submit():
        try:
            service = menu.create_service(
                g.clinic, price_minor=form.price.minor, today=_today(), **_service_values(form)
            )
        except MenuError as error:
            place_refusal(form, error)
        else:
            flash(f"{service.name} is on the menu.", "success")
            return redirect(url_for("menu.index", _anchor=f"service-{service.id}"))
    return render_template("menu/service_form.html", form=form, service=None), _status(form)


@bp.route("/<service_id>/edit", methods=["GET", "POST"])
@requires("menu.manage")
def edit_service(service_id: str):
    service = get_or_404(Service, service_id)
    offered = [
        str(therapist_id)
        for therapist_id in db.session.scalars(
            select(ServiceTherapist.therapist_id).where(ServiceTherapist.service_id == service.id)
        )
    ]
    form = ServiceForm(
        obj=service,
        tax_rate=str(service.tax_rate_id) if service.tax_rate_id else "",
        therapists=offered,
    )
    _prepare_service_form(form, service)
    if form.validate_on_submit():
        try:
            menu.update_service(service, **_service_values(form))
        except MenuError as error:
            place_refusal(form, error)
        else:
            flash(f"{service.name} was saved.", "success")
            return redirect(url_for("menu.index", _anchor=f"service-{service.id}"))
    return render_template("menu/service_form.html", form=form, service=service), _status(form)


# Prices -------------------------------------------------------------------------------------


def _render_prices(service: Service, form: PriceForm, tiers: list[PriceTier], problem=None):
    today = _today()
    history = list(
        db.session.scalars(
            select(ServicePrice)
            .where(ServicePrice.service_id == service.id)
            .order_by(ServicePrice.effective_from.desc(), ServicePrice.created_at.desc())
            .limit(HISTORY_ROWS)
        )
    )
    return render_template(
        "menu/prices.html",
        service=service,
        form=form,
        history=history,
        in_force_ids=in_force_ids(history, today),
        tier_names={tier.id: tier.name for tier in tiers},
        today=today,
        problem=problem,
    ), 400 if problem else _status(form)


def _price_form(tiers: list[PriceTier]) -> PriceForm:
    """Today and the standard price, or the tier asked for with ?tier= (from a tier's page)."""
    form = PriceForm(effective_from=_today(), tier=request.args.get("tier", ""))
    form.tier.choices = [SelectChoice("", "Standard price")] + [
        SelectChoice(str(t.id), f"{t.name} therapists") for t in tiers
    ]
    form.price.for_currency(g.clinic.currency)
    return form


@bp.route("/<service_id>/prices", methods=["GET", "POST"])
@requires("menu.manage")
def prices(service_id: str):
    service = get_or_404(Service, service_id)
    tiers = _tiers()
    form = _price_form(tiers)
    if form.validate_on_submit():
        tier = next((t for t in tiers if str(t.id) == form.tier.data), None)
        try:
            row = menu.set_price(
                g.clinic, service, form.price.minor, form.effective_from.data, _today(), tier
            )
        except MenuError as error:
            place_refusal(form, error)
        else:
            who = f" with {tier.name} therapists" if tier else ""
            when = "today" if row.effective_from == _today() else display.day(row.effective_from)
            amount = display.price(row.price_minor, g.clinic.currency, g.clinic.country)
            flash(f"{service.name}{who} costs {amount} from {when}.", "success")
            return redirect(url_for("menu.prices", service_id=service.id))
    return _render_prices(service, form, tiers)


@bp.route("/<service_id>/prices/<price_id>/withdraw", methods=["POST"])
@requires("menu.manage")
def withdraw_price(service_id: str, price_id: str):
    service = get_or_404(Service, service_id)
    row = get_or_404(ServicePrice, price_id)
    if row.service_id != service.id:
        abort(404)
    if not OneClickForm().validate_on_submit():
        abort(400)
    amount = display.price(row.price_minor, g.clinic.currency, g.clinic.country)
    when = display.day(row.effective_from)
    try:
        menu.withdraw_price(row, _today())
    except MenuError as error:
        discard_changes()
        tiers = _tiers()
        return _render_prices(service, _price_form(tiers), tiers, problem=str(error))
    flash(f"The change to {amount} from {when} was withdrawn.", "success")
    return redirect(url_for("menu.prices", service_id=service.id))
