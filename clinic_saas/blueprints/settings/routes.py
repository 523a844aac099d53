"""The owner's settings for the clinic: its details, contact and tax registration."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for

from ...extensions import db
from ...permissions import requires
from ..forms import ClinicContactForm, ClinicDetailsForm


class SettingsForm(ClinicDetailsForm, ClinicContactForm):
    pass


bp = Blueprint("settings", __name__, url_prefix="/c/<clinic_slug>/settings")


@bp.route("/", methods=["GET", "POST"])
@requires("clinic.settings")
def edit():
    clinic = g.clinic
    form = SettingsForm(
        obj=clinic,
        clinic_name=clinic.name,
    )
    del form.slug  # the web address is fixed: links already sent point at it
    if form.validate_on_submit():
        clinic.name = form.clinic_name.data
        clinic.timezone = form.timezone.data
        clinic.currency = form.currency.data
        clinic.country = form.country.data
        for field in ("email", "phone", "address", "website", "tax_registration"):
            setattr(clinic, field, getattr(form, field).data or None)
        db.session.flush()
        flash("Clinic settings saved.", "success")
        return redirect(url_for("settings.edit"))
    return render_template("settings/edit.html", form=form), 400 if form.errors else 200
