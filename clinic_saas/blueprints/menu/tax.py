"""Tax on the menu: the clinic's tax rates, and whether menu prices include tax."""

from __future__ import annotations

from flask import (
    flash,
    g,
    redirect,
    render_template,
    url_for,
)
from sqlalchemy import func, select

from ... import display
from ...extensions import db
from ...menu import services as menu
from ...menu.services import MenuError
from ...models import (
    Service,
    TaxRate,
    TaxTreatment,
)
from ...permissions import requires
from ...tenancy import get_or_404
from ..refusal_views import one_click, place_refusal
from .forms import (
    ActiveForm,
    TaxRateForm,
    TaxSettingForm,
)
from .routes import _percent, _status, _tax_rates, bp


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
