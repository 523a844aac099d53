"""Builders for scheduling records of a test clinic; each returns ids (safe across sessions)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import (
    Appointment,
    Client,
    Clinic,
    DayOverride,
    Location,
    Room,
    Service,
    ServicePrice,
    ServiceTherapist,
    Shift,
    Therapist,
    TimeOff,
    TimeOffKind,
)


@dataclass
class Schedule:
    """One site, one room, one therapist working weekdays 09:00-17:00, one 60+15 min service."""

    clinic_id: uuid.UUID
    location_id: uuid.UUID
    room_id: uuid.UUID
    therapist_id: uuid.UUID
    service_id: uuid.UUID
    client_id: uuid.UUID
    shift_ids: list[uuid.UUID]


def build_schedule(
    app,
    clinic_fixture,
    *,
    therapist_name: str = "Tom Turner",
    weekdays=range(5),
    start=time(9),
    end=time(17),
    valid_from=date(2020, 1, 6),
    duration=60,
    buffer=15,
) -> Schedule:
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            location = Location(name="Harbour St", address="1 Harbour St")
            room = Room(location=location, name="Room 1")
            therapist = Therapist(
                display_name=therapist_name,
                techniques=["kneading", "trigger_pointing"],
                categories=["rehab", "maintenance"],
            )
            service = Service(
                name="Sports massage 60",
                category="maintenance",
                duration_minutes=duration,
                buffer_minutes=buffer,
            )
            client = Client(first_name="Ada", last_name="Runner", email="ada@example.com")
            db.session.add_all([location, room, therapist, service, client])
            db.session.flush()
            db.session.add(ServiceTherapist(service_id=service.id, therapist_id=therapist.id))
            db.session.add(
                ServicePrice(
                    service_id=service.id, price_minor=6000, effective_from=date(2020, 1, 1)
                )
            )
            shifts = [
                Shift(
                    therapist_id=therapist.id,
                    location_id=location.id,
                    weekday=day,
                    start_time=start,
                    end_time=end,
                    valid_from=valid_from,
                )
                for day in weekdays
            ]
            db.session.add_all(shifts)
            db.session.commit()
            return Schedule(
                clinic.id,
                location.id,
                room.id,
                therapist.id,
                service.id,
                client.id,
                [s.id for s in shifts],
            )


def add_appointment(app, schedule: Schedule, starts_at: datetime, minutes=60, buffer=15):
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            appointment = Appointment(
                client_id=schedule.client_id,
                therapist_id=schedule.therapist_id,
                service_id=schedule.service_id,
                location_id=schedule.location_id,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                blocked_until=starts_at + timedelta(minutes=minutes + buffer),
            )
            db.session.add(appointment)
            db.session.commit()
            return appointment.id


def add_time_off(app, schedule: Schedule, starts_at: datetime, ends_at: datetime):
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            row = TimeOff(
                therapist_id=schedule.therapist_id,
                kind=TimeOffKind.HOLIDAY,
                starts_at=starts_at,
                ends_at=ends_at,
            )
            db.session.add(row)
            db.session.commit()
            return row.id


def add_override(app, schedule: Schedule, on_date: date, start=None, end=None):
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            row = DayOverride(
                therapist_id=schedule.therapist_id,
                on_date=on_date,
                location_id=schedule.location_id if start else None,
                start_time=start,
                end_time=end,
            )
            db.session.add(row)
            db.session.commit()
            return row.id
