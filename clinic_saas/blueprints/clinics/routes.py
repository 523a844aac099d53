"""Outside any one clinic: the clinic switcher, and creating another clinic."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ... import tenancy
from ...accounts import signup
from ...accounts.errors import AccountError
from ...extensions import db
from ...models import Clinic, Membership
from ...permissions import account_required
from ..forms import ClinicDetailsForm
from ..refusal_views import place_refusal

bp = Blueprint("clinics", __name__, url_prefix="/clinics")


def memberships_of_current_user() -> list[Membership]:
    """The clinics this user may enter: a per-user view across clinics, hence platform access."""
    with tenancy.platform_access():
        return list(
            db.session.scalars(
                select(Membership)
                .join(Membership.clinic)
                .where(
                    Membership.user_id == current_user.id,
                    Membership.active.is_(True),
                    Clinic.active.is_(True),
                )
                .order_by(Clinic.name)
            )
        )


@bp.route("/")
@account_required
def index():
    memberships = memberships_of_current_user()
    if len(memberships) == 1:
        return redirect(url_for("dashboard.home", clinic_slug=memberships[0].clinic.slug))
    return render_template("clinics/index.html", memberships=memberships)


@bp.route("/new", methods=["GET", "POST"])
@account_required
def new():
    form = ClinicDetailsForm()
    if form.validate_on_submit():
        try:
            clinic = signup.create_clinic(current_user, **form.clinic_values())
        except AccountError as error:
            place_refusal(form, error, otherwise="slug")
        else:
            flash(f"{clinic.name} is ready. You are its owner.", "success")
            return redirect(url_for("dashboard.home", clinic_slug=clinic.slug))
    return render_template("clinics/new.html", form=form), 400 if form.errors else 200
