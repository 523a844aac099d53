"""Forms of the sales desk: finding or adding a client, selling, enrolling, refunding."""

from __future__ import annotations

from wtforms import DateField, HiddenField, SelectField
from wtforms.validators import DataRequired, InputRequired

from ..forms import BaseForm, SearchForm, within_calendar


class ChoosePackageForm(SearchForm):
    """Step 1 of a sale (GET): which package; nothing is sold until the confirmation is posted."""

    package = SelectField(
        "Package", choices=[], validators=[DataRequired(message="Choose a package.")]
    )


class SellForm(BaseForm):
    """Step 2: the package and the terms the member saw, so a price changed meanwhile is caught."""

    package = HiddenField(validators=[DataRequired()])
    terms = HiddenField(validators=[DataRequired()])


class RefundForm(BaseForm):
    """The refund the member saw, so a session used meanwhile is caught before refunding."""

    quoted = HiddenField(validators=[DataRequired()])


class EnrolForm(BaseForm):
    plan = SelectField("Plan", choices=[], validators=[DataRequired(message="Choose a plan.")])
    start_on = DateField(
        "Starts on",
        validators=[InputRequired(message="Give the first day."), within_calendar],
        description="Today or later. Each monthly period starts on this day of the month.",
    )
