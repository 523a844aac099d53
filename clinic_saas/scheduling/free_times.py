"""Free times as people choose them: grouped per therapist and site, each one a single value.

The desk's booking pages, online booking and the API all offer the same choices, so the grouping,
the value that names one free time, and the "next day with a free time" hint live here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from ..clinic_time import FIRST_DAY, LAST_DAY
from ..extensions import db
from ..models import Clinic, Location, Service, Therapist
from ..models.base import utcnow
from .availability import Slot, free_slots

SEARCH_AHEAD_DAYS = 14


@dataclass(frozen=True)
class SlotChoice:
    """A start time with its therapist and site, as one form value."""

    therapist_id: uuid.UUID
    location_id: uuid.UUID
    start: datetime

    @property
    def value(self) -> str:
        return (
            f"{self.start.astimezone(UTC):%Y-%m-%dT%H:%MZ}_{self.therapist_id}_{self.location_id}"
        )

    @classmethod
    def of(cls, slot) -> SlotChoice:
        return cls(slot.therapist_id, slot.location_id, slot.start)

    @classmethod
    def parse(cls, value: str | None) -> SlotChoice | None:
        """The choice a form value names, or None when it is not one of ours."""
        try:
            start, therapist, location = (value or "").split("_")
            choice = cls(
                uuid.UUID(therapist),
                uuid.UUID(location),
                datetime.strptime(start, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC),
            )
        except ValueError:
            return None
        return choice if FIRST_DAY.year <= choice.start.year <= LAST_DAY.year else None


@dataclass
class SlotGroup:
    """The free start times of one therapist at one site."""

    therapist: Therapist
    location: Location
    choices: list[SlotChoice]


def slot_groups(slots: list[Slot]) -> list[SlotGroup]:
    """Free start times per therapist and site, leaving out sites that take no bookings."""
    therapists = {t.id: t for t in db.session.scalars(select(Therapist))}
    sites = {s.id: s for s in db.session.scalars(select(Location))}
    grouped: dict[tuple[uuid.UUID, uuid.UUID], list[SlotChoice]] = {}
    for slot in slots:
        site = sites.get(slot.location_id)
        if site is None or not site.active or slot.therapist_id not in therapists:
            continue
        grouped.setdefault((slot.therapist_id, slot.location_id), []).append(SlotChoice.of(slot))
    groups = [SlotGroup(therapists[t], sites[s], choices) for (t, s), choices in grouped.items()]
    return sorted(groups, key=lambda grp: (grp.therapist.display_name.lower(), grp.location.name))


def free_times(
    clinic: Clinic,
    service: Service,
    day: date,
    *,
    therapist_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
    exclude: uuid.UUID | None = None,
    last: date | None = None,
) -> list[Slot]:
    """Free start times from now on, so that nobody is offered a time already past."""
    return free_slots(
        clinic,
        service,
        day,
        last or day,
        therapist_ids=[therapist_id] if therapist_id else None,
        location_id=location_id,
        not_before=utcnow(),
        exclude_appointment=exclude,
    )


def next_free_day(
    clinic: Clinic,
    service: Service,
    day: date,
    *,
    therapist_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
) -> date | None:
    """The first later day with a free time, so an empty search is never a dead end."""
    tz = clinic.tz
    first = max(day, datetime.now(tz).date() - timedelta(days=1)) + timedelta(days=1)
    last = first + timedelta(days=SEARCH_AHEAD_DAYS - 1)
    if last > LAST_DAY:
        return None
    slots = free_times(
        clinic, service, first, last=last, therapist_id=therapist_id, location_id=location_id
    )
    return slots[0].start.astimezone(tz).date() if slots else None
