"""Demo invoices: some paid, some partly paid, some unpaid, one overdue, and a club billed for its
players' sessions, so that the invoice pages and the balances have something true to show."""

from __future__ import annotations

import random
from datetime import date, time, timedelta

from sqlalchemy import select

from .billing import balances, invoices
from .clinic_time import local_instant
from .extensions import db
from .models import (
    Appointment,
    AppointmentStatus,
    Client,
    Clinic,
    Invoice,
    Membership,
    Organisation,
    Payment,
    PaymentMethod,
    Role,
)

CLUBS = {
    "GB": ("Manchester Harriers AC", "Pat Doyle", "treasurer@harriers.example"),
    "IE": ("Ringsend Rowing Club", "Maeve Byrne", "treasurer@ringsendrc.example"),
}


def _pay(
    invoice: Invoice,
    amount: int,
    method: PaymentMethod,
    reference: str | None,
    *,
    by: Membership | None = None,
    location_id=None,
) -> None:
    db.session.add(
        Payment(
            invoice_id=invoice.id,
            amount_minor=amount,
            currency=invoice.currency,
            method=method,
            reference=reference,
            taken_at=invoice.issued_at,
            taken_by_id=by.id if by is not None else None,
            location_id=location_id,
        )
    )
    db.session.flush()
    balances.settle(invoice)


def seed_billing(clinic: Clinic, today: date, rng: random.Random) -> None:
    """Invoice the past week's completed sessions, and settle them in a realistic mix."""
    desk = db.session.scalar(
        select(Membership).where(Membership.role == Role.RECEPTIONIST)
    ) or db.session.scalar(select(Membership).where(Membership.role == Role.OWNER))
    completed = db.session.scalars(
        select(Appointment)
        .where(Appointment.status == AppointmentStatus.COMPLETED)
        .order_by(Appointment.starts_at)
    ).all()
    for index, appointment in enumerate(completed):
        day = appointment.starts_at.astimezone(clinic.tz).date()
        try:
            invoice = invoices.for_appointment(clinic, appointment, by=None, today=day)
        except invoices.InvoiceError:
            continue  # paid from a package or a membership: nothing to invoice
        if index % 6 == 5:
            continue  # a few drafts still to check out
        invoices.issue(clinic, invoice, today=day)
        invoice.issued_at = appointment.ends_at  # checked out as the client left
        at_desk = {"by": desk, "location_id": appointment.location_id}
        roll = rng.random()
        if roll < 0.55:
            method = rng.choice([PaymentMethod.CASH, PaymentMethod.TERMINAL])
            _pay(invoice, invoice.total_minor, method, None, **at_desk)
        elif roll < 0.7:
            _pay(invoice, invoice.total_minor // 2, PaymentMethod.CASH, None, **at_desk)
        # the rest stay unpaid, within their terms
    _seed_club(clinic, today, completed)


def _seed_club(clinic: Clinic, today: date, completed: list[Appointment]) -> None:
    """A club billed for its players' race-day cover, issued weeks ago and now overdue."""
    name, contact, email = CLUBS.get(clinic.country, CLUBS["GB"])
    club = Organisation(
        name=name,
        contact_name=contact,
        billing_email=email,
        address=clinic.address,
        notes="Invoiced monthly for players' sessions and race-day cover.",
    )
    db.session.add(club)
    db.session.flush()
    players = db.session.scalars(select(Client).order_by(Client.created_at).limit(3)).all()
    issued_on = today - timedelta(days=clinic.payment_terms_days + 12)
    invoice = invoices.new_draft(clinic, client=None, payer=club, by=None)
    for player in players:
        invoices.add_line(
            invoice,
            description=f"Race-day pre-event flush: {player.full_name}",
            unit_price_minor=3500,
            client_id=player.id,
            service_date=issued_on - timedelta(days=2),
        )
    invoices.add_line(
        invoice, description="Therapist cover at the club 10k (half day)", unit_price_minor=18000
    )
    invoices.issue(clinic, invoice, today=issued_on)
    invoice.issued_at = local_instant(issued_on, time(17), clinic.tz)
    _pay(invoice, 5000, PaymentMethod.BANK_TRANSFER, "CLUB PART PAYMENT")
