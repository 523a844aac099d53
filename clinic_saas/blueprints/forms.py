"""Form pieces shared by blueprints: one-click buttons, clinic details, searches, a new client,
dates."""

from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, AnyOf, Email, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..clients.records import EMAIL_MAX, NAME_MAX, PHONE_MAX
from ..clinic_time import FIRST_DAY, LAST_DAY
from ..geography import COUNTRIES, timezone_names
from ..money import CURRENCY_MINOR_UNITS, PercentWording, percent_to_basis_points

SLUG_HELP = "Lowercase letters, digits and hyphens; part of your clinic's web address."


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (rendered by the checkboxes() macro)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class OneClickForm(FlaskForm):
    """A one-click POST button: its CSRF token, and `next`, the page to go back to, if it says."""

    next = HiddenField()


class SubmissionForm(FlaskForm):
    """A form that records something (a sale, an enrolment, a refund...): it carries a one-time
    key, new each time its page renders, so that a double click or a resent request records once
    (blueprints/submission_views.py claims it)."""

    submission_key = HiddenField(default=lambda: str(uuid.uuid4()))

    @property
    def posted_key(self) -> uuid.UUID | None:
        """The key the browser sent back, or None when it sent none or a malformed one."""
        raw = self.submission_key.raw_data
        try:
            return uuid.UUID(raw[0]) if raw else None
        except ValueError:
            return None


class SwitchForm(OneClickForm):
    """A one-click switch (deactivate, reactivate): `active` posts "1" for on, "0" for off."""

    active = HiddenField(validators=[AnyOf(["0", "1"])])

    @property
    def on(self) -> bool:
        return self.active.data == "1"


def strip(value):
    return value.strip() if isinstance(value, str) else value


def within_calendar(form, field) -> None:
    """Refuse dates a person cannot have meant, before they reach a query or a calendar."""
    if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError("Choose a date between 2000 and 2099.")


class SearchForm(FlaskForm):
    """Read from the query string (GET): nothing is changed, so no CSRF token."""

    class Meta:
        csrf = False


class ClientSearchForm(SearchForm):
    q = StringField("Name, email or phone", validators=[Optional(), Length(max=100)])


class NewClientForm(FlaskForm):
    """A new client's name and contact, typed inline where a client is chosen."""

    first_name = StringField(
        "First name", validators=[Optional(), Length(max=NAME_MAX)], filters=[strip]
    )
    last_name = StringField(
        "Last name", validators=[Optional(), Length(max=NAME_MAX)], filters=[strip]
    )
    email = StringField("Email", validators=[Optional(), Length(max=EMAIL_MAX)], filters=[strip])
    phone = StringField("Phone", validators=[Optional(), Length(max=PHONE_MAX)], filters=[strip])


class PercentField(StringField):
    """A percentage with up to 2 decimals, read as integer basis points (`basis_points`)."""

    basis_points: int = 0

    def __init__(
        self,
        label=None,
        validators=None,
        *,
        wording: PercentWording,
        blank: int | None = None,
        **kwargs,
    ):
        super().__init__(label, validators, **kwargs)
        self.wording = wording
        self.blank = blank

    def pre_validate(self, form) -> None:
        try:
            self.basis_points = percent_to_basis_points(self.data, self.wording, self.blank)
        except ValueError as error:
            raise ValidationError(str(error)) from error


class ClinicDetailsForm(FlaskForm):
    """Name, web address, timezone, currency and country: what every clinic must have."""

    clinic_name = StringField("Clinic name", validators=[Length(min=2, max=120)], filters=[strip])
    slug = StringField(
        "Web address",
        validators=[
            Length(min=3, max=63),
            Regexp(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$", message=SLUG_HELP),
        ],
        filters=[strip, lambda v: v.lower() if isinstance(v, str) else v],
        description=SLUG_HELP,
    )
    timezone = SelectField("Timezone", default="Europe/London")
    currency = SelectField("Currency", choices=sorted(CURRENCY_MINOR_UNITS), default="GBP")
    country = SelectField(
        "Country",
        choices=[
            SelectChoice(code, name)
            for code, name in sorted(COUNTRIES.items(), key=lambda item: item[1])
        ],
        default="GB",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = list(timezone_names())

    def clinic_values(self) -> dict:
        return {
            "name": self.clinic_name.data,
            "slug": self.slug.data,
            "timezone": self.timezone.data,
            "currency": self.currency.data,
            "country": self.country.data,
        }


class ClinicContactForm(FlaskForm):
    email = EmailField("Contact email", validators=[Optional(), Email(), Length(max=254)])
    phone = StringField("Phone", validators=[Optional(), Length(max=40)], filters=[strip])
    address = TextAreaField("Address", validators=[Optional(), Length(max=500)], filters=[strip])
    website = StringField(
        "Website", validators=[Optional(), URL(), Length(max=200)], filters=[strip]
    )
    tax_registration = StringField(
        "Tax registration number",
        validators=[Optional(), Length(max=40)],
        filters=[strip],
        description="VAT, GST or sales-tax number, printed on invoices. Leave empty if none.",
    )
