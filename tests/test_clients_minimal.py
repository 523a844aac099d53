"""Client records at the desk: what a new client needs, and finding one by name, email or phone."""

from __future__ import annotations

import pytest

from clinic_saas import tenancy
from clinic_saas.clients import ClientError, create_client, search_clients
from clinic_saas.extensions import db
from clinic_saas.models import Clinic


@pytest.fixture
def northside(app, clinic_a):
    """Run the test body bound to Northside, as a request of one of its members is."""
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            yield clinic
        db.session.rollback()


def _names(clients) -> list[str]:
    return [c.full_name for c in clients]


def test_a_new_client_needs_a_name_and_a_way_to_reach_them(northside):
    with pytest.raises(ClientError, match="Enter the client's name") as missing_name:
        create_client("  ", "", "ada@example.com", None)
    assert missing_name.value.field == "first_name"
    with pytest.raises(ClientError, match="email address or a phone number") as no_contact:
        create_client("Ada", "Runner", "", "  ")
    assert no_contact.value.field == "email"


def test_the_email_is_trimmed_lowercased_and_checked(northside):
    client = create_client(" Ada ", " Runner ", "  Ada.Runner@Example.COM ", None)
    assert (client.first_name, client.last_name) == ("Ada", "Runner")
    assert client.email == "ada.runner@example.com"
    assert client.phone is None
    assert client.clinic_id == northside.id
    for bad in ("ada", "ada@", "ada runner@example.com", "a" * 250 + "@example.com"):
        with pytest.raises(ClientError) as error:
            create_client("Ada", "Runner", bad, None)
        assert error.value.field == "email"


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("+44 7700 900123", "+447700900123"),
        ("(0161) 496-0000", "+441614960000"),
        ("07700900123", "+447700900123"),
    ],
)
def test_a_phone_number_alone_is_enough(northside, phone, stored):
    client = create_client("Ben", "", None, phone)
    assert client.phone == stored
    assert client.full_name == "Ben"


@pytest.mark.parametrize("phone", ["call me", "12345", "+44 7700 900123 ext. 4" * 3])
def test_a_phone_number_must_look_like_one(northside, phone):
    with pytest.raises(ClientError) as error:
        create_client("Ben", "Jogger", None, phone)
    assert error.value.field == "phone"


def test_names_longer_than_the_record_holds_are_refused(northside):
    with pytest.raises(ClientError) as error:
        create_client("Ada", "R" * 81, "ada@example.com", None)
    assert error.value.field == "last_name"


def test_search_by_name_email_or_phone_ignores_case(northside):
    create_client("Ada", "Runner", "ada@example.com", "+44 7700 900123")
    create_client("Ben", "Jogger", "ben@trail.example", None)
    create_client("Cleo", "Adams", None, "0161 496 0000")
    assert _names(search_clients("ada")) == ["Cleo Adams", "Ada Runner"]
    assert _names(search_clients("ADA RUN")) == ["Ada Runner"]
    assert _names(search_clients("TRAIL.example")) == ["Ben Jogger"]
    assert _names(search_clients("07700 900123")) == ["Ada Runner"]  # one number, two spellings
    assert _names(search_clients("7700900")) == ["Ada Runner"]  # digits match across spaces
    assert _names(search_clients("496 0000")) == ["Cleo Adams"]
    assert search_clients("") == [] and search_clients("   ") == []
    assert search_clients("nobody") == []


def test_search_treats_wildcards_as_plain_text_and_stops_at_the_limit(northside):
    for n in range(25):
        create_client(f"Runner{n:02d}", "Club", f"runner{n}@club.example", None)
    create_client("Per%cent", "Under_score", "odd@example.com", None)
    assert len(search_clients("club")) == 20
    assert len(search_clients("club", limit=5)) == 5
    assert _names(search_clients("%")) == ["Per%cent Under_score"]
    assert _names(search_clients("_")) == ["Per%cent Under_score"]


def test_search_never_finds_another_clinics_clients(app, clinic_a, clinic_b):
    with app.app_context():
        harbour = db.session.get(Clinic, clinic_b.clinic_id)
        with tenancy.bound_to(harbour):
            create_client("Ada", "Harbour", "ada@harbour.example", None)
            db.session.commit()
        northside = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(northside):
            create_client("Ada", "Northside", "ada@northside.example", None)
            assert _names(search_clients("ada")) == ["Ada Northside"]
            db.session.rollback()
