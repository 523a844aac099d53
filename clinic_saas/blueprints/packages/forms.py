"""Forms of the packages and maintenance plans on the menu."""

from __future__ import annotations

from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ...money import parse_amount
from ..forms import BaseForm, CheckboxesField, SubmissionForm, strip


class AmountField(StringField):
    """An amount typed in the clinic's currency ('45', '45.50'), read as integer minor units."""

    currency: str = "GBP"  # set to the clinic's currency before validating
    minor: int | None = None

    def pre_validate(self, form) -> None:
        try:
            self.minor = parse_amount(self.data or "", self.currency)
        except ValueError as error:
            self.minor = None
            raise ValidationError(str(error)) from error


def _whole_number(label: str, message: str, description: str) -> IntegerField:
    return IntegerField(label, validators=[InputRequired(message=message)], description=description)


class OfferForm(BaseForm):
    """What packages and plans share: a name, a price, the services covered, a tax rate."""

    name = StringField(
        "Name",
        validators=[DataRequired(message="Give it a name."), Length(max=120)],
        filters=[strip],
    )
    description = TextAreaField(
        "Description", validators=[Optional(), Length(max=2000)], filters=[strip]
    )
    services = CheckboxesField("Sessions can be used for", choices=[])
    tax_rate = SelectField("Tax rate", choices=[], default="")


class PackageForm(OfferForm):
    sessions_count = _whole_number(
        "Number of sessions", "Give the number of sessions.", "Between 1 and 100."
    )
    price = AmountField(
        "Price",
        validators=[InputRequired(message="Give the price.")],
        description="What the client pays for all the sessions, tax included if your prices are.",
    )
    validity_months = _whole_number(
        "Valid for (months)",
        "Give how many months it can be used.",
        "From the day it is sold: 6 means it can be used for six months.",
    )
    shareable = BooleanField("Shareable with the buyer's family")
    bookable_online = BooleanField(
        "Can be bought online",
        default=True,
        description="Not live yet: online payments are coming. Until then packages are sold at "
        "the desk only.",
    )
    active = BooleanField("Active (on sale)", default=True)


class PlanForm(OfferForm):
    price = AmountField(
        "Monthly price",
        validators=[InputRequired(message="Give the monthly price.")],
        description="Charged each monthly period.",
    )
    sessions_per_period = _whole_number(
        "Sessions a month",
        "Give the number of sessions a month.",
        "Unused sessions do not carry over to the next month.",
    )
    active = BooleanField("Active (open to new members)", default=True)


class NewPackageForm(PackageForm, SubmissionForm):
    """A package added to the menu, once however often the form is sent."""


class NewPlanForm(PlanForm, SubmissionForm):
    """A plan added to the menu, once however often the form is sent."""
