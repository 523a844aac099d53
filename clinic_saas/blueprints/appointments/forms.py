"""Forms of the appointment book: finding a free time, booking it, cancelling, moving."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import FIRST_DAY, LAST_DAY, NewClientForm, SearchForm, strip, within_calendar

NEW_CLIENT = "new"


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


class CancelForm(FlaskForm):
    reason = StringField(
        "Reason",
        validators=[Optional(), Length(max=200)],
        filters=[strip],
        description="Optional, e.g. 'Client unwell' or 'Clinic closed'.",
    )
    next = HiddenField()


class RescheduleForm(FlaskForm):
    slot = HiddenField(validators=[DataRequired(message="Choose a time.")])


@dataclass(frozen=True)
class SlotChoice:
    """A start time with its therapist and site, as one form value."""

    therapist_id: uuid.UUID
    location_id: uuid.UUID
    start: datetime

    @property
    def value(self) -> str:
        return (
            f"{self.start.astimezone(UTC):%Y-%m-%dT%H:%MZ}_{self.therapist_id}_{self.location_id}"
        )

    @classmethod
    def of(cls, slot) -> SlotChoice:
        return cls(slot.therapist_id, slot.location_id, slot.start)

    @classmethod
    def parse(cls, value: str | None) -> SlotChoice | None:
        """The choice a form value names, or None when it is not one of ours."""
        try:
            start, therapist, location = (value or "").split("_")
            choice = cls(
                uuid.UUID(therapist),
                uuid.UUID(location),
                datetime.strptime(start, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC),
            )
        except ValueError:
            return None
        return choice if FIRST_DAY.year <= choice.start.year <= LAST_DAY.year else None
