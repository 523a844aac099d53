"""The roster: who works when and where, week by week; owners and managers change it."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from wtforms import SelectChoice

from ... import display
from ...clinic_time import day_range, local_instant, today_in
from ...extensions import db
from ...models import DayOverride, Location, Shift, Therapist, TimeOff, TimeOffKind
from ...models.base import utcnow
from ...permissions import can, requires
from ...scheduling import roster_admin
from ...scheduling.intervals import Interval
from ...scheduling.roster_admin import DASH, RosterError
from ...staff.sites import ordered_sites
from ...staff.therapists import ordered_therapists
from ...tenancy import get_or_404, parse_id
from ..refusal_views import one_click, place_refusal
from .forms import DayForm, EndShiftForm, ShiftForm, TimeOffForm
from .week import build_week

bp = Blueprint("roster", __name__, url_prefix="/c/<clinic_slug>/roster")

WARN_AT_MOST = 10
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def _parse_day(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return None
    return day if EARLIEST <= day <= LATEST else None


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _shown_monday() -> date:
    """The Monday of the week asked for with ?week= (any day of it), or of this week."""
    return _monday(_parse_day(request.args.get("week")) or today_in(g.clinic))


def _location_arg() -> str | None:
    key = parse_id(request.args.get("location"))
    return str(key) if key else None


def _week_url(shown: date, **extra) -> str:
    values = {"week": _monday(shown).isoformat(), "location": _location_arg(), **extra}
    return url_for("roster.week", **{k: v for k, v in values.items() if v is not None})


def _filter_args(monday: date) -> dict[str, str]:
    """The week and site shown, carried by the page's forms so an error re-renders the same."""
    args = {"week": monday.isoformat(), "location": _location_arg()}
    return {k: v for k, v in args.items() if v is not None}


def _back_to(default: str) -> str:
    """Where a one-click action returns: the roster page it came from, never elsewhere."""
    target = request.form.get("next") or ""
    return target if target.startswith(url_for("roster.week")) else default


def _sites() -> dict[uuid.UUID, Location]:
    return {site.id: site for site in ordered_sites()}


def _prepare(form, therapists: list[Therapist], sites: dict[uuid.UUID, Location]):
    """Offer active therapists and open sites only."""
    form.therapist.choices = [SelectChoice("", "Choose…")] + [
        SelectChoice(str(t.id), t.display_name) for t in therapists if t.active
    ]
    site_choices = [SelectChoice("", "Site…")] + [
        SelectChoice(str(s.id), s.name) for s in sites.values() if s.active
    ]
    if isinstance(form, ShiftForm):
        form.location.choices = site_choices
    if isinstance(form, DayForm):
        for entry in form.blocks:
            entry.form.location.choices = site_choices
    return form


def _chosen(rows, value: str):
    key = parse_id(value)
    if isinstance(rows, dict):
        found = rows.get(key)
    else:
        found = next((row for row in rows if row.id == key), None)
    if found is None:
        abort(400)  # choices are validated first: only a changed page gets here
    return found


def _warn_outside_hours(therapist: Therapist, start: datetime, end: datetime) -> None:
    """Bookings are never moved by a roster change: say which ones it left outside working time."""
    tz = g.clinic.tz
    stranded = roster_admin.appointments_outside_working_time(therapist.id, start, end, tz)
    if not stranded:
        return
    listed = "; ".join(roster_admin.describe_appointment(a, tz) for a in stranded[:WARN_AT_MOST])
    more = f"; and {len(stranded) - WARN_AT_MOST} more" if len(stranded) > WARN_AT_MOST else ""
    count = "1 booking" if len(stranded) == 1 else f"{len(stranded)} bookings"
    flash(
        f"{count} of {therapist.display_name} now fall outside their working time; move or "
        f"cancel {'it' if len(stranded) == 1 else 'them'}: {listed}{more}.",
        "warning",
    )


# The week -----------------------------------------------------------------------------------


def _render_week(
    monday: date,
    *,
    shift_form: ShiftForm | None = None,
    day_form: DayForm | None = None,
    off_form: TimeOffForm | None = None,
    status: int = 200,
):
    tz = g.clinic.tz
    therapists = ordered_therapists()
    sites = _sites()
    location_key = parse_id(request.args.get("location"))
    location = sites.get(location_key) if location_key else None
    rows = build_week(therapists, sites, monday, tz, location.id if location else None)
    forms = {}
    if can("roster.manage"):
        forms = _manage_forms(monday, rows, therapists, sites, shift_form, day_form, off_form)
    days = [monday + timedelta(days=n) for n in range(7)]
    return render_template(
        "roster/week.html",
        monday=monday,
        days=days,
        previous_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        rows=rows,
        sites=list(sites.values()),
        location=location,
        today=today_in(g.clinic),
        week_url=_week_url,
        here=request.full_path.rstrip("?"),
        filter_args=_filter_args(monday),
        **forms,
    ), status


def _manage_forms(monday, rows, therapists, sites, shift_form, day_form, off_form) -> dict:
    """The three forms of the page, filled in from ?therapist= and ?day= when a cell was clicked."""
    chosen = request.args.get("therapist") or ""
    chosen = chosen if any(str(t.id) == chosen and t.active for t in therapists) else ""
    day = _parse_day(request.args.get("day"))
    day = day if day and monday <= day <= monday + timedelta(days=6) else None
    # Never a day gone by: today in this week (or a past one), the Monday of a week to come.
    soonest = max(monday, today_in(g.clinic))
    if day_form is None:
        blocks = []
        for row in rows:
            if str(row.therapist.id) == chosen and day is not None:
                cell = row.cells[day.weekday()]
                blocks = [
                    {
                        "location": str(b.location_id),
                        "start": time.fromisoformat(b.start),
                        "end": time.fromisoformat(b.end),
                    }
                    for b in cell.blocks
                ]
        day_form = DayForm(
            formdata=None, prefix="day", therapist=chosen, day=day or soonest, blocks=blocks
        )
    shift_form = shift_form or ShiftForm(
        formdata=None, prefix="shift", therapist=chosen, valid_from=soonest
    )
    off_form = off_form or TimeOffForm(
        formdata=None,
        prefix="off",
        therapist=chosen,
        first_day=day or soonest,
        last_day=day or soonest,
    )
    for form in (shift_form, day_form, off_form):
        _prepare(form, therapists, sites)
    return {"shift_form": shift_form, "day_form": day_form, "off_form": off_form}


@bp.route("/")
@requires("roster.view")
def week():
    return _render_week(_shown_monday())


@bp.route("/shifts", methods=["POST"])
@requires("roster.manage")
def add_shift():
    monday = _shown_monday()
    therapists, sites = ordered_therapists(), _sites()
    form = _prepare(ShiftForm(prefix="shift"), therapists, sites)
    if form.validate_on_submit():
        therapist = _chosen(therapists, form.therapist.data)
        location = _chosen(sites, form.location.data)
        try:
            shifts = roster_admin.add_weekly_shifts(
                therapist,
                location,
                form.weekdays.data,
                form.start.data,
                form.end.data,
                form.valid_from.data,
                form.valid_until.data,
            )
        except RosterError as error:
            place_refusal(form, error)
        else:
            days = ", ".join(roster_admin.WEEKDAY_NAMES[s.weekday] for s in shifts)
            flash(
                f"{therapist.display_name} works {days} "
                f"{roster_admin.hours(form.start.data, form.end.data)} at {location.name} "
                f"from {display.weekday_day(form.valid_from.data)}.",
                "success",
            )
            return redirect(_week_url(max(monday, form.valid_from.data)))
    return _render_week(monday, shift_form=form, status=400)


@bp.route("/days", methods=["POST"])
@requires("roster.manage")
def set_day():
    monday = _shown_monday()
    therapists, sites = ordered_therapists(), _sites()
    form = _prepare(DayForm(prefix="day"), therapists, sites)
    if form.validate_on_submit():
        therapist = _chosen(therapists, form.therapist.data)
        day = form.day.data
        blocks = []
        if not form.not_working.data:
            blocks = [
                roster_admin.HoursBlock(_chosen(sites, b.location.data), b.start.data, b.end.data)
                for b in form.filled_blocks()
            ]
        try:
            roster_admin.set_day_override(therapist, day, blocks, form.note.data)
        except RosterError as error:
            place_refusal(form, error)
        else:
            what = (
                "not working"
                if not blocks
                else ", ".join(
                    f"{roster_admin.hours(b.start, b.end)} at {b.location.name}" for b in blocks
                )
            )
            flash(
                f"{therapist.display_name} on {display.weekday_day(day)}: {what} "
                "(instead of the weekly hours).",
                "success",
            )
            span = day_range(day, g.clinic.tz)
            _warn_outside_hours(therapist, span.start, span.end)
            return redirect(_week_url(day))
    return _render_week(monday, day_form=form, status=400)


@bp.route("/days/<override_id>/remove", methods=["POST"])
@requires("roster.manage")
def remove_day(override_id: str):
    change = get_or_404(DayOverride, override_id)
    therapist, day = change.therapist, change.on_date

    def clear() -> None:
        roster_admin.clear_day_override(change)
        flash(
            f"{therapist.display_name} is back to the weekly hours on {display.weekday_day(day)}.",
            "success",
        )
        span = day_range(day, g.clinic.tz)
        _warn_outside_hours(therapist, span.start, span.end)

    return one_click(clear, _back_to(_week_url(day)))


@bp.route("/time-off", methods=["POST"])
@requires("roster.manage")
def add_time_off():
    monday = _shown_monday()
    therapists, sites = ordered_therapists(), _sites()
    form = _prepare(TimeOffForm(prefix="off"), therapists, sites)
    tz = g.clinic.tz
    if form.validate_on_submit():
        therapist = _chosen(therapists, form.therapist.data)
        try:
            if form.whole_days.data:
                span = roster_admin.whole_days(form.first_day.data, form.last_day.data, tz)
            else:
                span = Interval(
                    local_instant(form.first_day.data, form.start_time.data, tz),
                    local_instant(form.last_day.data, form.end_time.data, tz),
                )
            roster_admin.add_time_off(
                therapist, TimeOffKind(form.kind.data), span.start, span.end, form.note.data
            )
        except RosterError as error:
            place_refusal(form, error, otherwise="end_time")
        else:
            flash(
                f"{TimeOffKind(form.kind.data).label} for {therapist.display_name}: "
                f"{time_off_text(span.start, span.end, tz)}.",
                "success",
            )
            _warn_outside_hours(therapist, span.start, span.end)
            return redirect(_week_url(form.first_day.data))
    return _render_week(monday, off_form=form, status=400)


@bp.route("/time-off/<time_off_id>/remove", methods=["POST"])
@requires("roster.manage")
def remove_time_off(time_off_id: str):
    row = get_or_404(TimeOff, time_off_id)
    tz = g.clinic.tz
    name, first_day = row.therapist.display_name, row.starts_at.astimezone(tz).date()
    when = time_off_text(row.starts_at, row.ends_at, tz)

    def remove() -> str:
        roster_admin.remove_time_off(row)
        return f"{name}'s time off ({when}) was removed."

    return one_click(remove, _back_to(_week_url(first_day)))


# One therapist ------------------------------------------------------------------------------


def time_off_text(start: datetime, end: datetime, tz) -> str:
    """Whole days as dates only, anything else with the clinic's local clock times."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    first_day = display.weekday_day(local_start.date())
    if local_start.time() == time(0) and local_end.time() == time(0):
        last = local_end.date() - timedelta(days=1)
        if last == local_start.date():
            return f"{first_day}, all day"
        return f"{first_day} {DASH} {display.weekday_day(last)}"
    start_time, end_time = display.time(start, tz), display.time(end, tz)
    if local_start.date() == local_end.date():
        return f"{first_day} {start_time}{DASH}{end_time}"
    return f"{first_day} {start_time} {DASH} {display.weekday_day(local_end.date())} {end_time}"


def _end_form(shift: Shift, **kwargs) -> EndShiftForm:
    return EndShiftForm(prefix=f"s{shift.id.hex}", **kwargs)


def _render_therapist(
    therapist: Therapist, failed: tuple[uuid.UUID, EndShiftForm] | None = None, status=200
):
    tz = g.clinic.tz
    today = today_in(g.clinic)
    shifts = db.session.execute(
        select(Shift, Location.name)
        .join(Location, Location.id == Shift.location_id)
        .where(Shift.therapist_id == therapist.id)
        .order_by(Shift.weekday, Shift.start_time, Shift.valid_from)
    ).all()
    current = [(s, site) for s, site in shifts if s.valid_until is None or s.valid_until >= today]
    ended = [(s, site) for s, site in shifts if s.valid_until is not None and s.valid_until < today]
    end_forms = {
        shift.id: failed[1]
        if failed is not None and failed[0] == shift.id
        else _end_form(shift, formdata=None, stop_from=max(today, shift.valid_from))
        for shift, _site in current
    }
    changes: dict[date, list[DayOverride]] = {}
    for row in db.session.scalars(
        select(DayOverride)
        .where(DayOverride.therapist_id == therapist.id, DayOverride.on_date >= today)
        .order_by(DayOverride.on_date, DayOverride.start_time)
    ):
        changes.setdefault(row.on_date, []).append(row)
    away = db.session.scalars(
        select(TimeOff)
        .where(TimeOff.therapist_id == therapist.id, TimeOff.ends_at > utcnow())
        .order_by(TimeOff.starts_at)
    ).all()
    site_names = {s.id: s.name for s in _sites().values()}
    return render_template(
        "roster/therapist.html",
        therapist=therapist,
        current=current,
        ended=ended,
        end_forms=end_forms,
        changes=changes,
        away=[(row, time_off_text(row.starts_at, row.ends_at, tz)) for row in away],
        site_names=site_names,
        weekday_names=roster_admin.WEEKDAY_NAMES,
        here=request.full_path.rstrip("?"),
        week_url=_week_url,
        today=today,
    ), status


@bp.route("/therapists/<therapist_id>/")
@requires("roster.view")
def therapist(therapist_id: str):
    return _render_therapist(get_or_404(Therapist, therapist_id))


@bp.route("/shifts/<shift_id>/end", methods=["POST"])
@requires("roster.manage")
def end_shift(shift_id: str):
    shift = get_or_404(Shift, shift_id)
    therapist = shift.therapist
    form = _end_form(shift)
    if form.validate_on_submit():
        stop_from = form.stop_from.data
        described = (
            f"{roster_admin.WEEKDAY_NAMES[shift.weekday]} "
            f"{roster_admin.hours(shift.start_time, shift.end_time)}"
        )
        try:
            kept = roster_admin.end_weekly_shift(shift, stop_from)
        except RosterError as error:
            place_refusal(form, error, otherwise="stop_from")
        else:
            if kept is None:
                flash(f"The shift {described} was removed: it had not started yet.", "success")
            else:
                flash(
                    f"The shift {described} ends after {display.weekday_day(kept.valid_until)}.",
                    "success",
                )
            start = day_range(stop_from, g.clinic.tz).start
            _warn_outside_hours(therapist, start, start + timedelta(days=730))
            return redirect(url_for("roster.therapist", therapist_id=therapist.id))
    return _render_therapist(therapist, failed=(shift.id, form), status=400)
