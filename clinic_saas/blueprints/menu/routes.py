"""The menu: what the clinic sells and at what price; owners and managers change it, all see it."""

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
from sqlalchemy import func, select
from wtforms import SelectChoice

from ... import display
from ...clinic_time import today_in
from ...extensions import db
from ...menu import services as menu
from ...menu.pricing import prices_on, upcoming_changes
from ...menu.services import MenuError
from ...models import (
    Category,
    PriceTier,
    Service,
    ServicePrice,
    ServiceTherapist,
    TaxRate,
    TaxTreatment,
    Therapist,
)
from ...permissions import requires
from ...staff.therapists import ordered_therapists
from ...tenancy import get_or_404
from ...unit_of_work import discard_changes
from ..forms import OneClickForm
from ..refusal_views import one_click, place_refusal
from .forms import (
    ActiveForm,
    MoveForm,
    NameForm,
    NewServiceForm,
    PriceForm,
    ServiceForm,
    TaxRateForm,
    TaxSettingForm,
    TierForm,
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
        in_force_ids=_in_force_ids(history, today),
        tier_names={tier.id: tier.name for tier in tiers},
        today=today,
        problem=problem,
    ), 400 if problem else _status(form)


def _in_force_ids(history: list[ServicePrice], today: date) -> set[uuid.UUID]:
    """The row in force today for the standard price and for each tier."""
    seen: dict[uuid.UUID | None, uuid.UUID] = {}
    for row in history:  # newest first
        if row.effective_from <= today and row.tier_id not in seen:
            seen[row.tier_id] = row.id
    return set(seen.values())


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


# Categories ---------------------------------------------------------------------------------


def _render_categories(add_form=None, failed=None, problem=None):
    """The categories page; `failed` is (category id, rename form with its errors)."""
    categories = menu.ordered_categories()
    in_use = dict(
        db.session.execute(select(Service.category, func.count()).group_by(Service.category)).all()
    )
    rename_forms = {c.id: NameForm(formdata=None, name=c.name) for c in categories}
    if failed is not None:
        rename_forms[failed[0]] = failed[1]
    add_form = add_form or NameForm(formdata=None)
    status = 400 if problem else _status(add_form, failed[1] if failed else None)
    return render_template(
        "menu/categories.html",
        categories=categories,
        in_use=in_use,
        rename_forms=rename_forms,
        add_form=add_form,
        problem=problem,
    ), status


@bp.route("/categories", methods=["GET", "POST"])
@requires("menu.manage")
def categories():
    form = NameForm()
    if form.validate_on_submit():
        try:
            category = menu.add_category(form.name.data)
        except MenuError as error:
            place_refusal(form, error)
        else:
            flash(f"{category.name} was added to the menu's categories.", "success")
            return redirect(url_for("menu.categories"))
    return _render_categories(add_form=form)


@bp.route("/categories/<category_id>", methods=["POST"])
@requires("menu.manage")
def rename_category(category_id: str):
    category = get_or_404(Category, category_id)
    form = NameForm()
    if form.validate_on_submit():
        try:
            menu.rename_category(category, form.name.data)
        except MenuError as error:
            place_refusal(form, error)
        else:
            flash(f"The category is now called {category.name}.", "success")
            return redirect(url_for("menu.categories"))
    db.session.expire(category)  # the page shows the name it still has
    return _render_categories(failed=(category.id, form))


@bp.route("/categories/<category_id>/move", methods=["POST"])
@requires("menu.manage")
def move_category(category_id: str):
    category = get_or_404(Category, category_id)
    form = MoveForm()

    def move() -> None:
        menu.move_category(category, form.direction.data)

    return one_click(move, url_for("menu.categories"), form=form)


@bp.route("/categories/<category_id>/delete", methods=["POST"])
@requires("menu.manage")
def delete_category(category_id: str):
    category = get_or_404(Category, category_id)
    if not OneClickForm().validate_on_submit():
        abort(400)
    name = category.name
    try:
        menu.delete_category(category)
    except MenuError as error:
        discard_changes()
        return _render_categories(problem=str(error))
    flash(f"{name} was removed from the categories.", "success")
    return redirect(url_for("menu.categories"))


# Tax ----------------------------------------------------------------------------------------


def _tax_values(form: TaxRateForm) -> dict:
    return {
        "name": form.name.data,
        "rate_bp": form.rate.basis_points,
        "treatment": TaxTreatment(form.treatment.data),
    }


def _render_tax_rates(add_form=None, setting_form=None):
    in_use = dict(
        db.session.execute(
            select(Service.tax_rate_id, func.count())
            .where(Service.tax_rate_id.is_not(None))
            .group_by(Service.tax_rate_id)
        ).all()
    )
    add_form = add_form or TaxRateForm(formdata=None)
    setting_form = setting_form or TaxSettingForm(
        formdata=None, prices_include_tax=g.clinic.prices_include_tax
    )
    return render_template(
        "menu/tax_rates.html",
        tax_rates=_tax_rates(),
        in_use=in_use,
        add_form=add_form,
        setting_form=setting_form,
        clinic=g.clinic,
    ), _status(add_form, setting_form)


@bp.route("/tax-rates", methods=["GET", "POST"])
@requires("menu.manage")
def tax_rates():
    form = TaxRateForm()
    if form.validate_on_submit():
        try:
            rate = menu.save_tax_rate(None, **_tax_values(form))
        except MenuError as error:
            place_refusal(form, error)
        else:
            flash(f"{rate.name} ({_percent(rate)}) can now be given to services.", "success")
            return redirect(url_for("menu.tax_rates"))
    return _render_tax_rates(add_form=form)


@bp.route("/tax-rates/<tax_rate_id>", methods=["GET", "POST"])
@requires("menu.manage")
def edit_tax_rate(tax_rate_id: str):
    rate = get_or_404(TaxRate, tax_rate_id)
    form = TaxRateForm(
        obj=rate, treatment=rate.treatment.value, rate=display.basis_points(rate.rate_bp)
    )
    users = list(
        db.session.scalars(
            select(Service.name).where(Service.tax_rate_id == rate.id).order_by(Service.name)
        )
    )
    if form.validate_on_submit():
        try:
            menu.save_tax_rate(rate, **_tax_values(form))
        except MenuError as error:
            place_refusal(form, error)
        else:
            flash(f"{rate.name} is now {_percent(rate)}.", "success")
            return redirect(url_for("menu.tax_rates"))
    db.session.expire(rate)
    return render_template("menu/tax_rate_form.html", form=form, rate=rate, users=users), _status(
        form
    )


@bp.route("/tax-rates/<tax_rate_id>/active", methods=["POST"])
@requires("menu.manage")
def tax_rate_active(tax_rate_id: str):
    rate = get_or_404(TaxRate, tax_rate_id)
    form = ActiveForm()

    def switch() -> str | None:
        users = menu.set_tax_rate_active(rate, form.active.data)
        if rate.active:
            return f"{rate.name} can be given to services again."
        if not users:
            return f"{rate.name} is no longer offered."
        flash(
            f"{rate.name} is no longer offered for new choices. {len(users)} "
            f"{'service keeps' if len(users) == 1 else 'services keep'} it until you change "
            f"{'it' if len(users) == 1 else 'them'}: {', '.join(users[:10])}.",
            "warning",
        )
        return None

    return one_click(switch, url_for("menu.tax_rates"), form=form)


@bp.route("/tax-setting", methods=["POST"])
@requires("menu.manage")
def tax_setting():
    form = TaxSettingForm()
    if not form.validate_on_submit():
        return _render_tax_rates(setting_form=form)
    menu.set_prices_include_tax(g.clinic, form.prices_include_tax.data)
    flash(
        "Menu prices now include tax."
        if g.clinic.prices_include_tax
        else "Tax is now added on top of menu prices.",
        "success",
    )
    return redirect(url_for("menu.tax_rates"))


# Price tiers --------------------------------------------------------------------------------


def _render_tiers(add_form=None):
    tiers = _tiers()
    members = dict(
        db.session.execute(
            select(Therapist.tier_id, func.count())
            .where(Therapist.tier_id.is_not(None), Therapist.active.is_(True))
            .group_by(Therapist.tier_id)
        ).all()
    )
    priced = dict(
        db.session.execute(
            select(ServicePrice.tier_id, func.count(ServicePrice.service_id.distinct()))
            .where(ServicePrice.tier_id.is_not(None))
            .group_by(ServicePrice.tier_id)
        ).all()
    )
    add_form = add_form or NameForm(formdata=None)
    return render_template(
        "menu/tiers.html", tiers=tiers, members=members, priced=priced, add_form=add_form
    ), _status(add_form)


@bp.route("/tiers", methods=["GET", "POST"])
@requires("menu.manage")
def tiers():
    form = NameForm()
    if form.validate_on_submit():
        try:
            tier = menu.add_tier(form.name.data)
        except MenuError as error:
            place_refusal(form, error)
        else:
            flash(
                f"{tier.name} was added. Choose its therapists and give services "
                f"{tier.name} prices.",
                "success",
            )
            return redirect(url_for("menu.edit_tier", tier_id=tier.id))
    return _render_tiers(add_form=form)


@bp.route("/tiers/<tier_id>", methods=["GET", "POST"])
@requires("menu.manage")
def edit_tier(tier_id: str):
    tier = get_or_404(PriceTier, tier_id)
    therapists = ordered_therapists()
    form = TierForm(
        name=tier.name, therapists=[str(t.id) for t in therapists if t.tier_id == tier.id]
    )
    form.therapists.choices = [
        SelectChoice(str(t.id), _therapist_label(t, tier)) for t in therapists
    ]
    if form.validate_on_submit():
        try:
            menu.rename_tier(tier, form.name.data)
            menu.set_tier_therapists(tier, [uuid.UUID(v) for v in form.therapists.data or []])
        except MenuError as error:
            place_refusal(form, error)
        else:
            flash(f"{tier.name} was saved.", "success")
            return redirect(url_for("menu.edit_tier", tier_id=tier.id))
    db.session.expire(tier)
    services = menu.menu_order()
    today = _today()
    return render_template(
        "menu/tier_form.html",
        tier=tier,
        form=form,
        services=services,
        current=prices_on([s.id for s in services], today),
    ), _status(form)


def _therapist_label(therapist: Therapist, tier: PriceTier) -> str:
    notes = []
    if not therapist.active:
        notes.append("inactive")
    if therapist.tier_id is not None and therapist.tier_id != tier.id:
        notes.append("in another tier")
    return therapist.display_name + (f" ({', '.join(notes)})" if notes else "")
