"""Therapists' bookable profiles: who they are, their login, the services they offer."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select

from ..extensions import db
from ..models import CALENDAR_COLOURS, Membership, PriceTier, Service, ServiceTherapist, Therapist
from ..money import PercentWording
from ..tenancy import find
from .errors import StaffError

DISPLAY_NAME_MAX = 80
TEXT_MAX = 2000

COMMISSION_PERCENT = PercentWording(
    unreadable="Enter the commission as a percentage, e.g. 12.5.",
    too_precise="Use at most 2 decimals, e.g. 12.5 or 12.75.",
    out_of_range="Enter a percentage from 0 to 100.",
)


def ordered_therapists(*, active_only: bool = False) -> list[Therapist]:
    """Profiles as every list shows them: active ones first, then by name."""
    query = select(Therapist).order_by(Therapist.active.desc(), Therapist.display_name)
    if active_only:
        query = query.where(Therapist.active.is_(True))
    return list(db.session.scalars(query))


def _check_display_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise StaffError("Give the name clients will book.", "display_name")
    if len(name) > DISPLAY_NAME_MAX:
        raise StaffError(f"Keep the name to {DISPLAY_NAME_MAX} characters.", "display_name")
    return name


def _check_text(value: str | None, field: str) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > TEXT_MAX:
        raise StaffError(f"Keep it to {TEXT_MAX} characters.", field)
    return value


def _check_login(membership_id: uuid.UUID | None, therapist: Therapist | None) -> None:
    """An active member's login (or the one linked now), not linked to another profile."""
    if membership_id is None:
        return
    current = therapist.membership_id if therapist is not None else None
    member = find(Membership, membership_id)
    if member is None or not (member.active or member.id == current):
        raise StaffError("Choose an active member of the clinic, or no login.", "login")
    others = select(Therapist.id).where(Therapist.membership_id == membership_id)
    if therapist is not None and therapist.id is not None:
        others = others.where(Therapist.id != therapist.id)
    if db.session.scalar(others) is not None:
        raise StaffError("That login is linked to another profile already.", "login")


def _check_tier(tier_id: uuid.UUID | None) -> None:
    if tier_id is not None and find(PriceTier, tier_id) is None:
        raise StaffError("Choose one of the clinic's price tiers, or standard prices.", "tier")


def _active_service_ids() -> set[uuid.UUID]:
    return set(db.session.scalars(select(Service.id).where(Service.active.is_(True))))


def _check_services(service_ids: Iterable[uuid.UUID], on_menu: set[uuid.UUID]) -> set[uuid.UUID]:
    wanted = set(service_ids)
    if not wanted <= on_menu:
        raise StaffError("Choose services that are on the menu.", "services")
    return wanted


def _offer(therapist: Therapist, wanted: set[uuid.UUID], on_menu: set[uuid.UUID]) -> None:
    """Exactly the wanted services of the menu are offered by the therapist."""
    offered = {
        row.service_id: row
        for row in db.session.scalars(
            select(ServiceTherapist).where(ServiceTherapist.therapist_id == therapist.id)
        )
    }
    for service_id, row in offered.items():
        # Services no longer on the menu cannot be ticked, so their rows are left as they were.
        if service_id in on_menu and service_id not in wanted:
            db.session.delete(row)
    for service_id in wanted - offered.keys():
        db.session.add(ServiceTherapist(service_id=service_id, therapist_id=therapist.id))


def save_profile(
    therapist: Therapist | None,
    *,
    display_name: str,
    membership_id: uuid.UUID | None = None,
    bio: str | None = None,
    qualifications: str | None = None,
    registered_health_professional: bool = False,
    techniques: Iterable[str] = (),
    categories: Iterable[str] = (),
    calendar_colour: str = CALENDAR_COLOURS[0],
    commission_rate_bp: int = 0,
    tier_id: uuid.UUID | None = None,
    active: bool = True,
    service_ids: Iterable[uuid.UUID] = (),
) -> Therapist:
    """Create or change a profile offering exactly these active services; all checks come first."""
    display_name = _check_display_name(display_name)
    bio = _check_text(bio, "bio")
    qualifications = _check_text(qualifications, "qualifications")
    if calendar_colour not in CALENDAR_COLOURS:
        raise StaffError("Choose one of the calendar colours.", "calendar_colour")
    if not isinstance(commission_rate_bp, int) or not 0 <= commission_rate_bp <= 10_000:
        raise StaffError(COMMISSION_PERCENT.out_of_range, "commission_percent")
    _check_login(membership_id, therapist)
    _check_tier(tier_id)
    on_menu = _active_service_ids()
    wanted = _check_services(service_ids, on_menu)

    if therapist is None:
        therapist = Therapist()
        db.session.add(therapist)
    therapist.display_name = display_name
    therapist.membership_id = membership_id
    therapist.bio = bio
    therapist.qualifications = qualifications
    therapist.registered_health_professional = registered_health_professional
    therapist.techniques = list(techniques)
    therapist.categories = list(categories)
    therapist.calendar_colour = calendar_colour
    therapist.commission_rate_bp = commission_rate_bp
    therapist.tier_id = tier_id
    therapist.active = active
    db.session.flush()
    _offer(therapist, wanted, on_menu)
    db.session.flush()
    return therapist
