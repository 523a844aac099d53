"""Price tiers: groups of therapists whose sessions have their own prices."""

from __future__ import annotations

import uuid

from flask import (
    flash,
    redirect,
    render_template,
    url_for,
)
from sqlalchemy import func, select
from wtforms import SelectChoice

from ...extensions import db
from ...menu import services as menu
from ...menu.pricing import prices_on
from ...menu.services import MenuError
from ...models import (
    PriceTier,
    ServicePrice,
    Therapist,
)
from ...permissions import requires
from ...staff.therapists import ordered_therapists
from ...tenancy import get_or_404
from ..refusal_views import place_refusal
from .forms import (
    NameForm,
    TierForm,
)
from .routes import _status, _tiers, _today, bp


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
