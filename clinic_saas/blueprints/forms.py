"""Form pieces shared by blueprints: the base of every form, one-click buttons, clinic details,
searches, a new client, dates."""

from __future__ import annotations

import unicodedata
import uuid

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Form,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    URL,
    AnyOf,
    Email,
    Length,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from ..clients.records import EMAIL_MAX, NAME_MAX, PHONE_MAX
from ..clinic_time import FIRST_DAY, LAST_DAY
from ..geography import COUNTRIES, timezone_names
from ..money import CURRENCY_MINOR_UNITS, PercentWording, percent_to_basis_points

SLUG_HELP = "Lowercase letters, digits and hyphens; part of your clinic's web address."
ONE_LINE = "Keep this to one line: no line breaks, tabs or other control characters."
# Control characters (line breaks, tabs, escapes) and the Unicode line and paragraph separators.
_NOT_ONE_LINE = frozenset({"Cc", "Zl", "Zp"})


def is_one_line(text: str) -> bool:
    return not any(unicodedata.category(ch) in _NOT_ONE_LINE for ch in text)


def one_line(form, field) -> None:
    """Refuse a line break or another control character in a one-line field: a name, once saved,
    ends up in page titles and email subjects, where a line break has no place."""
    if isinstance(field.data, str) and not is_one_line(field.data):
        raise StopValidation(ONE_LINE)


def _is_one_line_field(field) -> bool:
    return isinstance(field, StringField) and not isinstance(field, TextAreaField | PasswordField)


# WTForms' own messages for Length, NumberRange and DataRequired/InputRequired, said our way.
# A validator given its own message says that instead.
PLAIN_MESSAGES = {
    "This field is required.": "Fill this in.",
    "Field must be at least %(min)d character long.": "Use at least %(min)d character.",
    "Field must be at least %(min)d characters long.": "Use at least %(min)d characters.",
    "Field cannot be longer than %(max)d character.": "Use at most %(max)d character.",
    "Field cannot be longer than %(max)d characters.": "Use at most %(max)d characters.",
    "Field must be exactly %(max)d character long.": "Use exactly %(max)d character.",
    "Field must be exactly %(max)d characters long.": "Use exactly %(max)d characters.",
    "Field must be between %(min)d and %(max)d characters long.": (
        "Use %(min)d to %(max)d characters."
    ),
    "Number must be at least %(min)s.": "Enter a number of at least %(min)s.",
    "Number must be at most %(max)s.": "Enter a number of at most %(max)s.",
    "Number must be between %(min)s and %(max)s.": "Enter a number from %(min)s to %(max)s.",
}


class _PlainWording:
    """The translations object WTForms asks for its messages: ours first, then what Flask-WTF
    would have given (or the message as WTForms wrote it)."""

    def __init__(self, fallback) -> None:
        self.fallback = fallback

    def gettext(self, string: str) -> str:
        if string in PLAIN_MESSAGES:
            return PLAIN_MESSAGES[string]
        return self.fallback.gettext(string) if self.fallback is not None else string

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        chosen = singular if n == 1 else plural
        if chosen in PLAIN_MESSAGES:
            return PLAIN_MESSAGES[chosen]
        return self.fallback.ngettext(singular, plural, n) if self.fallback is not None else chosen


class _HouseMeta:
    """What every form of ours does: one-line text fields (StringField and its kinds, not text
    areas or passwords) refuse control characters before their own validators run, and
    WTForms' default messages are said in plain words."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if _is_one_line_field(field):
            field.validators = [one_line, *field.validators]  # a new list: never the shared one
        return field

    def get_translations(self, form):
        return _PlainWording(super().get_translations(form))


class BaseForm(FlaskForm):
    """The base of every page form here (CSRF from Flask-WTF), with the house's meta."""

    class Meta(_HouseMeta):
        pass


class RowForm(Form):
    """The base of every form repeated inside another (FormField, FieldList rows): as BaseForm."""

    class Meta(_HouseMeta):
        pass


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (rendered by the checkboxes() macro)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class OneClickForm(BaseForm):
    """A one-click POST button: its CSRF token, and `next`, the page to go back to, if it says."""

    next = HiddenField()


class SubmissionForm(BaseForm):
    """A form that records something (a sale, an enrolment, a refund...): it carries a one-time
    key, new each time its page renders, so that a double click or a resent request records once
    (blueprints/submission_views.py claims it)."""

    submission_key = HiddenField(default=lambda: str(uuid.uuid4()))

    @property
    def posted_key(self) -> uuid.UUID | None:
        """The key the browser sent back, or None when it sent none or a malformed one."""
        raw = self.submission_key.raw_data
        try:
            return uuid.UUID(raw[0]) if raw else None
        except ValueError:
            return None


class SwitchForm(OneClickForm):
    """A one-click switch (deactivate, reactivate): `active` posts "1" for on, "0" for off."""

    active = HiddenField(validators=[AnyOf(["0", "1"])])

    @property
    def on(self) -> bool:
        return self.active.data == "1"


def strip(value):
    return value.strip() if isinstance(value, str) else value


def tidy_lines(value):
    """Several lines as people mean them: any line ending (a browser sends CR LF) becomes one
    LF, each line is trimmed with its runs of spaces and stray control characters made one
    space, and empty lines are dropped."""
    if not isinstance(value, str):
        return value
    lines = (_one_spaced(line) for line in value.splitlines())
    return "\n".join(line for line in lines if line)


def _one_spaced(line: str) -> str:
    return " ".join("".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in line).split())


def within_calendar(form, field) -> None:
    """Refuse dates a person cannot have meant, before they reach a query or a calendar."""
    if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError("Choose a date between 2000 and 2099.")


class SearchForm(BaseForm):
    """Read from the query string (GET): nothing is changed, so no CSRF token."""

    class Meta:
        csrf = False


class ClientSearchForm(SearchForm):
    q = StringField("Name, email or phone", validators=[Optional(), Length(max=100)])


class NewClientForm(BaseForm):
    """A new client's name and contact, typed inline where a client is chosen."""

    first_name = StringField(
        "First name", validators=[Optional(), Length(max=NAME_MAX)], filters=[strip]
    )
    last_name = StringField(
        "Last name", validators=[Optional(), Length(max=NAME_MAX)], filters=[strip]
    )
    email = StringField("Email", validators=[Optional(), Length(max=EMAIL_MAX)], filters=[strip])
    phone = StringField("Phone", validators=[Optional(), Length(max=PHONE_MAX)], filters=[strip])


class PercentField(StringField):
    """A percentage with up to 2 decimals, read as integer basis points (`basis_points`)."""

    basis_points: int = 0

    def __init__(
        self,
        label=None,
        validators=None,
        *,
        wording: PercentWording,
        blank: int | None = None,
        **kwargs,
    ):
        super().__init__(label, validators, **kwargs)
        self.wording = wording
        self.blank = blank

    def pre_validate(self, form) -> None:
        try:
            self.basis_points = percent_to_basis_points(self.data, self.wording, self.blank)
        except ValueError as error:
            raise ValidationError(str(error)) from error


class ClinicDetailsForm(BaseForm):
    """Name, web address, timezone, currency and country: what every clinic must have."""

    clinic_name = StringField("Clinic name", validators=[Length(min=2, max=120)], filters=[strip])
    slug = StringField(
        "Web address",
        validators=[
            Length(min=3, max=63),
            Regexp(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$", message=SLUG_HELP),
        ],
        filters=[strip, lambda v: v.lower() if isinstance(v, str) else v],
        description=SLUG_HELP,
    )
    timezone = SelectField("Timezone", default="Europe/London")
    currency = SelectField("Currency", choices=sorted(CURRENCY_MINOR_UNITS), default="GBP")
    country = SelectField(
        "Country",
        choices=[
            SelectChoice(code, name)
            for code, name in sorted(COUNTRIES.items(), key=lambda item: item[1])
        ],
        default="GB",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = list(timezone_names())

    def clinic_values(self) -> dict:
        return {
            "name": self.clinic_name.data,
            "slug": self.slug.data,
            "timezone": self.timezone.data,
            "currency": self.currency.data,
            "country": self.country.data,
        }


class ClinicContactForm(BaseForm):
    email = EmailField("Contact email", validators=[Optional(), Email(), Length(max=254)])
    phone = StringField("Phone", validators=[Optional(), Length(max=40)], filters=[strip])
    address = TextAreaField(
        "Address", validators=[Optional(), Length(max=500)], filters=[tidy_lines]
    )
    website = StringField(
        "Website", validators=[Optional(), URL(), Length(max=200)], filters=[strip]
    )
    tax_registration = StringField(
        "Tax registration number",
        validators=[Optional(), Length(max=40)],
        filters=[strip],
        description="VAT, GST or sales-tax number, printed on invoices. Leave empty if none.",
    )
