"""The staff domain on its own: profiles, sites and rooms are checked before anything is written."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.accounts import members
from clinic_saas.extensions import db
from clinic_saas.models import (
    Clinic,
    Invitation,
    Location,
    Membership,
    Role,
    Room,
    Service,
    ServiceTherapist,
    Therapist,
)
from clinic_saas.models.base import utcnow
from clinic_saas.staff import sites
from clinic_saas.staff.errors import StaffError
from clinic_saas.staff.therapists import ordered_therapists, save_profile


@pytest.fixture
def in_clinic_a(app, clinic_a):
    """An app context bound to clinic A, its writes dropped at the end."""
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            yield clinic
            db.session.rollback()


def _service(name: str, active: bool = True) -> Service:
    service = Service(name=name, category="rehab", duration_minutes=60, active=active)
    db.session.add(service)
    db.session.flush()
    return service


def _offered(therapist: Therapist) -> set[uuid.UUID]:
    return set(
        db.session.scalars(
            select(ServiceTherapist.service_id).where(ServiceTherapist.therapist_id == therapist.id)
        )
    )


def test_a_profile_is_saved_with_exactly_the_ticked_services(in_clinic_a):
    rehab, sports = _service("Rehab"), _service("Sports")
    tom = save_profile(
        None, display_name="  Tom  ", commission_rate_bp=1250, service_ids=[rehab.id, sports.id]
    )
    assert (tom.display_name, tom.commission_rate_bp, tom.active) == ("Tom", 1250, True)
    assert _offered(tom) == {rehab.id, sports.id}

    save_profile(tom, display_name="Tom", service_ids=[sports.id])
    assert _offered(tom) == {sports.id}


def test_a_withdrawn_service_stays_offered_when_the_profile_is_saved(in_clinic_a):
    old = _service("Old")
    tom = save_profile(None, display_name="Tom", service_ids=[old.id])
    old.active = False
    db.session.flush()
    save_profile(tom, display_name="Tom", service_ids=[])
    assert _offered(tom) == {old.id}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"display_name": "   "}, "display_name"),
        ({"display_name": "x" * 81}, "display_name"),
        ({"commission_rate_bp": 10_001}, "commission_percent"),
        ({"commission_rate_bp": -1}, "commission_percent"),
        ({"calendar_colour": "#ff0000"}, "calendar_colour"),
        ({"membership_id": uuid.uuid4()}, "login"),
        ({"tier_id": uuid.uuid4()}, "tier"),
        ({"service_ids": [uuid.uuid4()]}, "services"),
    ],
)
def test_a_bad_profile_is_refused_and_nothing_is_stored(in_clinic_a, values, field):
    with pytest.raises(StaffError) as refused:
        save_profile(None, **{"display_name": "Tom", **values})
    assert refused.value.field == field and str(refused.value)
    assert db.session.scalars(select(Therapist)).all() == []


def test_a_login_is_linked_to_one_profile_only(in_clinic_a, clinic_a):
    login = clinic_a.member_ids[Role.THERAPIST]
    tom = save_profile(None, display_name="Tom", membership_id=login)
    assert save_profile(tom, display_name="Tom B", membership_id=login).display_name == "Tom B"
    with pytest.raises(StaffError) as refused:
        save_profile(None, display_name="Ann", membership_id=login)
    assert refused.value.field == "login"
    assert [t.display_name for t in db.session.scalars(select(Therapist))] == ["Tom B"]


def test_a_deactivated_login_stays_linked_but_cannot_be_linked_anew(in_clinic_a, clinic_a):
    login = clinic_a.member_ids[Role.THERAPIST]
    tom = save_profile(None, display_name="Tom", membership_id=login)
    db.session.scalar(select(Membership).where(Membership.id == login)).active = False
    save_profile(tom, display_name="Tom", membership_id=login)
    save_profile(tom, display_name="Tom", membership_id=None)
    with pytest.raises(StaffError):
        save_profile(tom, display_name="Tom", membership_id=login)


def test_therapists_are_listed_active_first_then_by_name(in_clinic_a):
    for name, active in (("Zoe", True), ("Bob", False), ("Ann", True)):
        save_profile(None, display_name=name, active=active)
    assert [t.display_name for t in ordered_therapists()] == ["Ann", "Zoe", "Bob"]
    assert [t.display_name for t in ordered_therapists(active_only=True)] == ["Ann", "Zoe"]


def test_a_site_is_added_renamed_and_closed(in_clinic_a):
    site = sites.add_site(name=" Harbour St ", address="", phone="0161", active=True)
    assert (site.name, site.address, site.phone, site.active) == ("Harbour St", None, "0161", True)
    sites.update_site(site, name="Harbour Street", address="1 Quay", phone=None, active=False)
    [stored] = db.session.scalars(select(Location)).all()
    assert (stored.name, stored.address, stored.phone, stored.active) == (
        "Harbour Street",
        "1 Quay",
        None,
        False,
    )


def test_a_site_name_is_needed_and_unique_whatever_its_case(in_clinic_a):
    harbour = sites.add_site(name="Harbour St")
    with pytest.raises(StaffError, match="Give the site a name"):
        sites.add_site(name="  ")
    with pytest.raises(StaffError, match="There is already a site called harbour st"):
        sites.add_site(name="harbour st")
    other = sites.add_site(name="Mill Lane")
    with pytest.raises(StaffError) as refused:
        sites.update_site(other, name="HARBOUR ST", address=None, phone=None, active=True)
    assert refused.value.field == "name"
    assert other.name == "Mill Lane"
    sites.update_site(harbour, name="harbour st", address=None, phone=None, active=True)
    assert harbour.name == "harbour st"


def test_a_room_is_added_renamed_and_taken_out_of_use(in_clinic_a):
    site = sites.add_site(name="Harbour St")
    room = sites.add_room(site, "Room 1")
    sites.rename_room(room, "Blue room")
    sites.set_room_active(room, False)
    [stored] = db.session.scalars(select(Room)).all()
    assert (stored.location_id, stored.name, stored.active) == (site.id, "Blue room", False)


def test_a_room_name_is_unique_within_its_site_only(in_clinic_a):
    harbour, mill = sites.add_site(name="Harbour St"), sites.add_site(name="Mill Lane")
    one = sites.add_room(harbour, "Room 1")
    sites.add_room(mill, "Room 1")
    with pytest.raises(StaffError, match="Harbour St already has a room called room 1"):
        sites.add_room(harbour, "room 1")
    two = sites.add_room(harbour, "Room 2")
    with pytest.raises(StaffError):
        sites.rename_room(two, "ROOM 1")
    assert two.name == "Room 2"
    sites.rename_room(one, "room 1")
    assert one.name == "room 1"


def test_sites_and_rooms_are_listed_in_use_first_then_by_name(in_clinic_a):
    mill = sites.add_site(name="Mill Lane")
    sites.add_site(name="Anchor Yard", active=False)
    harbour = sites.add_site(name="Harbour St")
    assert [s.name for s in sites.ordered_sites()] == ["Harbour St", "Mill Lane", "Anchor Yard"]
    assert [s.name for s in sites.ordered_sites(active_only=True)] == ["Harbour St", "Mill Lane"]

    sites.set_room_active(sites.add_room(harbour, "A"), False)
    sites.add_room(harbour, "C")
    sites.add_room(harbour, "B")
    sites.add_room(mill, "M")
    assert [r.name for r in sites.ordered_rooms(harbour)] == ["B", "C", "A"]
    assert [r.name for r in sites.ordered_rooms(harbour, active_only=True)] == ["B", "C"]
    assert [r.name for r in sites.ordered_rooms()] == ["B", "C", "M", "A"]


def test_an_open_invitation_is_revoked_once(in_clinic_a, clinic_a):
    invitation = Invitation(
        email="new@example.com",
        role=Role.RECEPTIONIST,
        token_hash=uuid.uuid4().hex,
        invited_by_id=clinic_a.member_ids[Role.OWNER],
        expires_at=utcnow(),
    )
    db.session.add(invitation)
    db.session.flush()
    assert members.revoke_invitation(invitation) is True
    revoked_at = invitation.revoked_at
    assert revoked_at is not None
    assert members.revoke_invitation(invitation) is False
    assert invitation.revoked_at == revoked_at
