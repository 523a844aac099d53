"""The owner's settings of a clinic: its details, contact, tax registration and record keeping."""

from __future__ import annotations

from ..extensions import db
from ..models import Clinic


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
) -> None:
    """Save the settings; a blank contact detail is stored as none, so pages leave it out."""
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
