from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    SelectChoice,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from ...models import TimeOffKind
from ..forms import BaseForm, CheckboxesField, RowForm, strip, within_calendar

WEEKDAY_CHOICES = [
    SelectChoice(str(n), name)
    for n, name in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
]
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
BLOCK_ROWS = 3


def _time(label: str, *validators) -> TimeField:
    return TimeField(label, validators=list(validators), format=TIME_FORMATS)


def _therapist() -> SelectField:
    return SelectField(
        "Therapist", choices=[], validators=[DataRequired(message="Choose a therapist.")]
    )


def _blank(field) -> bool:
    return not field.raw_data or not str(field.raw_data[0]).strip()


class ShiftForm(BaseForm):
    therapist = _therapist()
    weekdays = CheckboxesField("Days", choices=WEEKDAY_CHOICES, coerce=int)
    location = SelectField("Site", choices=[], validators=[DataRequired(message="Choose a site.")])
    start = _time("Starts", InputRequired(message="Give the start time."))
    end = _time("Ends", InputRequired(message="Give the end time."))
    valid_from = DateField(
        "From", validators=[InputRequired(message="Give the first day."), within_calendar]
    )
    valid_until = DateField(
        "Until",
        validators=[Optional(), within_calendar],
        description="Optional: the last day of this pattern.",
    )

    def validate_weekdays(self, field) -> None:
        if not field.data:
            raise ValidationError("Tick at least one day.")

    def validate_end(self, field) -> None:
        if self.start.data and field.data and field.data <= self.start.data:
            raise ValidationError("The shift must end after it starts.")

    def validate_valid_until(self, field) -> None:
        if self.valid_from.data and field.data and field.data < self.valid_from.data:
            raise ValidationError("The last day comes before the first day.")


class BlockForm(RowForm):
    """One block of hours at a site; a row left empty is ignored."""

    # Checked in validate(): a row left empty sends no site at all.
    location = SelectField("Site", choices=[], validate_choice=False)
    start = _time("From", Optional())
    end = _time("To", Optional())

    @property
    def is_empty(self) -> bool:
        return _blank(self.start) and _blank(self.end)

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.is_empty:
            return True
        if self.start.data is None:
            self.start.errors.append("Give both times.")
        if self.end.data is None:
            self.end.errors.append("Give both times.")
        if self.start.data and self.end.data and self.end.data <= self.start.data:
            self.end.errors.append("Must end after it starts.")
        sites = {choice.value for choice in self.location.choices if choice.value}
        if self.location.data not in sites:
            self.location.errors.append("Choose a site.")
        return not (self.start.errors or self.end.errors or self.location.errors)


class DayForm(BaseForm):
    therapist = _therapist()
    day = DateField("Day", validators=[InputRequired(message="Give the day."), within_calendar])
    not_working = BooleanField("Not working that day")
    blocks = FieldList(FormField(BlockForm), min_entries=BLOCK_ROWS, max_entries=BLOCK_ROWS)
    note = StringField("Note", validators=[Optional(), Length(max=200)], filters=[strip])

    def filled_blocks(self) -> list[BlockForm]:
        return [entry.form for entry in self.blocks if not entry.form.is_empty]

    def validate_not_working(self, field) -> None:
        if not field.data and not self.filled_blocks():
            raise ValidationError("Give the hours worked that day, or tick Not working that day.")


class TimeUnlessWholeDays:
    """A clock time, required unless the time off is whole days."""

    def __call__(self, form, field) -> None:
        if form.whole_days.data:
            field.errors[:] = []
            raise StopValidation()
        if _blank(field):
            field.errors[:] = []
            raise StopValidation("Give a time, or tick Whole days.")


class TimeOffForm(BaseForm):
    therapist = _therapist()
    kind = SelectField(
        "Kind",
        choices=[SelectChoice(kind.value, kind.label) for kind in TimeOffKind],
        default=TimeOffKind.HOLIDAY.value,
    )
    whole_days = BooleanField("Whole days", default=True)
    first_day = DateField(
        "From", validators=[InputRequired(message="Give the first day."), within_calendar]
    )
    start_time = _time("at", TimeUnlessWholeDays())
    last_day = DateField(
        "To", validators=[InputRequired(message="Give the last day."), within_calendar]
    )
    end_time = _time("at", TimeUnlessWholeDays())
    note = StringField("Note", validators=[Optional(), Length(max=200)], filters=[strip])

    def validate_last_day(self, field) -> None:
        if self.first_day.data and field.data and field.data < self.first_day.data:
            raise ValidationError("The last day comes before the first.")


class EndShiftForm(BaseForm):
    stop_from = DateField(
        "No longer works it from",
        validators=[
            InputRequired(message="Give the first day without this shift."),
            within_calendar,
        ],
    )
