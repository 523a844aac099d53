"""Client records: adding and editing them, finding them, the list and a client's page."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from clinic_saas import tenancy
from clinic_saas.clients import create_client, search_clients, update_client
from clinic_saas.clients.records import ClientError, search_terms
from clinic_saas.extensions import db
from clinic_saas.models import ActivityLevel, Client, Clinic, Role
from clinic_saas.models.base import utcnow

from .factories import add_appointment, add_intake, build_schedule

BASE = "/c/northside/clients"

FULL_RECORD = {
    "first_name": "Ada",
    "last_name": "Runner",
    "date_of_birth": "1990-04-21",
    "email": "Ada.Runner@Example.com",
    "phone": "+44 7700 900123",
    "address": "1 Harbour St\r\nManchester  M1 1AA",
    "emergency_contact_name": "Ben Runner",
    "emergency_contact_phone": "07700 900456",
    "gp_name": "Dr Priya Shah",
    "gp_practice": "Harbour Street Surgery",
    "sport": "Trail running",
    "activity_level": "competitive",
    "marketing_consent": "y",
}


@contextmanager
def bound(app, clinic_fixture):
    """Act for one clinic outside a request, committing what the block wrote."""
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            yield clinic
            db.session.commit()


def _add(app, clinic_fixture, first, last, email=None, phone=None, **details):
    with bound(app, clinic_fixture):
        return create_client(first, last, email, phone, **details).id


def _client(app, clinic_fixture, client_id) -> Client:
    with bound(app, clinic_fixture):
        client = db.session.scalar(select(Client).where(Client.id == client_id))
        if client is not None:
            db.session.expunge(client)
        return client


def _count_clients(app, clinic_fixture) -> int:
    with bound(app, clinic_fixture):
        return db.session.scalar(select(func.count(Client.id)))


# Adding a client ---------------------------------------------------------------------------------


def test_receptionist_adds_a_client_with_every_field(app, client, auth, clinic_a):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    assert client.get(f"{BASE}/new").status_code == 200
    response = client.post_form(f"{BASE}/new", FULL_RECORD)
    assert response.status_code == 302
    with bound(app, clinic_a):
        ada = db.session.scalar(select(Client))
        assert response.headers["Location"].endswith(f"{BASE}/{ada.id}")
        assert (ada.first_name, ada.last_name, ada.email) == (
            "Ada",
            "Runner",
            "ada.runner@example.com",
        )
        assert ada.date_of_birth == date(1990, 4, 21)
        assert ada.address == "1 Harbour St\nManchester M1 1AA"
        assert (ada.emergency_contact_name, ada.emergency_contact_phone) == (
            "Ben Runner",
            "+447700900456",
        )
        assert (ada.gp_name, ada.gp_practice) == ("Dr Priya Shah", "Harbour Street Surgery")
        assert (ada.sport, ada.activity_level) == ("Trail running", ActivityLevel.COMPETITIVE)
        assert ada.marketing_consent is True
        assert utcnow() - ada.marketing_consent_at < timedelta(minutes=1)
        assert "7700900123" in ada.search_text
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    for shown in (
        "Ada Runner",
        "21 Apr 1990",
        "ada.runner@example.com",
        "Ben Runner",
        "Dr Priya Shah, Harbour Street Surgery",
        "Trail running",
        "Competitive (club or race level)",
        "Agreed to news and offers on",
        "No intake",
    ):
        assert shown in page


BAD_INPUT = [
    ({"first_name": "", "last_name": ""}, "first_name", "Enter the client&#39;s name."),
    ({"email": "", "phone": ""}, "email", "Enter an email address or a phone number."),
    ({"email": "ada@"}, "email", "Enter a valid email address"),
    ({"email": "a" * 250 + "@example.com"}, "email", "Use at most 254 characters."),
    ({"phone": "call me"}, "phone", "Enter a phone number of digits"),
    ({"phone": "12345"}, "phone", "Enter a phone number of digits"),
    ({"first_name": "A" * 81}, "first_name", "Use at most 80 characters."),
    ({"last_name": "R" * 81}, "last_name", "Use at most 80 characters."),
    ({"date_of_birth": "21/04/1990"}, "date_of_birth", "Enter the date as a calendar date"),
    ({"date_of_birth": "2999-01-01"}, "date_of_birth", "cannot be in the future"),
    ({"date_of_birth": "1850-01-01"}, "date_of_birth", "older than 120"),
    ({"address": "x" * 501}, "address", "Use at most 500 characters."),
    (
        {"emergency_contact_phone": ""},
        "emergency_contact_phone",
        "Give a phone number for the emergency contact too.",
    ),
    (
        {"emergency_contact_name": ""},
        "emergency_contact_name",
        "Give the emergency contact&#39;s name too.",
    ),
    ({"emergency_contact_phone": "ring ben"}, "emergency_contact_phone", "phone number of digits"),
    ({"emergency_contact_name": "B" * 121}, "emergency_contact_name", "Use at most 120"),
    ({"gp_name": "G" * 121}, "gp_name", "Use at most 120 characters."),
    ({"gp_practice": "P" * 201}, "gp_practice", "Use at most 200 characters."),
    ({"sport": "S" * 121}, "sport", "Use at most 120 characters."),
    ({"activity_level": "godlike"}, "activity_level", "Choose an activity level from the list."),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_INPUT)
def test_a_new_client_with_bad_input_is_refused_with_a_message(
    app, client, auth, clinic_a, change, field, message
):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.post_form(f"{BASE}/new", FULL_RECORD | change)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert f'data-testid="error-{field}"' in page
    assert _count_clients(app, clinic_a) == 0


@pytest.mark.parametrize(("change", "field", "message"), BAD_INPUT)
def test_an_edit_with_bad_input_is_refused_and_changes_nothing(
    app, client, auth, clinic_a, change, field, message
):
    ada_id = _add(app, clinic_a, "Ada", "Runner", "ada@example.com", None, sport="Rowing")
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.post_form(f"{BASE}/{ada_id}/edit", FULL_RECORD | change)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    ada = _client(app, clinic_a, ada_id)
    assert (ada.email, ada.phone, ada.sport, ada.date_of_birth) == (
        "ada@example.com",
        None,
        "Rowing",
        None,
    )


def test_a_form_without_its_csrf_token_is_refused(app, client, auth, clinic_a):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.post(f"{BASE}/new", data=FULL_RECORD)
    assert response.status_code == 400
    assert _count_clients(app, clinic_a) == 0


def test_script_is_stored_as_text_and_shown_escaped(app, client, auth, clinic_a):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    record = FULL_RECORD | {"first_name": "<script>alert(1)</script>"}
    response = client.post_form(f"{BASE}/new", record)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_control_characters_in_a_one_line_field_are_refused_beside_it(app, client, auth, clinic_a):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    response = client.post_form(f"{BASE}/new", FULL_RECORD | {"sport": "Row\x07ing"})
    assert response.status_code == 400
    assert "Keep this to one line" in response.get_data(as_text=True)
    assert _count_clients(app, clinic_a) == 0


def test_receptionist_edits_a_record_and_marketing_consent_keeps_its_date(
    app, client, auth, clinic_a
):
    ada_id = _add(app, clinic_a, "Ada", "Runner", "ada@example.com", None)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    form = client.get(f"{BASE}/{ada_id}/edit")
    assert form.status_code == 200 and 'value="ada@example.com"' in form.get_data(as_text=True)
    assert client.post_form(f"{BASE}/{ada_id}/edit", FULL_RECORD).status_code == 302
    given_at = _client(app, clinic_a, ada_id).marketing_consent_at
    assert given_at is not None
    # Saving again with consent still given keeps the date it was first given.
    client.post_form(f"{BASE}/{ada_id}/edit", FULL_RECORD | {"sport": "Fell running"})
    ada = _client(app, clinic_a, ada_id)
    assert ada.sport == "Fell running" and ada.marketing_consent_at == given_at
    # An unticked box withdraws it.
    withdrawn = {k: v for k, v in FULL_RECORD.items() if k != "marketing_consent"}
    assert client.post_form(f"{BASE}/{ada_id}/edit", withdrawn).status_code == 302
    ada = _client(app, clinic_a, ada_id)
    assert ada.marketing_consent is False and ada.marketing_consent_at is None
    page = client.get(f"{BASE}/{ada_id}").get_data(as_text=True)
    assert "No consent to marketing" in page


def test_clearing_optional_fields_leaves_them_empty(app, client, auth, clinic_a):
    auth.login_as(Role.MANAGER, clinic_a)
    client.post_form(f"{BASE}/new", FULL_RECORD)
    with bound(app, clinic_a):
        ada_id = db.session.scalar(select(Client.id))
    empty = dict.fromkeys(FULL_RECORD, "") | {"first_name": "Ada", "email": "ada@example.com"}
    del empty["marketing_consent"]
    assert client.post_form(f"{BASE}/{ada_id}/edit", empty).status_code == 302
    ada = _client(app, clinic_a, ada_id)
    assert ada.last_name == ""
    assert [ada.phone, ada.date_of_birth, ada.address, ada.gp_name, ada.activity_level] == [
        None
    ] * 5


@pytest.mark.parametrize(
    ("fields", "refusal", "field"),
    [
        ({"surname": "Runner"}, TypeError, None),
        ({"date_of_birth": "yesterday"}, ClientError, "date_of_birth"),
        ({"marketing_consent": "yes"}, ClientError, None),
    ],
)
def test_update_client_refuses_what_is_not_a_field_value(app, clinic_a, fields, refusal, field):
    ada_id = _add(app, clinic_a, "Ada", "Runner", "ada@example.com")
    with bound(app, clinic_a):
        ada = db.session.scalar(select(Client).where(Client.id == ada_id))
        with pytest.raises(refusal) as refused:
            update_client(ada, **fields)
        if refusal is ClientError:
            assert refused.value.field == field
        db.session.rollback()


def test_therapist_sees_clients_but_cannot_add_or_edit_them(app, client, auth, clinic_a):
    ada_id = _add(app, clinic_a, "Ada", "Runner", "ada@example.com")
    auth.login_as(Role.THERAPIST, clinic_a)
    assert client.get(BASE).status_code == 200
    page = client.get(f"{BASE}/{ada_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Edit record" not in text and "Packages and memberships" not in text
    assert client.get(f"{BASE}/new").status_code == 403
    assert client.post_form(f"{BASE}/new", FULL_RECORD).status_code == 403
    assert client.get(f"{BASE}/{ada_id}/edit").status_code == 403
    assert client.post_form(f"{BASE}/{ada_id}/edit", FULL_RECORD).status_code == 403
    assert _client(app, clinic_a, ada_id).phone is None


def test_clients_nav_item_lands_on_the_client_list(app, client, auth, clinic_a):
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    page = client.get("/c/northside/").get_data(as_text=True)
    assert f'href="{BASE}">Clients</a>' in page


def test_an_unknown_or_malformed_client_id_is_404(app, client, auth, clinic_a):
    auth.login_as(Role.OWNER, clinic_a)
    assert client.get(f"{BASE}/not-an-id").status_code == 404
    assert client.get(f"{BASE}/00000000-0000-7000-8000-000000000000").status_code == 404


# Search ------------------------------------------------------------------------------------------


@pytest.fixture
def three_clients(app, clinic_a):
    return {
        "ada": _add(app, clinic_a, "Ada", "Runner", "ada@trail.example", "+44 7700 900123"),
        "ben": _add(app, clinic_a, "Ben", "Jogger", "ben@club.example", "0161 496-0000"),
        "cleo": _add(app, clinic_a, "Cleo", "Adams", None, "07700900999"),
    }


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ada", ["Cleo Adams", "Ada Runner"]),
        ("RUNN", ["Ada Runner"]),
        ("ada run", ["Ada Runner"]),
        ("club.EXAMPLE", ["Ben Jogger"]),
        ("trail", ["Ada Runner"]),
        ("7700 900123", ["Ada Runner"]),  # typed with a space, stored with spaces
        ("7700900123", ["Ada Runner"]),  # typed without spaces
        ("+44 7700 900123", ["Ada Runner"]),
        ("01614960000", ["Ben Jogger"]),  # stored with a space and a dash
        ("0161 496 0000", ["Ben Jogger"]),
        ("496-0000", ["Ben Jogger"]),
        ("07700 900 999", ["Cleo Adams"]),  # stored without spaces
        ("07700", ["Cleo Adams", "Ada Runner"]),  # +44 7700 900123 is 07700 900123 at home
        ("nobody", []),
        ("ada nobody", []),
    ],
)
def test_search_by_part_of_a_name_an_email_or_a_phone(app, clinic_a, three_clients, q, expected):
    with bound(app, clinic_a):
        assert [c.full_name for c in search_clients(q)] == expected


def test_search_terms_are_lowercased_words_or_the_digits_of_a_phone_number():
    assert search_terms("  Ada   RUNNER ") == ["ada", "runner"]
    assert search_terms("0161 496-0000") == ["01614960000"]
    assert search_terms("ada 496-0000") == ["ada", "4960000"]
    assert search_terms("a b c d e f g") == ["a", "b", "c", "d", "e"]
    assert search_terms("") == [] and search_terms(None) == []


def test_the_list_page_searches_and_shows_matches(app, client, auth, clinic_a, three_clients):
    auth.login_as(Role.THERAPIST, clinic_a)
    page = client.get(f"{BASE}?q=7700+900123").get_data(as_text=True)
    assert "Ada Runner" in page and "Ben Jogger" not in page and "Cleo Adams" not in page
    empty = client.get(f"{BASE}?q=zzz").get_data(as_text=True)
    assert "No client matches “zzz”" in empty
    long_query = client.get(f"{BASE}?q=" + "a" * 500)
    assert long_query.status_code == 200


def _erase(app, clinic_fixture, client_id):
    with bound(app, clinic_fixture):
        c = db.session.scalar(select(Client).where(Client.id == client_id))
        c.erased_at = utcnow()


def test_erased_clients_are_not_found_nor_listed_and_show_no_contact_data(
    app, client, auth, clinic_a, three_clients
):
    _erase(app, clinic_a, three_clients["ada"])
    with bound(app, clinic_a):
        assert search_clients("ada") == [
            db.session.scalar(select(Client).where(Client.id == three_clients["cleo"]))
        ]
        assert search_clients("7700900123") == []
    auth.login_as(Role.OWNER, clinic_a)
    listing = client.get(BASE).get_data(as_text=True)
    assert "Ada Runner" not in listing and "Ben Jogger" in listing
    page = client.get(f"{BASE}/{three_clients['ada']}").get_data(as_text=True)
    assert "Erased client" in page
    assert "ada@trail.example" not in page and "7700" not in page and "Ada Runner" not in page
    edit = client.get(f"{BASE}/{three_clients['ada']}/edit")
    assert edit.status_code == 302
    refused = client.post_form(f"{BASE}/{three_clients['ada']}/edit", FULL_RECORD)
    assert refused.status_code == 302
    assert _client(app, clinic_a, three_clients["ada"]).phone == "+447700900123"


# The list ----------------------------------------------------------------------------------------


def _add_many(app, clinic_fixture, count: int, schedule) -> None:
    """count clients; every third a child of the first, every fourth with a flagged intake."""
    ids = []
    with bound(app, clinic_fixture):
        first = create_client("Zed", "Parent", "zed@example.com", None)
        for n in range(count):
            c = create_client(f"Client{n:03d}", f"Family{n:03d}", f"c{n}@example.com", None)
            if n % 3 == 0:
                c.guardian_id = first.id
            ids.append(c.id)
    for n, client_id in enumerate(ids):
        if n % 4 == 0:
            add_intake(app, schedule, client_id=client_id, codes=("fever",))


def test_the_list_costs_the_same_number_of_queries_for_few_or_many_clients(
    app, client, auth, clinic_a, count_queries
):
    schedule = build_schedule(app, clinic_a)
    _add_many(app, clinic_a, 3, schedule)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    few, page = count_queries(lambda: client.get(BASE))
    assert page.status_code == 200
    _add_many(app, clinic_a, 40, schedule)
    many, page = count_queries(lambda: client.get(BASE))
    text = page.get_data(as_text=True)
    assert text.count('data-client="') == 46  # 43, a Zed Parent per batch, and Ada Runner
    assert many == few
    searched, _ = count_queries(lambda: client.get(f"{BASE}?q=client"))
    assert searched <= few


def test_the_list_is_alphabetical_with_a_next_page(app, client, auth, clinic_a):
    with bound(app, clinic_a):
        for n in range(55):
            create_client(f"First{n:02d}", f"Last{54 - n:02d}", f"p{n}@example.com", None)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    first = client.get(BASE).get_data(as_text=True)
    assert first.count('data-client="') == 50
    assert first.index("First54 Last00") < first.index("First05 Last49")
    assert "First04 Last50" not in first
    next_link = first.split('data-testid="next-page"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(next_link.replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('data-client="') == 5
    assert "First04 Last50" in second and "First00 Last54" in second
    assert "First05 Last49" not in second
    assert 'data-testid="next-page"' not in second


def test_list_rows_show_age_guardian_and_intake_state_but_never_flag_content(
    app, client, auth, clinic_a
):
    schedule = build_schedule(app, clinic_a)  # Ada Runner, ada@example.com
    with bound(app, clinic_a):
        ada = db.session.scalar(select(Client).where(Client.id == schedule.client_id))
        kid = create_client(
            "Kit", "Runner", None, None, guardian=ada, date_of_birth=date(2015, 6, 1)
        )
        old = create_client("Olga", "Older", "olga@example.com", None)
        kid_id, old_id = kid.id, old.id
    add_intake(app, schedule, codes=("fever",))
    add_intake(app, schedule, client_id=old_id, signed_at=datetime(2020, 1, 1, tzinfo=UTC))
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    page = client.get(BASE).get_data(as_text=True)
    rows = {
        cid: page.split(f'data-client="{cid}"')[1].split("</tr>")[0]
        for cid in (schedule.client_id, kid_id, old_id)
    }
    assert "Complete" in rows[schedule.client_id] and "Red flag" in rows[schedule.client_id]
    assert "child of Ada Runner" in rows[kid_id] and "1 Jun 2015" in rows[kid_id]
    assert "No intake" in rows[kid_id]
    assert "Out of date" in rows[old_id] and "Red flag" not in rows[old_id]
    assert "fever" not in page.lower()


# A client's page ---------------------------------------------------------------------------------


def test_the_client_page_lists_upcoming_and_past_appointments_in_clinic_time(
    app, client, auth, clinic_a
):
    schedule = build_schedule(app, clinic_a)
    past = datetime(2024, 7, 1, 9, tzinfo=UTC)  # 10:00 in London (summer time)
    upcoming = datetime(2031, 1, 6, 9, tzinfo=UTC)  # 09:00 in London (winter)
    past_id = add_appointment(app, schedule, past)
    upcoming_id = add_appointment(app, schedule, upcoming)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    page = client.get(f"{BASE}/{schedule.client_id}").get_data(as_text=True)
    coming = page.split('data-testid="upcoming-appointments"')[1].split("</section>")[0]
    gone = page.split('data-testid="past-appointments"')[1].split("</section>")[0]
    assert "Mon 6 Jan 2031, 09:00" in coming and f"/appointments/{upcoming_id}" in coming
    assert "Mon 1 Jul 2024, 10:00" in gone and f"/appointments/{past_id}" in gone
    assert "Sports massage 60" in coming and "Tom Turner" in coming and "Booked" in coming
    assert f"/c/northside/sales/clients/{schedule.client_id}" in page


def test_the_client_page_costs_the_same_number_of_queries_however_many_appointments(
    app, client, auth, clinic_a, count_queries
):
    schedule = build_schedule(app, clinic_a)
    add_appointment(app, schedule, datetime(2024, 7, 1, 9, tzinfo=UTC))
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    url = f"{BASE}/{schedule.client_id}"
    few, _ = count_queries(lambda: client.get(url))
    for day in range(2, 12):
        add_appointment(app, schedule, datetime(2024, 7, day, 9, tzinfo=UTC))
        add_appointment(app, schedule, datetime(2031, 7, day, 9, tzinfo=UTC))
    many, page = count_queries(lambda: client.get(url))
    assert page.get_data(as_text=True).count("/appointments/") >= 21
    assert many == few


def test_another_clinics_client_is_not_found(app, client, auth, clinic_a, clinic_b):
    ada_id = _add(app, clinic_a, "Ada", "Runner", "ada@example.com")
    auth.login_as(Role.OWNER, clinic_b)
    assert client.get(f"/c/harbour/clients/{ada_id}").status_code == 404
    assert client.post_form(f"/c/harbour/clients/{ada_id}/edit", FULL_RECORD).status_code == 404
    assert "Ada" not in client.get("/c/harbour/clients?q=ada").get_data(as_text=True)
    assert _client(app, clinic_a, ada_id).phone is None
