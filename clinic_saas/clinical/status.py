"""Where each client's intake stands: missing, outdated or current, and whether it raised flags.

What this module returns from plain columns (status, dates, has_flags, flag_level) is what the
desk may see.
The flags themselves are decrypted only by `flags_of`, which callers use for roles that may read
clinical content, and which they audit.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..clinic_time import add_months
from ..extensions import db
from ..models import Clinic, IntakeResponse
from ..models.base import utcnow


class IntakeState(enum.StrEnum):
    MISSING = "missing"
    OUTDATED = "outdated"
    CURRENT = "current"

    @property
    def label(self) -> str:
        return {
            "missing": "No intake on file",
            "outdated": "Intake out of date",
            "current": "Intake complete",
        }[self.value]


@dataclass(frozen=True)
class IntakeSummary:
    client_id: uuid.UUID
    state: IntakeState
    response_id: uuid.UUID | None = None
    signed_at: datetime | None = None
    has_flags: bool = False
    flag_level: str | None = None

    @property
    def stops_treatment(self) -> bool:
        """Whether the desk is warned: the latest intake has an absolute flag, or a flag whose
        level an old row does not record (None with has_flags: assume the worst)."""
        return self.has_flags and self.flag_level in (None, "absolute")

    @property
    def needs_attention(self) -> bool:
        """Something the therapist must acknowledge before treating: a flag, or no valid intake."""
        return self.has_flags or self.state is not IntakeState.CURRENT


def _outdated(signed_at: datetime, now: datetime, valid_months: int) -> bool:
    return add_months(signed_at.date(), valid_months) <= now.date()


def summaries(
    client_ids: Iterable[uuid.UUID], *, clinic: Clinic, now: datetime | None = None
) -> dict:
    """{client_id: IntakeSummary} for every given client, from one query (the latest intake)."""
    ids = list(dict.fromkeys(client_ids))
    now = now or utcnow()
    result = {cid: IntakeSummary(cid, IntakeState.MISSING) for cid in ids}
    if not ids:
        return result
    ranked = (
        select(
            IntakeResponse.id,
            IntakeResponse.client_id,
            IntakeResponse.signed_at,
            IntakeResponse.has_flags,
            IntakeResponse.flag_level,
            func.row_number()
            .over(
                partition_by=IntakeResponse.client_id,
                order_by=(IntakeResponse.signed_at.desc(), IntakeResponse.id.desc()),
            )
            .label("rank"),
        )
        .where(IntakeResponse.client_id.in_(ids))
        .subquery()
    )
    rows = db.session.execute(
        select(
            ranked.c.id,
            ranked.c.client_id,
            ranked.c.signed_at,
            ranked.c.has_flags,
            ranked.c.flag_level,
        ).where(ranked.c.rank == 1)
    )
    for response_id, client_id, signed_at, has_flags, flag_level in rows:
        state = (
            IntakeState.OUTDATED
            if _outdated(signed_at, now, clinic.intake_valid_months)
            else IntakeState.CURRENT
        )
        result[client_id] = IntakeSummary(
            client_id, state, response_id, signed_at, has_flags, flag_level
        )
    return result


def summary(client_id: uuid.UUID, *, clinic: Clinic, now: datetime | None = None) -> IntakeSummary:
    """One client's intake state under the clinic's validity period."""
    return summaries([client_id], clinic=clinic, now=now)[client_id]


def flags_of(response_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[dict]]:
    """{response_id: flags}, decrypted, in one query. Clinical content: audit the read."""
    ids = [r for r in dict.fromkeys(response_ids) if r is not None]
    if not ids:
        return {}
    rows = db.session.execute(
        select(IntakeResponse.id, IntakeResponse.flags).where(IntakeResponse.id.in_(ids))
    )
    return {response_id: flags or [] for response_id, flags in rows}
