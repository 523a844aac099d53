"""Shared column types and the TenantScoped base that every clinic-owned model uses."""

from __future__ import annotations

import enum
import os
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, ForeignKeyConstraint, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import Mapped, MappedColumn, declared_attr, mapped_column, relationship

from ..extensions import db


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 v7): unguessable in URLs, index-friendly, portable to Citus."""
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return uuid.UUID(int=value)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _enum_values(enum_type: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_type]


def enum_column(enum_type: type[enum.Enum], *, length: int = 20, **kwargs) -> MappedColumn:
    """An enum stored by its values as plain text: portable, and no ALTER TYPE to add a member."""
    return mapped_column(
        db.Enum(enum_type, native_enum=False, length=length, values_callable=_enum_values),
        **kwargs,
    )


class LabelledEnum(enum.StrEnum):
    """An enum whose label for people is its value in words: 'no_show' -> 'No show'."""

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in and out, also on SQLite, which stores no offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: store timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TenantScoped(db.Model):
    """A row owned by one clinic.

    The primary key is (clinic_id, id) so that the schema can be distributed by clinic_id, and
    tenancy.py scopes every ORM read, bulk write and flush of these models to the bound clinic.
    """

    __abstract__ = True

    @declared_attr
    def clinic_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(
            ForeignKey("clinic.id", ondelete="CASCADE"), primary_key=True, sort_order=-2
        )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7, sort_order=-1)


def tenant_reference(target_table: str, column: str, *, ondelete: str | None = None):
    """A foreign key from (clinic_id, column) to (clinic_id, id) of another clinic-owned table.

    The database itself then refuses a reference to a row of another clinic.
    """
    return ForeignKeyConstraint(
        ["clinic_id", column],
        [f"{target_table}.clinic_id", f"{target_table}.id"],
        ondelete=ondelete,
    )


def link_table_args(first: tuple[str, str], second: tuple[str, str]) -> tuple:
    """The table args of a link between two clinic-owned rows, each (table, column): both
    references cascade, and a pair is linked once."""
    return (
        tenant_reference(*first, ondelete="CASCADE"),
        tenant_reference(*second, ondelete="CASCADE"),
        UniqueConstraint("clinic_id", first[1], second[1]),
    )


def tenant_relationship(owner: str, target: str, column: str, **kwargs):
    """relationship() over a tenant_reference, writing only `column` (clinic_id is shared)."""
    primaryjoin = (
        f"and_({target}.id == foreign({owner}.{column}), {target}.clinic_id == {owner}.clinic_id)"
    )
    return relationship(target, primaryjoin=primaryjoin, **kwargs)
