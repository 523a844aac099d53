"""Forms of the client records: search, the record itself, family links, merging."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ...clients.records import (
    ADDRESS_MAX,
    CONTACT_NAME_MAX,
    EDITABLE,
    EMAIL_MAX,
    GP_NAME_MAX,
    GP_PRACTICE_MAX,
    NAME_MAX,
    PHONE_MAX,
    SPORT_MAX,
)
from ...models import ActivityLevel
from ..forms import BaseForm, strip

BAD_DATE = "Enter the date as a calendar date, e.g. 1990-04-21."


def _at_most(limit: int) -> Length:
    return Length(max=limit, message=f"Use at most {limit} characters.")


def _text(label: str, limit: int, **kwargs) -> StringField:
    return StringField(label, validators=[Optional(), _at_most(limit)], filters=[strip], **kwargs)


class ClientForm(BaseForm):
    """Every field of a client's record; the rules themselves live in clients/records.py."""

    first_name = _text("First name", NAME_MAX)
    last_name = _text("Last name", NAME_MAX)
    date_of_birth = DateField(
        "Date of birth", validators=[Optional()], invalid_value_message=BAD_DATE
    )
    email = EmailField("Email", validators=[Optional(), _at_most(EMAIL_MAX)], filters=[strip])
    phone = TelField("Phone", validators=[Optional(), _at_most(PHONE_MAX)], filters=[strip])
    address = TextAreaField(
        "Address", validators=[Optional(), _at_most(ADDRESS_MAX)], filters=[strip]
    )
    emergency_contact_name = _text("Emergency contact", CONTACT_NAME_MAX)
    emergency_contact_phone = TelField(
        "Emergency contact's phone",
        validators=[Optional(), _at_most(PHONE_MAX)],
        filters=[strip],
    )
    gp_name = _text("GP", GP_NAME_MAX, description="The client's doctor, e.g. Dr Priya Shah.")
    gp_practice = _text("GP practice", GP_PRACTICE_MAX)
    sport = _text("Sport", SPORT_MAX, description="e.g. Trail running, rugby, rowing.")
    activity_level = SelectField(
        "Activity level",
        validate_choice=False,  # clients.records refuses an unknown level, with its message
        choices=[SelectChoice("", "Not given")]
        + [SelectChoice(level.value, level.label) for level in ActivityLevel],
        default="",
    )
    marketing_consent = BooleanField(
        "Agrees to receive news and offers by email",
        description="Only with the client's own yes; the date it was given is kept.",
    )

    def record_values(self) -> dict:
        """The fields as clients.update_client and create_client take them."""
        return {name: self[name].data for name in EDITABLE}

    @classmethod
    def of(cls, client) -> ClientForm:
        """The form filled with a record's current values (a GET of the edit page)."""
        values = {name: getattr(client, name) for name in EDITABLE}
        level = values["activity_level"]
        values["activity_level"] = level.value if level is not None else ""
        return cls(formdata=None, data=values)


class NewChildForm(BaseForm):
    """A child added to a guardian's family: reached through the guardian unless given contact."""

    first_name = _text("First name", NAME_MAX)
    last_name = _text("Last name", NAME_MAX)
    date_of_birth = DateField(
        "Date of birth",
        validators=[InputRequired(message="Enter the child's date of birth.")],
        invalid_value_message=BAD_DATE,
    )
    email = EmailField(
        "Email (optional)",
        validators=[Optional(), _at_most(EMAIL_MAX)],
        filters=[strip],
        description="Leave empty to reach the child through this family's guardian.",
    )


class LinkChildForm(BaseForm):
    """An existing client, found by search, put in this client's family."""

    child = HiddenField(validators=[DataRequired(message="Choose the client to add.")])


class UnlinkChildForm(BaseForm):
    child = HiddenField(validators=[DataRequired()])
    back = HiddenField(default="guardian")  # which page to return to: "guardian" or "child"


class MergeForm(BaseForm):
    """The duplicate record the member confirmed, folded into the one whose page this is."""

    duplicate = HiddenField(validators=[DataRequired(message="Choose the duplicate record.")])
