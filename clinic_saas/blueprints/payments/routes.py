"""Money at the desk: the day's till report and what the clinic is owed.

A receptionist sees the takings they recorded themselves; owners and managers see everyone's,
and may narrow the report to one staff member.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, request
from sqlalchemy import select

from ...clinic_time import today_in
from ...extensions import db
from ...models import Location, Membership, User
from ...payments import till as tills
from ...permissions import can, requires
from ...tenancy import parse_id
from .forms import TillForm

bp = Blueprint("payments", __name__, url_prefix="/c/<clinic_slug>/payments")


def _staff_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(Membership.id, User.name)
        .join(User, User.id == Membership.user_id)
        .order_by(User.name, Membership.id)
    )
    return [(str(mid), name) for mid, name in rows]


@bp.route("")
@requires("payments.take")
def till():
    today = today_in(g.clinic)
    everyone = can("payments.till_all")
    form = TillForm(request.args, day=today)
    form.site.choices = [("", "All sites")] + [
        (str(site.id), site.name)
        for site in db.session.scalars(select(Location).order_by(Location.name))
    ]
    if everyone:
        form.staff.choices = [("", "Everyone"), *_staff_choices()]
    else:
        del form.staff  # a receptionist's report is their own takings
    if not form.validate():
        return render_template("payments/till.html", form=form, report=None, everyone=everyone), 400
    taken_by = parse_id(form.staff.data) if everyone else g.membership.id
    report = tills.till(
        g.clinic,
        form.day.data or today,
        location_id=parse_id(form.site.data),
        taken_by_id=taken_by,
    )
    return render_template("payments/till.html", form=form, report=report, everyone=everyone)


@bp.route("/receivables")
@requires("payments.till_all")
def receivables():
    report = tills.receivables(today_in(g.clinic))
    return render_template("payments/receivables.html", report=report, buckets=tills.BUCKETS)
