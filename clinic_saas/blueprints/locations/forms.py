from __future__ import annotations

from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import BaseForm, strip, tidy_lines


class LocationForm(BaseForm):
    name = StringField(
        "Site name",
        validators=[DataRequired(message="Give the site a name."), Length(max=80)],
        filters=[strip],
        description="As clients and staff call it, e.g. “Harbour St”.",
    )
    address = TextAreaField(
        "Address", validators=[Optional(), Length(max=500)], filters=[tidy_lines]
    )
    phone = StringField("Phone", validators=[Optional(), Length(max=40)], filters=[strip])
    active = BooleanField("Open for bookings", default=True)


class RoomForm(BaseForm):
    name = StringField(
        "Room name",
        validators=[DataRequired(message="Give the room a name."), Length(max=60)],
        filters=[strip],
    )
