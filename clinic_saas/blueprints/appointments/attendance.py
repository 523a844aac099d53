"""After booking: check-in, completion, no-show and cancellation, at the desk or in the room."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, g, redirect

from ...models import Appointment, MembershipUse, PackageRedemption
from ...permissions import may_attend, requires
from ...sales import entitlements, packages
from ...scheduling import booking
from ...scheduling.booking import BookingError
from ..forms import OneClickForm
from ..refusal_views import flash_refusal, one_click
from .forms import CancelForm
from .routes import _appointment_or_404, _back, _detail_page, bp


def _attend(appointment_id: str, change: Callable[[Appointment], None], done: str):
    """A status change at the desk or in the treatment room; an illegal one changes nothing."""
    appointment = _appointment_or_404(appointment_id)
    if not may_attend(appointment):
        abort(403)
    form = OneClickForm()
    name = appointment.client.full_name

    def attend() -> str:
        change(appointment)
        return done.format(name=name)

    return one_click(attend, _back(form, appointment), form=form)


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
        return flash_refusal(problem, _back(form, appointment))
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
