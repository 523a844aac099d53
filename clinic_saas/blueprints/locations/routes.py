"""The clinic's sites and their treatment rooms (owner only)."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, url_for

from ...models import Location, Room
from ...permissions import requires
from ...staff import sites
from ...staff.errors import StaffError
from ...staff.sites import ordered_rooms, ordered_sites
from ...tenancy import get_or_404
from ..forms import SwitchForm
from ..refusal_views import one_click, place_refusal
from .forms import LocationForm, RoomForm

bp = Blueprint("locations", __name__, url_prefix="/c/<clinic_slug>/settings/locations")


def _rename_form(room: Room, **kwargs) -> RoomForm:
    return RoomForm(prefix=f"r{room.id.hex}", **kwargs)


@bp.route("/")
@requires("locations.manage")
def index():
    locations = ordered_sites()
    rooms: dict[uuid.UUID, list[Room]] = {location.id: [] for location in locations}
    for room in ordered_rooms():
        rooms.setdefault(room.location_id, []).append(room)
    return render_template("locations/index.html", locations=locations, rooms=rooms)


def _site_fields(form: LocationForm) -> dict:
    """What the add and edit pages both pass on to the site."""
    return {
        "name": form.name.data,
        "address": form.address.data,
        "phone": form.phone.data,
        "active": form.active.data,
    }


@bp.route("/new", methods=["GET", "POST"])
@requires("locations.manage")
def new():
    form = LocationForm()
    if form.validate_on_submit():
        try:
            location = sites.add_site(**_site_fields(form))
        except StaffError as problem:
            place_refusal(form, problem, otherwise="name")
        else:
            flash(f"{location.name} was added. Now add its treatment rooms.", "success")
            return redirect(url_for("locations.edit", location_id=location.id))
    return render_template("locations/new.html", form=form), 400 if form.errors else 200


def _render_edit(
    location: Location,
    form: LocationForm | None = None,
    room_form: RoomForm | None = None,
    failed_rename: RoomForm | None = None,
    failed_room: Room | None = None,
    status: int = 200,
):
    rooms = ordered_rooms(location)
    rename_forms = {
        room.id: failed_rename
        if failed_room is not None and room.id == failed_room.id
        else _rename_form(room, formdata=None, obj=room)
        for room in rooms
    }
    return render_template(
        "locations/edit.html",
        location=location,
        form=form or LocationForm(formdata=None, obj=location),
        room_form=room_form or RoomForm(formdata=None, prefix="room"),
        rooms=rooms,
        rename_forms=rename_forms,
        active_form=SwitchForm(formdata=None),
    ), status


@bp.route("/<location_id>/", methods=["GET", "POST"])
@requires("locations.manage")
def edit(location_id: str):
    location = get_or_404(Location, location_id)
    form = LocationForm(obj=location)
    if form.validate_on_submit():
        try:
            sites.update_site(location, **_site_fields(form))
        except StaffError as problem:
            place_refusal(form, problem, otherwise="name")
        else:
            flash(f"{location.name} was saved.", "success")
            return redirect(url_for("locations.edit", location_id=location.id))
    return _render_edit(location, form=form, status=400 if form.errors else 200)


@bp.route("/<location_id>/rooms", methods=["POST"])
@requires("locations.manage")
def add_room(location_id: str):
    location = get_or_404(Location, location_id)
    form = RoomForm(prefix="room")
    if form.validate_on_submit():
        try:
            sites.add_room(location, form.name.data)
        except StaffError as problem:
            place_refusal(form, problem, otherwise="name")
        else:
            flash(f"{form.name.data} was added to {location.name}.", "success")
            return redirect(url_for("locations.edit", location_id=location.id))
    return _render_edit(location, room_form=form, status=400)


@bp.route("/rooms/<room_id>/name", methods=["POST"])
@requires("locations.manage")
def rename_room(room_id: str):
    room = get_or_404(Room, room_id)
    location = room.location
    form = _rename_form(room)
    if form.validate_on_submit():
        old_name = room.name
        try:
            sites.rename_room(room, form.name.data)
        except StaffError as problem:
            place_refusal(form, problem, otherwise="name")
        else:
            flash(f"{old_name} is now called {room.name}.", "success")
            return redirect(url_for("locations.edit", location_id=location.id))
    return _render_edit(location, failed_rename=form, failed_room=room, status=400)


@bp.route("/rooms/<room_id>/active", methods=["POST"])
@requires("locations.manage")
def set_room_active(room_id: str):
    room = get_or_404(Room, room_id)
    form = SwitchForm()

    def switch() -> str:
        sites.set_room_active(room, form.on)
        state = "back in use" if room.active else "out of use: it is no longer offered for bookings"
        return f"{room.name} is {state}."

    return one_click(switch, url_for("locations.edit", location_id=room.location_id), form=form)
