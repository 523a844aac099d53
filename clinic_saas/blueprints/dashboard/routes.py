"""The clinic's home page: each role lands on what it needs today.

Reception sees the day at a glance (next appointments, who is due to check in, intakes to ask
for, flags to pass on: that they exist, never what they say); a therapist sees their own day;
owners and managers see today and this week in numbers. Each is computed in
scheduling/today.py in a fixed number of statements.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template
from sqlalchemy import func, select

from ...clinic_time import today_in
from ...extensions import db
from ...models import Membership, Role
from ...models.base import utcnow
from ...permissions import requires
from ...scheduling import today as homes
from .presenters import figures

bp = Blueprint("dashboard", __name__, url_prefix="/c/<clinic_slug>")


@bp.route("/")
@requires("clinic.view")
def home():
    clinic, membership = g.clinic, g.membership
    on = today_in(clinic)
    page = {"clinic": clinic, "membership": membership, "today": on}
    if membership.role in (Role.OWNER, Role.MANAGER):
        page["numbers"] = homes.clinic_numbers(clinic, on)
        page["figures"] = figures
        page["team_size"] = db.session.scalar(
            select(func.count()).select_from(Membership).where(Membership.active.is_(True))
        )
    elif membership.role == Role.RECEPTIONIST:
        page["desk"] = homes.desk_day(clinic, on, utcnow())
    else:
        therapist = homes.own_therapist(membership.id)
        page["therapist"] = therapist
        page["my_day"] = homes.therapist_day(clinic, therapist, on) if therapist else []
    return render_template("dashboard/home.html", **page)
