"""A clinic's public price list: what clients can book online and what it costs, no login."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from ... import tenancy
from ...clinic_time import today_in
from ...extensions import db
from ...menu.pricing import prices_on
from ...menu.services import menu_order, ordered_categories
from ...models import Clinic, PriceTier, Service, TaxRate, TaxTreatment
from ...permissions import public

bp = Blueprint("public_menu", __name__, url_prefix="/clinics/<slug>")


@bp.route("/menu")
@public
def menu(slug: str):
    """Only active services that clients may book online; nothing of the back office."""
    clinic = db.session.scalar(select(Clinic).where(Clinic.slug == slug, Clinic.active.is_(True)))
    if clinic is None:
        abort(404)
    tenancy.bind(clinic)  # no membership: the clinic's own rows can be read, nothing more
    services = menu_order(Service.active.is_(True), Service.bookable_online.is_(True))
    prices = prices_on([s.id for s in services], today_in(clinic))
    rates = {rate.id: rate for rate in db.session.scalars(select(TaxRate))}
    tiers = list(db.session.scalars(select(PriceTier).order_by(PriceTier.position, PriceTier.name)))
    by_category: dict[str, list[Service]] = defaultdict(list)
    for service in services:
        by_category[service.category].append(service)

    def taxed(service: Service) -> TaxRate | None:
        rate = rates.get(service.tax_rate_id)
        standard = rate is not None and rate.treatment is TaxTreatment.STANDARD
        return rate if standard and rate.rate_bp > 0 else None

    return render_template(
        "public_menu/menu.html",
        clinic=clinic,
        categories=[c for c in ordered_categories() if by_category.get(c.key)],
        by_category=by_category,
        prices=prices,
        tiers=tiers,
        taxed=taxed,
        any_taxed=any(taxed(s) for s in services),
    )
