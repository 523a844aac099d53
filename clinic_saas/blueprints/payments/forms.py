"""The till report's choices, read from the query string."""

from __future__ import annotations

from wtforms import DateField, SelectField

from ..forms import SearchForm, within_calendar


class TillForm(SearchForm):
    day = DateField("Day", validators=[within_calendar])
    site = SelectField("Site", choices=[], default="")
    staff = SelectField("Taken by", choices=[], default="")
