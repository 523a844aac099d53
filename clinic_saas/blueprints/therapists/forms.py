from __future__ import annotations

import re
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ...models import CALENDAR_COLOURS, Technique
from ..forms import CheckboxesField, strip

_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")

RHP_HELP = (
    "Registered with a statutory or recognised professional body (e.g. HCPC, CNHC). In the UK, "
    "massage given by a registered health professional can be exempt from VAT, so this can change "
    "the tax on their services."
)


def parse_percent(text: str | None) -> int:
    """A percentage typed by a person ("12.5", "12,5 %") as basis points (1250); empty means 0."""
    cleaned = (text or "").strip().removesuffix("%").strip().replace(",", ".")
    if not cleaned:
        return 0
    if not _NUMBER.match(cleaned):
        raise ValueError("Enter the commission as a percentage, e.g. 12.5.")
    value = Decimal(cleaned)
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("Use at most 2 decimals, e.g. 12.5 or 12.75.")
    if not Decimal(0) <= value <= Decimal(100):
        raise ValueError("Enter a percentage from 0 to 100.")
    return int(value * 100)


class PercentField(StringField):
    """A percentage with up to 2 decimals, read as integer basis points (0..10000)."""

    basis_points: int = 0

    def pre_validate(self, form) -> None:
        try:
            self.basis_points = parse_percent(self.data)
        except ValueError as error:
            raise ValidationError(str(error)) from error


def _labelled(enum_type) -> list[SelectChoice]:
    return [SelectChoice(member.value, member.label) for member in enum_type]


class TherapistForm(FlaskForm):
    display_name = StringField(
        "Name shown to clients",
        validators=[DataRequired(message="Give the name clients will book."), Length(max=80)],
        filters=[strip],
    )
    login = SelectField(
        "Linked login",
        choices=[],
        description="The staff login of this therapist, so they see their own appointments. "
        "Optional: a visiting therapist may have none.",
    )
    bio = TextAreaField(
        "Bio",
        validators=[Optional(), Length(max=2000)],
        filters=[strip],
        description="A few lines for clients choosing a therapist.",
    )
    qualifications = TextAreaField(
        "Qualifications", validators=[Optional(), Length(max=2000)], filters=[strip]
    )
    registered_health_professional = BooleanField("Registered health professional")
    techniques = CheckboxesField("Techniques offered", choices=_labelled(Technique))
    categories = CheckboxesField("Kinds of work", choices=[])  # the clinic's own categories
    calendar_colour = RadioField(
        "Calendar colour",
        choices=[SelectChoice(colour, colour.capitalize()) for colour in CALENDAR_COLOURS],
        default=CALENDAR_COLOURS[0],
    )
    commission_percent = PercentField(
        "Commission (%)",
        default="0",
        description="Share of the price of their sessions, up to 2 decimals, e.g. 40 or 37.5.",
    )
    services = CheckboxesField("Services offered", choices=[])
    tier = SelectField(
        "Price tier",
        choices=[],
        default="",
        description="Their sessions are charged at this tier's prices where the menu has them.",
    )
    active = BooleanField("Active: can be rostered and booked", default=True)

    def with_extra_choices(self, field_name: str, values: list[str]) -> None:
        """Keep names a clinic added itself, which the standard list does not know."""
        field = getattr(self, field_name)
        known = {choice.value for choice in field.choices}
        field.choices = list(field.choices) + [
            SelectChoice(value, value.replace("_", " ").capitalize())
            for value in values
            if value not in known
        ]
