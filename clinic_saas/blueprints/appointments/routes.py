"""The appointment book: the reception day sheet, a therapist's own days, booking, and after."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...clients import ClientError, create_client, search_clients
from ...clinical import flags, notes
from ...extensions import db
from ...models import (
    Appointment,
    AppointmentStatus,
    Client,
    Location,
    MembershipUse,
    PackageRedemption,
    Role,
    Room,
    Service,
    Therapist,
)
from ...models.base import utcnow
from ...permissions import can, requires
from ...sales import entitlements, packages
from ...scheduling import booking
from ...scheduling.booking import BookingError, SlotTaken
from ...scheduling.free_times import SlotChoice, free_times, next_free_day, slot_groups
from ...scheduling.intervals import Interval, local_day_range
from ...scheduling.roster import time_off_between, working_blocks
from ...tenancy import find, get_or_404, parse_id
from ...unit_of_work import discard_changes
from ..redirects import local_path
from .daysheet import build_day_sheet, plan_days
from .forms import (
    FIRST_DAY,
    LAST_DAY,
    NEW_CLIENT,
    ActionForm,
    BookForm,
    CancelForm,
    FindSlotForm,
    RescheduleFindForm,
    RescheduleForm,
)

bp = Blueprint("appointments", __name__, url_prefix="/c/<clinic_slug>/appointments")

# Everything a page about appointments shows, loaded with them in one statement.
WITH_DETAILS = (
    joinedload(Appointment.client),
    joinedload(Appointment.service),
    joinedload(Appointment.therapist),
    joinedload(Appointment.location),
    joinedload(Appointment.room),
)
UPCOMING_DAYS = 6


# Look-ups and small helpers ----------------------------------------------------------------------


def _appointment_or_404(appointment_id: str) -> Appointment:
    return get_or_404(Appointment, appointment_id, *WITH_DETAILS, joinedload(Appointment.booked_by))


def _today() -> date:
    return datetime.now(g.clinic.tz).date()


def _day_from_query(name: str = "date", default: date | None = None) -> date:
    """A local date from the query string; a malformed one is a bad request, not a 500."""
    text = request.args.get(name, "").strip()
    if not text:
        return default or _today()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        abort(400)
    if not FIRST_DAY <= day <= LAST_DAY:
        abort(400)
    return day


def _local(instant: datetime) -> datetime:
    return instant.astimezone(g.clinic.tz)


def _clock(instant: datetime) -> str:
    return _local(instant).strftime("%H:%M")


def _long_date(day: date | datetime) -> str:
    if isinstance(day, datetime):
        day = _local(day).date()
    return f"{day:%A} {day.day} {day:%B %Y}"


def _short_date(day: date | datetime) -> str:
    if isinstance(day, datetime):
        day = _local(day).date()
    return f"{day:%a} {day.day} {day:%b}"


def may_attend(appointment: Appointment) -> bool:
    """Therapists check in and complete only their own appointments; the desk does anyone's."""
    membership = g.get("membership")
    if membership is None or not can("appointments.attend"):
        return False
    if membership.role != Role.THERAPIST:
        return True
    return appointment.therapist.membership_id == membership.id


@bp.context_processor
def _template_helpers() -> dict:
    return {
        "clock": _clock,
        "long_date": _long_date,
        "short_date": _short_date,
        "local": _local,
        "may_attend": may_attend,
        "now": utcnow,
        "timedelta": timedelta,
        "Status": AppointmentStatus,
    }


def _back(form, appointment: Appointment) -> str:
    """Back to the page of the appointment book the action was taken from, or the appointment."""
    back = local_path(form.next.data, within=url_for(".day"))
    return back or url_for(".detail", appointment_id=appointment.id)


# The reception day sheet -------------------------------------------------------------------------


@bp.route("/")
@requires("appointments.view")
def day():
    clinic = g.clinic
    tz = clinic.tz
    on = _day_from_query()
    sites = db.session.scalars(select(Location).order_by(Location.name)).all()
    location = None
    if request.args.get("location"):
        location = next((s for s in sites if s.id == parse_id(request.args["location"])), None)
        if location is None:
            abort(404)
    window = local_day_range(on, tz)
    therapists = db.session.scalars(select(Therapist).where(Therapist.active.is_(True))).all()
    query = (
        select(Appointment)
        .options(*WITH_DETAILS)
        .where(Appointment.starts_at >= window.start, Appointment.starts_at < window.end)
        .order_by(Appointment.starts_at)
    )
    if location is not None:
        query = query.where(Appointment.location_id == location.id)
    appointments = db.session.scalars(query).all()
    ids = list(dict.fromkeys([t.id for t in therapists] + [a.therapist_id for a in appointments]))
    blocks = working_blocks(ids, on, on, tz)
    away = time_off_between(ids, window.start, window.end)
    sheet = build_day_sheet(
        on,
        tz,
        clinic.slot_interval_minutes,
        list(therapists),
        blocks,
        away,
        list(appointments),
        location_id=location.id if location else None,
        site_names={s.id: s.name for s in sites},
    )
    mine = g.membership.role == Role.THERAPIST or any(
        c.therapist.membership_id == g.membership.id for c in sheet.columns
    )
    red_flags = flags.load(appointments)  # the cancelled, listed under the grid, have none
    return render_template(
        "appointments/day.html",
        sheet=sheet,
        day=on,
        today=_today(),
        sites=[s for s in sites if s.active or s is location],
        site_names={s.id: s.name for s in sites},
        location=location,
        show_mine=mine,
        action_form=ActionForm(),
        here=request.full_path.rstrip("?"),
        red_flags=red_flags,
    )


# A therapist's own days --------------------------------------------------------------------------


@bp.route("/mine")
@requires("appointments.view")
def mine():
    tz = g.clinic.tz
    on = _day_from_query()
    therapist = db.session.scalar(
        select(Therapist).where(Therapist.membership_id == g.membership.id)
    )
    if therapist is None:
        return render_template("appointments/mine.html", therapist=None, day=on, today=_today())
    last = min(on + timedelta(days=UPCOMING_DAYS), LAST_DAY)
    window = Interval(local_day_range(on, tz).start, local_day_range(last, tz).end)
    appointments = db.session.scalars(
        select(Appointment)
        .options(*WITH_DETAILS)
        .where(
            Appointment.therapist_id == therapist.id,
            Appointment.starts_at >= window.start,
            Appointment.starts_at < window.end,
        )
        .order_by(Appointment.starts_at)
    ).all()
    blocks = working_blocks([therapist.id], on, last, tz)[therapist.id]
    away = time_off_between([therapist.id], window.start, window.end)[therapist.id]
    sites = {s.id: s.name for s in db.session.scalars(select(Location))}
    days = plan_days(on, last, tz, blocks, away, list(appointments))
    # Flag lines for the first day; the next days show the intake badges only.
    red_flags = flags.load(appointments, decrypt=days[0].appointments)
    note_status = {}
    if can("clinical.read"):
        note_status = notes.statuses([a.id for a in days[0].appointments])
    return render_template(
        "appointments/mine.html",
        therapist=therapist,
        day=on,
        today=_today(),
        first=days[0],
        upcoming=days[1:],
        site_names=sites,
        action_form=ActionForm(),
        here=request.full_path.rstrip("?"),
        red_flags=red_flags,
        note_status=note_status,
    )


# Booking: find a free time, then the client ------------------------------------------------------


def _active_services():
    return db.session.scalars(
        select(Service).where(Service.active.is_(True)).order_by(Service.position, Service.name)
    ).all()


def _active_therapists():
    return db.session.scalars(
        select(Therapist).where(Therapist.active.is_(True)).order_by(Therapist.display_name)
    ).all()


def _active_sites():
    return db.session.scalars(
        select(Location).where(Location.active.is_(True)).order_by(Location.name)
    ).all()


@bp.route("/new", methods=["GET", "POST"])
@requires("appointments.manage")
def new():
    if request.method == "POST":
        return _book()
    if request.args.get("slot"):
        return _booking_page(BookForm(formdata=None))
    return _find_page()


def _find_page():
    services = _active_services()
    form = FindSlotForm(formdata=request.args or None)
    form.service.choices = [("", "Choose a service…")] + [
        (str(s.id), f"{s.name} · {s.duration_minutes} min") for s in services
    ]
    form.therapist.choices = [("", "Any therapist")] + [
        (str(t.id), t.display_name) for t in _active_therapists()
    ]
    form.location.choices = [("", "Any site")] + [(str(s.id), s.name) for s in _active_sites()]
    if form.date.data is None and not form.date.errors:
        form.date.data = _today()
    searched = "service" in request.args
    if not searched or not form.validate():
        return render_template(
            "appointments/find.html", form=form, services=services
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
    )


def _booking_page(form: BookForm, *, status: int = 200, error: str | None = None, fresh=None):
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
    still_free = True
    if fresh is None:
        slots = free_times(
            g.clinic, service, on, therapist_id=therapist.id, location_id=location.id
        )
        still_free = any(s.start == choice.start for s in slots)
    q = request.args.get("q", "").strip()[:100]
    matches = search_clients(q) if q else []
    chosen_client = None
    if form.client.data and form.client.data != NEW_CLIENT:
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
        rooms = db.session.scalars(
            select(Room)
            .where(Room.location_id == location.id, Room.active.is_(True))
            .order_by(Room.name)
        )
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

    client = None
    if form.client.data and form.client.data != NEW_CLIENT:
        client = find(Client, form.client.data)
        if client is None:
            form.client.errors = ["Search for the client again, or enter a new one."]
            valid = False
    else:
        try:
            client = create_client(
                form.first_name.data, form.last_name.data, form.email.data, form.phone.data
            )
        except ClientError as problem:
            getattr(form, problem.field or "first_name").errors.append(str(problem))
            valid = False
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
    except BookingError as problem:
        discard_changes()
        return _booking_page(form, status=400, error=str(problem))
    flash(
        f"Booked {client.full_name} with {therapist.display_name}: {service.name}, "
        f"{_long_date(appointment.starts_at)} at {_clock(appointment.starts_at)}.",
        "success",
    )
    return redirect(url_for(".day", date=_local(appointment.starts_at).date().isoformat()))


def _clash_page(form: BookForm, service: Service, on: date, error: str | None, *, status: int):
    """The time was taken (or never chosen): offer that day's free times again."""
    form.slot.data = ""
    fresh = slot_groups(free_times(g.clinic, service, on))
    return _booking_page(form, status=status, error=error, fresh=fresh)


# One appointment and what can happen to it -------------------------------------------------------


@bp.route("/<appointment_id>")
@requires("appointments.view")
def detail(appointment_id: str):
    appointment = _appointment_or_404(appointment_id)
    return _detail_page(appointment, CancelForm(formdata=None))


def _detail_page(appointment: Appointment, cancel_form: CancelForm, status: int = 200):
    now = utcnow()
    # An error page is rolled back with its audit events: it shows no flag text.
    red_flags = flags.load([appointment], decrypt=status < 400)
    note_status = None
    if can("clinical.read"):
        note_status = notes.statuses([appointment.id]).get(appointment.id)
    return render_template(
        "appointments/detail.html",
        appointment=appointment,
        cancel_form=cancel_form,
        action_form=ActionForm(),
        late_now=booking.is_late_cancellation(g.clinic, appointment, now),
        started=now >= appointment.starts_at,
        clinic=g.clinic,
        red_flags=red_flags,
        note_status=note_status,
        note_blocked=_note_blocked(appointment, red_flags),
        may_treat=flags.may_treat(appointment),
    ), status


def _note_blocked(appointment: Appointment, red_flags: flags.RedFlags) -> str | None:
    """Why the note cannot be written yet, from what the page has loaded already."""
    if appointment.status == AppointmentStatus.NO_SHOW:
        return "The client did not come: there is no session to write up."
    if appointment.status not in notes.WRITABLE_STATUSES:
        return "The note can be written once the client is checked in."
    if red_flags.needs_acknowledgement(appointment):
        return "Acknowledge the red flags before writing the note."
    return None


def _attend(appointment_id: str, change: Callable[[Appointment], None], done: str):
    """A status change at the desk or in the treatment room; an illegal one changes nothing."""
    appointment = _appointment_or_404(appointment_id)
    if not may_attend(appointment):
        abort(403)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    name = appointment.client.full_name
    try:
        change(appointment)
    except BookingError as problem:
        discard_changes()
        flash(str(problem), "danger")
    else:
        flash(done.format(name=name), "success")
    return redirect(_back(form, appointment))


@bp.route("/<appointment_id>/check-in", methods=["POST"])
@requires("appointments.attend")
def check_in(appointment_id: str):
    return _attend(appointment_id, booking.check_in, "{name} is checked in.")


@bp.route("/<appointment_id>/undo-check-in", methods=["POST"])
@requires("appointments.attend")
def undo_check_in(appointment_id: str):
    return _attend(
        appointment_id, booking.undo_check_in, "{name} is booked again (check-in undone)."
    )


@bp.route("/<appointment_id>/complete", methods=["POST"])
@requires("appointments.attend")
def complete(appointment_id: str):
    return _attend(appointment_id, _complete_and_redeem, "{name}'s appointment is completed.")


def _complete_and_redeem(appointment: Appointment) -> None:
    """Complete, then say which membership or package paid for the session, if one did."""
    paid = entitlements.complete_and_apply(g.clinic, appointment)
    if isinstance(paid, MembershipUse):
        flash("One session of this month's membership was used.", "info")
    elif isinstance(paid, PackageRedemption):
        left = packages.balance(paid.sale)
        flash(f"One session of {paid.sale.name} was used: {left} left.", "info")


@bp.route("/<appointment_id>/no-show", methods=["POST"])
@requires("appointments.attend")
def no_show(appointment_id: str):
    return _attend(appointment_id, booking.mark_no_show, "{name} was marked as a no-show.")


@bp.route("/<appointment_id>/undo-no-show", methods=["POST"])
@requires("appointments.attend")
def undo_no_show(appointment_id: str):
    return _attend(appointment_id, booking.undo_no_show, "{name} is booked again (no-show undone).")


@bp.route("/<appointment_id>/cancel", methods=["POST"])
@requires("appointments.manage")
def cancel(appointment_id: str):
    appointment = _appointment_or_404(appointment_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return _detail_page(appointment, form, status=400)
    name = appointment.client.full_name
    try:
        booking.cancel(g.clinic, appointment, form.reason.data)
    except BookingError as problem:
        discard_changes()
        flash(str(problem), "danger")
        return redirect(_back(form, appointment))
    if appointment.late_cancellation:
        hours = g.clinic.late_cancellation_hours
        flash(
            f"{name}'s appointment is cancelled. This is a late cancellation "
            f"(less than {hours} hours before the start).",
            "warning",
        )
    else:
        flash(f"{name}'s appointment is cancelled.", "success")
    return redirect(_back(form, appointment))


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
    except SlotTaken as problem:
        discard_changes()
        on = _local(choice.start).date()
        return _reschedule_page(appointment, on=on, error=str(problem), status=409)
    except BookingError as problem:
        discard_changes()
        on = _local(choice.start).date()
        return _reschedule_page(appointment, on=on, error=str(problem), status=400)
    flash(
        f"Moved from {_short_date(before)} {_clock(before)} to "
        f"{_long_date(appointment.starts_at)} at {_clock(appointment.starts_at)} "
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
        (str(t.id), t.display_name) for t in _active_therapists()
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
