"""Family links: a parent manages their children's records, bookings and shared packages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from clinic_saas.clients import (
    ClientError,
    add_child,
    contact_for,
    create_client,
    link_child,
    unlink_child,
)
from clinic_saas.extensions import db
from clinic_saas.models import (
    Appointment,
    AppointmentStatus,
    Client,
    PackageRedemption,
    PackageSale,
    Role,
)
from clinic_saas.sales import entitlements

from .factories import build_menu, build_schedule
from .test_clients import BASE, _client, bound


def _get(client_id) -> Client:
    return db.session.scalar(select(Client).where(Client.id == client_id))


@pytest.fixture
def family(app, clinic_a):
    """Pat Parent (with an email) and two clients who are not linked yet."""
    with bound(app, clinic_a):
        pat = create_client("Pat", "Parent", "pat@example.com", None)
        sam = create_client("Sam", "Parent", None, "07700 900111", date_of_birth=date(2012, 3, 4))
        lee = create_client("Lee", "Other", "lee@example.com", None)
        return {"pat": pat.id, "sam": sam.id, "lee": lee.id}


# The pages ---------------------------------------------------------------------------------------


def test_receptionist_adds_a_new_child_who_needs_no_contact_of_their_own(
    app, client, auth, clinic_a, family
):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.post_form(
        f"{BASE}/{family['pat']}/family",
        {"first_name": "Kit", "last_name": "Parent", "date_of_birth": "2016-05-01"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{BASE}/{family['pat']}")
    with bound(app, clinic_a):
        kit = db.session.scalar(select(Client).where(Client.first_name == "Kit"))
        assert kit.guardian_id == family["pat"]
        assert (kit.email, kit.phone, kit.date_of_birth) == (None, None, date(2016, 5, 1))
        kit_id = kit.id
    guardian_page = client.get(f"{BASE}/{family['pat']}").get_data(as_text=True)
    children = guardian_page.split('data-testid="children"')[1].split("</ul>")[0]
    assert "Kit Parent" in children and f"{BASE}/{kit_id}" in children
    child_page = client.get(f"{BASE}/{kit_id}").get_data(as_text=True)
    assert "Child of" in child_page and f'href="{BASE}/{family["pat"]}">Pat Parent' in child_page
    assert "reached through Pat Parent" in child_page
    assert "Under 18" in child_page
    listing = client.get(BASE).get_data(as_text=True)
    assert "child of Pat Parent" in listing


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"first_name": "Kit", "last_name": "Parent"}, "Enter the child&#39;s date of birth."),
        ({"first_name": "Kit", "date_of_birth": "01/05/2016"}, "Enter the date as a calendar date"),
        ({"first_name": "Kit", "date_of_birth": "2999-05-01"}, "cannot be in the future"),
        ({"first_name": "", "last_name": "", "date_of_birth": "2016-05-01"}, "Enter the client"),
        ({"first_name": "Kit", "date_of_birth": "2016-05-01", "email": "kit@"}, "valid email"),
        ({"first_name": "K" * 81, "date_of_birth": "2016-05-01"}, "Use at most 80 characters."),
    ],
)
def test_a_new_child_with_bad_input_is_refused_and_nothing_is_stored(
    app, client, auth, clinic_a, family, data, message
):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.post_form(f"{BASE}/{family['pat']}/family", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with bound(app, clinic_a):
        assert db.session.scalar(select(Client).where(Client.guardian_id.is_not(None))) is None


def test_an_existing_client_is_found_by_search_and_linked_as_a_child(
    app, client, auth, clinic_a, family
):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    page = client.get(f"{BASE}/{family['pat']}?family_q=sam").get_data(as_text=True)
    matches = page.split('data-testid="family-matches"')[1].split("</ul>")[0]
    assert "Sam Parent" in matches and "Pat Parent" not in matches
    response = client.post_form(f"{BASE}/{family['pat']}/family", {"child": str(family["sam"])})
    assert response.status_code == 302
    assert _client(app, clinic_a, family["sam"]).guardian_id == family["pat"]
    again = client.get(f"{BASE}/{family['pat']}?family_q=sam").get_data(as_text=True)
    assert "Add to family" not in again  # already in it: not offered twice


@pytest.mark.parametrize(
    ("guardian", "child", "message"),
    [
        ("pat", "pat", "cannot be their own guardian"),
        ("kit", "lee", "a child cannot be a guardian"),  # Kit is Pat's child
        ("lee", "pat", "a guardian cannot be someone&#39;s child"),  # Pat has Kit
        ("lee", "kit", "already in the family of Pat Parent"),
        ("pat", "kit", "already in Pat Parent&#39;s family"),
    ],
)
def test_family_rules_are_explained_and_change_nothing(
    app, client, auth, clinic_a, family, guardian, child, message
):
    with bound(app, clinic_a):
        kit = add_child(_get(family["pat"]), "Kit", "Parent", date(2016, 5, 1))
        ids = family | {"kit": kit.id}
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.post_form(f"{BASE}/{ids[guardian]}/family", {"child": str(ids[child])})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with bound(app, clinic_a):
        links = {c.id: c.guardian_id for c in db.session.scalars(select(Client))}
    assert links == {ids["pat"]: None, ids["sam"]: None, ids["lee"]: None, ids["kit"]: ids["pat"]}


def test_an_erased_client_cannot_join_or_manage_a_family(app, clinic_a, family):
    with bound(app, clinic_a):
        lee = _get(family["lee"])
        lee.erased_at = datetime.now(UTC)
        with pytest.raises(ClientError, match="erased"):
            link_child(_get(family["pat"]), lee)
        with pytest.raises(ClientError, match="erased"):
            link_child(lee, _get(family["sam"]))
        db.session.rollback()


def test_unlinking_a_child_who_can_be_reached_on_their_own(app, client, auth, clinic_a, family):
    with bound(app, clinic_a):
        link_child(_get(family["pat"]), _get(family["sam"]))
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    # From the child's page, the member returns to the child's page.
    response = client.post_form(
        f"{BASE}/{family['pat']}/family/unlink", {"child": str(family["sam"]), "back": "child"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{BASE}/{family['sam']}")
    assert _client(app, clinic_a, family["sam"]).guardian_id is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is no longer in Pat Parent&#39;s family" in page


def test_a_child_without_contact_details_cannot_be_unlinked(app, client, auth, clinic_a, family):
    with bound(app, clinic_a):
        kit_id = add_child(_get(family["pat"]), "Kit", "Parent", date(2016, 5, 1)).id
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.post_form(f"{BASE}/{family['pat']}/family/unlink", {"child": str(kit_id)})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "would become unreachable" in page
    assert _client(app, clinic_a, kit_id).guardian_id == family["pat"]
    # Not in this family: refused as well.
    client.post_form(f"{BASE}/{family['lee']}/family/unlink", {"child": str(kit_id)})
    assert _client(app, clinic_a, kit_id).guardian_id == family["pat"]


def test_a_child_without_contact_keeps_needing_none_when_edited(
    app, client, auth, clinic_a, family
):
    with bound(app, clinic_a):
        kit_id = add_child(_get(family["pat"]), "Kit", "Parent", date(2016, 5, 1)).id
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.post_form(
        f"{BASE}/{kit_id}/edit",
        {
            "first_name": "Kit",
            "last_name": "Parent",
            "date_of_birth": "2016-05-01",
            "sport": "Judo",
        },
    )
    assert response.status_code == 302
    assert _client(app, clinic_a, kit_id).sport == "Judo"


def test_therapist_cannot_change_families(app, client, auth, clinic_a, family):
    auth.login_as(Role.THERAPIST, clinic_a)
    url = f"{BASE}/{family['pat']}/family"
    assert client.post_form(url, {"child": str(family["sam"])}).status_code == 403
    assert client.post_form(f"{url}/unlink", {"child": str(family["sam"])}).status_code == 403
    page = client.get(f"{BASE}/{family['pat']}").get_data(as_text=True)
    assert "Add a child" not in page
    assert _client(app, clinic_a, family["sam"]).guardian_id is None


# Whom to write to --------------------------------------------------------------------------------


def test_contact_for_is_the_clients_own_email_else_the_guardians(app, clinic_a, family):
    with bound(app, clinic_a):
        pat = _get(family["pat"])
        kit = add_child(pat, "Kit", "Parent", date(2016, 5, 1))
        teen = add_child(pat, "Ash", "Parent", date(2009, 5, 1), email="ash@example.com")
        assert contact_for(pat) == ("Pat Parent", "pat@example.com")
        assert contact_for(kit) == ("Pat Parent", "pat@example.com")
        assert contact_for(teen) == ("Ash Parent", "ash@example.com")
        sam = _get(family["sam"])  # a phone only, no guardian
        assert contact_for(sam) == ("Sam Parent", None)
        pat.email = None
        pat.phone = "07700 900222"
        assert contact_for(kit) == ("Kit Parent", None)
        db.session.rollback()


def test_domain_family_rules(app, clinic_a, family):
    with bound(app, clinic_a):
        pat, sam = _get(family["pat"]), _get(family["sam"])
        with pytest.raises(ClientError, match="date of birth"):
            add_child(pat, "Kit", "Parent", None)
        link_child(pat, sam)
        with pytest.raises(ClientError, match="a child cannot be a guardian"):
            add_child(sam, "Tiny", "Parent", date(2020, 1, 1))
        with pytest.raises(ClientError, match="is not in"):
            unlink_child(_get(family["lee"]), sam)
        unlink_child(pat, sam)
        assert sam.guardian_id is None


# Shared packages ---------------------------------------------------------------------------------


@pytest.fixture
def shop(app, clinic_a):
    """Ada Runner (the schedule's client) bought a 6-session package and has a membership;
    her child Kit and an unrelated client Lee each have an appointment to complete."""
    schedule = build_schedule(app, clinic_a)
    menu = build_menu(app, schedule)  # sold on 3 Mar 2031, membership from then
    with bound(app, clinic_a):
        ada = _get(schedule.client_id)
        kit = add_child(ada, "Kit", "Runner", date(2016, 5, 1))
        lee = create_client("Lee", "Other", "lee@example.com", None)
        appointments = {}
        for n, who in enumerate((ada, kit, lee)):
            starts = datetime(2031, 3, 10, 9 + 2 * n, tzinfo=UTC)
            a = Appointment(
                client_id=who.id,
                therapist_id=schedule.therapist_id,
                service_id=schedule.service_id,
                location_id=schedule.location_id,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                blocked_until=starts + timedelta(minutes=75),
                status=AppointmentStatus.COMPLETED,
            )
            db.session.add(a)
            db.session.flush()
            appointments[who.first_name.lower()] = a.id
        people = {"kit_id": kit.id, "lee_id": lee.id}
    return {"schedule": schedule, "menu": menu, **people, **appointments}


def _complete(app, clinic_a, appointment_id):
    with bound(app, clinic_a):
        appointment = db.session.scalar(select(Appointment).where(Appointment.id == appointment_id))
        paid = entitlements.apply_on_completion(appointment, date(2031, 3, 10))
        if paid is None:
            return None
        return (type(paid).__name__, getattr(paid, "sale_id", None))


def _share(app, clinic_a, sale_id, shareable=True):
    with bound(app, clinic_a):
        db.session.scalar(
            select(PackageSale).where(PackageSale.id == sale_id)
        ).shareable = shareable


def test_a_child_uses_the_guardians_shareable_package(app, clinic_a, shop):
    _share(app, clinic_a, shop["menu"].sale_id)
    assert _complete(app, clinic_a, shop["kit"]) == ("PackageRedemption", shop["menu"].sale_id)


def test_a_package_that_is_not_shareable_stays_the_buyers(app, clinic_a, shop):
    assert _complete(app, clinic_a, shop["kit"]) is None
    with bound(app, clinic_a):
        assert db.session.scalar(select(PackageRedemption)) is None


def test_an_unrelated_client_never_uses_a_shareable_package(app, clinic_a, shop):
    _share(app, clinic_a, shop["menu"].sale_id)
    assert _complete(app, clinic_a, shop["lee"]) is None


def test_the_guardian_uses_own_membership_then_a_childs_shareable_package(app, clinic_a, shop):
    with bound(app, clinic_a):
        # Ada's package now belongs to her child, shareable: her own membership still comes first.
        sale = db.session.scalar(select(PackageSale).where(PackageSale.id == shop["menu"].sale_id))
        sale.client_id = shop["kit_id"]
        sale.shareable = True
        first = db.session.scalar(select(Appointment).where(Appointment.id == shop["ada"]))
        later = Appointment(
            client_id=first.client_id,
            therapist_id=first.therapist_id,
            service_id=first.service_id,
            location_id=first.location_id,
            starts_at=first.starts_at + timedelta(days=1),
            ends_at=first.ends_at + timedelta(days=1),
            blocked_until=first.blocked_until + timedelta(days=1),
            status=AppointmentStatus.COMPLETED,
        )
        db.session.add(later)
        db.session.flush()
        later_id = later.id
    assert _complete(app, clinic_a, shop["ada"]) == ("MembershipUse", None)
    # The plan's one session of the month is used: the child's shared package pays.
    assert _complete(app, clinic_a, later_id) == ("PackageRedemption", shop["menu"].sale_id)


def test_the_clients_own_package_comes_before_a_shared_one(app, clinic_a, shop):
    _share(app, clinic_a, shop["menu"].sale_id)
    with bound(app, clinic_a):
        guardian_sale = db.session.scalar(
            select(PackageSale).where(PackageSale.id == shop["menu"].sale_id)
        )
        own = PackageSale(
            package_id=guardian_sale.package_id,
            client_id=shop["kit_id"],
            name="Kit's own course",
            sessions_total=2,
            price_minor=10000,
            sold_on=date(2031, 3, 3),
            expires_on=date(2031, 12, 31),  # expires later than the shared one
        )
        db.session.add(own)
        db.session.flush()
        own_id = own.id
    assert _complete(app, clinic_a, shop["kit"]) == ("PackageRedemption", own_id)
