"""Every route is clinic-scoped or reviewed, declares a permission, never leaks across clinics."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.views import MethodView
from sqlalchemy import select

from clinic_saas import create_app, tenancy
from clinic_saas.extensions import db
from clinic_saas.models import Clinic, Invitation, Role
from clinic_saas.models.base import utcnow
from clinic_saas.permissions import (
    ACCOUNT,
    PERMISSIONS,
    PLATFORM,
    PUBLIC,
    declared_permission,
    requires,
)

from .billing_factories import add_draft, add_organisation
from .conftest import AuthActions, test_config
from .document_samples import sample_ids as document_sample_ids
from .factories import (
    add_appointment,
    add_intake,
    add_override,
    add_time_off,
    build_menu,
    build_schedule,
    intake_template_id,
)

# Routes outside /c/<clinic_slug>/, reviewed one by one: none of them reads a clinic's records
# except through a signed link (invitations) or the current user's own memberships (clinics).
REVIEWED_NON_CLINIC_ENDPOINTS = {
    "static": None,
    "bootstrap.static": None,
    "main.index": PUBLIC,
    "main.healthz": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "auth.signup_page": PUBLIC,
    "auth.check_inbox": PUBLIC,
    "auth.confirm_email": PUBLIC,
    "auth.forgot_password": PUBLIC,
    "auth.reset_password": PUBLIC,
    "invitations.accept": PUBLIC,
    "invitations.switch_account": PUBLIC,
    "account.index": ACCOUNT,  # the user's own password and sessions, nothing of a clinic
    "account.change_password": ACCOUNT,
    "account.log_out_everywhere": ACCOUNT,
    "clinics.index": ACCOUNT,
    "clinics.new": ACCOUNT,
    "admin.index": PLATFORM,
    "dev.outbox": PUBLIC,  # registered only outside production, with no SMTP server
    "dev.message": PUBLIC,
    "public_menu.menu": PUBLIC,
    # A client's intake form: the signed token names the clinic and the link (see intake_public).
    "intake_public.fill": PUBLIC,  # a clinic's own public price list: active, bookable services
    # A client paying an invoice: the signed token names the clinic and the invoice (see pay).
    "pay.page": PUBLIC,
    "pay.start": PUBLIC,
    "pay.charge": PUBLIC,
    "pay.confirm": PUBLIC,
    "pay.receipt": PUBLIC,
    # Stripe's deliveries: the signature on the raw body is the authentication (see webhooks).
    "webhooks.stripe_event": PUBLIC,
}


# Written by harbour's own login, not by anything it asks of northside.
ACCOUNT_TABLES = {"user_account", "user_session"}


def _clinic_rules(app):
    return [r for r in app.url_map.iter_rules() if tenancy.is_clinic_rule(r)]


def test_every_route_is_clinic_scoped_or_reviewed(app):
    unreviewed = [
        f"{rule.endpoint} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if not tenancy.is_clinic_rule(rule) and rule.endpoint not in REVIEWED_NON_CLINIC_ENDPOINTS
    ]
    assert unreviewed == []


def test_every_method_of_every_route_declares_its_permission(app):
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            for method in sorted(rule.methods - {"OPTIONS"}):
                declared = declared_permission(rule.endpoint, method)
                where = f"{method} {rule.endpoint}"
                if tenancy.is_clinic_rule(rule):
                    assert declared in PERMISSIONS, f"{where} must use @requires(...)"
                else:
                    assert declared == REVIEWED_NON_CLINIC_ENDPOINTS[rule.endpoint], where


def _app_with_method_views(make_app):
    """An API-shaped resource: a MethodView under /api/v1/c/<clinic_slug>/, one permission per
    method, and one method that forgot to declare."""
    app = make_app()

    class Notes(MethodView):
        @requires("appointments.view")
        def get(self):
            return {"clinic": tenancy.current_clinic().slug}

        @requires("appointments.manage")
        def post(self):
            return {"written": True}, 201

        def delete(self):
            return {"open": "door"}

    app.add_url_rule(
        "/api/v1/c/<clinic_slug>/notes", view_func=Notes.as_view("api_notes"), methods=None
    )
    return app


def test_a_method_view_declares_a_permission_per_method(make_app, clinic_a, clinic_b):
    app = _app_with_method_views(make_app)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "api_notes")
    assert tenancy.is_clinic_rule(rule)  # recognised by its clinic_slug, not by a /c/ prefix
    with app.test_request_context():
        assert declared_permission("api_notes", "GET") == "appointments.view"
        assert declared_permission("api_notes", "HEAD") == "appointments.view"
        assert declared_permission("api_notes", "POST") == "appointments.manage"
        assert declared_permission("api_notes", "DELETE") is None

    client = app.test_client()
    AuthActions(client).login_as(Role.THERAPIST, clinic_a)
    token = {"X-CSRFToken": client.csrf_token()}
    url = f"/api/v1/c/{clinic_a.slug}/notes"
    assert client.get(url).get_json() == {"clinic": clinic_a.slug}
    assert client.post(url, headers=token).status_code == 403  # a therapist reads; desk writes
    refused = client.delete(url, headers=token)
    assert refused.status_code == 404 and b"door" not in refused.data  # undeclared: closed
    assert client.get(f"/api/v1/c/{clinic_b.slug}/notes").status_code == 404  # not a member
    assert client.post(f"/api/v1/c/{clinic_b.slug}/notes", headers=token).status_code == 404


def test_no_clinic_bound_is_an_error_not_a_guess(app):
    with app.test_request_context(), pytest.raises(tenancy.TenantScopeError):
        tenancy.current_clinic()


def test_a_view_that_declares_nothing_is_refused(database_url, outbox_dir):
    app = create_app(test_config(database_url, outbox_dir))

    @app.route("/forgotten")
    def forgotten():
        return "open door"

    response = app.test_client().get("/forgotten")
    assert response.status_code == 404
    assert b"open door" not in response.data


def _make_invitation(app, clinic_fixture) -> uuid.UUID:
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            invitation = Invitation(
                email=f"invitee@{clinic.slug}.example",
                role=Role.THERAPIST,
                token_hash=uuid.uuid4().hex + uuid.uuid4().hex,
                invited_by_id=clinic_fixture.member_ids[Role.OWNER],
                expires_at=utcnow() + timedelta(days=3),
            )
            db.session.add(invitation)
            db.session.commit()
            return invitation.id


def _sample_ids(app, clinic_fixture) -> dict[str, str]:
    """One real object id of this clinic for each kind of URL parameter."""
    schedule = build_schedule(app, clinic_fixture)
    starts = datetime(2031, 3, 3, 10, tzinfo=UTC)
    menu = build_menu(app, schedule)
    billed = add_draft(app, schedule)
    return {
        "invoice_id": str(billed.invoice_id),
        "line_id": str(billed.line_id),
        "organisation_id": str(add_organisation(app, clinic_fixture.clinic_id)),
        "tax_rate_id": str(menu.tax_rate_id),
        "tier_id": str(menu.tier_id),
        "category_id": str(menu.category_id),
        "price_id": str(menu.price_id),
        "package_id": str(menu.package_id),
        "sale_id": str(menu.sale_id),
        "plan_id": str(menu.plan_id),
        "enrolment_id": str(menu.enrolment_id),
        "member_id": str(clinic_fixture.member_ids[Role.RECEPTIONIST]),
        "invitation_id": str(_make_invitation(app, clinic_fixture)),
        "therapist_id": str(schedule.therapist_id),
        "location_id": str(schedule.location_id),
        "room_id": str(schedule.room_id),
        "service_id": str(schedule.service_id),
        "client_id": str(schedule.client_id),
        "shift_id": str(schedule.shift_ids[0]),
        "override_id": str(add_override(app, schedule, date(2031, 3, 4))),
        "time_off_id": str(
            add_time_off(app, schedule, starts + timedelta(days=7), starts + timedelta(days=8))
        ),
        "appointment_id": str(add_appointment(app, schedule, starts)),
        "response_id": str(add_intake(app, schedule, codes=("fever",))),
        "template_id": str(intake_template_id(app, schedule)),
        **document_sample_ids(app, schedule),
    }


def _snapshot(app) -> dict[str, list]:
    with app.app_context(), tenancy.platform_access():
        return {
            table.name: sorted(map(repr, db.session.execute(select(table)).all()))
            for table in db.metadata.sorted_tables
        }


def _form_data(params: dict[str, str]) -> dict[str, str]:
    data = {"active": "0", "email": "intruder@example.test", "role": "owner", "clinic_name": "X"}
    if "member_id" in params:
        data[f"m{uuid.UUID(params['member_id']).hex}-role"] = "owner"
    return data


def _requests(app, slug: str, ids: dict[str, str]):
    for rule in _clinic_rules(app):
        params = {"clinic_slug": slug}
        for name in rule.arguments - {"clinic_slug"}:
            assert name in ids, f"add a sample id for <{name}> in {rule.endpoint}"
            params[name] = ids[name]
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **params)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, url, params


def _send(client, method: str, url: str, params: dict):
    if method == "GET":
        return client.get(url)
    if method == "POST":
        return client.post_form(url, _form_data(params))
    return client.open(url, method=method, data=_form_data(params))


@pytest.mark.parametrize("role", [Role.OWNER, Role.RECEPTIONIST])
def test_member_of_harbour_gets_404_on_every_northside_url(
    app, client, auth, clinic_a, clinic_b, role
):
    ids = _sample_ids(app, clinic_a)
    before = _snapshot(app)
    auth.login_as(role, clinic_b)
    checked = 0
    for _rule, method, url, params in _requests(app, clinic_a.slug, ids):
        response = _send(client, method, url, params)
        assert response.status_code == 404, f"{method} {url} gave {response.status_code}"
        assert clinic_a.name.encode() not in response.data
        checked += 1
    assert checked >= len(_clinic_rules(app))
    after = _snapshot(app)
    assert {k: v for k, v in after.items() if k not in ACCOUNT_TABLES} == {
        k: v for k, v in before.items() if k not in ACCOUNT_TABLES
    }  # these change only by harbour's own login (last_login_at, its session)


def test_northside_ids_under_harbours_own_address_give_404(app, client, auth, clinic_a, clinic_b):
    ids = _sample_ids(app, clinic_a)
    before = _snapshot(app)
    auth.login_as(Role.OWNER, clinic_b)
    checked = 0
    for rule, method, url, params in _requests(app, clinic_b.slug, ids):
        if set(rule.arguments) == {"clinic_slug"}:
            continue  # no object in the URL: harbour's own pages, rightly 200
        response = _send(client, method, url, params)
        assert response.status_code == 404, f"{method} {url} gave {response.status_code}"
        checked += 1
    assert checked > 0
    after = _snapshot(app)
    assert {k: v for k, v in after.items() if k not in ACCOUNT_TABLES} == {
        k: v for k, v in before.items() if k not in ACCOUNT_TABLES
    }


def test_unknown_clinic_and_non_member_look_the_same(client, auth, clinic_a, clinic_b):
    auth.login_as(Role.OWNER, clinic_b)
    unknown = client.get("/c/no-such-clinic/")
    not_mine = client.get("/c/northside/")
    assert unknown.status_code == not_mine.status_code == 404

    def page_without(response, slug: bytes) -> bytes:
        # The CSRF token is timestamped: two requests a second apart differ there and only there.
        page = response.data.replace(slug, b"")
        for token in set(re.findall(rb'name="csrf[-_]token" (?:content|value)="([^"]+)"', page)):
            page = page.replace(token, b"<token>")
        return page

    assert page_without(unknown, b"no-such-clinic") == page_without(not_mine, b"northside")


def test_clinic_urls_ask_anonymous_visitors_to_log_in_without_revealing_anything(client, clinic_a):
    known = client.get("/c/northside/staff/")
    unknown = client.get("/c/no-such-clinic/staff/")
    assert known.status_code == unknown.status_code == 302
    assert known.location.startswith("/login?next=")
