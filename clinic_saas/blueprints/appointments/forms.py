"""Forms of the appointment book: finding a free time, booking it, cancelling, moving."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ...clients.records import EMAIL_MAX, NAME_MAX, PHONE_MAX
from ...scheduling.free_times import FIRST_DAY, LAST_DAY
from ..forms import strip

NEW_CLIENT = "new"


def within_calendar(form, field) -> None:
    if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError("Choose a date between 2000 and 2099.")


class SearchForm(FlaskForm):
    """Read from the query string (GET): nothing is changed, so no CSRF token."""

    class Meta:
        csrf = False


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


class BookForm(FlaskForm):
    service = HiddenField(validators=[DataRequired(message="Choose a service.")])
    slot = HiddenField(validators=[DataRequired(message="Choose a time.")])
    date = HiddenField()
    client = HiddenField(default=NEW_CLIENT)
    first_name = StringField(
        "First name", validators=[Optional(), Length(max=NAME_MAX)], filters=[strip]
    )
    last_name = StringField(
        "Last name", validators=[Optional(), Length(max=NAME_MAX)], filters=[strip]
    )
    email = StringField("Email", validators=[Optional(), Length(max=EMAIL_MAX)], filters=[strip])
    phone = StringField("Phone", validators=[Optional(), Length(max=PHONE_MAX)], filters=[strip])
    room = SelectField("Room", default="")
    note = TextAreaField(
        "Note for the desk",
        validators=[Optional(), Length(max=500)],
        filters=[strip],
        description="Parking, access, who is paying. Never clinical information.",
    )


class CancelForm(FlaskForm):
    reason = StringField(
        "Reason",
        validators=[Optional(), Length(max=200)],
        filters=[strip],
        description="Optional, e.g. 'Client unwell' or 'Clinic closed'.",
    )
    next = HiddenField()


class ActionForm(FlaskForm):
    """A one-click status change; `next` says which page to return to."""

    next = HiddenField()


class RescheduleForm(FlaskForm):
    slot = HiddenField(validators=[DataRequired(message="Choose a time.")])
