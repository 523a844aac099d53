"""What every schema shares: the clinic it dumps for, audiences, money and clinic-local time.

Schemas dump only; what may be stored is validated by the domain. marshmallow 4 has no schema
context, so the clinic (its currency and timezone) is a constructor argument, passed down to
nested schemas by Nested.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Self

from marshmallow import Schema, fields

from ..models import Clinic

AUDIENCES = ("desk", "clinical", "export", "api")


class ClinicSchema(Schema):
    """A schema dumped for one clinic, showing each audience only the fields it may see."""

    # audience -> the fields it sees; a schema lists the audiences it can be dumped for.
    audiences: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, *, clinic: Clinic | None = None, audience: str | None = None, **kwargs):
        if audience is not None:
            if audience not in self.audiences:
                raise ValueError(f"{type(self).__name__} has no {audience!r} audience.")
            kwargs["only"] = self.audiences[audience]
        super().__init__(**kwargs)
        self.clinic = clinic
        self.audience = audience

    @classmethod
    def for_audience(cls, audience: str, clinic: Clinic, **kwargs: Any) -> Self:
        """The schema with only the fields this audience may see, e.g. ("desk", clinic)."""
        return cls(clinic=clinic, audience=audience, **kwargs)


def _clinic_of(field: fields.Field) -> Clinic:
    clinic = getattr(field.root, "clinic", None)
    if clinic is None:
        raise ValueError(f"{field.name} needs the clinic: build the schema with for_audience.")
    return clinic


class Nested(fields.Nested):
    """A nested ClinicSchema, dumped for the clinic and audience of the schema around it."""

    @property
    def schema(self) -> ClinicSchema:
        if not self._schema:
            parent = self.root
            self._schema = self.nested(
                clinic=parent.clinic, audience=parent.audience, many=bool(self.many)
            )
        return self._schema


class Money(fields.Field):
    """Integer minor units with the clinic's currency: {"amount_minor": 4500, "currency": "GBP"}."""

    def _serialize(self, value: int | None, attr, obj, **kwargs) -> dict | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("money is an integer number of minor units")
        return {"amount_minor": value, "currency": _clinic_of(self).currency}


class Instant(fields.Field):
    """A moment as ISO 8601 in the clinic's timezone, with its offset (DST included)."""

    def _serialize(self, value: datetime | None, attr, obj, **kwargs) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("instants are stored timezone-aware (UTC)")
        return value.astimezone(_clinic_of(self).tz).isoformat()


class Day(fields.Date):
    """A calendar day (already clinic-local) as an ISO date: '2026-03-03'."""
