"""The appointment book: the reception day sheet, a therapist's own days, one appointment.

Booking and moving are in booking.py, check-in to cancellation in attendance.py: the same `bp`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, g, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...billing.invoices import fee_amount
from ...clinic_time import day_range, days_range, today_in
from ...clinical import flags, notes
from ...extensions import db
from ...models import Appointment, AppointmentStatus, Location, Role, Therapist
from ...models.base import utcnow
from ...permissions import can, may_attend, may_treat, requires
from ...scheduling import booking
from ...scheduling.roster import time_off_between, working_blocks
from ...staff.therapists import ordered_therapists
from ...tenancy import get_or_404, parse_id
from ..forms import FIRST_DAY, LAST_DAY, OneClickForm
from ..redirects import local_path
from .daysheet import build_day_sheet, plan_days
from .forms import CancelForm

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
    return today_in(g.clinic)


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


@bp.context_processor
def _template_helpers() -> dict:
    return {
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
    window = day_range(on, tz)
    therapists = ordered_therapists(active_only=True)
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
    red_flags = flags.load(
        appointments, clinic=g.clinic
    )  # the cancelled, listed under the grid, have none
    return render_template(
        "appointments/day.html",
        sheet=sheet,
        day=on,
        today=_today(),
        sites=[s for s in sites if s.active or s is location],
        site_names={s.id: s.name for s in sites},
        location=location,
        show_mine=mine,
        action_form=OneClickForm(),
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
    window = days_range(on, last, tz)
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
    red_flags = flags.load(appointments, clinic=g.clinic, decrypt=days[0].appointments)
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
        action_form=OneClickForm(),
        here=request.full_path.rstrip("?"),
        red_flags=red_flags,
        note_status=note_status,
    )


# Booking: find a free time, then the client ------------------------------------------------------


# One appointment and what can happen to it -------------------------------------------------------


@bp.route("/<appointment_id>")
@requires("appointments.view")
def detail(appointment_id: str):
    appointment = _appointment_or_404(appointment_id)
    return _detail_page(appointment, CancelForm(formdata=None))


def _detail_page(appointment: Appointment, cancel_form: CancelForm, status: int = 200):
    now = utcnow()
    # An error page is rolled back with its audit events: it shows no flag text.
    red_flags = flags.load([appointment], clinic=g.clinic, decrypt=status < 400)
    note_status = None
    if can("clinical.read"):
        note_status = notes.statuses([appointment.id]).get(appointment.id)
    return render_template(
        "appointments/detail.html",
        appointment=appointment,
        cancel_form=cancel_form,
        action_form=OneClickForm(),
        late_now=booking.is_late_cancellation(g.clinic, appointment, now),
        started=now >= appointment.starts_at,
        clinic=g.clinic,
        red_flags=red_flags,
        note_status=note_status,
        note_blocked=_note_blocked(appointment, red_flags),
        may_treat=may_treat(appointment),
        fee=fee_amount(g.clinic, appointment),
        next_visit_from=max(_today(), _local(appointment.starts_at).date() + timedelta(days=1)),
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
