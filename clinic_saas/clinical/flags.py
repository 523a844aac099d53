"""Red flags beside the appointment book: what each client's intake says before treatment, and
the therapist's acknowledgement of it.

`load` gathers everything a page of appointments needs in a fixed number of statements whatever
the number of appointments: the intake summaries (one query), the decrypted flags for members
who may read clinical content (one query) with their audit events (one INSERT), and the
acknowledgements with the names of who gave them (one query).

An acknowledgement is of one intake: when a newer intake arrives after it (or the first one,
after "no intake on file" was acknowledged), it no longer counts and the therapist acknowledges
again; the row is then brought up to date, and the audit log keeps every acknowledgement.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import display
from ..extensions import db
from ..models import Appointment, AppointmentStatus, Clinic, FlagAcknowledgement, Membership, User
from ..models.base import utcnow
from ..permissions import can, may_treat
from ..refusals import Refusal
from . import audit, status
from .contraindications import FlagLevel, describe, describe_reported, lapsed
from .status import IntakeState, IntakeSummary

# Appointments where nobody is treated need no acknowledgement.
NOT_TREATED = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)


class AcknowledgementError(Refusal):
    """An acknowledgement that cannot be given (nothing to acknowledge, nobody treated)."""


@dataclass(frozen=True)
class FlagLine:
    """One red flag as the therapist reads it for one appointment, with the day it was reported:
    "Local: avoid the left calf (Varicose veins), reported on 1 Dec"; `lapsed` when a time-bound
    condition's window has passed by the appointment ("...: reassess before treating")."""

    level: FlagLevel
    text: str
    lapsed: bool = False


@dataclass(frozen=True)
class Acknowledged:
    appointment_id: uuid.UUID
    response_id: uuid.UUID | None
    by: str
    at: datetime


@dataclass
class RedFlags:
    """The red flags of the clients of some appointments, as the current member may see them."""

    clinical: bool
    tz: tzinfo | None = None
    summaries: dict[uuid.UUID, IntakeSummary] = field(default_factory=dict)
    flags: dict[uuid.UUID, list[dict]] = field(default_factory=dict)  # decrypted, per client
    acknowledgements: dict[uuid.UUID, Acknowledged] = field(default_factory=dict)

    def summary(self, appointment: Appointment) -> IntakeSummary:
        found = self.summaries.get(appointment.client_id)
        return found or IntakeSummary(appointment.client_id, IntakeState.MISSING)

    def lines_for(self, appointment: Appointment) -> list[FlagLine]:
        """The client's flags as they stand at this appointment (a lapsed one says reassess)."""
        flags = self.flags.get(appointment.client_id) if self.clinical else None
        if not flags:
            return []
        return lines_of(flags, self.summary(appointment).signed_at, appointment.starts_at, self.tz)

    def acknowledged(self, appointment: Appointment) -> Acknowledged | None:
        """The acknowledgement of the client's latest intake (an older one no longer counts)."""
        ack = self.acknowledgements.get(appointment.id)
        if ack is None or ack.response_id != self.summary(appointment).response_id:
            return None
        return ack

    def stale_acknowledgement(self, appointment: Appointment) -> Acknowledged | None:
        ack = self.acknowledgements.get(appointment.id)
        return ack if ack is not None and self.acknowledged(appointment) is None else None

    def needs_acknowledgement(self, appointment: Appointment) -> bool:
        return (
            appointment.status not in NOT_TREATED
            and self.summary(appointment).needs_attention
            and self.acknowledged(appointment) is None
        )

    def may_acknowledge(self, appointment: Appointment) -> bool:
        return self.needs_acknowledgement(appointment) and may_treat(appointment)


def reported_on(reported_at: datetime, at: datetime, tz: tzinfo | None) -> str:
    """ "1 Dec", or "1 Dec 2030" when reported in another year than the appointment's."""
    if reported_at.astimezone(tz).year == at.astimezone(tz).year:
        return display.day_month(reported_at, tz)
    return display.day(reported_at, tz)


def lines_of(
    flags: list[dict],
    reported_at: datetime | None = None,
    at: datetime | None = None,
    tz: tzinfo | None = None,
) -> list[FlagLine]:
    """The lines of these flags for an appointment at `at`, reported by the intake signed at
    `reported_at` (without them: the catalogue's wording alone)."""
    if reported_at is None or at is None:
        return [FlagLine(FlagLevel(f["level"]), describe(f)) for f in flags]
    day = reported_on(reported_at, at, tz)
    lines = []
    for flag in flags:
        gone = lapsed(flag, reported_at, at)
        text = describe_reported(flag, day, lapsed=gone)
        lines.append(FlagLine(FlagLevel(flag["level"]), text, gone))
    return lines


def load(
    appointments: Iterable[Appointment],
    *,
    clinic: Clinic,
    now: datetime | None = None,
    decrypt: bool | Iterable[Appointment] = True,
) -> RedFlags:
    """Summaries, acknowledgements and, for clinical roles, the flags themselves (audited).

    `decrypt` limits the flag lines to some of the appointments (a page that shows the text for
    one day and badges for the next), or turns them off (False: an error page, which is rolled
    back with its audit events and so may show no clinical content).
    """
    appointments = [a for a in appointments if a.status != AppointmentStatus.CANCELLED]
    result = RedFlags(clinical=decrypt is not False and can("clinical.read"), tz=clinic.tz)
    if not appointments:
        return result
    result.summaries = status.summaries([a.client_id for a in appointments], clinic=clinic, now=now)
    if result.clinical:
        readable = (
            {a.client_id for a in appointments}
            if decrypt is True
            else {a.client_id for a in decrypt if a.status != AppointmentStatus.CANCELLED}
        )
        flagged = {
            s.response_id: s.client_id
            for s in result.summaries.values()
            if s.has_flags and s.client_id in readable
        }
        decrypted = status.flags_of(flagged)
        result.flags = {flagged[rid]: flags for rid, flags in decrypted.items()}
        shown = [cid for cid, flags in result.flags.items() if flags]
        if shown:
            audit.record_many("flags.view", shown)
    result.acknowledgements = _acknowledgements([a.id for a in appointments])
    return result


def _acknowledgements(appointment_ids: list[uuid.UUID]) -> dict[uuid.UUID, Acknowledged]:
    rows = db.session.execute(
        select(FlagAcknowledgement, User.name)
        .join(Membership, Membership.id == FlagAcknowledgement.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(FlagAcknowledgement.appointment_id.in_(appointment_ids))
    )
    return {
        ack.appointment_id: Acknowledged(
            ack.appointment_id, ack.response_id, name, ack.acknowledged_at
        )
        for ack, name in rows
    }


def acknowledge(
    appointment: Appointment, membership: Membership, *, clinic: Clinic
) -> FlagAcknowledgement | None:
    """Record that this member read the client's flags (or the missing or outdated intake).

    Returns the new or refreshed acknowledgement, or None when the latest intake was already
    acknowledged (a second click changes nothing). Flushes; the caller commits.
    """
    if appointment.status in NOT_TREATED:
        raise AcknowledgementError(
            f"A {appointment.status.label.lower()} appointment needs no acknowledgement."
        )
    summary = status.summary(appointment.client_id, clinic=clinic)
    if not summary.needs_attention:
        raise AcknowledgementError(
            "Nothing to acknowledge: the intake is current and raised no red flags."
        )
    ack = db.session.scalar(
        select(FlagAcknowledgement)
        .where(FlagAcknowledgement.appointment_id == appointment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if ack is not None and ack.response_id == summary.response_id:
        return None
    if ack is None:
        try:
            with db.session.begin_nested():
                ack = FlagAcknowledgement(
                    appointment_id=appointment.id,
                    response_id=summary.response_id,
                    membership_id=membership.id,
                    acknowledged_at=utcnow(),
                )
                db.session.add(ack)
        except IntegrityError:
            return None  # a second click that raced the first: already acknowledged
    else:
        ack.response_id = summary.response_id
        ack.membership_id = membership.id
        ack.acknowledged_at = utcnow()
    audit.record(
        "flags.acknowledge",
        client_id=appointment.client_id,
        subject_type="appointment",
        subject_id=appointment.id,
        detail={"response_id": str(summary.response_id) if summary.response_id else None},
    )
    db.session.flush()
    return ack


def is_acknowledged(appointment: Appointment, summary: IntakeSummary) -> bool:
    """Whether the note may be written as far as the flags go (nothing to acknowledge, or done)."""
    if not summary.needs_attention:
        return True
    ack = db.session.scalar(
        select(FlagAcknowledgement).where(FlagAcknowledgement.appointment_id == appointment.id)
    )
    return ack is not None and ack.response_id == summary.response_id
