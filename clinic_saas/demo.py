"""Demo data: two clinics with staff, sites, a roster, services, clients and two weeks of bookings.

Running the seed again changes nothing: each clinic's schedule is created once, the first time.
"""

from __future__ import annotations

import random
from datetime import date, time, timedelta

from sqlalchemy import delete, func, select

from . import tenancy
from .accounts.passwords import hash_password
from .accounts.signup import find_user_by_email
from .clinic_time import add_months, local_instant, today_in
from .demo_billing import seed_billing
from .demo_clinical import locale_of, seed_clinical
from .extensions import db
from .menu import offers
from .menu.pricing import schedule_price
from .models import (
    Appointment,
    AppointmentStatus,
    Client,
    Clinic,
    DayOverride,
    Location,
    Membership,
    PriceTier,
    Role,
    Room,
    Service,
    ServicePrice,
    ServiceTherapist,
    Shift,
    TaxRate,
    TaxTreatment,
    Therapist,
    TimeOff,
    TimeOffKind,
    User,
)
from .models.base import utcnow
from .sales import entitlements, memberships, packages
from .scheduling import booking
from .scheduling.availability import free_slots

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - published in the README on purpose

DEMO_CLINICS = [
    {
        "slug": "northside",
        "name": "Northside Sports Massage",
        "timezone": "Europe/London",
        "currency": "GBP",
        "country": "GB",
        "email": "hello@northside.example",
        "phone": "+44 161 496 0000",
        "address": "12 Whitworth Street\nManchester M1 3GT",
        "tax_registration": "GB123456789",
        "legal_name": "Northside Sports Massage Ltd",
        "invoice_prefix": "NS",
        "staff": [
            ("owner@northside.example", "Olivia Owens", Role.OWNER),
            ("reception@northside.example", "Rachel Reyes", Role.RECEPTIONIST),
            ("therapist@northside.example", "Tom Turner", Role.THERAPIST),
        ],
    },
    {
        "slug": "harbour",
        "name": "Harbour Sports Therapy",
        "timezone": "Europe/Dublin",
        "currency": "EUR",
        "country": "IE",
        "email": "hello@harbour.example",
        "phone": "+353 1 555 0100",
        "address": "3 Quay Road\nDublin 2\nD02 X285",
        "tax_registration": None,
        "legal_name": "Harbour Sports Therapy Ltd",
        "invoice_prefix": "HST",
        "staff": [("owner@harbour.example", "Hannah Hughes", Role.OWNER)],
    },
]


def _demo_user(email: str, name: str) -> User:
    user = find_user_by_email(email)
    if user is None:
        user = User(email=email, name=name, password_hash=hash_password(DEMO_PASSWORD))
        db.session.add(user)
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    user.active = True
    return user


def reset_demo_data() -> int:
    """Remove the demo clinics and every row they own, so that the next seed starts afresh
    around today; the number of clinics removed.

    Other clinics (signed up on this installation) are untouched, and so are the demo logins,
    which the seed refreshes. Rows go in the reverse order of their foreign keys, dependants
    first, one DELETE per table.
    """
    slugs = [spec["slug"] for spec in DEMO_CLINICS]
    clinics = list(db.session.scalars(select(Clinic).where(Clinic.slug.in_(slugs))))
    for clinic in clinics:
        with tenancy.bound_to(clinic):
            for table in reversed(db.metadata.sorted_tables):
                if "clinic_id" in table.c:
                    db.session.execute(delete(table).where(table.c.clinic_id == clinic.id))
    ids = [clinic.id for clinic in clinics]
    db.session.expunge_all()
    if ids:
        db.session.execute(delete(Clinic).where(Clinic.id.in_(ids)))
    return len(ids)


def seed_demo_data() -> None:
    """Create or refresh the demo clinics and logins; running it twice changes nothing more."""
    for spec in DEMO_CLINICS:
        details = {k: v for k, v in spec.items() if k != "staff"}
        clinic = db.session.scalar(select(Clinic).where(Clinic.slug == spec["slug"]))
        if clinic is None:
            clinic = Clinic(**details)
            db.session.add(clinic)
            db.session.flush()
        with tenancy.bound_to(clinic):
            for email, name, role in spec["staff"]:
                user = _demo_user(email, name)
                db.session.flush()
                membership = db.session.scalar(
                    select(Membership).where(Membership.user_id == user.id)
                )
                if membership is None:
                    db.session.add(Membership(user=user, role=role))
                db.session.flush()

            if not db.session.scalar(select(func.count()).select_from(Therapist)):
                _seed_schedule(clinic, DEMO_SCHEDULES[spec["slug"]])


MON, TUE, WED, THU, FRI, SAT = range(6)

DEMO_SCHEDULES = {
    "northside": {
        "sites": {
            "Whitworth St": ("12 Whitworth Street, Manchester M1 3GT", ["Room 1", "Room 2"]),
            "Canal Yard": ("4 Canal Yard, Manchester M4 6DE", ["Studio"]),
        },
        "services": [
            ("Pre-event flush", "pre_event", 30, 10, 3500, "A brisk warm-up before you race."),
            ("Post-event recovery", "post_event", 60, 15, 6000, "Flushing after an event."),
            ("Rehab follow-up", "rehab", 45, 15, 5000, "Treatment within a rehab course."),
            ("Maintenance sports massage", "maintenance", 60, 15, 5500, "Your regular session."),
            ("Deep tissue 90", "maintenance", 90, 15, 8000, "Extended multi-area work."),
        ],
        "therapists": [
            # name, login, colour, registered, techniques, categories, services, commission, shifts
            ("Tom Turner", "therapist@northside.example", "teal", True,
             ["kneading", "trigger_pointing", "cupping"], ["rehab", "maintenance", "post_event"],
             [1, 2, 3, 4], 4000,
             [(d, "Whitworth St", time(9), time(17)) for d in (MON, TUE, WED, THU)]
             + [(FRI, "Canal Yard", time(12), time(20))]),
            ("Priya Shah", None, "indigo", False,
             ["kneading", "hacking", "wringing", "vibration"], ["pre_event", "post_event"],
             [0, 1, 3], 3500,
             [(d, "Canal Yard", time(8), time(14)) for d in (MON, WED, FRI)]
             + [(d, "Whitworth St", time(13), time(21)) for d in (TUE, THU)]),
            ("Callum Reid", None, "orange", True,
             ["trigger_pointing", "cupping", "kneading"], ["rehab", "maintenance"],
             [2, 3, 4], 4000,
             [(d, "Whitworth St", time(10), time(18)) for d in (TUE, WED, THU, FRI, SAT)]),
            ("Sofia Martins", None, "pink", False,
             ["kneading", "wringing", "vibration"], ["maintenance", "pre_event"],
             [0, 3, 4], 3000,
             [(d, "Canal Yard", time(14), time(20)) for d in (MON, TUE, WED, THU, FRI)]
             + [(SAT, "Canal Yard", time(9), time(13))]),
        ],
        "clients": [
            "Ada Runner", "Ben Okafor", "Chloe Hughes", "Dan Price", "Ella Novak", "Finn Walsh",
            "Grace Lee", "Harry Khan", "Isla Murphy", "Jack Evans", "Kira Patel", "Liam Doyle",
            "Maya Collins", "Noah Fischer", "Olivia Brooks", "Pavel Nowak", "Quinn Adams",
            "Ruby Clarke", "Sam Osei", "Tara Byrne", "Umar Ali", "Vera Costa", "Will Turner",
            "Xena Ivanova", "Yusuf Demir", "Zoe Hall", "Alfie Moss", "Beth Kerr", "Cal Jones",
            "Dina Rossi", "Eli Stone", "Fay Green",
        ],
        "bookings_per_day": (2, 5),
        # VAT-registered: prices include 20% VAT; rehab by registered professionals is exempt.
        "tax": {"VAT 20%": (2000, "standard"), "VAT exempt": (0, "exempt")},
        "service_tax": ["VAT 20%", "VAT 20%", "VAT exempt", "VAT 20%", "VAT 20%"],
        "tier": ("Senior", {4: 9000}, ["Tom Turner", "Callum Reid"]),
        "price_change": (3, 5800),  # maintenance goes up on the 1st of next month
        "packages": [("6-session rehab course", [2], 6, 27000, 6, False)],
        "plans": [("Monthly maintenance", [3, 4], 1, 5000)],
    },
    "harbour": {
        "sites": {
            "Quay Road": ("3 Quay Road, Dublin 2, D02 X285", ["Room A", "Room B"]),
        },
        "services": [
            ("Pre-event flush", "pre_event", 30, 10, 4000, "Short warm-up before competition."),
            ("Post-event recovery", "post_event", 60, 15, 7000, "Recovery after an event."),
            ("Injury rehab session", "rehab", 45, 15, 6500, "Treatment within a rehab plan."),
            ("Maintenance massage 60", "maintenance", 60, 15, 6500, "Regular work in season."),
            ("Maintenance massage 90", "maintenance", 90, 15, 9000, "Full-body maintenance."),
        ],
        "therapists": [
            ("Hannah Hughes", "owner@harbour.example", "green", True,
             ["kneading", "cupping", "trigger_pointing"], ["pre_event", "post_event", "rehab"],
             [0, 1, 2], 0,
             [(d, "Quay Road", time(9), time(17)) for d in (MON, TUE, WED, THU, FRI)]),
            ("Niamh Byrne", None, "purple", False,
             ["kneading", "wringing", "hacking", "vibration"], ["maintenance", "pre_event"],
             [0, 3, 4], 3500,
             [(d, "Quay Road", time(12), time(20)) for d in (TUE, WED, THU, FRI)]
             + [(SAT, "Quay Road", time(8), time(13))]),
        ],
        "clients": [
            "Aoife Kelly", "Brian Walsh", "Ciara Byrne", "Declan Ryan", "Eimear Nolan",
            "Fionn Doyle", "Grainne Murphy", "Oisin Brennan", "Roisin Quinn", "Sean Gallagher",
            "Siobhan Keane", "Conor Lynch",
        ],
        "bookings_per_day": (1, 3),
        "tax": {},  # under the VAT threshold: no tax on anything
        "service_tax": [None, None, None, None, None],
        "tier": None,
        "price_change": None,
        "packages": [
            ("3-session race pack", [0, 1], 3, 10500, 3, True),
            ("Rehab course of 5", [2], 5, 29500, 4, False),
        ],
        "plans": [("Monthly maintenance", [3], 1, 5800)],
    },
}  # fmt: skip


def _seed_schedule(clinic: Clinic, plan: dict) -> None:
    """Sites, services, therapists with a weekly roster, clients, and bookings around today."""
    rng = random.Random(clinic.slug)  # noqa: S311 - demo data, the same every time
    sites = {}
    for name, (address, rooms) in plan["sites"].items():
        site = Location(name=name, address=address)
        db.session.add(site)
        db.session.add_all(Room(location=site, name=room) for room in rooms)
        sites[name] = site
    today = today_in(clinic)
    services = [
        Service(
            name=name,
            category=category,
            duration_minutes=minutes,
            buffer_minutes=buffer,
            description=description,
            position=position,
        )
        for position, (name, category, minutes, buffer, price, description) in enumerate(
            plan["services"]
        )
    ]
    db.session.add_all(services)
    db.session.flush()
    db.session.add_all(
        ServicePrice(
            service_id=service.id,
            price_minor=spec[4],
            effective_from=today - timedelta(days=90),
        )
        for service, spec in zip(services, plan["services"], strict=True)
    )
    monday = today - timedelta(days=today.weekday())
    therapists = []
    for name, login, colour, registered, techniques, categories, offered, bp, shifts in plan[
        "therapists"
    ]:
        membership = None
        if login:
            user = find_user_by_email(login)
            membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        therapist = Therapist(
            display_name=name,
            membership_id=membership.id if membership else None,
            calendar_colour=colour,
            registered_health_professional=registered,
            techniques=techniques,
            categories=categories,
            commission_rate_bp=bp,
            bio=f"{name.split()[0]} treats runners, cyclists and team-sport players.",
        )
        db.session.add(therapist)
        db.session.flush()
        db.session.add_all(
            ServiceTherapist(service_id=services[i].id, therapist_id=therapist.id) for i in offered
        )
        db.session.add_all(
            Shift(
                therapist_id=therapist.id,
                location_id=sites[site].id,
                weekday=weekday,
                start_time=start,
                end_time=end,
                valid_from=monday - timedelta(weeks=4),
            )
            for weekday, site, start, end in shifts
        )
        therapists.append((therapist, offered))
    clients = []
    locale = locale_of(clinic)
    for full_name in plan["clients"]:
        first, last = full_name.split(" ", 1)
        handle = f"{first}.{last}".lower()
        clients.append(
            Client(
                first_name=first,
                last_name=last,
                email=f"{handle}@example.com",
                phone=locale.phone(rng),
                # Clients joined over the past two years, before the bookings around today.
                created_at=utcnow() - timedelta(days=rng.randint(30, 730)),
            )
        )
    db.session.add_all(clients)
    db.session.flush()
    _seed_pricing(clinic, plan, services, therapists, today)
    _seed_absences(clinic, therapists, monday)
    offers = _seed_offers(plan, services, clients, rng, today - timedelta(days=10))
    _seed_bookings(clinic, rng, therapists, services, clients, today, plan["bookings_per_day"])
    _seed_entitlement_use(clinic, offers)
    seed_clinical(clinic, clients, rng)
    seed_billing(clinic, today, rng)


def _seed_pricing(clinic, plan, services, therapists, today) -> None:
    """Tax rates, a price tier for senior therapists and a price change already scheduled."""
    rates = {
        name: TaxRate(name=name, rate_bp=bp, treatment=TaxTreatment(treatment))
        for name, (bp, treatment) in plan["tax"].items()
    }
    db.session.add_all(rates.values())
    db.session.flush()
    for service, rate in zip(services, plan["service_tax"], strict=True):
        service.tax_rate_id = rates[rate].id if rate else None
    if plan["tier"]:
        tier_name, tier_prices, senior = plan["tier"]
        tier = PriceTier(name=tier_name)
        db.session.add(tier)
        db.session.flush()
        for index, price in tier_prices.items():
            db.session.add(
                ServicePrice(
                    service_id=services[index].id,
                    tier_id=tier.id,
                    price_minor=price,
                    effective_from=today - timedelta(days=90),
                )
            )
        for therapist, _ in therapists:
            if therapist.display_name in senior:
                therapist.tier_id = tier.id
    if plan["price_change"]:
        index, price = plan["price_change"]
        first_of_next_month = add_months(today.replace(day=1), 1)
        schedule_price(clinic, services[index], price, first_of_next_month, today)
    db.session.flush()


def _seed_offers(plan, services, clients, rng, sold_on) -> list:
    """Packages and plans on the menu, some sold to clients ten days ago."""
    sold = []
    for name, covered, sessions, price, months, shareable in plan["packages"]:
        package = offers.save_package(
            None,
            name=name,
            sessions_count=sessions,
            price_minor=price,
            validity_months=months,
            service_ids=[services[i].id for i in covered],
            shareable=shareable,
        )
        for client in rng.sample(clients, 3):
            sold.append(packages.sell(package, client, sold_on))
    for name, covered, per_period, price in plan["plans"]:
        offer = offers.save_plan(
            None,
            name=name,
            price_minor=price,
            sessions_per_period=per_period,
            service_ids=[services[i].id for i in covered],
        )
        for client in rng.sample(clients, 3):
            sold.append(memberships.enrol(offer, client, sold_on, sold_on))
    return sold


def _seed_entitlement_use(clinic, offers) -> None:
    """Completed sessions of clients who bought something are paid for by it."""
    buyers = {offer.client_id for offer in offers}
    completed = db.session.scalars(
        select(Appointment)
        .where(
            Appointment.client_id.in_(buyers),
            Appointment.status == AppointmentStatus.COMPLETED,
        )
        .order_by(Appointment.starts_at)
    ).all()
    for appointment in completed:
        entitlements.apply_on_completion(
            appointment, appointment.starts_at.astimezone(clinic.tz).date()
        )


def _seed_absences(clinic: Clinic, therapists: list, monday: date) -> None:
    if len(therapists) < 3:
        return
    callum, priya = therapists[2][0], therapists[1][0]
    next_thursday = monday + timedelta(days=7 + THU)
    db.session.add(
        TimeOff(
            therapist_id=callum.id,
            kind=TimeOffKind.HOLIDAY,
            starts_at=local_instant(next_thursday, time(0), clinic.tz),
            ends_at=local_instant(next_thursday + timedelta(days=2), time(0), clinic.tz),
            note="Marathon weekend",
        )
    )
    main_site = db.session.scalar(select(Location).where(Location.name == "Whitworth St"))
    db.session.add(
        DayOverride(
            therapist_id=priya.id,
            on_date=monday + timedelta(days=7 + SAT),
            location_id=main_site.id,
            start_time=time(9),
            end_time=time(13),
            note="Covering the parkrun clinic",
        )
    )
    db.session.flush()


def _seed_bookings(clinic, rng, therapists, services, clients, today, per_day) -> None:
    now = utcnow()
    for offset in range(-7, 8):
        day = today + timedelta(days=offset)
        for therapist, offered in therapists:
            for _ in range(rng.randint(*per_day)):
                service = services[rng.choice(offered)]
                slots = free_slots(clinic, service, day, day, therapist_ids=[therapist.id])
                if not slots:
                    continue
                slot = rng.choice(slots)
                appointment = booking.book(
                    clinic,
                    client=rng.choice(clients),
                    therapist=therapist,
                    service=service,
                    location=db.session.get(Location, (clinic.id, slot.location_id)),
                    starts_at=slot.start,
                )
                _give_history(clinic, rng, appointment, now)


def _give_history(clinic, rng, appointment, now) -> None:
    """Past bookings were mostly attended; a few were missed or cancelled, some of them late."""
    roll = rng.random()
    if appointment.starts_at < now:
        if roll < 0.05:
            booking.mark_no_show(appointment, now=now)
        elif roll < 0.10:
            booking.cancel(
                clinic,
                appointment,
                "Picked up a cold",
                now=appointment.starts_at - timedelta(hours=3),
            )
        else:
            booking.check_in(appointment, now=appointment.starts_at - timedelta(minutes=5))
            if appointment.ends_at < now:
                booking.complete(clinic, appointment, now=appointment.ends_at)
    elif roll < 0.06:
        booking.cancel(clinic, appointment, "Race moved", now=now)
