"""Demo client records: full details, a family, signed intakes (two of them raising red flags
that show on today's appointment book), and signed treatment notes on past sessions."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from .clinic_time import day_range, today_in
from .clinical import notes, status
from .clinical.contraindications import flags_from_answers
from .clinical.templates import current_template
from .extensions import db
from .models import (
    ActivityLevel,
    Appointment,
    AppointmentStatus,
    Client,
    FlagAcknowledgement,
    IntakeResponse,
    NoteAmendment,
    NoteStatus,
    Therapist,
    TreatmentNote,
)
from .models.base import utcnow

SPORTS = [
    ("Marathon running", ActivityLevel.COMPETITIVE),
    ("Road cycling", ActivityLevel.REGULAR),
    ("Five-a-side football", ActivityLevel.RECREATIONAL),
    ("Triathlon", ActivityLevel.COMPETITIVE),
    ("Rowing", ActivityLevel.ELITE),
    ("Hill walking", ActivityLevel.RECREATIONAL),
    ("CrossFit", ActivityLevel.REGULAR),
    ("Rugby union", ActivityLevel.COMPETITIVE),
]


@dataclass(frozen=True)
class Locale:
    """What makes a demo client local to their clinic's country: numbers, doctors, streets."""

    mobile: str  # a format with one {} for five digits
    gps: tuple[tuple[str, str], ...]
    streets: tuple[str, ...]
    towns: tuple[str, ...]
    events: tuple[str, ...]

    def phone(self, rng: random.Random) -> str:
        return self.mobile.format(rng.randint(10000, 99999))


LOCALES = {
    # 07700 900xxx: the UK range kept for fiction.
    "GB": Locale(
        mobile="+4477009{}",
        gps=(
            ("Dr A. Shah", "Ancoats Medical Practice"),
            ("Dr M. Byrne", "Didsbury Health Centre"),
            ("Dr L. Okoro", "Chorlton Family Practice"),
        ),
        streets=("Oxford Road", "Wilmslow Road", "Beech Road", "Stockport Road", "Ducie Street"),
        towns=("Manchester M13 9PL", "Manchester M20 6RT", "Manchester M21 9EG", "Salford M5 4WT"),
        events=("Manchester Marathon in April", "Great North Run in September", "Club 10k"),
    ),
    "IE": Locale(
        mobile="+353855{}0",
        gps=(
            ("Dr C. Nolan", "Ringsend Medical Centre"),
            ("Dr P. Farrell", "Rathmines Family Practice"),
            ("Dr S. Okafor", "Phibsborough Health Centre"),
        ),
        streets=("Pembroke Road", "Leinster Road", "Clontarf Road", "Haddington Road"),
        towns=("Dublin 4, D04 V1W8", "Dublin 6, D06 C9X2", "Dublin 3, D03 E2H7"),
        events=("Dublin Marathon in October", "Great Dublin Bay Cruise", "Parkrun every Saturday"),
    ),
}


def locale_of(clinic) -> Locale:
    return LOCALES.get(clinic.country or "GB", LOCALES["GB"])


INJURY_SITES = ["left calf", "right hamstring", "lower back", "right shoulder", "left knee"]


def seed_clinical(clinic, clients: list[Client], rng: random.Random) -> None:
    """Details for every client, a parent and child, intakes, and notes (see module docstring)."""
    today = today_in(clinic)
    locale = locale_of(clinic)
    for client in clients:
        _complete_details(client, rng, today, locale)
    parent = clients[0]
    child = Client(
        first_name="Mia",
        last_name=parent.last_name,
        date_of_birth=date(today.year - 12, 5, 14),
        guardian_id=parent.id,
        sport="Swimming",
        activity_level=ActivityLevel.COMPETITIVE,
        created_at=parent.created_at,
    )
    db.session.add(child)
    db.session.flush()

    template = current_template()
    flagged = _clients_seen_next(clinic, today)
    now = utcnow()
    for index, client in enumerate(clients):
        codes, sites = (), {}
        signed = now - timedelta(days=rng.randint(20, 200))
        if flagged and client.id == flagged[0]:
            codes, sites, signed = ("acute_injury",), {"acute_injury": "right ankle"}, now
        elif len(flagged) > 1 and client.id == flagged[1]:
            codes, sites = ("varicose_veins",), {"varicose_veins": "left calf"}
        elif index % 8 == 7:
            continue  # a few clients have never filled in an intake
        elif index % 8 == 6:
            signed = now - timedelta(days=400 + index)  # out of date (older than 12 months)
        elif index % 5 == 2:
            codes = ("anticoagulants",)
        _add_intake(template, client, codes, sites, signed, rng, locale)
    db.session.flush()
    _add_notes(clinic, rng)


NOTE_STORIES = [
    ("Tight calves after a 30 km long run; wants to keep mileage up.", "calves", "kneading",
     "Bilateral calf hypertonicity, left more than right; ankle dorsiflexion limited on the left.",
     "Overpronation on the left at heel strike.", "Load-related soft-tissue restriction."),
    ("Hamstrings feel short since the hill sessions started.", "hamstrings", "trigger_pointing",
     "Active trigger point in right biceps femoris; straight-leg raise 70 degrees right.",
     "Shortened stride on the right.", "Hamstring tightness responding to treatment."),
    ("Lower back aches after long rides.", "lower_back", "cupping",
     "Increased tone in the erector spinae; hip flexors tight on Thomas test.",
     "Anterior pelvic tilt on standing.", "Postural load from the cycling position."),
    ("Shoulders stiff after rowing camp.", "trapezius", "wringing",
     "Upper trapezius and rhomboids tender to palpation; neck rotation full.",
     "No gait findings of note.", "Overuse tightness, no injury signs."),
]  # fmt: skip


def _add_notes(clinic, rng: random.Random) -> None:
    """Signed SOAP notes on the completed sessions of the therapist who can log in."""
    rows = db.session.execute(
        select(Appointment, Therapist.membership_id)
        .join(Therapist, Therapist.id == Appointment.therapist_id)
        .where(
            Appointment.status == AppointmentStatus.COMPLETED,
            Therapist.membership_id.is_not(None),
        )
        .order_by(Appointment.starts_at)
    ).all()
    allowed = {value for value, _ in notes.technique_choices()}
    needing_ack = {
        s.client_id: s
        for s in status.summaries({a.client_id for a, _ in rows}, clinic=clinic).values()
    }
    for index, (appointment, membership_id) in enumerate(rows):
        story = NOTE_STORIES[index % len(NOTE_STORIES)]
        said, region, technique, objective, gait, assessment = story
        before = rng.randint(4, 7)
        content = notes.clean(
            {
                "subjective": said,
                "objective": objective,
                "gait": gait,
                "assessment": assessment,
                "plan": "Home stretching twice daily; review load with coach.",
                "next_visit": "In two weeks",
                "referral": "",
                "pain_before": str(before),
                "pain_after": str(before - rng.randint(1, 3)),
                "regions": [f"{region}:both"],
                "techniques": [
                    {"technique": technique, "region": region, "minutes": "20",
                     "purpose": "Reduce tone"},
                    {"technique": "kneading", "region": region, "minutes": "15",
                     "purpose": "Improve tissue mobility"},
                ],
            },
            allowed,
        )  # fmt: skip
        summary = needing_ack[appointment.client_id]
        if summary.needs_attention:
            db.session.add(
                FlagAcknowledgement(
                    appointment_id=appointment.id,
                    response_id=summary.response_id,
                    membership_id=membership_id,
                    acknowledged_at=appointment.starts_at - timedelta(minutes=2),
                )
            )
        signed_at = appointment.ends_at + timedelta(minutes=10)
        note = TreatmentNote(
            appointment_id=appointment.id,
            client_id=appointment.client_id,
            author_id=membership_id,
            content=content,
            status=NoteStatus.SIGNED,
            created_at=appointment.ends_at,
            updated_at=signed_at,
            signed_at=signed_at,
            signed_by_id=membership_id,
        )
        db.session.add(note)
        if index == 0:
            db.session.flush()
            db.session.add(
                NoteAmendment(
                    note_id=note.id,
                    author_id=membership_id,
                    text="Correction: pain after treatment was reported the next morning, "
                    "not at the end of the session.",
                    created_at=signed_at + timedelta(days=1),
                )
            )
    db.session.flush()


def _complete_details(client: Client, rng: random.Random, today: date, locale: Locale) -> None:
    sport, level = rng.choice(SPORTS)
    gp, practice = rng.choice(locale.gps)
    client.date_of_birth = date(today.year - rng.randint(19, 64), rng.randint(1, 12), 15)
    client.sport, client.activity_level = sport, level
    client.emergency_contact_name = (
        f"{rng.choice(['Sam', 'Alex', 'Jo', 'Chris'])} {client.last_name}"
    )
    client.emergency_contact_phone = locale.phone(rng)
    client.address = (
        f"{rng.randint(2, 180)} {rng.choice(locale.streets)}\n{rng.choice(locale.towns)}"
    )
    client.gp_name, client.gp_practice = gp, practice
    if rng.random() < 0.5:
        client.marketing_consent = True
        client.marketing_consent_at = utcnow() - timedelta(days=rng.randint(10, 300))


def _clients_seen_next(clinic, today: date) -> list:
    """The clients of the next live appointments of the therapist who can log in (Tom Turner in
    Northside), from today on, so that his red flags show on the book when the demo opens."""
    start = day_range(today, clinic.tz).start
    rows = db.session.scalars(
        select(Appointment.client_id)
        .join(Therapist, Therapist.id == Appointment.therapist_id)
        .where(
            Appointment.starts_at >= start,
            Appointment.status == AppointmentStatus.BOOKED,
            Therapist.membership_id.is_not(None),
        )
        .order_by(Appointment.starts_at)
    )
    return list(dict.fromkeys(rows))[:2]


def _add_intake(template, client, codes, sites, signed: datetime, rng, locale) -> IntakeResponse:
    meds = [c for c in codes if c == "anticoagulants"]
    conditions = [c for c in codes if c not in meds]
    injury = rng.choice(INJURY_SITES)
    answers = {
        "activity": f"{client.sport}, {rng.randint(2, 6)} sessions a week",
        "upcoming_events": rng.choice(["", *locale.events]),
        "goals": rng.choice(
            [
                "Stay injury-free through the season",
                "Recover faster between races",
                "Loosen tight hamstrings",
                "Get back to full training after a calf strain",
            ]
        ),
        "injuries": [{"site": injury, "since": "about 6 weeks", "pain": rng.randint(2, 6)}],
        "medical_history": {"answer": "no", "detail": ""},
        "surgery": {"answer": "no", "detail": ""},
        "contraindications": {
            "none": not conditions,
            "codes": conditions,
            "sites": {c: sites[c] for c in conditions if c in sites},
            "details": {},
        },
        "medications": {"none": not meds, "codes": meds, "sites": {}, "details": {}},
        "other_medications": "",
    }
    flags = flags_from_answers(template.questions, answers)
    response = IntakeResponse(
        client_id=client.id,
        template_id=template.id,
        answers=answers,
        flags=flags,
        has_flags=bool(flags),
        flag_level=flags[0]["level"] if flags else None,
        signed_name=client.full_name,
        signed_at=signed,
        submitted_via=rng.choice(["email", "desk"]),
    )
    db.session.add(response)
    return response
