"""Counting the sessions used from a package sale or a membership period."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func, select

from ..extensions import db


def live_counts(owner_column, owner_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Rows not reversed per owner, in one query: e.g. live_counts(PackageRedemption.sale_id, ids).

    Uses are append-only rows that may be reversed, so what is used is always counted, never stored.
    """
    ids = list(owner_ids)
    result = dict.fromkeys(ids, 0)
    if ids:
        model = owner_column.class_
        for owner_id, used in db.session.execute(
            select(owner_column, func.count())
            .where(owner_column.in_(ids), model.reversed_at.is_(None))
            .group_by(owner_column)
        ):
            result[owner_id] = used
    return result
