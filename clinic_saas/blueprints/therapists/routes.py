"""Therapists' bookable profiles: one profile per person, however many sites they work at."""

from __future__ import annotations

import uuid
from collections import defaultdict

from flask import Blueprint, flash, g, redirect, render_template, url_for
from sqlalchemy import func, select
from wtforms import SelectChoice

from ... import display
from ...clinic_time import today_in
from ...extensions import db
from ...menu.services import active_services
from ...models import (
    Category,
    Location,
    Membership,
    PriceTier,
    Service,
    ServiceTherapist,
    Shift,
    Therapist,
    User,
)
from ...permissions import requires
from ...staff.errors import StaffError
from ...staff.therapists import ordered_therapists, save_profile
from ...tenancy import get_or_404
from ..refusal_views import place_refusal
from .forms import RHP_HELP, TherapistForm

bp = Blueprint("therapists", __name__, url_prefix="/c/<clinic_slug>/staff/therapists")


def _login_choices(therapist: Therapist | None) -> list[SelectChoice]:
    """Active members without a profile yet, and whoever this profile is linked to now."""
    taken = select(Therapist.membership_id).where(Therapist.membership_id.is_not(None))
    if therapist is not None:
        taken = taken.where(Therapist.id != therapist.id)
    current = therapist.membership_id if therapist is not None else None
    members = db.session.scalars(
        select(Membership)
        .join(Membership.user)
        .where(
            (Membership.active.is_(True)) | (Membership.id == current),
            Membership.id.not_in(taken),
        )
        .order_by(User.name)
    ).all()
    return [SelectChoice("", "No login")] + [
        SelectChoice(str(m.id), f"{m.user.name} ({m.user.email}) · {m.role.label}") for m in members
    ]


def _service_choices() -> list[SelectChoice]:
    services = active_services()
    categories = {c.key: c.name for c in _categories()}
    return [
        SelectChoice(
            str(s.id),
            f"{s.name} · {s.duration_minutes} min · {categories.get(s.category, s.category)}",
        )
        for s in services
    ]


def _categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


def _tier_choices() -> list[SelectChoice]:
    tiers = db.session.scalars(select(PriceTier).order_by(PriceTier.position, PriceTier.name))
    return [SelectChoice("", "Standard prices")] + [SelectChoice(str(t.id), t.name) for t in tiers]


def _offered_service_ids(therapist: Therapist) -> list[str]:
    return [
        str(sid)
        for sid in db.session.scalars(
            select(ServiceTherapist.service_id).where(ServiceTherapist.therapist_id == therapist.id)
        )
    ]


def _prepare(form: TherapistForm, therapist: Therapist | None) -> TherapistForm:
    form.login.choices = _login_choices(therapist)
    form.services.choices = _service_choices()
    form.categories.choices = [SelectChoice(c.key, c.name) for c in _categories()]
    form.tier.choices = _tier_choices()
    if therapist is not None:
        form.with_extra_choices("techniques", therapist.techniques or [])
        form.with_extra_choices("categories", therapist.categories or [])
    return form


def _profile_values(form: TherapistForm) -> dict:
    """The form's fields as staff.therapists.save_profile takes them."""
    return {
        "display_name": form.display_name.data,
        "membership_id": uuid.UUID(form.login.data) if form.login.data else None,
        "bio": form.bio.data,
        "qualifications": form.qualifications.data,
        "registered_health_professional": form.registered_health_professional.data,
        "techniques": form.techniques.data or [],
        "categories": form.categories.data or [],
        "calendar_colour": form.calendar_colour.data,
        "commission_rate_bp": form.commission_percent.basis_points,
        "tier_id": uuid.UUID(form.tier.data) if form.tier.data else None,
        "active": form.active.data,
        "service_ids": [uuid.UUID(value) for value in form.services.data or []],
    }


@bp.route("/")
@requires("staff.view")
def index():
    therapists = ordered_therapists()
    logins = {
        m.id: m
        for m in db.session.scalars(
            select(Membership).where(
                Membership.id.in_([t.membership_id for t in therapists if t.membership_id])
            )
        )
    }
    today = today_in(g.clinic)
    sites: dict[uuid.UUID, list[str]] = defaultdict(list)
    for therapist_id, site in db.session.execute(
        select(Shift.therapist_id, Location.name)
        .join(Location, Location.id == Shift.location_id)
        .where((Shift.valid_until.is_(None)) | (Shift.valid_until >= today))
        .distinct()
        .order_by(Location.name)
    ):
        sites[therapist_id].append(site)
    service_counts = dict(
        db.session.execute(
            select(ServiceTherapist.therapist_id, func.count())
            .join(Service, Service.id == ServiceTherapist.service_id)
            .where(Service.active.is_(True))
            .group_by(ServiceTherapist.therapist_id)
        ).all()
    )
    return render_template(
        "therapists/index.html",
        therapists=therapists,
        logins=logins,
        sites=sites,
        service_counts=service_counts,
    )


@bp.route("/new", methods=["GET", "POST"])
@requires("staff.manage")
def new():
    form = _prepare(TherapistForm(), None)
    if form.validate_on_submit():
        try:
            therapist = save_profile(None, **_profile_values(form))
        except StaffError as problem:
            place_refusal(form, problem, otherwise="display_name")
        else:
            flash(
                f"{therapist.display_name}'s profile was created. Add their weekly shifts on the "
                "roster to make them bookable.",
                "success",
            )
            return redirect(url_for("therapists.index"))
    return render_template(
        "therapists/form.html", form=form, therapist=None, rhp_help=RHP_HELP
    ), 400 if form.errors else 200


@bp.route("/<therapist_id>/", methods=["GET", "POST"])
@requires("staff.manage")
def edit(therapist_id: str):
    therapist = get_or_404(Therapist, therapist_id)
    form = TherapistForm(
        obj=therapist,
        login=str(therapist.membership_id) if therapist.membership_id else "",
        commission_percent=display.basis_points(therapist.commission_rate_bp),
        services=_offered_service_ids(therapist),
        tier=str(therapist.tier_id) if therapist.tier_id else "",
    )
    _prepare(form, therapist)
    if form.validate_on_submit():
        try:
            save_profile(therapist, **_profile_values(form))
        except StaffError as problem:
            place_refusal(form, problem, otherwise="display_name")
        else:
            flash(f"{therapist.display_name}'s profile was saved.", "success")
            return redirect(url_for("therapists.index"))
    return render_template(
        "therapists/form.html", form=form, therapist=therapist, rhp_help=RHP_HELP
    ), 400 if form.errors else 200
