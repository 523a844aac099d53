"""The owner's settings for the clinic: its details, contact and tax registration."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from wtforms import IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, NumberRange, Optional

from ...accounts import clinic_settings
from ...display import amount_input, basis_points
from ...models import Clinic
from ...permissions import requires
from ...refusals import Refusal
from ..forms import BaseForm, ClinicContactForm, ClinicDetailsForm, strip
from ..refusal_views import place_refusal


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


FEE_CHOICES = [SelectChoice(kind, label) for kind, label in clinic_settings.FEE_KINDS.items()]


class PolicyForm(BaseForm):
    """Read as typed; the domain checks ranges and fees (clinic_settings.update_policy)."""

    booking_notice_hours = IntegerField(
        "Minimum notice for a booking (hours)",
        validators=[Optional()],
        description="A booking that starts sooner than this is refused, at the desk too: the "
        "desk cannot override it. Use 0 to allow bookings up to the start time (walk-ins).",
    )
    late_cancellation_hours = IntegerField(
        "Cancelling later than this before the start is late (hours)",
        validators=[Optional()],
        description="Late cancellations are flagged on the appointment.",
    )
    no_show_fee_kind = SelectField("No-show fee", choices=FEE_CHOICES)
    no_show_fee = StringField("Amount or %", filters=[strip])
    late_cancellation_fee_kind = SelectField("Late-cancellation fee", choices=FEE_CHOICES)
    late_cancellation_fee = StringField("Amount or %", filters=[strip])

    FIELDS = (
        "booking_notice_hours",
        "late_cancellation_hours",
        "no_show_fee_kind",
        "no_show_fee",
        "late_cancellation_fee_kind",
        "late_cancellation_fee",
    )


class InvoicingForm(BaseForm):
    """Read as typed; the domain checks them (clinic_settings.update_invoicing)."""

    legal_name = StringField(
        "Legal name on invoices",
        validators=[Optional()],
        filters=[strip],
        description="The business name invoices are issued in, if not the clinic's name.",
    )
    invoice_prefix = StringField(
        "Invoice number prefix",
        validators=[Optional()],
        filters=[strip],
        description="1 to 12 letters or digits: NS gives NS-2026-000001.",
    )
    payment_terms_days = IntegerField(
        "Payment terms (days)",
        validators=[Optional()],
        description="An invoice is due this many days after it is issued (0: on receipt).",
    )

    FIELDS = ("legal_name", "invoice_prefix", "payment_terms_days")


class SettingsForm(ClinicDetailsForm, ClinicContactForm, RecordsForm, PolicyForm, InvoicingForm):
    pass


def _fee_as_typed(clinic: Clinic, minor: int | None, bp: int | None) -> dict:
    if minor is not None:
        return {"kind": "amount", "text": amount_input(minor, clinic.currency)}
    if bp is not None:
        return {"kind": "percent", "text": basis_points(bp)}
    return {"kind": "none", "text": ""}


bp = Blueprint("settings", __name__, url_prefix="/c/<clinic_slug>/settings")


@bp.route("/", methods=["GET", "POST"])
@requires("clinic.settings")
def edit():
    clinic = g.clinic
    no_show = _fee_as_typed(clinic, clinic.no_show_fee_minor, clinic.no_show_fee_bp)
    late = _fee_as_typed(
        clinic, clinic.late_cancellation_fee_minor, clinic.late_cancellation_fee_bp
    )
    form = SettingsForm(
        obj=clinic,
        clinic_name=clinic.name,
        no_show_fee_kind=no_show["kind"],
        no_show_fee=no_show["text"],
        late_cancellation_fee_kind=late["kind"],
        late_cancellation_fee=late["text"],
    )
    del form.slug  # the web address is fixed: links already sent point at it
    if form.validate_on_submit() and _saved(clinic, form):
        flash("Clinic settings saved.", "success")
        return redirect(url_for("settings.edit"))
    return render_template("settings/edit.html", form=form), 400 if form.errors else 200


def _saved(clinic: Clinic, form: SettingsForm) -> bool:
    try:
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
            policy=_policy(form),
            invoicing=_invoicing(form),
        )
    except Refusal as refusal:
        place_refusal(form, refusal)
        return False
    return True


def _policy(form: SettingsForm) -> dict | None:
    """The policy as typed, or None from a page that had no policy fields (kept as it is)."""
    if not any(form[name].raw_data for name in PolicyForm.FIELDS):
        return None
    return {
        "booking_notice_hours": form.booking_notice_hours.data,
        "late_cancellation_hours": form.late_cancellation_hours.data,
        "no_show_fee_kind": form.no_show_fee_kind.data,
        "no_show_fee": form.no_show_fee.data,
        "late_cancellation_fee_kind": form.late_cancellation_fee_kind.data,
        "late_cancellation_fee": form.late_cancellation_fee.data,
    }


def _invoicing(form: SettingsForm) -> dict | None:
    """Invoicing as typed, or None from a page that had no invoicing fields (kept as it is)."""
    if not any(form[name].raw_data for name in InvoicingForm.FIELDS):
        return None
    return {name: form[name].data for name in InvoicingForm.FIELDS}
