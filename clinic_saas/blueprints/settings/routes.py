"""The owner's settings for the clinic: its details, contact and tax registration."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from ...accounts import clinic_settings
from ...permissions import requires
from ..forms import BaseForm, ClinicContactForm, ClinicDetailsForm


class RecordsForm(BaseForm):
    retention_years = IntegerField(
        "Keep clinical records for (years after the last entry)",
        validators=[InputRequired("Enter a number of years."), NumberRange(1, 100)],
        description="UK guidance: at least 8 years for adults; children's records are kept "
        "until they are 25 whatever this says. Erasure requests are refused before then.",
    )
    intake_valid_months = IntegerField(
        "An intake is out of date after (months)",
        validators=[InputRequired("Enter a number of months."), NumberRange(1, 120)],
        description="Therapists are warned to ask for a new intake before treating.",
    )


class SettingsForm(ClinicDetailsForm, ClinicContactForm, RecordsForm):
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
        clinic_settings.update_settings(
            clinic,
            name=form.clinic_name.data,
            timezone=form.timezone.data,
            currency=form.currency.data,
            country=form.country.data,
            retention_years=form.retention_years.data,
            intake_valid_months=form.intake_valid_months.data,
            email=form.email.data,
            phone=form.phone.data,
            address=form.address.data,
            website=form.website.data,
            tax_registration=form.tax_registration.data,
        )
        flash("Clinic settings saved.", "success")
        return redirect(url_for("settings.edit"))
    return render_template("settings/edit.html", form=form), 400 if form.errors else 200
