"""Merging duplicate client records: one person entered twice becomes one record again.

Every row that points at the duplicate (appointments, sales, memberships, intake links and
answers, treatment notes, a family's children) is moved to the kept record, blank fields of the
kept record are filled from the duplicate, and the duplicate is deleted. The tables are found
from the schema itself, so a table added later that refers to a client is moved as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update

from .. import display
from ..clinical import audit
from ..extensions import db
from ..models import Client, TenantScoped
from .family import guardian_of, has_children
from .records import EDITABLE, EMERGENCY_CONTACT, ClientError

# Filled from the duplicate when blank on the kept record. A person's emergency contact is a pair:
# it is taken whole or not at all, so one person's name never gets another's phone number.
FILLED_ONE_BY_ONE = tuple(f for f in EDITABLE if f not in (*EMERGENCY_CONTACT, "marketing_consent"))


@dataclass(frozen=True)
class MergedValue:
    """One field as the merge will leave it: the kept value, or the duplicate's filling a blank."""

    field: str
    kept: object
    duplicate: object
    result: object

    @property
    def from_duplicate(self) -> bool:
        return self.kept in (None, "") and self.result not in (None, "")


def client_references() -> list[tuple[type, str]]:
    """(model, column) for every column that refers to a client, found in the schema."""
    found = []
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        if not issubclass(model, TenantScoped):
            continue
        for constraint in mapper.local_table.foreign_key_constraints:
            if constraint.referred_table.name != Client.__tablename__:
                continue
            for column in constraint.columns:
                if column.name != "clinic_id":
                    found.append((model, mapper.get_property_by_column(column).key))
    return sorted(found, key=lambda pair: (pair[0].__name__, pair[1]))


def preview(keep: Client, duplicate: Client) -> list[MergedValue]:
    """What the kept record will hold after the merge, field by field."""
    values = []
    for field in FILLED_ONE_BY_ONE:
        kept, other = getattr(keep, field), getattr(duplicate, field)
        result = other if kept in (None, "") else kept
        values.append(MergedValue(field, kept, other, result))
    take_contact = not any(getattr(keep, f) for f in EMERGENCY_CONTACT)
    for field in EMERGENCY_CONTACT:
        kept, other = getattr(keep, field), getattr(duplicate, field)
        values.append(MergedValue(field, kept, other, other if take_contact else kept))
    return values


def merge_problem(keep: Client, duplicate: Client) -> str | None:
    """Why these two records cannot be merged, or None when they can."""
    if keep.id == duplicate.id:
        return "A client cannot be merged with themselves: choose the other record."
    if keep.erased_at is not None or duplicate.erased_at is not None:
        return "An erased client cannot be merged: their identity is gone."
    if keep.guardian_id == duplicate.id or duplicate.guardian_id == keep.id:
        return (
            "One of these records is the other's guardian: a parent and their child are two "
            "people, not a duplicate."
        )
    keep_parent = keep.guardian_id or duplicate.guardian_id
    keep_children = has_children(keep) or has_children(duplicate)
    if keep_parent is not None and keep_children:
        return (
            "One record is in a family as a child and the other is a guardian: merged, the client "
            "would be both. Unlink the family first."
        )
    return None


def merge_clients(keep: Client, duplicate: Client) -> dict[str, int]:
    """Fold the duplicate into the kept record and delete it; {table: rows moved}."""
    problem = merge_problem(keep, duplicate)
    if problem:
        raise ClientError(problem)
    if keep.guardian_id is None and duplicate.guardian_id is not None:
        guardian = guardian_of(duplicate)
        keep.guardian_id = guardian.id if guardian is not None else None
    # Marketing consent stays the kept record's: consent is never carried over from another one.
    for value in preview(keep, duplicate):
        setattr(keep, value.field, value.result)
    keep.created_at = min(keep.created_at, duplicate.created_at)
    db.session.flush()

    moved: dict[str, int] = {}
    for model, attribute in client_references():
        column = getattr(model, attribute)
        result = db.session.execute(
            update(model)
            .where(column == duplicate.id)
            .values({attribute: keep.id})
            .execution_options(synchronize_session="fetch")
        )
        if result.rowcount:
            moved[model.__tablename__] = result.rowcount
    duplicate_id = duplicate.id
    db.session.delete(duplicate)
    db.session.flush()
    audit.record("client.merge", client_id=keep.id, detail={"merged_client_id": str(duplicate_id)})
    db.session.flush()
    return moved


def moved_summary(moved: dict[str, int]) -> str | None:
    """What a merge moved that the desk cares to hear ('1 appointment moved'), or None."""
    appointments = moved.get("appointment", 0)
    return f"{display.count(appointments, 'appointment')} moved" if appointments else None
