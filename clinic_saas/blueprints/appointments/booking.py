"""Booking and moving: find a free time, then the client; or move a booked appointment."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from ... import display
from ...clients import ClientError, create_client, possible_duplicates, search_clients
from ...clinic_time import FIRST_DAY, LAST_DAY
from ...clinical import status
from ...extensions import db
from ...menu.services import active_services
from ...models import Appointment, AppointmentStatus, Client, Location, Room, Service, Therapist
from ...permissions import can, requires
from ...scheduling import booking
from ...scheduling.booking import BookingError, SlotTaken
from ...scheduling.free_times import SlotChoice, free_times, next_free_day, slot_groups
from ...staff.sites import ordered_rooms, ordered_sites
from ...staff.therapists import ordered_therapists
from ...tenancy import find, parse_id
from ...unit_of_work import discard_changes
from ..refusal_views import place_refusal
from .forms import (
    NEW_ANYWAY,
    NEW_CLIENT,
    BookForm,
    FindSlotForm,
    RescheduleFindForm,
    RescheduleForm,
)
from .routes import _appointment_or_404, _local, _today, bp

# What the desk is told when the client's latest intake has an absolute flag: that one exists,
# never which (reception may not read clinical content).
RED_FLAG_WARNING = "This client has a red flag: the therapist must review it before treatment."


@bp.route("/new", methods=["GET", "POST"])
@requires("appointments.book_own")
def new():
    if request.method == "POST":
        return _book()
    if request.args.get("slot"):
        return _booking_page(BookForm(formdata=None))
    return _find_page()


def _own_calendar() -> Therapist | None:
    """The member's own therapist profile when they may book only into it (a therapist), else
    None; a member who may book only their own calendar and has none gets 403."""
    if can("appointments.manage"):
        return None
    own = db.session.scalar(select(Therapist).where(Therapist.membership_id == g.membership.id))
    if own is None:
        abort(403)
    return own


def _prefilled_client() -> Client | None:
    """The client a "Book appointment" link names (?client=), if they are this clinic's."""
    return find(Client, request.args.get("client")) if request.args.get("client") else None


def _find_page():
    services = active_services()
    own = _own_calendar()
    form = FindSlotForm(formdata=request.args or None)
    form.service.choices = [("", "Choose a service…")] + [
        (str(s.id), f"{s.name} · {s.duration_minutes} min") for s in services
    ]
    therapists = [own] if own else ordered_therapists(active_only=True)
    form.therapist.choices = ([] if own else [("", "Any therapist")]) + [
        (str(t.id), t.display_name) for t in therapists
    ]
    if own is not None:
        form.therapist.data = str(own.id)
    client = _prefilled_client()
    form.location.choices = [("", "Any site")] + [
        (str(s.id), s.name) for s in ordered_sites(active_only=True)
    ]
    if form.date.data is None and not form.date.errors:
        form.date.data = _today()
    searched = "service" in request.args
    if not searched or not form.validate():
        return render_template(
            "appointments/find.html", form=form, services=services, client=client
        ), 400 if searched else 200
    service = next(s for s in services if str(s.id) == form.service.data)
    filters = {
        "therapist_id": parse_id(form.therapist.data) if form.therapist.data else None,
        "location_id": parse_id(form.location.data) if form.location.data else None,
    }
    groups = slot_groups(free_times(g.clinic, service, form.date.data, **filters))
    later = None if groups else next_free_day(g.clinic, service, form.date.data, **filters)
    return render_template(
        "appointments/find.html",
        form=form,
        services=services,
        service=service,
        on=form.date.data,
        groups=groups,
        next_free_day=later,
        client=client,
    )


def _booking_page(
    form: BookForm,
    *,
    status: int = 200,
    error: str | None = None,
    fresh=None,
    duplicates: list[Client] | None = None,
):
    """Step 2: the chosen time, the client (found or new) and a note; or, after a clash, the
    day's fresh free times to choose from, keeping what was typed."""
    values = request.form if request.method == "POST" else request.args
    service = find(Service, values.get("service"))
    if service is None:
        abort(404 if request.method == "GET" else 400)
    choice = SlotChoice.parse(values.get("slot"))
    therapist = find(Therapist, choice.therapist_id) if choice else None
    location = find(Location, choice.location_id) if choice else None
    if fresh is None and (therapist is None or location is None):
        abort(404 if request.method == "GET" else 400)
    on = _local(choice.start).date() if choice else _day_field(values)
    if fresh is None and request.method == "GET":
        form.service.data, form.slot.data = str(service.id), choice.value
        form.date.data = on.isoformat()
        form.room.choices = _room_choices(location)
        prefilled = _prefilled_client()
        if prefilled is not None and not request.args.get("q"):
            form.client.data = str(prefilled.id)
    still_free = True
    if fresh is None:
        slots = free_times(
            g.clinic, service, on, therapist_id=therapist.id, location_id=location.id
        )
        still_free = any(s.start == choice.start for s in slots)
    q = request.args.get("q", "").strip()[:100]
    matches = search_clients(q) if q else []
    chosen_client = None
    if form.client.data and form.client.data not in (NEW_CLIENT, NEW_ANYWAY):
        chosen_client = find(Client, form.client.data)
    return render_template(
        "appointments/book.html",
        form=form,
        service=service,
        choice=choice,
        therapist=therapist,
        location=location,
        on=on,
        still_free=still_free,
        q=q,
        matches=matches,
        chosen_client=chosen_client,
        duplicates=duplicates or [],
        new_anyway=NEW_ANYWAY,
        error=error,
        fresh=fresh,
    ), status


def _day_field(values) -> date:
    try:
        day = date.fromisoformat(values.get("date", ""))
    except ValueError:
        return _today()
    return day if FIRST_DAY <= day <= LAST_DAY else _today()


def _room_choices(location: Location | None) -> list[tuple[str, str]]:
    choices = [("", "No particular room")]
    if location is not None:
        rooms = ordered_rooms(location, active_only=True)
        choices += [(str(r.id), r.name) for r in rooms]
    return choices


def _book():
    form = BookForm()
    service = find(Service, form.service.data)
    if service is None:
        abort(400)
    choice = SlotChoice.parse(form.slot.data)
    therapist = find(Therapist, choice.therapist_id) if choice else None
    location = find(Location, choice.location_id) if choice else None
    form.room.choices = _room_choices(location)
    valid = form.validate()
    if therapist is None or location is None:
        if not form.slot.errors:
            form.slot.errors.append("Choose one of the free times.")
        return _clash_page(form, service, _day_field(request.form), None, status=400)

    client, offer = _client_to_book(form)
    if offer:
        # Offer the record on file (chosen by default); a new one takes an explicit choice.
        discard_changes()
        form.client.data = str(offer[0].id)
        return _booking_page(form, status=200 if valid else 400, duplicates=offer)
    valid = valid and client is not None
    if not valid:
        discard_changes()
        return _booking_page(form, status=400)

    try:
        appointment = booking.book(
            g.clinic,
            client=client,
            therapist=therapist,
            service=service,
            location=location,
            starts_at=choice.start,
            room=find(Room, form.room.data) if form.room.data else None,
            booked_by=g.membership,
            note=form.note.data or None,
        )
    except SlotTaken as problem:
        discard_changes()
        return _clash_page(form, service, _local(choice.start).date(), str(problem), status=409)
    except BookingError as problem:  # NotYourCalendar answers 403, other refusals 400
        discard_changes()
        return _booking_page(form, status=problem.status, error=str(problem))
    starts, tz = appointment.starts_at, g.clinic.tz
    flash(
        f"Booked {client.full_name} with {therapist.display_name}: {service.name}, "
        f"{display.long_day(starts, tz)} at {display.time(starts, tz)}.",
        "success",
    )
    if status.summary(client.id, clinic=g.clinic).stops_treatment:
        flash(RED_FLAG_WARNING, "warning")  # from plain columns: no clinical detail is read
    return redirect(url_for(".day", date=_local(appointment.starts_at).date().isoformat()))


def _client_to_book(form: BookForm) -> tuple[Client | None, list[Client]]:
    """The client chosen or added, or the records on file to offer first; errors on the form."""
    if form.client.data and form.client.data not in (NEW_CLIENT, NEW_ANYWAY):
        client = find(Client, form.client.data)
        if client is None:
            form.client.errors = ["Search for the client again, or enter a new one."]
        return client, []
    if not can("clients.manage"):
        form.client.errors = ["Search for the client and choose them: the desk adds new clients."]
        return None, []
    if form.client.data != NEW_ANYWAY and (duplicates := _possible_duplicates(form)):
        return None, duplicates
    try:
        client = create_client(
            form.first_name.data, form.last_name.data, form.email.data, form.phone.data
        )
    except ClientError as problem:
        place_refusal(form, problem, otherwise="first_name")
        return None, []
    return client, []


def _possible_duplicates(form: BookForm) -> list[Client]:
    return possible_duplicates(
        g.clinic,
        email=form.email.data,
        phone=form.phone.data,
        first_name=form.first_name.data,
        last_name=form.last_name.data,
    )


def _clash_page(form: BookForm, service: Service, on: date, error: str | None, *, status: int):
    """The time was taken (or never chosen): offer that day's free times again."""
    form.slot.data = ""
    own = _own_calendar()
    fresh = slot_groups(free_times(g.clinic, service, on, therapist_id=own.id if own else None))
    return _booking_page(form, status=status, error=error, fresh=fresh)


@bp.route("/<appointment_id>/reschedule", methods=["GET", "POST"])
@requires("appointments.manage")
def reschedule(appointment_id: str):
    appointment = _appointment_or_404(appointment_id)
    if appointment.status != AppointmentStatus.BOOKED:
        flash(f"A {appointment.status.label.lower()} appointment cannot be moved.", "danger")
        return redirect(url_for(".detail", appointment_id=appointment.id))
    if request.method == "GET":
        return _reschedule_page(appointment)
    form = RescheduleForm()
    choice = SlotChoice.parse(form.slot.data) if form.validate_on_submit() else None
    therapist = find(Therapist, choice.therapist_id) if choice else None
    location = find(Location, choice.location_id) if choice else None
    if therapist is None or location is None:
        return _reschedule_page(appointment, error="Choose one of the free times.", status=400)
    room = booking.room_after_move(appointment, location)
    before = appointment.starts_at
    try:
        booking.reschedule(
            g.clinic,
            appointment,
            starts_at=choice.start,
            therapist=therapist,
            location=location,
            room=room,
        )
    except BookingError as problem:  # SlotTaken answers 409, other refusals 400
        discard_changes()
        on = _local(choice.start).date()
        return _reschedule_page(appointment, on=on, error=str(problem), status=problem.status)
    starts, tz = appointment.starts_at, g.clinic.tz
    flash(
        f"Moved from {display.short_day(before, tz)} {display.time(before, tz)} to "
        f"{display.long_day(starts, tz)} at {display.time(starts, tz)} "
        f"with {therapist.display_name}.",
        "success",
    )
    return redirect(url_for(".detail", appointment_id=appointment.id))


def _reschedule_page(
    appointment: Appointment,
    *,
    on: date | None = None,
    error: str | None = None,
    status: int = 200,
):
    today = _today()
    current_day = _local(appointment.starts_at).date()
    form = RescheduleFindForm(formdata=request.args if request.method == "GET" else None)
    form.therapist.choices = [("", "Any therapist")] + [
        (str(t.id), t.display_name) for t in ordered_therapists(active_only=True)
    ]
    if request.method == "GET" and "date" in request.args:
        if not form.validate():
            return render_template(
                "appointments/reschedule.html",
                appointment=appointment,
                form=form,
                groups=None,
                on=None,
                error=None,
                move_form=RescheduleForm(),
            ), 400
    else:
        form.date.data = on or max(current_day, today)
        if on is None:
            form.therapist.data = str(appointment.therapist_id)
    therapist_id = parse_id(form.therapist.data) if form.therapist.data else None
    groups = slot_groups(
        free_times(
            g.clinic,
            appointment.service,
            form.date.data,
            therapist_id=therapist_id,
            exclude=appointment.id,
        )
    )
    return render_template(
        "appointments/reschedule.html",
        appointment=appointment,
        form=form,
        groups=groups,
        on=form.date.data,
        error=error,
        move_form=RescheduleForm(),
    ), status
