"""Builders for scheduling records of a test clinic; each returns ids (safe across sessions)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import (
    Appointment,
    Category,
    Client,
    ClientMembership,
    Clinic,
    DayOverride,
    Location,
    MembershipPeriod,
    MembershipPlan,
    MembershipPlanService,
    Package,
    PackageSale,
    PackageService,
    PriceTier,
    Room,
    Service,
    ServicePrice,
    ServiceTherapist,
    Shift,
    TaxRate,
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


@dataclass
class Menu:
    """Menu records beside a Schedule: a tax rate, a tier, a custom category, a future price,
    a 6-session package sold to the schedule's client, and a monthly plan they joined."""

    tax_rate_id: uuid.UUID
    tier_id: uuid.UUID
    category_id: uuid.UUID
    price_id: uuid.UUID
    package_id: uuid.UUID
    sale_id: uuid.UUID
    plan_id: uuid.UUID
    enrolment_id: uuid.UUID


def build_menu(app, schedule: Schedule, today: date = date(2031, 3, 3)) -> Menu:
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            vat = TaxRate(name="VAT 20%", rate_bp=2000)
            tier = PriceTier(name="Senior")
            category = Category(key="events", name="At events", position=5)
            db.session.add_all([vat, tier, category])
            db.session.flush()
            price = ServicePrice(
                service_id=schedule.service_id,
                price_minor=6500,
                effective_from=today + timedelta(days=30),
            )
            package = Package(
                name="Rehab course of 6",
                sessions_count=6,
                price_minor=30000,
                validity_months=6,
                tax_rate_id=vat.id,
            )
            plan = MembershipPlan(
                name="Monthly maintenance", price_minor=5000, sessions_per_period=1
            )
            db.session.add_all([price, package, plan])
            db.session.flush()
            db.session.add_all(
                [
                    PackageService(package_id=package.id, service_id=schedule.service_id),
                    MembershipPlanService(plan_id=plan.id, service_id=schedule.service_id),
                ]
            )
            sale = PackageSale(
                package_id=package.id,
                client_id=schedule.client_id,
                name=package.name,
                sessions_total=6,
                price_minor=30000,
                tax_rate_bp=2000,
                sold_on=today,
                expires_on=today + timedelta(days=182),
            )
            enrolment = ClientMembership(
                plan_id=plan.id,
                client_id=schedule.client_id,
                name=plan.name,
                price_minor=5000,
                sessions_per_period=1,
                started_on=today,
                anchor_on=today,
            )
            db.session.add_all([sale, enrolment])
            db.session.flush()
            db.session.add(
                MembershipPeriod(
                    membership_id=enrolment.id,
                    starts_on=today,
                    ends_on=today + timedelta(days=31),
                    sessions_allowed=1,
                )
            )
            db.session.commit()
            return Menu(
                vat.id, tier.id, category.id, price.id, package.id, sale.id, plan.id, enrolment.id
            )


def add_intake(
    app,
    schedule: Schedule,
    *,
    client_id: uuid.UUID | None = None,
    codes: tuple[str, ...] = (),
    sites: dict[str, str] | None = None,
    signed_at: datetime | None = None,
) -> uuid.UUID:
    """A signed intake of the default form, ticking these contraindication or medication codes."""
    from clinic_saas.clinical.contraindications import MEDICATIONS, flags_from_answers
    from clinic_saas.clinical.templates import current_template
    from clinic_saas.models import IntakeResponse
    from clinic_saas.models.base import utcnow

    medication_codes = {m.code for m in MEDICATIONS}
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            template = current_template()
            picked = [c for c in codes if c not in medication_codes]
            meds = [c for c in codes if c in medication_codes]
            answers = {
                "activity": "Running, 40 km a week",
                "upcoming_events": "",
                "goals": "Stay injury-free before the marathon",
                "injuries": [{"site": "left calf", "since": "March", "pain": 4}],
                "medical_history": {"answer": "no", "detail": ""},
                "surgery": {"answer": "no", "detail": ""},
                "contraindications": {
                    "none": not picked,
                    "codes": picked,
                    "sites": {c: s for c, s in (sites or {}).items() if c in picked},
                    "details": {},
                },
                "medications": {"none": not meds, "codes": meds, "sites": {}, "details": {}},
                "other_medications": "",
            }
            flags = flags_from_answers(template.questions, answers)
            response = IntakeResponse(
                client_id=client_id or schedule.client_id,
                template_id=template.id,
                answers=answers,
                flags=flags,
                has_flags=bool(flags),
                flag_level=flags[0]["level"] if flags else None,
                signed_name="Casey Client",
                signed_at=signed_at or utcnow(),
                submitted_via="desk",
            )
            db.session.add(response)
            db.session.commit()
            return response.id


def intake_template_id(app, schedule: Schedule) -> uuid.UUID:
    """The id of the clinic's current intake form version (version 1 is created on first use)."""
    from clinic_saas.clinical.templates import current_template

    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            template = current_template()
            db.session.commit()
            return template.id
