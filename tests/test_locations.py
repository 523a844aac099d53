"""Sites and rooms: the owner keeps the clinic's places of work, other roles cannot."""

from __future__ import annotations

from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import Clinic, Location, Room

SITES = "/c/northside/settings/locations/"


def _all(app, clinic_fixture, model):
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            return db.session.scalars(select(model).order_by(model.name)).all()


def _add_site(client, name="Harbour St", **extra):
    data = {"name": name, "address": "1 Harbour St\nManchester", "phone": "0161 000", "active": "y"}
    data.update(extra)
    return client.post_form(SITES + "new", data)


def test_owner_adds_a_site_then_its_rooms(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    added = _add_site(client)
    assert added.status_code == 302
    [site] = _all(app, clinic_a, Location)
    assert (site.name, site.address, site.phone, site.active) == (
        "Harbour St",
        "1 Harbour St\nManchester",
        "0161 000",
        True,
    )
    assert added.location == f"{SITES}{site.id}/"

    for name in ("Room 1", "Room 2"):
        response = client.post_form(f"{SITES}{site.id}/rooms", {"room-name": name})
        assert response.status_code == 302
    assert [r.name for r in _all(app, clinic_a, Room)] == ["Room 1", "Room 2"]

    page = client.get(SITES).get_data(as_text=True)
    assert "Harbour St" in page and "Room 1" in page and "Room 2" in page


def test_owner_edits_a_site_and_closes_it(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    _add_site(client)
    [site] = _all(app, clinic_a, Location)
    response = client.post_form(
        f"{SITES}{site.id}/", {"name": "Harbour Street", "address": "", "phone": ""}
    )
    assert response.status_code == 302
    [site] = _all(app, clinic_a, Location)
    assert (site.name, site.address, site.phone, site.active) == (
        "Harbour Street",
        None,
        None,
        False,
    )
    assert "Closed" in client.get(SITES).get_data(as_text=True)


def test_a_site_needs_a_name_that_no_other_site_has(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    nameless = _add_site(client, name="  ")
    assert nameless.status_code == 400
    assert 'data-testid="error-name">Give the site a name.' in nameless.get_data(as_text=True)

    _add_site(client, name="Harbour St")
    twin = _add_site(client, name="harbour st")
    assert twin.status_code == 400
    assert "There is already a site called harbour st." in twin.get_data(as_text=True)
    assert len(_all(app, clinic_a, Location)) == 1


def test_owner_renames_a_room_and_takes_it_out_of_use_and_back(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    _add_site(client)
    [site] = _all(app, clinic_a, Location)
    client.post_form(f"{SITES}{site.id}/rooms", {"room-name": "Room 1"})
    [room] = _all(app, clinic_a, Room)

    renamed = client.post_form(f"{SITES}rooms/{room.id}/name", {f"r{room.id.hex}-name": "Blue"})
    assert renamed.status_code == 302
    assert _all(app, clinic_a, Room)[0].name == "Blue"

    assert client.post_form(f"{SITES}rooms/{room.id}/active", {"active": "0"}).status_code == 302
    assert _all(app, clinic_a, Room)[0].active is False
    assert "out of use" in client.get(f"{SITES}{site.id}/").get_data(as_text=True)
    assert client.post_form(f"{SITES}rooms/{room.id}/active", {"active": "1"}).status_code == 302
    assert _all(app, clinic_a, Room)[0].active is True


def test_two_rooms_of_one_site_cannot_share_a_name(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    _add_site(client)
    [site] = _all(app, clinic_a, Location)
    client.post_form(f"{SITES}{site.id}/rooms", {"room-name": "Room 1"})
    client.post_form(f"{SITES}{site.id}/rooms", {"room-name": "Room 2"})
    twin = client.post_form(f"{SITES}{site.id}/rooms", {"room-name": "ROOM 1"})
    assert twin.status_code == 400
    assert "Harbour St already has a room called ROOM 1." in twin.get_data(as_text=True)

    room2 = next(r for r in _all(app, clinic_a, Room) if r.name == "Room 2")
    clash = client.post_form(f"{SITES}rooms/{room2.id}/name", {f"r{room2.id.hex}-name": "Room 1"})
    assert clash.status_code == 400
    assert f'data-testid="error-r{room2.id.hex}-name"' in clash.get_data(as_text=True)
    assert sorted(r.name for r in _all(app, clinic_a, Room)) == ["Room 1", "Room 2"]


def test_only_the_owner_manages_sites(app, client, auth, clinic_a):
    for role in ("manager", "receptionist", "therapist"):
        auth.login_as(role, clinic_a)
        assert client.get(SITES).status_code == 403
        assert _add_site(client).status_code == 403
        auth.logout()
    assert _all(app, clinic_a, Location) == []


def test_settings_link_to_sites_and_rooms(client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    assert SITES.encode() in client.get("/c/northside/settings/").data
