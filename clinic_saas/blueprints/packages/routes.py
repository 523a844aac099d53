"""Packages and maintenance plans on the menu: courses of sessions and monthly memberships."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable

from flask import (
    Blueprint,
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
from ...menu import offers
from ...menu.offers import OfferError
from ...menu.services import active_services
from ...models import MembershipPlan, MembershipPlanService, Package, Service, TaxRate
from ...money import divide_half_up
from ...permissions import requires
from ...tenancy import get_or_404
from ..refusal_views import place_refusal
from ..submission_views import already_recorded, repeat_of, settle
from .forms import NewPackageForm, NewPlanForm, OfferForm, PackageForm, PlanForm

bp = Blueprint("packages", __name__, url_prefix="/c/<clinic_slug>/menu/offers")

# An OfferError names the argument it refuses; these two are called otherwise on the form.
OFFER_FIELDS = {"service_ids": "services", "price_minor": "price"}
# The fields each kind of offer has beyond those they share, named alike on model, form and saver.
PACKAGE_FIELDS = ("sessions_count", "validity_months", "shareable", "bookable_online")
PLAN_FIELDS = ("sessions_per_period",)


def _per_session(package: Package) -> str:
    amount = divide_half_up(package.price_minor, package.sessions_count)
    return display.price(amount, g.clinic.currency, g.clinic.country)


@bp.context_processor
def _template_helpers() -> dict:
    return {
        "per_session": _per_session,
        "menu_url": _menu_url(),
    }


def _menu_url() -> str | None:
    """The menu's own page, once the menu feature has one (error pages have no clinic)."""
    if g.get("clinic") is None or "menu.index" not in current_app.view_functions:
        return None
    return url_for("menu.index")


# The list ----------------------------------------------------------------------------------------


@bp.route("/")
@requires("menu.view")
def index():
    package_rows = db.session.scalars(
        select(Package).order_by(Package.active.desc(), Package.position, Package.name)
    ).all()
    plan_rows = db.session.scalars(
        select(MembershipPlan).order_by(
            MembershipPlan.active.desc(), MembershipPlan.position, MembershipPlan.name
        )
    ).all()
    services = {s.id: s for s in db.session.scalars(select(Service))}
    covered = offers.package_service_ids(p.id for p in package_rows)
    plan_covered: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    if plan_rows:
        for plan_id, service_id in db.session.execute(
            select(MembershipPlanService.plan_id, MembershipPlanService.service_id).where(
                MembershipPlanService.plan_id.in_([p.id for p in plan_rows])
            )
        ):
            plan_covered[plan_id].add(service_id)

    def names(service_ids) -> list[Service]:
        found = [services[sid] for sid in service_ids if sid in services]
        return sorted(found, key=lambda s: (not s.active, s.position, s.name))

    return render_template(
        "packages/index.html",
        packages=package_rows,
        plans=plan_rows,
        package_services={p.id: names(covered[p.id]) for p in package_rows},
        plan_services={p.id: names(plan_covered[p.id]) for p in plan_rows},
    )


# Editing: the pieces packages and plans share ----------------------------------------------------


def _prepare(form: OfferForm, current_tax_rate_id: uuid.UUID | None) -> dict[str, TaxRate]:
    """Offer active services and tax rates (and the rate in use, even if withdrawn since)."""
    form.price.currency = g.clinic.currency
    form.price.label.text = f"{form.price.label.text} ({g.clinic.currency})"
    services = active_services()
    form.services.choices = [
        SelectChoice(str(s.id), f"{s.name} · {s.duration_minutes} min") for s in services
    ]
    rates = {
        str(r.id): r
        for r in db.session.scalars(
            select(TaxRate)
            .where((TaxRate.active.is_(True)) | (TaxRate.id == current_tax_rate_id))
            .order_by(TaxRate.name)
        )
    }
    form.tax_rate.choices = [SelectChoice("", "No tax")] + [
        SelectChoice(
            key,
            f"{r.name} ({display.percent(r.rate_bp, g.clinic.country)})"
            + ("" if r.active else " · withdrawn"),
        )
        for key, r in rates.items()
    ]
    return rates


def _service_ids(form: OfferForm, current: set[uuid.UUID]) -> list[uuid.UUID]:
    """The ticked services, plus those already covered that are no longer on the menu (not shown,
    so not unticked)."""
    shown = {uuid.UUID(choice.value) for choice in form.services.choices}
    ticked = [uuid.UUID(value) for value in form.services.data or []]
    return ticked + sorted(current - shown)


def _hidden_services(form: OfferForm, current: set[uuid.UUID]) -> list[Service]:
    shown = {uuid.UUID(choice.value) for choice in form.services.choices}
    hidden = current - shown
    if not hidden:
        return []
    return list(db.session.scalars(select(Service).where(Service.id.in_(hidden))))


def _offer_values(offer, service_ids: set[uuid.UUID], **extra) -> dict:
    return {
        "name": offer.name,
        "description": offer.description,
        "price": display.amount_input(offer.price_minor, g.clinic.currency),
        "services": [str(sid) for sid in service_ids],
        "tax_rate": str(offer.tax_rate_id) if offer.tax_rate_id else "",
        "active": offer.active,
        **extra,
    }


def _offer_page(
    offer: Package | MembershipPlan | None,
    current: set[uuid.UUID],
    form_class: type[OfferForm],
    own_fields: tuple[str, ...],
    save: Callable[..., Package | MembershipPlan],
    kind: str,
):
    """Add or edit a package or a plan: they differ only in their own fields, saver and template.

    Adding one carries a one-time key: a repeated post goes to what the first one added.
    """
    values = None
    if offer is not None:
        values = _offer_values(offer, current, **{f: getattr(offer, f) for f in own_fields})
    form = form_class(data=values)
    model, kind_key = (
        (Package, "package") if kind == "package" else (MembershipPlan, "membership_plan")
    )
    first = repeat_of(form, kind_key) if offer is None and request.method == "POST" else None
    if first is not None:
        added = get_or_404(model, str(first.object_id))
        return already_recorded(f"{added.name} was added to the menu.", url_for(".index"))
    rates = _prepare(form, offer.tax_rate_id if offer else None)
    if form.validate_on_submit():
        try:
            saved = save(
                offer,
                name=form.name.data,
                description=form.description.data or None,
                price_minor=form.price.minor,
                service_ids=_service_ids(form, current),
                tax_rate=rates.get(form.tax_rate.data),
                active=form.active.data,
                **{f: getattr(form, f).data for f in own_fields},
            )
        except OfferError as problem:
            place_refusal(form, problem, OFFER_FIELDS)
        else:
            if offer is None:
                settle(form, saved.id)
            flash(f"{saved.name} was {'saved' if offer else 'added to the menu'}.", "success")
            if isinstance(saved, Package):
                _warn_about_value(saved)
            return redirect(url_for(".index"))
    return render_template(
        f"packages/{kind}.html",
        form=form,
        hidden_services=_hidden_services(form, current),
        **{kind: offer},
    ), 400 if request.method == "POST" else 200


# Packages ----------------------------------------------------------------------------------------


def _warn_about_value(package: Package) -> None:
    """Saved as asked, but a price of nothing or dearer than paying session by session is said."""
    value = offers.questionable_value(package, today_in(g.clinic))
    if value is None:
        return
    if value.free:
        flash(f"{package.name} costs nothing: check its price if that is not meant.", "warning")
        return
    money = lambda amount: display.price(amount, g.clinic.currency, g.clinic.country)  # noqa: E731
    flash(
        f"{package.name} costs {money(value.per_session_minor)} a session, more than "
        f"{value.service_name} bought on its own ({money(value.service_price_minor)}): "
        "check its price if that is not meant.",
        "warning",
    )


@bp.route("/packages/new", methods=["GET", "POST"])
@requires("menu.manage")
def new_package():
    return _package_page(None)


@bp.route("/packages/<package_id>", methods=["GET", "POST"])
@requires("menu.manage")
def edit_package(package_id: str):
    return _package_page(get_or_404(Package, package_id))


def _package_page(package: Package | None):
    current = offers.package_service_ids([package.id])[package.id] if package else set()
    form_class = PackageForm if package else NewPackageForm
    return _offer_page(package, current, form_class, PACKAGE_FIELDS, offers.save_package, "package")


# Maintenance plans -------------------------------------------------------------------------------


@bp.route("/plans/new", methods=["GET", "POST"])
@requires("menu.manage")
def new_plan():
    return _plan_page(None)


@bp.route("/plans/<plan_id>", methods=["GET", "POST"])
@requires("menu.manage")
def edit_plan(plan_id: str):
    return _plan_page(get_or_404(MembershipPlan, plan_id))


def _plan_page(plan: MembershipPlan | None):
    current = offers.plan_service_ids(plan.id) if plan else set()
    form_class = PlanForm if plan else NewPlanForm
    return _offer_page(plan, current, form_class, PLAN_FIELDS, offers.save_plan, "plan")
