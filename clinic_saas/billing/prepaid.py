"""Sessions already paid for: used from a package or a membership, so never invoiced again."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select

from ..extensions import db
from ..models import MembershipUse, PackageRedemption

PREPAID = "This session was paid for by a package or a membership: there is nothing to invoice."


def prepaid_ids(appointment_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Those of these appointments that a package or a membership session covers (two reads)."""
    ids = list(appointment_ids)
    if not ids:
        return set()
    found = set()
    for model in (PackageRedemption, MembershipUse):
        found |= set(
            db.session.scalars(
                select(model.appointment_id).where(
                    model.appointment_id.in_(ids), model.reversed_at.is_(None)
                )
            )
        )
    return found
