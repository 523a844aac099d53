"""SOAP treatment notes: what a note holds, how it is checked, drafted, signed and amended.

A note's content (TreatmentNote.content, encrypted) is a dict:
    subjective     the client's words, pain, goals                       str  (S)
    pain_before    0-10, or None                                         int | None
    pain_after     0-10, or None                                         int | None
    objective      posture, range of motion, palpation, tissue quality   str  (O)
    gait           movement and gait findings                            str  (O)
    assessment     assessment, functional outcome                        str  (A)
    regions        body regions worked on: [{"view", "region", "side"}]  list (P)
                   view "front" | "back", region a code of REGIONS, side "left" | "right" |
                   "both", or None for a region in the midline
    techniques     [{"technique", "region", "minutes", "purpose"}]       list (P)
                   technique: a Technique value or one of the clinic's own names
    plan           str; next_visit str (a date as YYYY-MM-DD, or words); referral str

A signed note is locked (models.clinical guards it too); corrections are NoteAmendments, dated
and signed by their author, and the original stays as it was. Functions here flush, never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from .. import display
from ..extensions import db
from ..models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    ImmutableRecordError,
    Membership,
    NoteAmendment,
    NoteStatus,
    Technique,
    Therapist,
    TreatmentNote,
    User,
)
from ..models.base import utcnow
from ..refusals import Conflict, Refusal
from . import audit, flags, status

TEXT_MAX = 5000
SHORT_MAX = 200  # next visit, a technique's purpose
AMENDMENT_MIN = 3
PAIN_MIN, PAIN_MAX = 0, 10
MINUTES_MIN, MINUTES_MAX = 1, 180
MAX_TECHNIQUES = 12
TEXT_FIELDS = ("subjective", "objective", "gait", "assessment", "plan", "referral")
# A note is written once the client is in the room (or afterwards), never before.
WRITABLE_STATUSES = (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)
HISTORY_LIMIT = 50


@dataclass(frozen=True)
class Region:
    code: str
    label: str
    view: str  # "front" or "back"
    sided: bool = True


FRONT, BACK = "front", "back"
VIEWS = {FRONT: "Front", BACK: "Back"}
SIDES = {"left": "left", "right": "right", "both": "both sides"}

REGIONS: tuple[Region, ...] = (
    Region("neck_front", "Neck (front, scalenes)", FRONT),
    Region("chest", "Chest (pectorals)", FRONT),
    Region("shoulder_front", "Shoulder (front, deltoid)", FRONT),
    Region("biceps", "Upper arm (biceps)", FRONT),
    Region("forearm_flexors", "Forearm (flexors)", FRONT),
    Region("wrist_hand", "Wrist and hand", FRONT),
    Region("abdomen", "Abdomen", FRONT, sided=False),
    Region("hip_flexors", "Hip flexors", FRONT),
    Region("adductors", "Adductors (groin)", FRONT),
    Region("quadriceps", "Quadriceps", FRONT),
    Region("it_band", "IT band (outer thigh)", FRONT),
    Region("knee", "Knee", FRONT),
    Region("shins", "Shins", FRONT),
    Region("ankle_foot", "Ankle and top of foot", FRONT),
    Region("neck", "Neck", BACK),
    Region("trapezius", "Shoulders and upper trapezius", BACK),
    Region("upper_back", "Upper back (rhomboids)", BACK),
    Region("rotator_cuff", "Shoulder blade and rotator cuff", BACK),
    Region("lats", "Latissimus dorsi", BACK),
    Region("triceps", "Upper arm (triceps)", BACK),
    Region("forearm_extensors", "Forearm (extensors)", BACK),
    Region("lower_back", "Lower back", BACK),
    Region("glutes", "Glutes", BACK),
    Region("hamstrings", "Hamstrings", BACK),
    Region("calves", "Calves", BACK),
    Region("achilles", "Achilles tendon", BACK),
    Region("feet", "Soles of the feet", BACK),
)
REGION_BY_CODE = {r.code: r for r in REGIONS}


class NoteError(Refusal):
    """A note that cannot be saved, signed or amended as asked; `fields` maps fields to messages."""


class NoteLocked(NoteError, Conflict):
    """The note is signed: it can only be amended."""


class NoteBlocked(NoteError):
    """The note cannot be written yet (client not checked in, red flags not acknowledged)."""


# The vocabulary ----------------------------------------------------------------------------------


def regions_by_view() -> dict[str, list[Region]]:
    return {view: [r for r in REGIONS if r.view == view] for view in VIEWS}


def region_label(entry: dict) -> str:
    """ "Hamstrings · left", "Abdomen"."""
    region = REGION_BY_CODE.get(entry.get("region"))
    label = region.label if region else str(entry.get("region"))
    side = entry.get("side")
    return f"{label} · {SIDES[side]}" if side in SIDES else label


def technique_label(value: str) -> str:
    try:
        return Technique(value).label
    except ValueError:
        return value.replace("_", " ").capitalize()


def technique_choices(keep: list[str] = ()) -> list[tuple[str, str]]:
    """The six techniques of sports massage, then the clinic's own names (from its therapists'
    profiles), and any name an existing note already uses."""
    standard = [(t.value, t.label) for t in Technique]
    known = {value for value, _ in standard}
    extra: dict[str, str] = {}
    for names in db.session.scalars(select(Therapist.techniques)):
        for name in names or []:
            if isinstance(name, str) and name and name not in known:
                extra.setdefault(name, technique_label(name))
    for name in keep:
        if name and name not in known:
            extra.setdefault(name, technique_label(name))
    return standard + sorted(extra.items(), key=lambda item: item[1].lower())


# Checking what was written -----------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    return str(value).replace("\r\n", "\n").replace("\x00", "").strip()


def _whole_number(value) -> tuple[int | None, bool]:
    """(number, ok): "" and None are no number; anything but digits is not ok."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, True
    if isinstance(value, bool):
        return None, False
    if isinstance(value, int):
        return value, True
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text), True
    return None, False


def _parse_region(value: str) -> dict | None:
    code, _, side = _text(value).partition(":")
    region = REGION_BY_CODE.get(code)
    if region is None:
        return None
    if region.sided:
        if side not in SIDES:
            return None
    elif side:
        return None
    return {"view": region.view, "region": region.code, "side": side or None}


def _merge_sides(entries: list[dict]) -> list[dict]:
    """Left and right of one region are "both"; the list follows the order of REGIONS."""
    sides: dict[str, set] = {}
    for entry in entries:
        sides.setdefault(entry["region"], set()).add(entry["side"])
    merged = []
    for region in REGIONS:
        chosen = sides.get(region.code)
        if chosen is None:
            continue
        if not region.sided:
            side = None
        elif "both" in chosen or {"left", "right"} <= chosen:
            side = "both"
        else:
            side = next(iter(chosen))
        merged.append({"view": region.view, "region": region.code, "side": side})
    return merged


def clean(raw: dict, techniques: set[str]) -> dict:
    """The content to store, from what the form sent; NoteError with every problem otherwise.

    `techniques` are the names allowed (technique_choices). Blank technique rows are ignored.
    """
    errors: dict[str, str] = {}
    content = _clean_texts(raw, errors)
    content["regions"] = _clean_regions(raw.get("regions") or [], errors)
    content["techniques"] = _clean_techniques(list(raw.get("techniques") or []), techniques, errors)
    if errors:
        raise NoteError("Check the highlighted parts of the note.", fields=errors)
    return content


def _clean_texts(raw: dict, errors: dict[str, str]) -> dict:
    content: dict = {}
    for name in TEXT_FIELDS:
        text = _text(raw.get(name))
        if len(text) > TEXT_MAX:
            errors[name] = f"Keep this under {TEXT_MAX} characters (it has {len(text)})."
        content[name] = text
    for name, label in (("pain_before", "before"), ("pain_after", "after")):
        number, ok = _whole_number(raw.get(name))
        if not ok or (number is not None and not PAIN_MIN <= number <= PAIN_MAX):
            errors[name] = (
                f"Pain {label} is a whole number from {PAIN_MIN} (none) to {PAIN_MAX} "
                "(worst imaginable)."
            )
            number = None
        content[name] = number
    next_visit = _text(raw.get("next_visit"))
    if len(next_visit) > SHORT_MAX:
        errors["next_visit"] = f"Keep the next visit under {SHORT_MAX} characters."
    content["next_visit"] = next_visit
    return content


def _clean_regions(values: list, errors: dict[str, str]) -> list[dict]:
    chosen, unknown = [], []
    for value in values:
        entry = _parse_region(value)
        if entry is None:
            unknown.append(_text(value)[:40])
        else:
            chosen.append(entry)
    if unknown:
        shown = ", ".join(unknown[:5]) + (
            f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        )
        errors["regions"] = f"Unknown body region: {shown}."
    return _merge_sides(chosen)


def _clean_techniques(given: list, techniques: set[str], errors: dict[str, str]) -> list[dict]:
    if len(given) > MAX_TECHNIQUES:
        errors["techniques"] = f"Record at most {MAX_TECHNIQUES} techniques."
    rows = []
    for n, row in enumerate(given[:MAX_TECHNIQUES]):
        cleaned = _clean_technique_row(row or {}, techniques, f"techniques-{n}-", errors)
        if cleaned is not None:
            rows.append(cleaned)
    return rows


def _clean_technique_row(
    row: dict, techniques: set[str], key: str, errors: dict[str, str]
) -> dict | None:
    """One technique row, or None for a row of the form left empty."""
    technique = _text(row.get("technique"))
    region = _text(row.get("region"))
    purpose = _text(row.get("purpose"))
    minutes, minutes_ok = _whole_number(row.get("minutes"))
    if not (technique or region or purpose or row.get("minutes") not in (None, "")):
        return None
    if not technique:
        errors[key + "technique"] = "Choose the technique."
    elif technique not in techniques:
        errors[key + "technique"] = "Choose one of the listed techniques."
    if not region:
        errors[key + "region"] = "Choose where it was used."
    elif region not in REGION_BY_CODE:
        errors[key + "region"] = "Unknown body region."
    if minutes is None or not minutes_ok or not MINUTES_MIN <= minutes <= MINUTES_MAX:
        errors[key + "minutes"] = f"Minutes from {MINUTES_MIN} to {MINUTES_MAX}."
    if len(purpose) > SHORT_MAX:
        errors[key + "purpose"] = f"Keep the purpose under {SHORT_MAX} characters."
    return {"technique": technique, "region": region, "minutes": minutes, "purpose": purpose}


def missing_for_signing(content: dict) -> list[str]:
    """What a note needs before it can be signed (an empty list when it is ready)."""
    missing = []
    if not (content.get("subjective") or content.get("assessment")):
        missing.append("the client's account (S) or your assessment (A)")
    if not (content.get("techniques") or content.get("regions")):
        missing.append("at least one technique or body region")
    return missing


def next_visit_text(value: str | None) -> str:
    """A date is shown as one ("Tuesday 17 June 2031"), words as they were written."""
    if not value:
        return ""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day:%A} {day.day} {day:%B %Y}"


# Reading -----------------------------------------------------------------------------------------


def note_for(appointment_id: uuid.UUID, *, for_update: bool = False) -> TreatmentNote | None:
    query = select(TreatmentNote).where(TreatmentNote.appointment_id == appointment_id)
    if for_update:
        # Lock the row and re-read it: a note signed meanwhile by another request is seen as
        # signed here, not as the draft this session may have loaded earlier.
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def statuses(appointment_ids: list[uuid.UUID]) -> dict[uuid.UUID, NoteStatus]:
    """The note status of each appointment that has a note (plain columns: nothing decrypted)."""
    if not appointment_ids:
        return {}
    rows = db.session.execute(
        select(TreatmentNote.appointment_id, TreatmentNote.status).where(
            TreatmentNote.appointment_id.in_(appointment_ids)
        )
    )
    return dict(rows.all())


def member_names(membership_ids) -> dict[uuid.UUID, str]:
    ids = [m for m in dict.fromkeys(membership_ids) if m is not None]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Membership.id, User.name)
        .join(User, User.id == Membership.user_id)
        .where(Membership.id.in_(ids))
    )
    return dict(rows.all())


@dataclass(frozen=True)
class Amendment:
    text: str
    author: str
    created_at: datetime


def amendments_of(note: TreatmentNote) -> list[Amendment]:
    rows = db.session.execute(
        select(NoteAmendment, User.name)
        .join(Membership, Membership.id == NoteAmendment.author_id)
        .join(User, User.id == Membership.user_id)
        .where(NoteAmendment.note_id == note.id)
        .order_by(NoteAmendment.created_at, NoteAmendment.id)
    )
    return [Amendment(a.text, name, a.created_at) for a, name in rows]


def read(note: TreatmentNote) -> dict:
    """The decrypted content of a note, and its audit event (every view of a note is recorded)."""
    audit.record(
        "note.view",
        client_id=note.client_id,
        subject_type="treatment_note",
        subject_id=note.id,
    )
    return dict(note.content or {})


@dataclass(frozen=True)
class HistoryRow:
    appointment: Appointment
    note_id: uuid.UUID | None
    status: str  # "none", "draft", "signed", "amended"
    pain_before: int | None
    pain_after: int | None
    regions: list[str]

    @property
    def status_label(self) -> str:
        return {"none": "No note", "draft": "Draft", "signed": "Signed", "amended": "Amended"}[
            self.status
        ]


def history(client_id: uuid.UUID, limit: int = HISTORY_LIMIT) -> list[HistoryRow]:
    """The client's sessions (attended, or with a note), newest first, with what their notes say.

    Decrypting the notes for the list is a read: one "note.view" event records it, with the ids
    of the notes listed in its detail.
    """
    rows = db.session.execute(
        select(Appointment, TreatmentNote)
        .outerjoin(TreatmentNote, TreatmentNote.appointment_id == Appointment.id)
        .options(joinedload(Appointment.service), joinedload(Appointment.therapist))
        .where(
            Appointment.client_id == client_id,
            or_(Appointment.status.in_(WRITABLE_STATUSES), TreatmentNote.id.is_not(None)),
        )
        .order_by(Appointment.starts_at.desc())
        .limit(limit)
    ).all()
    note_ids = [note.id for _, note in rows if note is not None]
    amended = set()
    if note_ids:
        amended = set(
            db.session.scalars(
                select(NoteAmendment.note_id).where(NoteAmendment.note_id.in_(note_ids)).distinct()
            )
        )
        audit.record(
            "note.view",
            client_id=client_id,
            subject_type="note_list",
            detail={"note_ids": [str(n) for n in note_ids]},
        )
    result = []
    for appointment, note in rows:
        if note is None:
            result.append(HistoryRow(appointment, None, "none", None, None, []))
            continue
        content = note.content or {}
        state = note.status.value
        if note.id in amended:
            state = "amended"
        result.append(
            HistoryRow(
                appointment,
                note.id,
                state,
                content.get("pain_before"),
                content.get("pain_after"),
                [region_label(r) for r in content.get("regions") or []],
            )
        )
    return result


def notes_count(client_id: uuid.UUID) -> int:
    """How many sessions of the client have a note: all the desk may know of them."""
    return db.session.scalar(
        select(func.count()).select_from(TreatmentNote).where(TreatmentNote.client_id == client_id)
    )


# Writing -----------------------------------------------------------------------------------------


def writing_blocked(appointment: Appointment, clinic: Clinic) -> str | None:
    """Why the note of this appointment cannot be written now, or None when it can."""
    if appointment.status not in WRITABLE_STATUSES:
        return "Check the client in before writing the treatment note."
    if not flags.is_acknowledged(appointment, status.summary(appointment.client_id, clinic=clinic)):
        return "Acknowledge the red flags before writing the note."
    return None


def signing_blocked(
    appointment: Appointment, clinic: Clinic, now: datetime | None = None
) -> str | None:
    """Why the note cannot be signed yet: a session is written up for good only once it began."""
    if (now or utcnow()) < appointment.starts_at:
        return (
            "This session has not started yet: its note can be signed from "
            f"{display.clock_on_day(appointment.starts_at, clinic.tz)}, its start time."
        )
    return None


def _locked() -> NoteLocked:
    return NoteLocked("This note is signed and locked. Add an amendment to correct it.")


def save_draft(
    appointment: Appointment, content: dict, membership: Membership, *, clinic: Clinic
) -> TreatmentNote:
    """Create or update the draft note of an appointment with checked content (see clean)."""
    blocked = writing_blocked(appointment, clinic)
    if blocked:
        raise NoteBlocked(blocked)
    note = note_for(appointment.id, for_update=True)
    if note is not None and note.is_signed:
        raise _locked()
    now = utcnow()
    if note is None:
        note = TreatmentNote(
            appointment_id=appointment.id,
            client_id=appointment.client_id,
            author_id=membership.id,
            content=content,
            status=NoteStatus.DRAFT,
            created_at=now,
            updated_at=now,
        )
        db.session.add(note)
    else:
        note.content = content
        note.updated_at = now
    try:
        db.session.flush()
    except ImmutableRecordError as problem:  # signed by someone else meanwhile
        raise _locked() from problem
    audit.record(
        "note.write", client_id=note.client_id, subject_type="treatment_note", subject_id=note.id
    )
    return note


def sign(
    appointment: Appointment, note: TreatmentNote, membership: Membership, *, clinic: Clinic
) -> None:
    """Sign a complete draft: from now on it is locked."""
    if note.is_signed:
        raise _locked()
    blocked = writing_blocked(appointment, clinic)
    if blocked:
        raise NoteBlocked(blocked)
    early = signing_blocked(appointment, clinic)
    if early:
        raise NoteError(early)  # the draft stays as it is
    missing = missing_for_signing(note.content or {})
    if missing:
        raise NoteError("Before signing, the note needs " + " and ".join(missing) + ".")
    note.status = NoteStatus.SIGNED
    note.signed_at = utcnow()
    note.signed_by_id = membership.id
    try:
        db.session.flush()
    except ImmutableRecordError as problem:
        raise _locked() from problem
    audit.record(
        "note.sign", client_id=note.client_id, subject_type="treatment_note", subject_id=note.id
    )


def amend(note: TreatmentNote, text: str, membership: Membership) -> NoteAmendment:
    """Add a dated correction to a signed note; the note itself stays as signed."""
    if not note.is_signed:
        raise NoteError("A draft can still be edited: amendments are for signed notes.")
    text = _text(text)
    if not AMENDMENT_MIN <= len(text) <= TEXT_MAX:
        raise NoteError(
            "Check the amendment.",
            fields={"text": f"Write the correction: {AMENDMENT_MIN} to {TEXT_MAX} characters."},
        )
    amendment = NoteAmendment(note_id=note.id, author_id=membership.id, text=text)
    db.session.add(amendment)
    db.session.flush()
    audit.record(
        "note.amend",
        client_id=note.client_id,
        subject_type="treatment_note",
        subject_id=note.id,
        detail={"amendment_id": str(amendment.id)},
    )
    return amendment
