"""The clinic's sites and their treatment rooms: keeping them, and listing them for choices."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import Location, Room
from .errors import StaffError

SITE_NAME_MAX = 80
ROOM_NAME_MAX = 60


def ordered_sites(*, active_only: bool = False) -> list[Location]:
    """Sites as every list shows them: open ones first, then by name."""
    query = select(Location).order_by(Location.active.desc(), Location.name)
    if active_only:
        query = query.where(Location.active.is_(True))
    return list(db.session.scalars(query))


def ordered_rooms(location: Location | None = None, *, active_only: bool = False) -> list[Room]:
    """Rooms (of one site, or of all) as lists show them: in use first, then by name."""
    query = select(Room).order_by(Room.active.desc(), Room.name)
    if location is not None:
        query = query.where(Room.location_id == location.id)
    if active_only:
        query = query.where(Room.active.is_(True))
    return list(db.session.scalars(query))


def _check_name(name: str | None, longest: int, missing: str) -> str:
    name = (name or "").strip()
    if not name:
        raise StaffError(missing, "name")
    if len(name) > longest:
        raise StaffError(f"Keep the name to {longest} characters.", "name")
    return name


def _site_name(name: str | None, location: Location | None) -> str:
    """A name no other site has, whatever its case (clients tell sites apart by name)."""
    name = _check_name(name, SITE_NAME_MAX, "Give the site a name.")
    query = select(Location.id).where(func.lower(Location.name) == name.lower())
    if location is not None:
        query = query.where(Location.id != location.id)
    if db.session.scalar(query) is not None:
        raise StaffError(f"There is already a site called {name}.", "name")
    return name


def _room_name(location: Location, name: str | None, room: Room | None) -> str:
    """A name no other room of the same site has, whatever its case."""
    name = _check_name(name, ROOM_NAME_MAX, "Give the room a name.")
    query = select(Room.id).where(
        Room.location_id == location.id, func.lower(Room.name) == name.lower()
    )
    if room is not None:
        query = query.where(Room.id != room.id)
    if db.session.scalar(query) is not None:
        raise StaffError(f"{location.name} already has a room called {name}.", "name")
    return name


def add_site(
    *, name: str, address: str | None = None, phone: str | None = None, active: bool = True
) -> Location:
    """A new site of the clinic, under a name no other site has."""
    location = Location(
        name=_site_name(name, None), address=address or None, phone=phone or None, active=active
    )
    db.session.add(location)
    db.session.flush()
    return location


def update_site(
    location: Location, *, name: str, address: str | None, phone: str | None, active: bool
) -> Location:
    """Rename, readdress, close or reopen a site; its rooms and shifts stay with it."""
    location.name = _site_name(name, location)
    location.address = address or None
    location.phone = phone or None
    location.active = active
    db.session.flush()
    return location


def add_room(location: Location, name: str) -> Room:
    """A treatment room of a site, under a name the site does not use yet."""
    room = Room(location_id=location.id, name=_room_name(location, name, None))
    db.session.add(room)
    db.session.flush()
    return room


def rename_room(room: Room, name: str) -> Room:
    """A new name for a room; its bookings keep pointing at it."""
    room.name = _room_name(room.location, name, room)
    db.session.flush()
    return room


def set_room_active(room: Room, active: bool) -> Room:
    """Take a room out of use (no longer offered for bookings) or back into use."""
    room.active = active
    db.session.flush()
    return room
