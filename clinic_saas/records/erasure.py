"""Erasure on request: anonymise a client's identity and delete their clinical content, once the
clinic's retention period has passed; keep what the accounts need (appointments, package sales,
memberships: invoices hang off these).

Retention (DOMAIN.md): records are kept `clinic.retention_years` after the last entry; a client
who was a minor at the last entry has their records kept until their 25th birthday if that is
later. Before then erasure is refused, with the reason and the date it becomes possible.
Plain functions that flush, never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, or_, select, update

from .. import display
from ..clients.records import EDITABLE
from ..clinic_time import add_months, local_day
from ..clinical import audit
from ..extensions import db
from ..models import (
    ERASED_NAME,
    Appointment,
    AppointmentStatus,
    Client,
    ClientMembership,
    ClientMembershipStatus,
    Clinic,
    FlagAcknowledgement,
    IntakeLink,
    IntakeResponse,
    NoteAmendment,
    PackageSale,
    TreatmentNote,
)
from ..models.base import utcnow
from ..refusals import Conflict

ADULT_AGE = 18
CHILD_RECORDS_UNTIL_AGE = 25
# "Erased" and "client": the full name reads as models.ERASED_NAME everywhere it is shown.
ERASED_FIRST_NAME, ERASED_LAST_NAME = ERASED_NAME.split(" ", 1)


class ErasureRefused(Conflict):
    """Erasure is not possible (yet): str() says why, and when it becomes possible."""


@dataclass(frozen=True)
class Retention:
    """How long the client's records must be kept, and why."""

    last_entry: date | None  # the clinic-local date of the latest entry in the record
    last_entry_kind: str | None  # "appointment", "intake", ...
    erasable_on: date | None  # None: there is nothing to keep
    child_rule: bool  # the 25th birthday is what sets erasable_on
    retention_years: int  # the clinic's retention period

    @property
    def reason(self) -> str:
        if self.last_entry is None or self.erasable_on is None:
            return "There are no records to keep."
        years = self.retention_years
        entry = f"the last entry ({self.last_entry_kind}) on {display.day(self.last_entry)}"
        if self.child_rule:
            return (
                f"Records must be kept until {display.day(self.erasable_on)}: the client was a "
                f"child at {entry}, and a child's records are kept until their 25th birthday "
                f"(or {years} years after the last entry, whichever is later)."
            )
        return (
            f"Records must be kept until {display.day(self.erasable_on)}: {years} year"
            f"{'s' if years != 1 else ''} after {entry} (the clinic's retention period)."
        )


@dataclass(frozen=True)
class Erased:
    """What an erasure removed, by kind."""

    intakes: int
    intake_links: int
    acknowledgements: int
    notes: int
    amendments: int
    children_unlinked: int
    booking_notes_cleared: int

    def as_detail(self) -> dict:
        return dict(self.__dict__)


def _local_day(value: datetime | None, clinic: Clinic) -> date | None:
    return None if value is None else local_day(value, clinic.tz)


def _latest(column, *where):
    return db.session.scalar(select(func.max(column)).where(*where))


def _latest_entries(client: Client, clinic: Clinic) -> list[tuple[date, str]]:
    """The latest clinic-local date of each kind of entry in the record (a handful of queries)."""
    mine = client.id
    notes = select(TreatmentNote.id).where(TreatmentNote.client_id == mine)
    treated = Appointment.status != AppointmentStatus.CANCELLED, Appointment.starts_at <= utcnow()

    def local(value: datetime | None) -> date | None:
        return _local_day(value, clinic)

    found = [
        (
            local(_latest(Appointment.starts_at, Appointment.client_id == mine, *treated)),
            "appointment",
        ),
        (local(_latest(IntakeResponse.signed_at, IntakeResponse.client_id == mine)), "intake"),
        (
            local(
                _latest(
                    func.coalesce(TreatmentNote.signed_at, TreatmentNote.updated_at),
                    TreatmentNote.client_id == mine,
                )
            ),
            "treatment note",
        ),
        (
            local(_latest(NoteAmendment.created_at, NoteAmendment.note_id.in_(notes))),
            "note amendment",
        ),
        (_latest(PackageSale.sold_on, PackageSale.client_id == mine), "package sale"),
    ]
    for started, paused, cancelled in db.session.execute(
        select(
            ClientMembership.started_on, ClientMembership.paused_on, ClientMembership.cancelled_on
        ).where(ClientMembership.client_id == mine)
    ):
        found.append((max(d for d in (started, paused, cancelled) if d), "membership"))
    return [(day, kind) for day, kind in found if day is not None]


def retention(client: Client, *, clinic: Clinic) -> Retention:
    """When the client's records may be erased, and why not before."""
    years = clinic.retention_years
    entries = _latest_entries(client, clinic)
    if not entries:
        return Retention(None, None, None, False, years)
    last_entry, kind = max(entries, key=lambda e: e[0])
    keep_until = add_months(last_entry, 12 * years)
    child_rule = False
    if client.date_of_birth is not None and client.age_on(last_entry) < ADULT_AGE:
        twenty_fifth = add_months(client.date_of_birth, 12 * CHILD_RECORDS_UNTIL_AGE)
        if twenty_fifth > keep_until:
            keep_until, child_rule = twenty_fifth, True
    return Retention(last_entry, kind, keep_until, child_rule, years)


def erasable_on(client: Client, today: date, *, clinic: Clinic) -> date:
    """The first day the client's identity may be erased (today when there is nothing to keep)."""
    return retention(client, clinic=clinic).erasable_on or today


def erasure_problems(client: Client, today: date, *, clinic: Clinic) -> list[str]:
    """Why the client cannot be erased today, each with what would allow it; [] if it can."""
    if client.erased_at is not None:
        erased_on = display.day(_local_day(client.erased_at, clinic))
        return [f"This client's identity was already erased on {erased_on}: nothing is left."]
    problems = []
    booked = db.session.scalar(
        select(func.min(Appointment.starts_at)).where(
            Appointment.client_id == client.id,
            Appointment.status.in_([AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN]),
            Appointment.starts_at >= utcnow(),
        )
    )
    if booked is not None:
        on = display.day(_local_day(booked, clinic))
        problems.append(f"The client has an appointment booked on {on}: cancel it first.")
    running = db.session.scalar(
        select(ClientMembership.name)
        .where(
            ClientMembership.client_id == client.id,
            ClientMembership.status != ClientMembershipStatus.CANCELLED,
        )
        .limit(1)
    )
    if running is not None:
        problems.append(f"The client's membership “{running}” is still running: cancel it first.")
    kept = retention(client, clinic=clinic)
    if kept.erasable_on is not None and today < kept.erasable_on:
        problems.append(f"{kept.reason} Erasure is possible from {display.day(kept.erasable_on)}.")
    return problems


def erase(client: Client, today: date, *, clinic: Clinic) -> Erased:
    """Anonymise the client and delete their clinical content, or raise ErasureRefused."""
    problems = erasure_problems(client, today, clinic=clinic)
    if problems:
        raise ErasureRefused(" ".join(problems))
    erased = Erased(**_delete_clinical_content(client.id), **_unlink_family(client))
    _anonymise(client)
    db.session.flush()
    audit.record(
        "client.erase",
        client_id=client.id,
        subject_type="client",
        subject_id=client.id,
        detail=erased.as_detail(),
    )
    return erased


def _delete_clinical_content(client_id: uuid.UUID) -> dict[str, int]:
    """Delete every intake and note of the client, children before parents (foreign keys)."""
    appointments = select(Appointment.id).where(Appointment.client_id == client_id)
    responses = select(IntakeResponse.id).where(IntakeResponse.client_id == client_id)
    notes = select(TreatmentNote.id).where(TreatmentNote.client_id == client_id)

    def gone(statement) -> int:
        return db.session.execute(statement).rowcount

    amendments = gone(delete(NoteAmendment).where(NoteAmendment.note_id.in_(notes)))
    note_count = gone(delete(TreatmentNote).where(TreatmentNote.client_id == client_id))
    acknowledgements = gone(
        delete(FlagAcknowledgement).where(
            or_(
                FlagAcknowledgement.appointment_id.in_(appointments),
                FlagAcknowledgement.response_id.in_(responses),
            )
        )
    )
    intakes = gone(delete(IntakeResponse).where(IntakeResponse.client_id == client_id))
    links = gone(delete(IntakeLink).where(IntakeLink.client_id == client_id))
    # Booking notes and cancellation reasons are free text about the person; the appointment
    # itself (date, service, therapist, price, status) stays for the accounts.
    cleared = gone(
        update(Appointment)
        .where(
            Appointment.client_id == client_id,
            or_(Appointment.note.is_not(None), Appointment.cancellation_reason.is_not(None)),
        )
        .values(note=None, cancellation_reason=None)
    )
    return {
        "intakes": intakes,
        "intake_links": links,
        "acknowledgements": acknowledgements,
        "notes": note_count,
        "amendments": amendments,
        "booking_notes_cleared": cleared,
    }


def _unlink_family(client: Client) -> dict[str, int]:
    children = db.session.execute(
        update(Client).where(Client.guardian_id == client.id).values(guardian_id=None)
    ).rowcount
    client.guardian_id = None
    return {"children_unlinked": children}


# Everything that identifies or describes the person; emptied by erasure.
# The name gets a placeholder and consent turns off rather than empty (see _anonymise).
IDENTITY_FIELDS = (
    *(f for f in EDITABLE if f not in ("first_name", "last_name", "marketing_consent")),
    "marketing_consent_at",
)


def _anonymise(client: Client) -> None:
    client.first_name, client.last_name = ERASED_FIRST_NAME, ERASED_LAST_NAME
    for field in IDENTITY_FIELDS:
        setattr(client, field, None)
    client.marketing_consent = False
    client.erased_at = utcnow()
