"""A client's whole record, on request: everything the clinic holds about one person, in one dict.

The same dict is downloaded as JSON and rendered as a printable document. Datetimes are ISO 8601
in the clinic's timezone with their offset, dates are ISO dates, money is integer minor units with
the currency beside it. It holds clinical content (intake answers, notes): callers check
records.export and write the audit event.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections import defaultdict
from datetime import date, datetime

from flask import g
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..clinical.contraindications import BY_CODE, describe
from ..extensions import db
from ..models import (
    Appointment,
    Client,
    ClientMembership,
    IntakeResponse,
    IntakeTemplate,
    Membership,
    MembershipPeriod,
    MembershipUse,
    NoteAmendment,
    PackageRedemption,
    PackageSale,
    TreatmentNote,
)
from ..models.base import utcnow
from ..sales.usage import live_counts

FORMAT_VERSION = 1


def client_record(client: Client) -> dict:
    """The full record of one client of the bound clinic."""
    clinic = g.clinic
    return {
        "format": "clinic_saas client record",
        "format_version": FORMAT_VERSION,
        "exported_at": _instant(utcnow()),
        "clinic": {"name": clinic.name, "timezone": clinic.timezone, "currency": clinic.currency},
        "client": _identity(client),
        "family": _family(client),
        "appointments": _appointments(client),
        "purchases": {
            "packages": _package_sales(client),
            "memberships": _memberships(client),
        },
        "intakes": _intakes(client),
        "treatment_notes": _notes(client),
    }


def file_name(client: Client, day: date, extension: str) -> str:
    """'ada-runner-2026-03-03.json': ASCII only, so every browser keeps it as it is."""
    ascii_name = (
        unicodedata.normalize("NFKD", client.full_name).encode("ascii", "ignore").decode("ascii")
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60] or "client"
    return f"{slug}-{day.isoformat()}.{extension}"


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(g.clinic.tz).isoformat()


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _money(amount_minor: int | None) -> dict | None:
    if amount_minor is None:
        return None
    return {"amount_minor": amount_minor, "currency": g.clinic.currency}


def _identity(client: Client) -> dict:
    return {
        "id": str(client.id),
        "first_name": client.first_name,
        "last_name": client.last_name,
        "email": client.email,
        "phone": client.phone,
        "date_of_birth": _day(client.date_of_birth),
        "address": client.address,
        "emergency_contact": {
            "name": client.emergency_contact_name,
            "phone": client.emergency_contact_phone,
        },
        "gp": {"name": client.gp_name, "practice": client.gp_practice},
        "sport": client.sport,
        "activity_level": client.activity_level.value if client.activity_level else None,
        "activity_level_label": client.activity_level.label if client.activity_level else None,
        "marketing_consent": client.marketing_consent,
        "marketing_consent_at": _instant(client.marketing_consent_at),
        "created_at": _instant(client.created_at),
        "erased_at": _instant(client.erased_at),
    }


def _person(client: Client) -> dict:
    return {"id": str(client.id), "name": client.full_name}


def _family(client: Client) -> dict:
    related = db.session.scalars(
        select(Client)
        .where((Client.guardian_id == client.id) | (Client.id == client.guardian_id))
        .order_by(Client.last_name, Client.first_name, Client.id)
    ).all()
    guardian = next((c for c in related if c.id == client.guardian_id), None)
    return {
        "guardian": _person(guardian) if guardian is not None else None,
        "children": [_person(c) for c in related if c.guardian_id == client.id],
    }


def _appointments(client: Client) -> list[dict]:
    rows = db.session.scalars(
        select(Appointment)
        .options(
            joinedload(Appointment.service),
            joinedload(Appointment.therapist),
            joinedload(Appointment.location),
        )
        .where(Appointment.client_id == client.id)
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    return [
        {
            "id": str(a.id),
            "starts_at": _instant(a.starts_at),
            "ends_at": _instant(a.ends_at),
            "service": a.service.name,
            "therapist": a.therapist.display_name,
            "location": a.location.name,
            "status": a.status.value,
            "status_label": a.status.label,
            "price": _money(a.price_minor),
            "booking_note": a.note,
            "cancelled_at": _instant(a.cancelled_at),
            "cancellation_reason": a.cancellation_reason,
            "late_cancellation": a.late_cancellation,
        }
        for a in rows
    ]


def _package_sales(client: Client) -> list[dict]:
    sales = db.session.scalars(
        select(PackageSale)
        .where(PackageSale.client_id == client.id)
        .order_by(PackageSale.sold_on, PackageSale.created_at)
    ).all()
    used = live_counts(PackageRedemption.sale_id, [s.id for s in sales])
    return [
        {
            "id": str(s.id),
            "name": s.name,
            "sold_on": _day(s.sold_on),
            "expires_on": _day(s.expires_on),
            "sessions_total": s.sessions_total,
            "sessions_used": used[s.id],
            "price": _money(s.price_minor),
            "tax_rate_percent": s.tax_rate_bp / 100,
            "refunded_at": _instant(s.refunded_at),
            "refund": _money(s.refund_minor),
        }
        for s in sales
    ]


def _memberships(client: Client) -> list[dict]:
    enrolments = db.session.scalars(
        select(ClientMembership)
        .where(ClientMembership.client_id == client.id)
        .order_by(ClientMembership.started_on, ClientMembership.created_at)
    ).all()
    periods = db.session.execute(
        select(MembershipPeriod.id, MembershipPeriod.membership_id).where(
            MembershipPeriod.membership_id.in_([m.id for m in enrolments])
        )
    ).all()
    used_in_period = live_counts(MembershipUse.period_id, [p.id for p in periods])
    used: dict[uuid.UUID, int] = defaultdict(int)
    for period_id, membership_id in periods:
        used[membership_id] += used_in_period[period_id]
    return [
        {
            "id": str(m.id),
            "name": m.name,
            "status": m.status.value,
            "started_on": _day(m.started_on),
            "paused_on": _day(m.paused_on),
            "cancelled_on": _day(m.cancelled_on),
            "price_per_month": _money(m.price_minor),
            "tax_rate_percent": m.tax_rate_bp / 100,
            "sessions_per_month": m.sessions_per_period,
            "periods": sum(1 for _, owner in periods if owner == m.id),
            "sessions_used": used[m.id],
        }
        for m in enrolments
    ]


def _intakes(client: Client) -> list[dict]:
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


def _intake(response: IntakeResponse, template: IntakeTemplate) -> dict:
    answers = response.answers or {}
    questions = [
        {
            "key": q["key"],
            "section": q.get("section"),
            "label": q["label"],
            "answer": answers.get(q["key"]),
            "answer_text": answer_text(q, answers.get(q["key"])),
        }
        for q in template.questions
    ]
    asked = {q["key"] for q in template.questions}
    questions += [  # kept even if the template's wording of it is gone
        {"key": k, "section": None, "label": k, "answer": v, "answer_text": answer_text({}, v)}
        for k, v in answers.items()
        if k not in asked
    ]
    return {
        "id": str(response.id),
        "form": {"title": template.title, "version": template.version},
        "questions": questions,
        "flags": [dict(f, description=describe(f)) for f in response.flags or []],
        "consent_text": template.consent_text,
        "signed_name": response.signed_name,
        "signed_by_guardian": response.signed_by_guardian,
        "signed_at": _instant(response.signed_at),
        "submitted_via": response.submitted_via,
    }


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


def _notes(client: Client) -> list[dict]:
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
        {
            "id": str(n.id),
            "appointment_id": str(n.appointment_id),
            "appointment_starts_at": _instant(starts.get(n.appointment_id)),
            "status": n.status.value,
            "author": authors.get(n.author_id),
            "created_at": _instant(n.created_at),
            "updated_at": _instant(n.updated_at),
            "signed_at": _instant(n.signed_at),
            "signed_by": authors.get(n.signed_by_id),
            "content": n.content,
            "amendments": [
                {
                    "id": str(a.id),
                    "created_at": _instant(a.created_at),
                    "author": authors.get(a.author_id),
                    "text": a.text,
                }
                for a in amendments[n.id]
            ],
        }
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
