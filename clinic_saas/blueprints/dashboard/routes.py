"""The clinic's home page: who you are here, and the way to everything your role may use."""

from __future__ import annotations

from flask import Blueprint, g, render_template
from sqlalchemy import func, select

from ...extensions import db
from ...models import Membership
from ...permissions import requires

bp = Blueprint("dashboard", __name__, url_prefix="/c/<clinic_slug>")


@bp.route("/")
@requires("clinic.view")
def home():
    team_size = db.session.scalar(
        select(func.count()).select_from(Membership).where(Membership.active.is_(True))
    )
    return render_template(
        "dashboard/home.html", clinic=g.clinic, membership=g.membership, team_size=team_size
    )
