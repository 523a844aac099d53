"""The platform operator's overview of all clinics (names and sizes, never clinic records)."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from ... import tenancy
from ...extensions import db
from ...models import Clinic, Membership
from ...permissions import platform_operator_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@platform_operator_required
def index():
    with tenancy.platform_access():
        rows = db.session.execute(
            select(Clinic, func.count(Membership.id))
            .outerjoin(Membership, (Membership.clinic_id == Clinic.id) & Membership.active)
            .group_by(Clinic.id)
            .order_by(Clinic.created_at.desc())
        ).all()
    return render_template("admin/index.html", rows=rows)
