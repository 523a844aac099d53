"""The audit log's filters, read from the query string."""

from __future__ import annotations

from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from ...tenancy import parse_id
from ..forms import SearchForm, strip, within_calendar


class AuditFilterForm(SearchForm):
    client = StringField(
        "Client", validators=[Optional(), Length(max=100)], filters=[strip], default=""
    )
    client_id = HiddenField(default="")
    user = SelectField("Staff member", choices=[], default="")
    action = SelectField("Action", choices=[], default="")
    date_from = DateField("From", validators=[Optional(), within_calendar])
    date_to = DateField("To", validators=[Optional(), within_calendar])
    before = HiddenField(default="")

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end of the range is before its start.")

    def validate_client_id(self, field) -> None:
        if field.data and parse_id(field.data) is None:
            raise ValidationError("That client link is broken: choose the client again.")
