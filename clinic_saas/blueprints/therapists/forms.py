from __future__ import annotations

from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from ...models import CALENDAR_COLOURS, Technique
from ...staff.therapists import COMMISSION_PERCENT
from ..forms import BaseForm, CheckboxesField, PercentField, strip

RHP_HELP = (
    "Registered with a statutory or recognised professional body (e.g. HCPC, CNHC). In the UK, "
    "massage given by a registered health professional can be exempt from VAT, so this can change "
    "the tax on their services."
)


def _labelled(enum_type) -> list[SelectChoice]:
    return [SelectChoice(member.value, member.label) for member in enum_type]


class TherapistForm(BaseForm):
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
        wording=COMMISSION_PERCENT,
        blank=0,
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
