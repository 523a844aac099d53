"""Invariant 1: tenant scoping in one place, failing closed, enforced down to the database."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import Clinic, Invitation, Membership, Role, User
from clinic_saas.models.base import utcnow
from clinic_saas.tenancy import TenantScopeError


def _clinic(clinic_fixture) -> Clinic:
    return db.session.get(Clinic, clinic_fixture.clinic_id)


def test_query_on_tenant_model_with_no_clinic_bound_raises(app_ctx, clinic_a):
    with pytest.raises(TenantScopeError):
        db.session.scalars(select(Membership)).all()


def test_join_into_tenant_model_with_no_clinic_bound_raises(app_ctx, clinic_a):
    with pytest.raises(TenantScopeError):
        db.session.scalars(select(User).join(Membership, Membership.user_id == User.id)).all()


def test_bulk_update_and_delete_with_no_clinic_bound_raise(app_ctx, clinic_a):
    with pytest.raises(TenantScopeError):
        db.session.execute(update(Membership).values(active=False))
    db.session.rollback()
    with pytest.raises(TenantScopeError):
        db.session.execute(delete(Membership))
    db.session.rollback()
    with tenancy.platform_access():
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 4


def test_reads_are_scoped_to_the_bound_clinic(app_ctx, clinic_a, clinic_b):
    with tenancy.bound_to(_clinic(clinic_a)):
        ids = set(db.session.scalars(select(Membership.clinic_id)))
        emails = set(db.session.scalars(select(User.email).join(Membership)))
        counted = db.session.scalar(select(func.count()).select_from(Membership))
    assert ids == {clinic_a.clinic_id}
    assert emails == set(clinic_a.members.values())
    assert counted == 4


def test_aliases_and_subqueries_are_scoped_too(app_ctx, clinic_a, clinic_b):
    other = aliased(Membership)
    with tenancy.bound_to(_clinic(clinic_b)):
        rows = db.session.execute(
            select(Membership.id, other.id).join(other, other.user_id == Membership.user_id)
        ).all()
        in_subquery = db.session.scalars(
            select(User.email).where(User.id.in_(select(Membership.user_id)))
        ).all()
    assert len(rows) == 4  # harbour's four members, each joined to itself
    assert set(in_subquery) == set(clinic_b.members.values())


def test_bulk_update_only_touches_the_bound_clinic(app_ctx, clinic_a, clinic_b):
    with tenancy.bound_to(_clinic(clinic_a)):
        db.session.execute(update(Membership).values(active=False))
        db.session.commit()
    with tenancy.bound_to(_clinic(clinic_b)):
        assert all(db.session.scalars(select(Membership.active)))
    with tenancy.bound_to(_clinic(clinic_a)):
        assert not any(db.session.scalars(select(Membership.active)))


def test_new_rows_get_the_bound_clinic(app_ctx, clinic_a):
    clinic = _clinic(clinic_a)
    with tenancy.bound_to(clinic):
        user = User(email="new@example.test", name="New Person")
        membership = Membership(user=user, role=Role.THERAPIST)
        db.session.add(membership)
        db.session.flush()
        assert membership.clinic_id == clinic.id


def test_a_row_of_another_clinic_is_refused_at_flush(app_ctx, clinic_a, clinic_b):
    with tenancy.bound_to(_clinic(clinic_a)):
        user = User(email="new@example.test", name="New Person")
        db.session.add(Membership(user=user, role=Role.THERAPIST, clinic_id=clinic_b.clinic_id))
        with pytest.raises(TenantScopeError):
            db.session.flush()
    db.session.rollback()


def test_writing_a_tenant_row_with_no_clinic_bound_is_refused(app_ctx, clinic_a):
    user = User(email="new@example.test", name="New Person")
    db.session.add(Membership(user=user, role=Role.THERAPIST, clinic_id=clinic_a.clinic_id))
    with pytest.raises(TenantScopeError):
        db.session.flush()
    db.session.rollback()


def test_the_database_refuses_a_reference_to_another_clinics_row(app_ctx, clinic_a, clinic_b):
    """The composite foreign key (clinic_id, invited_by_id) is checked by the database itself."""
    northside_owner = clinic_a.member_ids[Role.OWNER]
    with tenancy.bound_to(_clinic(clinic_b)):
        db.session.add(
            Invitation(
                email="x@example.test",
                role=Role.RECEPTIONIST,
                token_hash="0" * 64,
                invited_by_id=northside_owner,  # a membership of northside, from harbour
                expires_at=utcnow(),
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
    db.session.rollback()
    with tenancy.platform_access():
        assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_binding_a_second_clinic_in_one_context_is_refused(app_ctx, clinic_a, clinic_b):
    tenancy.bind(_clinic(clinic_a))
    try:
        with pytest.raises(TenantScopeError):
            tenancy.bind(_clinic(clinic_b))
    finally:
        tenancy.unbind()


def test_platform_access_opt_outs_are_few_and_reviewed():
    """Every opt-out from tenant scoping is listed here; a new one needs a review."""
    import pathlib

    root = pathlib.Path(tenancy.__file__).parent
    uses = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        for line in path.read_text().splitlines()
        if line.strip().startswith("with") and "platform_access()" in line
    )
    assert uses == [
        "accounts/members.py",  # an invitation link is how its clinic is found
        "blueprints/admin/routes.py",  # the operator's overview: clinic names and sizes
        "blueprints/clinics/routes.py",  # the clinic switcher: one user's memberships
        "payments/reconcile.py",  # the clinics whose Stripe payments are read back
        "payments/webhooks.py",  # a Stripe event is routed to its clinic by account or metadata
        "tenancy.py",  # resolving /c/<slug> for the current user
    ]
