"""Forms of the organisation pages: the record, and the sessions billed to a club."""

from __future__ import annotations

from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ...billing.organisations import CONTACT_MAX, NAME_MAX, NOTES_MAX, TAX_REGISTRATION_MAX
from ...clients.records import ADDRESS_MAX, EMAIL_MAX, PHONE_MAX
from ..forms import BaseForm, CheckboxesField, SearchForm, SubmissionForm, strip, within_calendar


class OrganisationForm(BaseForm):
    name = StringField(
        "Name",
        validators=[InputRequired("Give the organisation's name."), Length(max=NAME_MAX)],
        filters=[strip],
    )
    contact_name = StringField(
        "Contact", validators=[Optional(), Length(max=CONTACT_MAX)], filters=[strip]
    )
    billing_email = StringField(
        "Billing email",
        validators=[Optional(), Length(max=EMAIL_MAX)],
        filters=[strip],
        description="Where its invoices and statements go.",
    )
    phone = StringField("Phone", validators=[Optional(), Length(max=PHONE_MAX)], filters=[strip])
    address = TextAreaField("Address", validators=[Optional(), Length(max=ADDRESS_MAX)])
    tax_registration = StringField(
        "Tax registration number",
        validators=[Optional(), Length(max=TAX_REGISTRATION_MAX)],
        filters=[strip],
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=NOTES_MAX)])

    FIELDS = (
        "name",
        "contact_name",
        "billing_email",
        "phone",
        "address",
        "tax_registration",
        "notes",
    )

    def values(self) -> dict:
        return {name: self[name].data for name in self.FIELDS}


class SessionRangeForm(SearchForm):
    """Which completed sessions to list (GET): a date range and, optionally, a player's name."""

    start = DateField("From", validators=[InputRequired("Give the first day."), within_calendar])
    end = DateField("To", validators=[InputRequired("Give the last day."), within_calendar])
    q = StringField("Player", validators=[Optional(), Length(max=100)], filters=[strip])


class BillSessionsForm(SubmissionForm):
    sessions = CheckboxesField("Sessions", choices=[], validate_choice=False)
