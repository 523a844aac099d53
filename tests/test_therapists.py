"""Therapists' bookable profiles: one per person, kept by the owner, seen by managers."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from clinic_saas import display, tenancy
from clinic_saas.extensions import db
from clinic_saas.models import Clinic, Role, Service, ServiceTherapist, Therapist
from clinic_saas.money import percent_to_basis_points
from clinic_saas.staff.therapists import COMMISSION_PERCENT

THERAPISTS = "/c/northside/staff/therapists/"


def _in_clinic(app, clinic_fixture, fn, commit=False):
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            result = fn()
            if commit:
                db.session.commit()
            return result


def _services(app, clinic_fixture, *names, active=True):
    def create():
        rows = [
            Service(name=name, category="rehab", duration_minutes=60, active=active)
            for name in names
        ]
        db.session.add_all(rows)
        db.session.flush()
        return [str(row.id) for row in rows]

    return _in_clinic(app, clinic_fixture, create, commit=True)


def _therapists(app, clinic_fixture):
    return _in_clinic(
        app,
        clinic_fixture,
        lambda: db.session.scalars(select(Therapist).order_by(Therapist.display_name)).all(),
    )


def _offered(app, clinic_fixture, therapist_id):
    return _in_clinic(
        app,
        clinic_fixture,
        lambda: sorted(
            str(sid)
            for sid in db.session.scalars(
                select(ServiceTherapist.service_id).where(
                    ServiceTherapist.therapist_id == therapist_id
                )
            )
        ),
    )


def _profile(**changes):
    data = {
        "display_name": "Tom Turner",
        "login": "",
        "bio": "Ex-rugby, loves a stubborn hamstring.",
        "qualifications": "BSc Sports Therapy",
        "registered_health_professional": "y",
        "techniques": ["kneading", "cupping"],
        "categories": ["rehab"],
        "calendar_colour": "indigo",
        "commission_percent": "37.5",
        "active": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_owner_creates_a_profile_with_services_and_commission_in_basis_points(
    app, client, auth, clinic_a
):
    rehab, maintenance = _services(app, clinic_a, "Rehab 45", "Maintenance 60")
    auth.login_as("owner", clinic_a)
    form = client.get(THERAPISTS + "new").get_data(as_text=True)
    assert "Rehab 45" in form and "Maintenance 60" in form
    assert "cal-indigo" in form  # colours are shown as swatches
    assert "exempt from VAT" in form

    therapist_login = str(clinic_a.member_ids[Role.THERAPIST])
    response = client.post_form(
        THERAPISTS + "new", _profile(login=therapist_login, services=[rehab])
    )
    assert response.status_code == 302
    [tom] = _therapists(app, clinic_a)
    assert tom.commission_rate_bp == 3750
    assert tom.techniques == ["kneading", "cupping"]
    assert tom.categories == ["rehab"]
    assert tom.calendar_colour == "indigo"
    assert tom.registered_health_professional is True
    assert str(tom.membership_id) == therapist_login
    assert _offered(app, clinic_a, tom.id) == [rehab]

    listing = client.get(THERAPISTS).get_data(as_text=True)
    assert "Tom Turner" in listing and "37.5%" in listing

    edited = client.post_form(
        f"{THERAPISTS}{tom.id}/",
        _profile(
            login=therapist_login,
            services=[maintenance],
            commission_percent="40",
            registered_health_professional=None,
        ),
    )
    assert edited.status_code == 302
    [tom] = _therapists(app, clinic_a)
    assert tom.commission_rate_bp == 4000
    assert tom.registered_health_professional is False
    assert _offered(app, clinic_a, tom.id) == [maintenance]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12.345", "Use at most 2 decimals, e.g. 12.5 or 12.75."),
        ("100.01", "Enter a percentage from 0 to 100."),
        ("-1", "Enter a percentage from 0 to 100."),
        ("a lot", "Enter the commission as a percentage, e.g. 12.5."),
    ],
)
def test_a_bad_commission_is_refused_beside_the_field_and_nothing_is_saved(
    app, client, auth, clinic_a, typed, message
):
    auth.login_as("owner", clinic_a)
    response = client.post_form(THERAPISTS + "new", _profile(commission_percent=typed))
    assert response.status_code == 400
    assert f'data-testid="error-commission_percent">{message}<' in response.get_data(as_text=True)
    assert _therapists(app, clinic_a) == []


@pytest.mark.parametrize(
    ("typed", "basis_points"),
    [("0", 0), ("", 0), ("12.5", 1250), ("12.50", 1250), ("7,25 %", 725), ("100", 10000)],
)
def test_commission_percent_is_read_as_basis_points(typed, basis_points):
    assert percent_to_basis_points(typed, COMMISSION_PERCENT, blank=0) == basis_points


def test_commission_is_shown_as_typed():
    assert [display.basis_points(bp) for bp in (0, 1000, 1250, 3333, 10000)] == [
        "0",
        "10",
        "12.5",
        "33.33",
        "100",
    ]


def test_a_profile_needs_a_name(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    response = client.post_form(THERAPISTS + "new", _profile(display_name=""))
    assert response.status_code == 400
    assert 'data-testid="error-display_name">Give the name clients will book.' in (
        response.get_data(as_text=True)
    )


def test_a_login_can_be_linked_to_one_profile_only(app, client, auth, clinic_a):
    therapist_login = str(clinic_a.member_ids[Role.THERAPIST])
    auth.login_as("owner", clinic_a)
    client.post_form(THERAPISTS + "new", _profile(login=therapist_login))
    [tom] = _therapists(app, clinic_a)

    new_form = client.get(THERAPISTS + "new").get_data(as_text=True)
    assert f'value="{therapist_login}"' not in new_form
    edit_form = client.get(f"{THERAPISTS}{tom.id}/").get_data(as_text=True)
    assert f'<option selected value="{therapist_login}">' in edit_form

    second = client.post_form(
        THERAPISTS + "new", _profile(display_name="Tara", login=therapist_login)
    )
    assert second.status_code == 400
    assert 'data-testid="error-login"' in second.get_data(as_text=True)
    assert len(_therapists(app, clinic_a)) == 1


def test_services_no_longer_on_the_menu_are_kept_when_a_profile_is_saved(
    app, client, auth, clinic_a
):
    [retired] = _services(app, clinic_a, "Old hot stones", active=False)
    [current] = _services(app, clinic_a, "Maintenance 60")
    auth.login_as("owner", clinic_a)
    client.post_form(THERAPISTS + "new", _profile(services=[current]))
    [tom] = _therapists(app, clinic_a)

    def offer_retired():
        db.session.add(ServiceTherapist(service_id=uuid.UUID(retired), therapist_id=tom.id))

    _in_clinic(app, clinic_a, offer_retired, commit=True)
    form = client.get(f"{THERAPISTS}{tom.id}/").get_data(as_text=True)
    assert "Old hot stones" not in form
    client.post_form(f"{THERAPISTS}{tom.id}/", _profile(services=[]))
    assert _offered(app, clinic_a, tom.id) == [retired]


def test_manager_sees_therapists_but_only_the_owner_edits_them(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    client.post_form(THERAPISTS + "new", _profile())
    [tom] = _therapists(app, clinic_a)
    auth.logout()

    auth.login_as("manager", clinic_a)
    listing = client.get(THERAPISTS)
    assert listing.status_code == 200
    assert b"Tom Turner" in listing.data
    assert f"{THERAPISTS}{tom.id}/".encode() not in listing.data
    assert client.get(THERAPISTS + "new").status_code == 403
    assert client.post_form(THERAPISTS + "new", _profile(display_name="X")).status_code == 403
    assert client.post_form(f"{THERAPISTS}{tom.id}/", _profile(display_name="X")).status_code == (
        403
    )
    assert [t.display_name for t in _therapists(app, clinic_a)] == ["Tom Turner"]


@pytest.mark.parametrize("role", ["receptionist", "therapist"])
def test_receptionists_and_therapists_do_not_see_profiles_admin(client, auth, clinic_a, role):
    auth.login_as(role, clinic_a)
    assert client.get(THERAPISTS).status_code == 403


def test_staff_page_links_to_therapists(client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    assert THERAPISTS.encode() in client.get("/c/northside/staff/").data


def test_owner_puts_a_therapist_in_a_price_tier_and_sees_the_clinics_own_categories(
    app, client, auth, clinic_a
):
    from clinic_saas.models import Category, PriceTier, Therapist

    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            tier = PriceTier(name="Senior")
            therapist = Therapist(display_name="Tom Turner")
            db.session.add_all([tier, therapist, Category(key="events", name="At events")])
            db.session.commit()
            tier_id, therapist_id = tier.id, therapist.id
    auth.login_as("owner", clinic_a)
    page = client.get(f"/c/northside/staff/therapists/{therapist_id}/")
    assert b"At events" in page.data and b"Standard prices" in page.data
    saved = client.post_form(
        f"/c/northside/staff/therapists/{therapist_id}/",
        {
            "display_name": "Tom Turner",
            "login": "",
            "calendar_colour": "teal",
            "commission_percent": "40",
            "tier": str(tier_id),
            "categories": ["events"],
            "active": "y",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            therapist = db.session.get(Therapist, (clinic.id, therapist_id))
            assert therapist.tier_id == tier_id
            assert therapist.categories == ["events"]
