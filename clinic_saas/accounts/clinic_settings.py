"""The owner's settings of a clinic: its details, contact, tax registration, record keeping and
its booking and cancellation policy."""

from __future__ import annotations

import re
import unicodedata

from ..extensions import db
from ..models import Clinic
from ..money import PercentWording, parse_amount, percent_to_basis_points
from ..refusals import Refusal

FEE_KINDS = {"none": "No fee", "amount": "A fixed amount", "percent": "A share of the price (%)"}
MAX_POLICY_HOURS = 336  # two weeks
LEGAL_NAME_MAX = 200
PREFIX_MAX = 12
TERMS_MAX_DAYS = 365

_FEE_PERCENT = PercentWording(
    unreadable="Enter a percentage, like 50 or 12.5.",
    too_precise="Use at most 2 decimal places.",
    out_of_range="Use a percentage from 0 to 100.",
    negative="A fee cannot be negative.",
)


def read_fee(
    kind: str, text: str | None, currency: str, field: str
) -> tuple[int | None, int | None]:
    """A fee as typed, as (minor units, basis points): one of them, or neither for no fee."""
    if kind == "none":
        return None, None
    if kind not in FEE_KINDS:
        raise Refusal("Choose no fee, an amount or a percentage.", field)
    if not (text or "").strip():
        raise Refusal("Enter the fee, or choose no fee.", field)
    try:
        if kind == "amount":
            return parse_amount(text or "", currency), None
        return None, percent_to_basis_points(text, _FEE_PERCENT)
    except ValueError as error:
        raise Refusal(str(error), field) from error


def _hours(value: int | None, field: str) -> int:
    if value is None or not 0 <= value <= MAX_POLICY_HOURS:
        raise Refusal(f"Use a number of hours from 0 to {MAX_POLICY_HOURS} (two weeks).", field)
    return value


def update_policy(
    clinic: Clinic,
    *,
    booking_notice_hours: int | None,
    late_cancellation_hours: int | None,
    no_show_fee_kind: str,
    no_show_fee: str | None,
    late_cancellation_fee_kind: str,
    late_cancellation_fee: str | None,
    currency: str | None = None,
) -> None:
    """Check the whole policy, then store it; a Refusal names every field that is wrong."""
    currency = currency or clinic.currency
    readers = {
        "booking_notice_hours": lambda: _hours(booking_notice_hours, "booking_notice_hours"),
        "late_cancellation_hours": lambda: _hours(
            late_cancellation_hours, "late_cancellation_hours"
        ),
        "no_show_fee": lambda: read_fee(no_show_fee_kind, no_show_fee, currency, "no_show_fee"),
        "late_cancellation_fee": lambda: read_fee(
            late_cancellation_fee_kind, late_cancellation_fee, currency, "late_cancellation_fee"
        ),
    }
    values, problems = {}, {}
    for name, read in readers.items():
        try:
            values[name] = read()
        except Refusal as refusal:
            problems[refusal.field or name] = str(refusal)
    if problems:
        raise Refusal(next(iter(problems.values())), fields=problems)
    clinic.booking_notice_hours = values["booking_notice_hours"]
    clinic.late_cancellation_hours = values["late_cancellation_hours"]
    clinic.no_show_fee_minor, clinic.no_show_fee_bp = values["no_show_fee"]
    clinic.late_cancellation_fee_minor, clinic.late_cancellation_fee_bp = values[
        "late_cancellation_fee"
    ]


_PREFIX = re.compile(r"[A-Z0-9]{1,12}")


def update_invoicing(
    clinic: Clinic,
    *,
    legal_name: str | None,
    invoice_prefix: str | None,
    payment_terms_days: int | None,
) -> None:
    """The name invoices are issued in, their number prefix and the days given to pay them."""
    problems = {}
    legal = " ".join((legal_name or "").split())
    if any(unicodedata.category(ch) in {"Cc", "Zl", "Zp"} for ch in legal_name or ""):
        problems["legal_name"] = "Keep the legal name to one line, without control characters."
    elif len(legal) > LEGAL_NAME_MAX:
        problems["legal_name"] = f"Use at most {LEGAL_NAME_MAX} characters."
    prefix = (invoice_prefix or "").strip().upper()
    if not _PREFIX.fullmatch(prefix):
        problems["invoice_prefix"] = (
            f"Use 1 to {PREFIX_MAX} letters or digits (A-Z, 0-9), e.g. NS: "
            "invoice numbers read NS-2026-000001."
        )
    if payment_terms_days is None or not 0 <= payment_terms_days <= TERMS_MAX_DAYS:
        problems["payment_terms_days"] = f"Use a number of days from 0 to {TERMS_MAX_DAYS}."
    if problems:
        raise Refusal(next(iter(problems.values())), fields=problems)
    clinic.legal_name = legal or None
    clinic.invoice_prefix = prefix
    clinic.payment_terms_days = payment_terms_days


def update_settings(
    clinic: Clinic,
    *,
    name: str,
    timezone: str,
    currency: str,
    country: str,
    email: str | None,
    phone: str | None,
    address: str | None,
    website: str | None,
    tax_registration: str | None,
    retention_years: int,
    intake_valid_months: int,
    policy: dict | None = None,
    invoicing: dict | None = None,
) -> None:
    """Save the settings; a blank contact detail is stored as none, so pages leave it out.

    `policy` and `invoicing` hold update_policy's and update_invoicing's arguments; they are
    checked first, so a refusal changes nothing.
    """
    if policy is not None:
        update_policy(clinic, currency=currency, **policy)
    if invoicing is not None:
        update_invoicing(clinic, **invoicing)
    clinic.name = name
    clinic.timezone = timezone
    clinic.currency = currency
    clinic.country = country
    clinic.email = email or None
    clinic.phone = phone or None
    clinic.address = address or None
    clinic.website = website or None
    clinic.tax_registration = tax_registration or None
    clinic.retention_years = retention_years
    clinic.intake_valid_months = intake_valid_months
    db.session.flush()
