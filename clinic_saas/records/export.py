"""A client's whole record, on request: everything the clinic holds about one person, in one dict.

gather loads it and schemas.records.RecordSchema dumps it; the same dict is downloaded as JSON
and rendered as a printable document. Datetimes are ISO 8601 in the clinic's timezone with their
offset, dates are ISO dates, money is integer minor units with the currency beside it. It holds
clinical content (intake answers, notes): callers check records.export and write the audit event.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..clinic_time import today_in
from ..clinical.contraindications import BY_CODE, describe
from ..extensions import db
from ..models import (
    Appointment,
    Client,
    Clinic,
    IntakeResponse,
    IntakeTemplate,
    Membership,
    NoteAmendment,
    TreatmentNote,
)
from ..models.base import utcnow
from ..sales.purchases import Purchases, purchases_of
from ..schemas.records import RecordSchema


@dataclass(frozen=True)
class Family:
    """The client's guardian, if any, and the children they are guardian of."""

    guardian: Client | None
    children: list[Client]


@dataclass(frozen=True)
class Answer:
    """One question of a signed intake, with the answer as stored and as people read it."""

    key: str
    section: str | None
    label: str
    answer: object
    answer_text: str


@dataclass(frozen=True)
class Intake:
    """A signed intake with the form it answered, its answers in the form's order, its flags."""

    response: IntakeResponse
    template: IntakeTemplate
    questions: list[Answer]
    flags: list[dict]


@dataclass(frozen=True)
class Amendment:
    """An amendment of a note, with its author's name (None once they left)."""

    amendment: NoteAmendment
    author: str | None


@dataclass(frozen=True)
class Note:
    """A treatment note with its session's start, its authors' names and its amendments."""

    note: TreatmentNote
    appointment_starts_at: datetime | None
    author: str | None
    signed_by: str | None
    amendments: list[Amendment]


@dataclass(frozen=True)
class ClientRecord:
    """Everything the clinic holds about one client, loaded once; schemas.records dumps it."""

    exported_at: datetime
    client: Client
    family: Family
    appointments: list[Appointment]
    purchases: Purchases
    intakes: list[Intake]
    treatment_notes: list[Note]


def client_record(client: Client, *, clinic: Clinic) -> dict:
    """The full record of one client of this clinic, as the exported JSON document."""
    return RecordSchema.for_audience("export", clinic=clinic).dump(gather(client, clinic))


def gather(client: Client, clinic: Clinic) -> ClientRecord:
    """Load the whole record of one client, in a fixed number of statements."""
    return ClientRecord(
        exported_at=utcnow(),
        client=client,
        family=_family(client),
        appointments=_appointments(client),
        purchases=purchases_of(client, today_in(clinic)),
        intakes=_intakes(client),
        treatment_notes=_notes(client),
    )


def file_name(client: Client, day: date, extension: str) -> str:
    """'ada-runner-2026-03-03.json': ASCII only, so every browser keeps it as it is."""
    ascii_name = (
        unicodedata.normalize("NFKD", client.full_name).encode("ascii", "ignore").decode("ascii")
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60] or "client"
    return f"{slug}-{day.isoformat()}.{extension}"


def _family(client: Client) -> Family:
    related = db.session.scalars(
        select(Client)
        .where((Client.guardian_id == client.id) | (Client.id == client.guardian_id))
        .order_by(Client.last_name, Client.first_name, Client.id)
    ).all()
    return Family(
        guardian=next((c for c in related if c.id == client.guardian_id), None),
        children=[c for c in related if c.guardian_id == client.id],
    )


def _appointments(client: Client) -> list[Appointment]:
    return list(
        db.session.scalars(
            select(Appointment)
            .options(
                joinedload(Appointment.service),
                joinedload(Appointment.therapist),
                joinedload(Appointment.location),
            )
            .where(Appointment.client_id == client.id)
            .order_by(Appointment.starts_at, Appointment.id)
        ).all()
    )


def _intakes(client: Client) -> list[Intake]:
    responses = db.session.scalars(
        select(IntakeResponse)
        .where(IntakeResponse.client_id == client.id)
        .order_by(IntakeResponse.signed_at, IntakeResponse.id)
    ).all()
    template_ids = {r.template_id for r in responses}
    templates = {
        t.id: t
        for t in db.session.scalars(
            select(IntakeTemplate).where(IntakeTemplate.id.in_(template_ids))
        )
    }
    return [_intake(r, templates[r.template_id]) for r in responses]


def _intake(response: IntakeResponse, template: IntakeTemplate) -> Intake:
    answers = response.answers or {}
    questions = [
        Answer(
            key=q["key"],
            section=q.get("section"),
            label=q["label"],
            answer=answers.get(q["key"]),
            answer_text=answer_text(q, answers.get(q["key"])),
        )
        for q in template.questions
    ]
    asked = {q["key"] for q in template.questions}
    questions += [  # kept even if the template's wording of it is gone
        Answer(key=k, section=None, label=k, answer=v, answer_text=answer_text({}, v))
        for k, v in answers.items()
        if k not in asked
    ]
    flags = [dict(f, description=describe(f)) for f in response.flags or []]
    return Intake(response, template, questions, flags)


def answer_text(question: dict, answer) -> str:
    """One answer as a person reads it, whatever the question's kind."""
    kind = question.get("kind")
    if answer is None or answer == "" or answer == []:
        return "None given" if kind == "injuries" else "Not answered"
    if kind == "yesno" and isinstance(answer, dict):
        text = "Yes" if answer.get("answer") == "yes" else "No"
        return f"{text}: {answer['detail']}" if answer.get("detail") else text
    if kind == "scale":
        return f"{answer} / 10"
    if kind == "injuries" and isinstance(answer, list):
        return "; ".join(
            ", ".join(
                part
                for part in (
                    i.get("site") or "Site not given",
                    f"since {i['since']}" if i.get("since") else "",
                    f"pain {i['pain']}/10" if i.get("pain") is not None else "",
                )
                if part
            )
            for i in answer
        )
    if kind in {"contraindications", "medications"} and isinstance(answer, dict):
        if answer.get("none") and not answer.get("codes"):
            return "None of these"
        sites, details = answer.get("sites") or {}, answer.get("details") or {}
        parts = []
        for code in answer.get("codes") or []:
            known = BY_CODE.get(code)
            part = known.label if known else code
            extra = ", ".join(x for x in (sites.get(code), details.get(code)) if x)
            parts.append(f"{part} ({extra})" if extra else part)
        return "; ".join(parts)
    return value_text(answer)


def value_text(value) -> str:
    """Any stored value (text, number, list, mapping) as plain text."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{label_of(k)}: {value_text(v)}" for k, v in value.items())
    return str(value)


def label_of(key: str) -> str:
    """'pain_before' -> 'Pain before'."""
    return key.replace("_", " ").capitalize()


def _notes(client: Client) -> list[Note]:
    notes = db.session.scalars(
        select(TreatmentNote)
        .where(TreatmentNote.client_id == client.id)
        .order_by(TreatmentNote.created_at, TreatmentNote.id)
    ).all()
    note_ids = [n.id for n in notes]
    amendments: dict[uuid.UUID, list[NoteAmendment]] = defaultdict(list)
    for amendment in db.session.scalars(
        select(NoteAmendment)
        .where(NoteAmendment.note_id.in_(note_ids))
        .order_by(NoteAmendment.created_at, NoteAmendment.id)
    ):
        amendments[amendment.note_id].append(amendment)
    starts = dict(
        db.session.execute(
            select(Appointment.id, Appointment.starts_at).where(
                Appointment.id.in_([n.appointment_id for n in notes])
            )
        ).all()
    )
    authors = _names_of_members(
        {n.author_id for n in notes}
        | {n.signed_by_id for n in notes if n.signed_by_id}
        | {a.author_id for rows in amendments.values() for a in rows}
    )
    return [
        Note(
            note=n,
            appointment_starts_at=starts.get(n.appointment_id),
            author=authors.get(n.author_id),
            signed_by=authors.get(n.signed_by_id),
            amendments=[Amendment(a, authors.get(a.author_id)) for a in amendments[n.id]],
        )
        for n in notes
    ]


def _names_of_members(membership_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not membership_ids:
        return {}
    members = db.session.scalars(select(Membership).where(Membership.id.in_(membership_ids)))
    return {m.id: m.user.name for m in members}


# The SOAP order a note is read in; keys not listed here follow, under their own names.
NOTE_FIELDS = (
    ("subjective", "Subjective (the client's words)"),
    ("pain_before", "Pain before (0-10)"),
    ("pain_after", "Pain after (0-10)"),
    ("objective", "Objective findings"),
    ("gait", "Movement and gait"),
    ("assessment", "Assessment"),
    ("regions", "Body regions"),
    ("techniques", "Techniques"),
    ("plan", "Plan"),
    ("next_visit", "Next visit"),
    ("referral", "Referral"),
)


def note_lines(content: dict) -> list[tuple[str, str]]:
    """A note's content as (heading, text) lines for the printed record, empty ones left out."""
    from ..clinical.notes import next_visit_text, region_label, technique_label

    def text_of(key: str, value) -> str:
        if key == "regions" and isinstance(value, list):
            return "; ".join(region_label(r) if isinstance(r, dict) else str(r) for r in value)
        if key == "techniques" and isinstance(value, list):
            return "; ".join(_technique_text(t, technique_label, region_label) for t in value)
        if key == "next_visit" and isinstance(value, str):
            return next_visit_text(value)
        return value_text(value)

    known = dict(NOTE_FIELDS)
    keys = [k for k, _ in NOTE_FIELDS] + [k for k in content if k not in known]
    lines = []
    for key in keys:
        value = content.get(key)
        if value is None or value == "" or value == []:
            continue
        lines.append((known.get(key, label_of(key)), text_of(key, value)))
    return lines


def _technique_text(entry, technique_label, region_label) -> str:
    if not isinstance(entry, dict):
        return technique_label(str(entry))
    parts = [technique_label(str(entry.get("technique") or ""))]
    if isinstance(entry.get("region"), dict):
        parts.append(region_label(entry["region"]))
    elif entry.get("region"):
        parts.append(region_label({"region": entry["region"]}))
    if entry.get("minutes"):
        parts.append(f"{entry['minutes']} min")
    if entry.get("purpose"):
        parts.append(str(entry["purpose"]))
    return ", ".join(parts)
