"""Merging duplicate client records: everything moves to the kept record, the duplicate goes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from clinic_saas.clients import ClientError, add_child, create_client, merge_clients
from clinic_saas.clients.merge import client_references, moved_summary
from clinic_saas.extensions import db
from clinic_saas.models import (
    Appointment,
    AuditEvent,
    Client,
    ClientMembership,
    IntakeLink,
    IntakeResponse,
    PackageSale,
    Role,
    TreatmentNote,
)

from .factories import add_appointment, add_intake, build_menu, build_schedule
from .test_clients import BASE, _client, bound


def _get(client_id) -> Client:
    return db.session.scalar(select(Client).where(Client.id == client_id))


@pytest.fixture
def duplicates(app, clinic_a):
    """Ada Runner entered twice: the schedule's record (with a package and a membership), and
    another with a phone, a sport, an appointment, an intake link and answers, a note, a child."""
    schedule = build_schedule(app, clinic_a)
    build_menu(app, schedule)
    kept_appointment = add_appointment(app, schedule, datetime(2031, 3, 3, 9, tzinfo=UTC))
    with bound(app, clinic_a):
        dup = create_client(
            "Ada",
            "Runner-Smith",
            "ada.other@example.com",
            "07700 900123",
            sport="Trail running",
            date_of_birth=date(1990, 4, 21),
            emergency_contact_name="Ben Runner",
            emergency_contact_phone="07700 900456",
            marketing_consent=True,
        )
        kid = add_child(dup, "Kit", "Runner", date(2016, 5, 1))
        starts = datetime(2031, 3, 4, 9, tzinfo=UTC)
        appointment = Appointment(
            client_id=dup.id,
            therapist_id=schedule.therapist_id,
            service_id=schedule.service_id,
            location_id=schedule.location_id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            blocked_until=starts + timedelta(minutes=75),
        )
        link = IntakeLink(
            client_id=dup.id,
            channel="email",
            sent_to=dup.email,
            secret_hash="0" * 64,
            expires_at=starts,
        )
        db.session.add_all([appointment, link])
        db.session.flush()
        note = TreatmentNote(
            appointment_id=appointment.id,
            client_id=dup.id,
            author_id=clinic_a.member_ids[Role.THERAPIST],
            content={"subjective": "Tight left calf"},
        )
        db.session.add(note)
        db.session.flush()
        ids = {
            "keep": schedule.client_id,
            "dup": dup.id,
            "kid": kid.id,
            "appointment": appointment.id,
            "kept_appointment": kept_appointment,
            "link": link.id,
            "note": note.id,
        }
    ids["response"] = add_intake(app, schedule, client_id=ids["dup"], codes=("fever",))
    return ids


def test_merge_moves_everything_fills_blanks_deletes_the_duplicate_and_is_audited(
    app, clinic_a, duplicates
):
    with bound(app, clinic_a):
        moved = merge_clients(_get(duplicates["keep"]), _get(duplicates["dup"]))
        assert moved == {
            "appointment": 1,
            "client": 1,
            "intake_link": 1,
            "intake_response": 1,
            "treatment_note": 1,
        }
    with bound(app, clinic_a):
        keep = _get(duplicates["keep"])
        assert _get(duplicates["dup"]) is None
        # The kept record's values win; its blanks are filled from the duplicate.
        assert (keep.last_name, keep.email) == ("Runner", "ada@example.com")
        assert (keep.phone, keep.sport, keep.date_of_birth) == (
            "+447700900123",
            "Trail running",
            date(1990, 4, 21),
        )
        assert (keep.emergency_contact_name, keep.emergency_contact_phone) == (
            "Ben Runner",
            "+447700900456",
        )
        assert keep.marketing_consent is False  # consent is never carried over
        assert "7700900123" in keep.search_text
        for model, key in (
            (Appointment, "appointment"),
            (IntakeLink, "link"),
            (IntakeResponse, "response"),
            (TreatmentNote, "note"),
        ):
            row = db.session.scalar(select(model).where(model.id == duplicates[key]))
            assert row.client_id == keep.id, model.__name__
        assert db.session.scalar(select(func.count(Appointment.id))) == 2
        assert _get(duplicates["kid"]).guardian_id == keep.id
        assert {s.client_id for s in db.session.scalars(select(PackageSale))} == {keep.id}
        event = db.session.scalar(select(AuditEvent))
        assert (event.action, event.client_id) == ("client.merge", keep.id)
        assert event.detail == {"merged_client_id": str(duplicates["dup"])}
        # The intake answers are still readable after the move.
        response = db.session.scalar(select(IntakeResponse))
        assert response.answers["goals"].startswith("Stay injury-free")


def test_a_duplicates_sales_and_memberships_move_too(app, clinic_a, duplicates):
    with bound(app, clinic_a):
        # Here the schedule's record (with the package and membership) is the duplicate.
        moved = merge_clients(_get(duplicates["dup"]), _get(duplicates["keep"]))
        assert moved["package_sale"] == 1 and moved["client_membership"] == 1
        assert moved["appointment"] == 1
    with bound(app, clinic_a):
        kept = _get(duplicates["dup"])
        assert kept.email == "ada.other@example.com"  # the kept record's own value
        assert db.session.scalar(select(ClientMembership.client_id)) == kept.id
        assert db.session.scalar(select(PackageSale.client_id)) == kept.id


def test_every_column_that_refers_to_a_client_is_moved():
    found = {(model.__tablename__, column) for model, column in client_references()}
    assert found >= {
        ("appointment", "client_id"),
        ("package_sale", "client_id"),
        ("client_membership", "client_id"),
        ("intake_link", "client_id"),
        ("intake_response", "client_id"),
        ("treatment_note", "client_id"),
        ("client", "guardian_id"),
    }


def test_merge_refuses_itself_an_erased_client_and_a_parent_with_their_child(
    app, clinic_a, duplicates
):
    with bound(app, clinic_a):
        keep, dup, kid = (_get(duplicates[k]) for k in ("keep", "dup", "kid"))
        with pytest.raises(ClientError, match="themselves"):
            merge_clients(keep, keep)
        with pytest.raises(ClientError, match="guardian"):
            merge_clients(dup, kid)
        with pytest.raises(ClientError, match="guardian"):
            merge_clients(kid, dup)
        # Kit (a child) and the guardian of another family: merged, Kit would be both.
        add_child(keep, "Tia", "Runner", date(2018, 1, 1))
        with pytest.raises(ClientError, match="both"):
            merge_clients(kid, keep)
        keep.erased_at = datetime.now(UTC)
        with pytest.raises(ClientError, match="erased"):
            merge_clients(dup, keep)
        db.session.rollback()
    with bound(app, clinic_a):
        assert db.session.scalar(select(func.count(Client.id))) == 3
        assert db.session.scalar(select(AuditEvent)) is None


# The pages ---------------------------------------------------------------------------------------


def test_manager_finds_the_duplicate_compares_and_merges(app, client, auth, clinic_a, duplicates):
    auth.login_as(Role.MANAGER, clinic_a)
    url = f"{BASE}/{duplicates['keep']}/merge"
    found = client.get(f"{url}?q=runner").get_data(as_text=True)
    matches = found.split('data-testid="duplicate-matches"')[1].split("</div>")[0]
    assert "Ada Runner-Smith" in matches and f"duplicate={duplicates['dup']}" in matches
    assert f"duplicate={duplicates['keep']}" not in matches  # not itself
    compared = client.get(f"{url}?duplicate={duplicates['dup']}")
    assert compared.status_code == 200
    page = compared.get_data(as_text=True)
    table = page.split('data-testid="merge-comparison"')[1]
    assert "ada@example.com" in table and "ada.other@example.com" in table
    assert "from the duplicate" in table and "07700 900123" in table
    assert 'data-testid="after-appointments">2<' in table
    assert 'data-testid="after-children">1<' in table
    assert 'data-testid="after-packages">1<' in table
    response = client.post_form(url, {"duplicate": str(duplicates["dup"])})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{BASE}/{duplicates['keep']}")
    assert _client(app, clinic_a, duplicates["dup"]) is None
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "merged into Ada Runner" in shown and "Kit Runner" in shown
    assert "(1 appointment moved)" in shown


def test_the_merge_page_explains_a_refusal_without_offering_the_button(
    app, client, auth, clinic_a, duplicates
):
    auth.login_as(Role.OWNER, clinic_a)
    url = f"{BASE}/{duplicates['dup']}/merge"
    page = client.get(f"{url}?duplicate={duplicates['kid']}").get_data(as_text=True)
    assert "a parent and their child are two people" in page
    assert 'data-testid="merge-form"' not in page
    refused = client.post_form(url, {"duplicate": str(duplicates["kid"])})
    assert refused.status_code == 400
    assert "a parent and their child are two people" in refused.get_data(as_text=True)
    missing = client.post_form(url, {"duplicate": str(uuid.uuid4())})
    assert missing.status_code == 400
    assert client.get(f"{url}?duplicate=nonsense").status_code == 404
    assert _client(app, clinic_a, duplicates["kid"]) is not None


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.THERAPIST])
def test_only_owners_and_managers_merge(app, client, auth, clinic_a, duplicates, role):
    auth.login_as(role, clinic_a)
    url = f"{BASE}/{duplicates['keep']}/merge"
    assert client.get(url).status_code == 403
    assert client.post_form(url, {"duplicate": str(duplicates["dup"])}).status_code == 403
    assert "Merge a duplicate" not in client.get(f"{BASE}/{duplicates['keep']}").get_data(
        as_text=True
    )
    assert _client(app, clinic_a, duplicates["dup"]) is not None


def test_what_a_merge_moved_is_said_in_the_singular_or_plural():
    assert moved_summary({"appointment": 1, "sale": 2}) == "1 appointment moved"
    assert moved_summary({"appointment": 3}) == "3 appointments moved"
    assert moved_summary({"sale": 2}) is None
