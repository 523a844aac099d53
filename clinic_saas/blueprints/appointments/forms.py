"""Forms of the appointment book: finding a free time, booking it, cancelling, moving."""

from __future__ import annotations

from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import BaseForm, NewClientForm, SearchForm, strip, within_calendar

NEW_CLIENT = "new"
# A new client chosen after the page offered a record already on file that may be them.
NEW_ANYWAY = "new-anyway"


class FindSlotForm(SearchForm):
    service = SelectField("Service", validators=[DataRequired(message="Choose a service.")])
    date = DateField(
        "Date",
        validators=[DataRequired(message="Choose a date."), within_calendar],
    )
    therapist = SelectField("Therapist", default="")
    location = SelectField("Site", default="")


class RescheduleFindForm(SearchForm):
    date = DateField(
        "Date",
        validators=[DataRequired(message="Choose a date."), within_calendar],
    )
    therapist = SelectField("Therapist", default="")


class BookForm(NewClientForm):
    service = HiddenField(validators=[DataRequired(message="Choose a service.")])
    slot = HiddenField(validators=[DataRequired(message="Choose a time.")])
    date = HiddenField()
    client = HiddenField(default=NEW_CLIENT)
    room = SelectField("Room", default="")
    note = TextAreaField(
        "Note for the desk",
        validators=[Optional(), Length(max=500)],
        filters=[strip],
        description="Parking, access, who is paying. Never clinical information.",
    )


class CancelForm(BaseForm):
    reason = StringField(
        "Reason",
        validators=[Optional(), Length(max=200)],
        filters=[strip],
        description="Optional, e.g. 'Client unwell' or 'Clinic closed'.",
    )
    next = HiddenField()


class RescheduleForm(BaseForm):
    slot = HiddenField(validators=[DataRequired(message="Choose a time.")])
