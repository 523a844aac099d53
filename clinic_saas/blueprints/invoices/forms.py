"""Forms of the invoice pages: the list's filters, a new invoice, lines, payer, credit, void."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ...billing.invoices import DESCRIPTION_MAX, QUANTITY_MAX, REASON_MAX
from ...models import InvoiceStatus, PayerKind
from ..forms import BaseForm, SearchForm, SubmissionForm, strip, within_calendar

STATUS_CHOICES = [SelectChoice("", "Any status")] + [
    SelectChoice(s.value, s.label) for s in InvoiceStatus
]
PAYER_KIND_CHOICES = [SelectChoice("", "Any payer")] + [
    SelectChoice(k.value, k.label) for k in PayerKind
]


class InvoiceFilterForm(SearchForm):
    status = SelectField("Status", choices=STATUS_CHOICES, validators=[Optional()])
    issued_from = DateField("Issued from", validators=[Optional(), within_calendar])
    issued_to = DateField("Issued to", validators=[Optional(), within_calendar])
    q = StringField("Client", validators=[Optional(), Length(max=100)], filters=[strip])
    payer = SelectField("Payer", choices=PAYER_KIND_CHOICES, validators=[Optional()])
    after = HiddenField(validators=[Optional(), Length(max=80)])


class PayerForm(BaseForm):
    """A payer chosen from a list built per page: "client:<id>" or "organisation:<id>"."""

    payer = SelectField("Payer", choices=[], validators=[InputRequired("Choose who pays.")])


class NewInvoiceForm(SubmissionForm):
    client = HiddenField(validators=[Optional(), Length(max=40)])
    payer = SelectField("Payer", choices=[], validators=[InputRequired("Choose who pays.")])


class LineForm(SubmissionForm):
    description = StringField(
        "Description",
        validators=[InputRequired("Describe what the line is for."), Length(max=DESCRIPTION_MAX)],
        filters=[strip],
    )
    quantity = IntegerField(
        "Quantity",
        default=1,
        validators=[InputRequired("Enter a whole number."), NumberRange(1, QUANTITY_MAX)],
    )
    unit_price = StringField(
        "Unit price",
        validators=[InputRequired("Enter the price."), Length(max=20)],
        filters=[strip],
    )
    tax_rate = SelectField("Tax", choices=[], validators=[Optional()])


class CreditForm(SubmissionForm):
    amount = StringField(
        "Amount", validators=[InputRequired("Enter the amount."), Length(max=20)], filters=[strip]
    )
    reason = StringField(
        "Reason",
        validators=[InputRequired("Say what the credit corrects."), Length(max=REASON_MAX)],
        filters=[strip],
    )


class VoidForm(BaseForm):
    reason = StringField(
        "Reason",
        validators=[InputRequired("Say why the invoice is voided."), Length(max=REASON_MAX)],
        filters=[strip],
    )


DESK_METHODS = [
    ("cash", "Cash"),
    ("terminal", "Card terminal"),
    ("bank_transfer", "Bank transfer"),
    ("other", "Other"),
]


class DeskPaymentForm(SubmissionForm):
    """Money taken at the desk without Stripe: cash, an outside card terminal, a transfer."""

    amount = StringField(
        "Amount", validators=[InputRequired("Enter the amount."), Length(max=20)], filters=[strip]
    )
    method = SelectField("Method", choices=DESK_METHODS, default="cash")
    reference = StringField("Reference", validators=[Optional(), Length(max=120)], filters=[strip])
    site = SelectField("Site", choices=[], validators=[Optional()])
    email_receipt = BooleanField("Email a receipt to the payer", default=True)
