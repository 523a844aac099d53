"""Invoices and organisations for tests of the billing pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from clinic_saas import tenancy
from clinic_saas.billing import invoices
from clinic_saas.extensions import db
from clinic_saas.models import Appointment, AppointmentStatus, Clinic, Invoice, Organisation

from .factories import Schedule, add_appointment

PAST = datetime(2026, 2, 23, 10, tzinfo=UTC)  # a Monday inside build_schedule's shifts


@dataclass(frozen=True)
class Billed:
    invoice_id: uuid.UUID
    line_id: uuid.UUID
    appointment_id: uuid.UUID


def on_clinic(app, clinic_id, fn):
    """Run fn(clinic) bound to the clinic, commit, and return its result."""
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_id)
        with tenancy.bound_to(clinic):
            result = fn(clinic)
            db.session.commit()
            return result


def completed_appointment(app, schedule: Schedule, starts_at=PAST, price=6000) -> uuid.UUID:
    appointment_id = add_appointment(app, schedule, starts_at)

    def complete(clinic):
        row = tenancy.find(Appointment, appointment_id)
        row.status = AppointmentStatus.COMPLETED
        row.price_minor = price

    on_clinic(app, schedule.clinic_id, complete)
    return appointment_id


def add_draft(app, schedule: Schedule, starts_at=PAST, price=6000) -> Billed:
    """A draft invoice for a completed session, with its one line."""
    appointment_id = completed_appointment(app, schedule, starts_at, price)

    def draft(clinic):
        appointment = tenancy.find(Appointment, appointment_id)
        invoice = invoices.for_appointment(clinic, appointment, by=None, today=date(2026, 3, 2))
        return Billed(invoice.id, invoices.lines_of(invoice)[0].id, appointment_id)

    return on_clinic(app, schedule.clinic_id, draft)


def issue(app, clinic_id, invoice_id, today=date(2026, 3, 2)) -> str:
    def issue_it(clinic):
        invoice = tenancy.find(Invoice, invoice_id)
        invoices.issue(clinic, invoice, today=today)
        return invoice.number

    return on_clinic(app, clinic_id, issue_it)


def add_organisation(app, clinic_id, name="Harbour Rugby Club") -> uuid.UUID:
    def add(clinic):
        organisation = Organisation(name=name, billing_email="treasurer@rugby.example")
        db.session.add(organisation)
        db.session.flush()
        return organisation.id

    return on_clinic(app, clinic_id, add)
