from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ...menu.services import BUFFER_MINUTES, DURATION_MINUTES, TAX_RATE_PERCENT
from ...models import TaxTreatment
from ...money import minor_units, parse_amount
from ..forms import BaseForm, CheckboxesField, PercentField, strip


class AmountField(StringField):
    """An amount typed in the clinic's currency, read as integer minor units (`minor`)."""

    currency: str = ""
    minor: int | None = None

    def pre_validate(self, form) -> None:
        if not self.currency:
            raise RuntimeError("AmountField needs the clinic's currency before validation")
        try:
            self.minor = parse_amount(self.data or "", self.currency)
        except ValueError as error:
            raise ValidationError(str(error)) from error

    def for_currency(self, currency: str) -> None:
        self.currency = currency
        digits = minor_units(currency)
        example = "45" if digits == 0 else "45." + "5".ljust(digits, "0")
        self.description = f"In {currency}, e.g. {example}." + (
            f" {currency} has no minor unit: whole amounts only." if digits == 0 else ""
        )


def _minutes(label: str, bounds: tuple[int, int], **kwargs) -> IntegerField:
    low, high = bounds
    return IntegerField(
        label,
        validators=[
            InputRequired(message="Give a number of minutes."),
            NumberRange(low, high, message=f"From {low} to {high} minutes."),
        ],
        **kwargs,
    )


class ServiceForm(BaseForm):
    name = StringField(
        "Name",
        validators=[DataRequired(message="Give the service a name."), Length(max=120)],
        filters=[strip],
    )
    category = SelectField("Category", choices=[])
    description = TextAreaField(
        "Description",
        validators=[Optional(), Length(max=2000)],
        filters=[strip],
        description="A line or two for clients reading the price list.",
    )
    duration_minutes = _minutes("Session (minutes)", DURATION_MINUTES, default=60)
    buffer_minutes = _minutes(
        "Buffer after (minutes)",
        BUFFER_MINUTES,
        default=0,
        description="Room changeover and notes: the therapist is not bookable during it.",
    )
    tax_rate = SelectField("Tax", choices=[])
    bookable_online = BooleanField(
        "Clients can book it online",
        default=True,
        description="Not live yet: online booking is coming. Until then this changes nothing "
        "and every booking is made at the desk.",
    )
    active = BooleanField("Active: on the menu and bookable", default=True)
    therapists = CheckboxesField("Therapists who offer it", choices=[])


class NewServiceForm(ServiceForm):
    """A new service comes with its first standard price, in force from today."""

    price = AmountField("Price")


class PriceForm(BaseForm):
    price = AmountField("New price")
    effective_from = DateField(
        "From", validators=[InputRequired(message="Give the first day of the new price.")]
    )
    tier = SelectField("For", choices=[])


class NameForm(BaseForm):
    """A category's or a price tier's name."""

    name = StringField(
        "Name",
        validators=[DataRequired(message="Give it a name."), Length(max=60)],
        filters=[strip],
    )


class MoveForm(BaseForm):
    direction = HiddenField(validators=[DataRequired()])

    def validate_direction(self, field) -> None:
        if field.data not in ("up", "down"):
            raise ValidationError("Move up or down.")


class TaxRateForm(BaseForm):
    name = StringField(
        "Name",
        validators=[DataRequired(message="Give the rate a name, e.g. VAT 20%."), Length(max=60)],
        filters=[strip],
    )
    treatment = SelectField(
        "Treatment",
        choices=[SelectChoice(t.value, t.label) for t in TaxTreatment],
        default=TaxTreatment.STANDARD.value,
        description="Exempt and zero-rated services carry no tax: their rate is 0%.",
    )
    rate = PercentField(
        "Rate (%)",
        default="20",
        description="Up to 2 decimals, e.g. 20, 13.5 or 8.25.",
        wording=TAX_RATE_PERCENT,
    )

    def validate(self, extra_validators=None) -> bool:
        if self.treatment.data and self.treatment.data != TaxTreatment.STANDARD.value:
            self.rate.data = "0"  # exempt and zero-rated have no rate, whatever was typed
        return super().validate(extra_validators)


class TaxSettingForm(BaseForm):
    prices_include_tax = BooleanField("Menu prices include tax")


class ActiveForm(BaseForm):
    active = BooleanField()


class TierForm(BaseForm):
    name = StringField(
        "Name",
        validators=[DataRequired(message="Give the tier a name."), Length(max=60)],
        filters=[strip],
    )
    therapists = CheckboxesField(
        "Therapists in this tier",
        choices=[],
        description="Their sessions cost the tier's price where a service has one, and the "
        "standard price otherwise. A therapist is in one tier at most.",
    )
