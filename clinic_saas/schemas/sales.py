"""A client's purchases (sales.purchases.Purchases), per audience."""

from __future__ import annotations

from marshmallow import fields

from .base import ClinicSchema, Day, Instant, Money, Nested

ALL = ("desk", "clinical", "export", "api")
# The client's record keeps the format it was first published in; the desk and the API also
# see the state of each purchase as of the day it was read.
PACKAGE_RECORD = (
    "id",
    "name",
    "sold_on",
    "expires_on",
    "sessions_total",
    "sessions_used",
    "price",
    "tax_rate_bp",
    "refunded_at",
    "refund",
)
PACKAGE_STATE = ("sessions_left", "status", "shareable")
MEMBERSHIP_RECORD = (
    "id",
    "name",
    "status",
    "started_on",
    "paused_on",
    "cancelled_on",
    "price_per_month",
    "tax_rate_bp",
    "sessions_per_month",
    "periods",
    "sessions_used",
)
MEMBERSHIP_STATE = ("status_label", "current_period", "next_start", "period_history")


def _sale_audiences(
    record: tuple[str, ...], state: tuple[str, ...], clinical: tuple[str, ...]
) -> dict:
    """Desk and API see a sale with its state; export keeps the record; clinicians a summary."""
    return {"desk": record + state, "clinical": clinical, "export": record, "api": record + state}


class PackagePurchaseSchema(ClinicSchema):
    """A package sale with sessions used and left."""

    audiences = _sale_audiences(
        PACKAGE_RECORD, PACKAGE_STATE, ("id", "name", "expires_on", "sessions_left", "status")
    )

    id = fields.UUID()
    name = fields.String()
    sold_on = Day()
    expires_on = Day()
    sessions_total = fields.Integer()
    sessions_used = fields.Integer()
    price = Money(attribute="price_minor")
    tax_rate_bp = fields.Integer()
    refunded_at = Instant()
    refund = Money(attribute="refund_minor")
    sessions_left = fields.Integer()
    status = fields.String()
    shareable = fields.Boolean()


class PeriodSchema(ClinicSchema):
    """One monthly period of a membership; ends_on is the first day after it."""

    audiences = dict.fromkeys(
        ALL, ("id", "starts_on", "ends_on", "sessions_allowed", "sessions_used", "sessions_left")
    )

    id = fields.UUID()
    starts_on = Day()
    ends_on = Day()
    sessions_allowed = fields.Integer()
    sessions_used = fields.Integer()
    sessions_left = fields.Integer()


class MembershipPurchaseSchema(ClinicSchema):
    """A membership with its monthly allowance and the sessions used; 'periods' counts them."""

    audiences = _sale_audiences(
        MEMBERSHIP_RECORD,
        MEMBERSHIP_STATE,
        ("id", "name", "status", "status_label", "current_period"),
    )

    id = fields.UUID()
    name = fields.String()
    status = fields.Function(lambda m: m.status.value)
    status_label = fields.Function(lambda m: m.status.label)
    started_on = Day()
    paused_on = Day()
    cancelled_on = Day()
    price_per_month = Money(attribute="price_minor")
    tax_rate_bp = fields.Integer()
    sessions_per_month = fields.Integer(attribute="sessions_per_period")
    periods = fields.Function(lambda m: len(m.periods))
    sessions_used = fields.Integer()
    current_period = Nested(PeriodSchema, attribute="current", allow_none=True)
    next_start = Day()
    period_history = Nested(PeriodSchema, attribute="periods", many=True)


class PurchasesSchema(ClinicSchema):
    """Everything the client bought, oldest first."""

    audiences = dict.fromkeys(ALL, ("packages", "memberships"))

    packages = Nested(PackagePurchaseSchema, many=True)
    memberships = Nested(MembershipPurchaseSchema, many=True)
