"""The clubs, teams and event organisers a clinic bills: their records, kept and archived, and
the one invoice that bills many players' sessions at once."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..clients.records import ADDRESS_MAX, ClientError, normalise_email, normalise_phone
from ..extensions import db
from ..menu.pricing import price_for
from ..models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Invoice,
    InvoiceLine,
    Membership,
    Organisation,
)
from ..refusals import Refusal
from . import invoices, prepaid

NAME_MAX = 120
CONTACT_MAX = 120
TAX_REGISTRATION_MAX = 40
NOTES_MAX = 2000
SESSIONS_MAX = invoices.LINES_MAX
RANGE_DAYS_MAX = 366
_NOT_ONE_LINE = frozenset({"Cc", "Zl", "Zp"})


class OrganisationError(Refusal):
    """An organisation that cannot be saved or billed as asked."""


def _one_line(value: str | None, field: str, limit: int, what: str) -> str | None:
    if any(unicodedata.category(ch) in _NOT_ONE_LINE for ch in value or ""):
        raise OrganisationError(f"Keep the {what} to one line, without control characters.", field)
    text = " ".join((value or "").split())
    if len(text) > limit:
        raise OrganisationError(f"Use at most {limit} characters for the {what}.", field)
    return text or None


def _lines(value: str | None, field: str, limit: int, what: str) -> str | None:
    raw = (value or "").replace("\r\n", "\n")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in raw):
        raise OrganisationError(f"The {what} has a control character: type it again.", field)
    lines = [" ".join(line.split()) for line in raw.split("\n")]
    text = "\n".join(line for line in lines if line)
    if len(text) > limit:
        raise OrganisationError(f"Use at most {limit} characters for the {what}.", field)
    return text or None


def _checked(fields: dict) -> dict:
    """Every field checked; a refusal names each field that is wrong."""
    readers = {
        "name": lambda: _one_line(fields.get("name"), "name", NAME_MAX, "name"),
        "contact_name": lambda: _one_line(
            fields.get("contact_name"), "contact_name", CONTACT_MAX, "contact's name"
        ),
        "billing_email": lambda: _email(fields.get("billing_email")),
        "phone": lambda: normalise_phone(fields.get("phone"), "phone"),
        "address": lambda: _lines(fields.get("address"), "address", ADDRESS_MAX, "address"),
        "tax_registration": lambda: _one_line(
            fields.get("tax_registration"),
            "tax_registration",
            TAX_REGISTRATION_MAX,
            "tax registration number",
        ),
        "notes": lambda: _lines(fields.get("notes"), "notes", NOTES_MAX, "notes"),
    }
    values, problems = {}, {}
    for name, read in readers.items():
        try:
            values[name] = read()
        except (OrganisationError, ClientError) as refusal:
            problems[refusal.field or name] = str(refusal)
    if not problems and not values["name"]:
        problems["name"] = "Give the organisation's name."
    if problems:
        raise OrganisationError(next(iter(problems.values())), fields=problems)
    return values


def _email(value: str | None) -> str | None:
    try:
        return normalise_email(value)
    except ClientError as error:
        raise OrganisationError(str(error), "billing_email") from error


def _refuse_taken_name(name: str, keep: Organisation | None) -> None:
    same = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if same is not None and same is not keep:
        raise OrganisationError(f"{name} is already on file.", "name")


def save(organisation: Organisation | None, **fields) -> Organisation:
    """Create (organisation None) or update an organisation from what was typed."""
    values = _checked(fields)
    _refuse_taken_name(values["name"], organisation)
    if organisation is None:
        organisation = Organisation(active=True)
        db.session.add(organisation)
    for name, value in values.items():
        setattr(organisation, name, value)
    db.session.flush()
    return organisation


def set_active(organisation: Organisation, active: bool) -> None:
    """Archive (its invoices stay, it is billed no more) or restore an organisation."""
    organisation.active = active
    db.session.flush()


def listed(include_archived: bool = False) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.name)
    if not include_archived:
        query = query.where(Organisation.active.is_(True))
    return list(db.session.scalars(query))


# Billing a club for its players' sessions --------------------------------------------------------


def _bounds(clinic: Clinic, start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise OrganisationError("The last day comes before the first.", "end")
    if (end - start).days > RANGE_DAYS_MAX:
        raise OrganisationError("Choose at most a year of sessions at once.", "end")
    return (
        datetime.combine(start, time(), clinic.tz),
        datetime.combine(end + timedelta(days=1), time(), clinic.tz),
    )


def unbilled_sessions(
    clinic: Clinic, *, start: date, end: date, client_ids: list[uuid.UUID] | None = None
) -> list[Appointment]:
    """Completed sessions in the range that no live invoice bills yet, oldest first."""
    since, until = _bounds(clinic, start, end)
    billed = select(InvoiceLine.source).where(InvoiceLine.live, InvoiceLine.source.is_not(None))
    query = (
        select(Appointment)
        .options(
            joinedload(Appointment.client),
            joinedload(Appointment.service),
            joinedload(Appointment.therapist),
        )
        .where(
            Appointment.status == AppointmentStatus.COMPLETED,
            Appointment.starts_at >= since,
            Appointment.starts_at < until,
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if client_ids is not None:
        query = query.where(Appointment.client_id.in_(client_ids))
    taken = set(db.session.scalars(billed.where(InvoiceLine.source.like("appointment:%"))))
    found = [a for a in db.session.scalars(query) if f"appointment:{a.id}" not in taken]
    covered = prepaid.prepaid_ids(a.id for a in found)
    return [a for a in found if a.id not in covered]


def invoice_sessions(
    clinic: Clinic,
    organisation: Organisation,
    appointments: list[Appointment],
    *,
    by: Membership | None,
) -> Invoice:
    """One draft to the club with a line per session, each naming its player."""
    if not appointments:
        raise OrganisationError("Choose at least one completed session.", "sessions")
    if len(appointments) > SESSIONS_MAX:
        raise OrganisationError(f"Bill at most {SESSIONS_MAX} sessions on one invoice.", "sessions")
    invoices.refuse_prepaid(a.id for a in appointments)
    invoice = invoices.new_draft(clinic, client=None, payer=organisation, by=by)
    for position, appointment in enumerate(appointments):
        if appointment.status != AppointmentStatus.COMPLETED:
            raise OrganisationError("Only completed sessions are billed.", "sessions")
        service = appointment.service
        local_day = appointment.starts_at.astimezone(clinic.tz).date()
        price = appointment.price_minor
        if price is None:
            price = price_for(service, local_day, appointment.therapist.tier_id)
        if price is None:
            raise OrganisationError(
                f"{service.name} has no price on {local_day}: set one on the menu.", "sessions"
            )
        rate = service.tax_rate
        line = invoices.add_line(
            invoice,
            description=f"{appointment.client.full_name}: {service.name} "
            f"with {appointment.therapist.display_name}",
            unit_price_minor=price,
            tax_rate_bp=rate.rate_bp if rate is not None else 0,
            tax_name=rate.name if rate is not None else None,
            client_id=appointment.client_id,
            service_date=local_day,
            source=f"appointment:{appointment.id}",
        )
        line.position = position
    db.session.flush()
    return invoice
