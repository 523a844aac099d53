"""Red flags on the appointment book: what each role sees, the audit of it, the acknowledgement."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clinic_saas import display, tenancy
from clinic_saas.clinical import audit
from clinic_saas.extensions import db
from clinic_saas.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Client,
    Clinic,
    FlagAcknowledgement,
    Role,
    Therapist,
)
from clinic_saas.models.base import utcnow

from .factories import add_appointment, add_intake, build_schedule

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2031, 6, 2)
BOOK = "/c/northside/appointments"
DAY = f"{BOOK}/?date={MONDAY.isoformat()}"
MINE = f"{BOOK}/mine?date={MONDAY.isoformat()}"
# None of these is time-bound: signed today, they read the same on an appointment in 2031.
FLAGGED = ("haemophilia", "varicose_veins", "pregnancy", "anticoagulants")
SITES = {"varicose_veins": "left calf"}
REPORTED = f", reported on {display.day(utcnow(), LONDON)}"  # another year: the year is given
EXPECTED_LINES = [
    (
        "absolute",
        "danger",
        "Absolute: no treatment today (Haemophilia or another bleeding disorder)",
    ),
    ("local", "warning", "Local: avoid the left calf (Varicose veins)"),
    ("doctor", "info", "Doctor's note: doctor's note advised before treatment (Pregnancy)"),
    ("caution", "info", "Caution: adjust pressure and technique (Anticoagulants (blood thinners))"),
]
EXPECTED_LINES = [(level, tone, text + REPORTED) for level, tone, text in EXPECTED_LINES]
THERAPIST_NAME = "Therapist of Northside Sports Massage"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def in_clinic(app, schedule, fn):
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            result = fn()
            db.session.commit()
            return result


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


def link_login(app, schedule, clinic_fixture, role=Role.THERAPIST, therapist_id=None):
    """Make a member's login the given therapist profile (the schedule's by default)."""

    def link():
        therapist = db.session.scalar(
            select(Therapist).where(Therapist.id == (therapist_id or schedule.therapist_id))
        )
        therapist.membership_id = clinic_fixture.member_ids[role]

    in_clinic(app, schedule, link)


def other_therapist(app, schedule, clinic_fixture):
    """A second therapist profile, linked to the clinic's therapist login: the schedule's own
    therapist is then somebody else."""

    def create():
        therapist = Therapist(
            display_name="Rita Other", membership_id=clinic_fixture.member_ids[Role.THERAPIST]
        )
        db.session.add(therapist)
        db.session.flush()
        return therapist.id

    return in_clinic(app, schedule, create)


def add_visit(app, schedule, starts_at, first_name, *, minutes=60, client_id=None, status=None):
    """An appointment (of a new client unless one is given); returns (client_id, appointment_id)."""

    def create():
        nonlocal client_id
        if client_id is None:
            client = Client(first_name=first_name, last_name="Tester")
            db.session.add(client)
            db.session.flush()
            client_id = client.id
        appointment = Appointment(
            client_id=client_id,
            therapist_id=schedule.therapist_id,
            service_id=schedule.service_id,
            location_id=schedule.location_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            blocked_until=starts_at + timedelta(minutes=minutes),
            status=status or AppointmentStatus.BOOKED,
        )
        db.session.add(appointment)
        db.session.flush()
        return client_id, appointment.id

    return in_clinic(app, schedule, create)


def set_status(app, schedule, appointment_id, status: AppointmentStatus) -> None:
    def change():
        appointment = db.session.scalar(select(Appointment).where(Appointment.id == appointment_id))
        appointment.status = status
        if status == AppointmentStatus.CHECKED_IN:
            appointment.checked_in_at = utcnow()

    in_clinic(app, schedule, change)


def audit_events(app, schedule, action: str) -> list[AuditEvent]:
    def read():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.at)
        ).all()
        db.session.expunge_all()
        return rows

    return in_clinic(app, schedule, read)


def acknowledgements(app, schedule) -> list[FlagAcknowledgement]:
    def read():
        rows = db.session.scalars(select(FlagAcknowledgement)).all()
        db.session.expunge_all()
        return rows

    return in_clinic(app, schedule, read)


LINE = re.compile(
    r'<li class="flag-line flag-(\w+) flag-tone-(\w+)" data-testid="flag-line" '
    r'data-level="(\w+)"(?: data-lapsed="true")?>([^<]*)</li>'
)


def flag_lines(page: str) -> list[tuple[str, str, str]]:
    found = []
    for level, tone, data_level, text in LINE.findall(page):
        assert level == data_level
        found.append((level, tone, html.unescape(text)))
    return found


def page_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# What each role sees -----------------------------------------------------------------------------


def test_therapist_sees_each_flag_on_the_day_view_in_describe_wording_and_colour(
    app, client, auth, clinic_a, schedule
):
    link_login(app, schedule, clinic_a)
    add_appointment(app, schedule, at(MONDAY, 10))
    add_intake(app, schedule, codes=FLAGGED, sites=SITES)
    auth.login_as(Role.THERAPIST, clinic_a)
    page = page_of(client, DAY)
    assert flag_lines(page) == EXPECTED_LINES
    assert 'data-testid="acknowledge"' in page
    assert 'data-testid="red-flag"' not in page  # the lines say it all
    assert "No intake on file" not in page


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER])
def test_owner_and_manager_read_the_flags_too(app, client, auth, clinic_a, schedule, role):
    add_appointment(app, schedule, at(MONDAY, 10))
    add_intake(app, schedule, codes=FLAGGED, sites=SITES)
    auth.login_as(role, clinic_a)
    page = page_of(client, DAY)
    assert flag_lines(page) == EXPECTED_LINES
    # The owner may acknowledge any appointment; a manager writes no clinical records.
    assert ('data-testid="acknowledge"' in page) is (role == Role.OWNER)


def test_receptionist_sees_that_a_flag_exists_never_what_it_is(
    app, client, auth, clinic_a, schedule
):
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    add_intake(app, schedule, codes=FLAGGED, sites=SITES)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    for url in (DAY, f"{BOOK}/{appointment_id}"):
        page = page_of(client, url)
        assert 'data-testid="red-flag">Red flag</span>' in page
        assert flag_lines(page) == []
        for secret in (
            "Haemophilia",
            "Varicose",
            "left calf",
            "Pregnancy",
            "Anticoagulants",
            "avoid",
        ):
            assert secret not in page, f"{secret!r} shown to the desk on {url}"
        assert 'data-testid="acknowledge"' not in page
    assert audit_events(app, schedule, "flags.view") == []


def test_missing_and_outdated_intakes_are_flagged_to_everyone(
    app, client, auth, clinic_a, schedule
):
    link_login(app, schedule, clinic_a)
    add_appointment(app, schedule, at(MONDAY, 9))  # Ada Runner: no intake at all
    old_client, _ = add_visit(app, schedule, at(MONDAY, 11), "Olga")
    add_intake(app, schedule, client_id=old_client, signed_at=utcnow() - timedelta(days=396))
    fine_client, _ = add_visit(app, schedule, at(MONDAY, 13), "Fiona")
    add_intake(app, schedule, client_id=fine_client)
    for role in (Role.RECEPTIONIST, Role.THERAPIST):
        auth.login_as(role, clinic_a)
        page = page_of(client, DAY)
        cells = dict(re.findall(r'data-starts="(\d\d:\d\d)">(.*?)</td>', page, re.S))
        assert 'data-testid="intake-missing">No intake on file' in cells["09:00"]
        assert 'data-testid="intake-outdated">Intake out of date' in cells["11:00"]
        assert "intake-" not in cells["13:00"] and "red-flags" not in cells["13:00"]
        # Nothing to acknowledge without a flag? A missing or outdated intake is one too.
        assert ('data-testid="acknowledge"' in cells["09:00"]) is (role == Role.THERAPIST)
        assert ('data-testid="acknowledge"' in cells["11:00"]) is (role == Role.THERAPIST)
        assert 'data-testid="acknowledge"' not in cells["13:00"]
        auth.logout()


def test_every_client_whose_flags_were_shown_gets_one_audit_event(
    app, client, auth, clinic_a, schedule
):
    link_login(app, schedule, clinic_a)
    twice, _ = add_visit(app, schedule, at(MONDAY, 9), "Twice")
    add_visit(app, schedule, at(MONDAY, 14), "Twice", client_id=twice)
    add_intake(app, schedule, client_id=twice, codes=("fever",))
    other, _ = add_visit(app, schedule, at(MONDAY, 11), "Other")
    add_intake(app, schedule, client_id=other, codes=("dvt",), sites={"dvt": "right calf"})
    clean_client, _ = add_visit(app, schedule, at(MONDAY, 12), "Clean")
    add_intake(app, schedule, client_id=clean_client)
    add_visit(app, schedule, at(MONDAY, 16), "Nointake")
    auth.login_as(Role.THERAPIST, clinic_a)
    page_of(client, DAY)
    events = audit_events(app, schedule, "flags.view")
    assert sorted(e.client_id for e in events) == sorted([twice, other])
    assert {e.actor for e in events} == {f"{THERAPIST_NAME} (therapist)"}
    assert all(e.user_id is not None and e.ip_address for e in events)
    page_of(client, DAY)
    assert len(audit_events(app, schedule, "flags.view")) == 2  # a reload is the same read


def test_a_day_view_reloaded_within_the_window_records_each_flag_read_once(
    app, client, auth, clinic_a, schedule, monkeypatch
):
    link_login(app, schedule, clinic_a)
    first, _ = add_visit(app, schedule, at(MONDAY, 9), "First")
    add_intake(app, schedule, client_id=first, codes=("fever",))
    second, _ = add_visit(app, schedule, at(MONDAY, 11), "Second")
    add_intake(app, schedule, client_id=second, codes=("dvt",), sites={"dvt": "right calf"})
    auth.login_as(Role.THERAPIST, clinic_a)
    for _ in range(3):
        page_of(client, DAY)
    events = audit_events(app, schedule, "flags.view")
    assert sorted(e.client_id for e in events) == sorted([first, second])

    # Another reader's read is their own event, even within the window.
    auth.logout()
    auth.login_as(Role.OWNER, clinic_a)
    page_of(client, DAY)
    assert len(audit_events(app, schedule, "flags.view")) == 4

    # Past the window, the same therapist reading again is a new read.
    later = utcnow() + audit.REPEAT_WINDOW + timedelta(minutes=1)
    monkeypatch.setattr(audit, "utcnow", lambda: later)
    auth.logout()
    auth.login_as(Role.THERAPIST, clinic_a)
    page_of(client, DAY)
    page_of(client, DAY)
    events = audit_events(app, schedule, "flags.view")
    assert len(events) == 6
    assert sorted(e.client_id for e in events[-2:]) == sorted([first, second])


def test_my_schedule_and_the_appointment_page_show_the_flags_to_the_therapist(
    app, client, auth, clinic_a, schedule
):
    link_login(app, schedule, clinic_a)
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    add_appointment(app, schedule, at(MONDAY + timedelta(days=1), 10))
    add_intake(app, schedule, codes=FLAGGED, sites=SITES)
    auth.login_as(Role.THERAPIST, clinic_a)
    mine = page_of(client, MINE)
    assert flag_lines(mine) == EXPECTED_LINES  # today's row; the next days show a badge
    assert mine.count('data-testid="red-flag">Red flag') == 1
    assert mine.count('data-testid="acknowledge"') == 1
    detail = page_of(client, f"{BOOK}/{appointment_id}")
    assert flag_lines(detail) == EXPECTED_LINES
    assert 'data-testid="acknowledge"' in detail
    assert "The note can be written once the client is checked in." in detail
    set_status(app, schedule, appointment_id, AppointmentStatus.CHECKED_IN)
    detail = page_of(client, f"{BOOK}/{appointment_id}")
    assert "Acknowledge the red flags before writing the note." in detail
    assert len(audit_events(app, schedule, "flags.view")) == 1  # one read within the window


def test_a_cancelled_appointment_shows_no_flags(app, client, auth, clinic_a, schedule):
    link_login(app, schedule, clinic_a)
    _, appointment_id = add_visit(
        app, schedule, at(MONDAY, 10), "Gone", status=AppointmentStatus.CANCELLED
    )
    auth.login_as(Role.THERAPIST, clinic_a)
    page = page_of(client, DAY)
    assert "red-flags" not in page and "No intake on file" not in page
    detail = page_of(client, f"{BOOK}/{appointment_id}")
    assert 'data-testid="red-flags"' not in detail


# Acknowledging -----------------------------------------------------------------------------------


def test_the_therapist_acknowledges_once_and_the_day_view_says_who_and_when(
    app, client, auth, clinic_a, schedule
):
    link_login(app, schedule, clinic_a)
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    response_id = add_intake(app, schedule, codes=FLAGGED, sites=SITES)
    auth.login_as(Role.THERAPIST, clinic_a)
    url = f"{BOOK}/{appointment_id}/acknowledge"
    answer = client.post_form(url, {"next": DAY})
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(DAY)
    [ack] = acknowledgements(app, schedule)
    assert ack.appointment_id == appointment_id
    assert ack.response_id == response_id
    assert ack.membership_id == clinic_a.member_ids[Role.THERAPIST]
    [event] = audit_events(app, schedule, "flags.acknowledge")
    assert (event.client_id, event.subject_type, event.subject_id) == (
        schedule.client_id,
        "appointment",
        appointment_id,
    )

    page = page_of(client, DAY)
    local = ack.acknowledged_at.astimezone(LONDON)
    assert f"Acknowledged by {THERAPIST_NAME} at {local:%H:%M} on " in page
    assert 'data-testid="acknowledge"' not in page
    assert flag_lines(page) == EXPECTED_LINES  # still shown, now acknowledged

    again = client.post_form(url, {"next": DAY})
    assert again.status_code == 302
    [same] = acknowledgements(app, schedule)
    assert (same.id, same.acknowledged_at) == (ack.id, ack.acknowledged_at)
    assert len(audit_events(app, schedule, "flags.acknowledge")) == 1
    assert "Already acknowledged" in page_of(client, DAY)


def test_acknowledging_a_missing_intake_stores_no_response(app, client, auth, clinic_a, schedule):
    link_login(app, schedule, clinic_a)
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    auth.login_as(Role.THERAPIST, clinic_a)
    answer = client.post_form(f"{BOOK}/{appointment_id}/acknowledge", {"next": MINE})
    assert answer.headers["Location"].endswith(MINE)
    [ack] = acknowledgements(app, schedule)
    assert ack.response_id is None
    mine = page_of(client, MINE)
    assert "No intake on file" in mine and f"Acknowledged by {THERAPIST_NAME}" in mine


def test_a_newer_intake_needs_a_new_acknowledgement(app, client, auth, clinic_a, schedule):
    link_login(app, schedule, clinic_a)
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    auth.login_as(Role.THERAPIST, clinic_a)
    client.post_form(f"{BOOK}/{appointment_id}/acknowledge")
    response_id = add_intake(app, schedule, codes=("fever",))
    detail = page_of(client, f"{BOOK}/{appointment_id}")
    assert 'data-testid="ack-stale"' in detail
    assert 'data-testid="acknowledge"' in detail
    client.post_form(f"{BOOK}/{appointment_id}/acknowledge")
    [ack] = acknowledgements(app, schedule)
    assert ack.response_id == response_id
    assert len(audit_events(app, schedule, "flags.acknowledge")) == 2
    assert 'data-testid="acknowledge"' not in page_of(client, f"{BOOK}/{appointment_id}")


@pytest.mark.parametrize("role", [Role.THERAPIST, Role.RECEPTIONIST, Role.MANAGER])
def test_only_the_appointments_own_therapist_or_the_owner_may_acknowledge(
    app, client, auth, clinic_a, schedule, role
):
    other_therapist(app, schedule, clinic_a)  # the therapist login is somebody else's profile
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    add_intake(app, schedule, codes=("fever",))
    auth.login_as(role, clinic_a)
    answer = client.post_form(f"{BOOK}/{appointment_id}/acknowledge", {"next": DAY})
    assert answer.status_code == 403
    assert acknowledgements(app, schedule) == []
    assert 'data-testid="acknowledge"' not in page_of(client, DAY)


def test_the_owner_may_acknowledge(app, client, auth, clinic_a, schedule):
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    add_intake(app, schedule, codes=("fever",))
    auth.login_as(Role.OWNER, clinic_a)
    assert client.post_form(f"{BOOK}/{appointment_id}/acknowledge").status_code == 302
    [ack] = acknowledgements(app, schedule)
    assert ack.membership_id == clinic_a.member_ids[Role.OWNER]


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/c/northside/", "/c/harbour/appointments/", "/\\x"],
)
def test_acknowledge_returns_only_to_a_page_of_this_clinic(
    app, client, auth, clinic_a, schedule, target
):
    link_login(app, schedule, clinic_a)
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    auth.login_as(Role.THERAPIST, clinic_a)
    answer = client.post_form(f"{BOOK}/{appointment_id}/acknowledge", {"next": target})
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"{BOOK}/{appointment_id}")


def test_nothing_to_acknowledge_for_a_current_intake_without_flags_or_a_cancelled_visit(
    app, client, auth, clinic_a, schedule
):
    link_login(app, schedule, clinic_a)
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    add_intake(app, schedule)
    _, cancelled_id = add_visit(
        app,
        schedule,
        at(MONDAY, 12),
        "Gone",
        client_id=schedule.client_id,
        status=AppointmentStatus.CANCELLED,
    )
    auth.login_as(Role.THERAPIST, clinic_a)
    answer = client.post_form(f"{BOOK}/{appointment_id}/acknowledge", follow_redirects=True)
    assert "Nothing to acknowledge" in answer.get_data(as_text=True)
    answer = client.post_form(f"{BOOK}/{cancelled_id}/acknowledge", follow_redirects=True)
    assert "needs no acknowledgement" in answer.get_data(as_text=True)
    assert acknowledgements(app, schedule) == []


# Cost of the pages -------------------------------------------------------------------------------


def _fill(app, schedule, count: int, start: int, *, outdated: datetime, member_id) -> None:
    """`count` appointments of new clients, 10 minutes apart from 07:00, with flagged, outdated,
    missing and clean intakes in turn; the flagged ones are acknowledged."""
    for n in range(start, start + count):
        client_id, appointment_id = add_visit(
            app, schedule, at(MONDAY, 7) + timedelta(minutes=10 * n), f"Bulk{n}", minutes=10
        )
        kind = n % 4
        if kind == 0:
            response_id = add_intake(
                app, schedule, client_id=client_id, codes=("varicose_veins", "fever")
            )
            in_clinic(
                app,
                schedule,
                lambda a=appointment_id, r=response_id: db.session.add(
                    FlagAcknowledgement(appointment_id=a, response_id=r, membership_id=member_id)
                ),
            )
        elif kind == 1:
            add_intake(app, schedule, client_id=client_id, signed_at=outdated)
        elif kind == 3:
            add_intake(app, schedule, client_id=client_id)


@pytest.mark.parametrize("role", [Role.THERAPIST, Role.RECEPTIONIST])
def test_the_day_sheet_and_my_schedule_cost_the_same_queries_for_5_and_50_appointments(
    app, client, auth, clinic_a, schedule, count_queries, role
):
    link_login(app, schedule, clinic_a, role=role)
    member_id = clinic_a.member_ids[role]
    outdated = utcnow() - timedelta(days=400)
    auth.login_as(role, clinic_a)
    _fill(app, schedule, 5, 0, outdated=outdated, member_id=member_id)
    few_day, response = count_queries(lambda: client.get(DAY))
    assert response.status_code == 200
    few_mine, response = count_queries(lambda: client.get(MINE))
    assert response.status_code == 200
    _fill(app, schedule, 45, 5, outdated=outdated, member_id=member_id)
    many_day, response = count_queries(lambda: client.get(DAY))
    page = response.get_data(as_text=True)
    many_mine, response = count_queries(lambda: client.get(MINE))
    assert response.status_code == 200
    assert page.count('data-testid="intake-missing"') == 12  # n % 4 == 2 of 0..49
    assert page.count('data-testid="intake-outdated"') == 13
    if role == Role.THERAPIST:
        assert len(flag_lines(page)) == 2 * 13
        assert page.count("Acknowledged by") == 13
    else:
        assert page.count('data-testid="red-flag"') == 13
        assert flag_lines(page) == []
    assert many_day == few_day, f"day sheet: {few_day} statements for 5, {many_day} for 50"
    assert many_mine == few_mine, f"my schedule: {few_mine} statements for 5, {many_mine} for 50"


# Time-bound flags go stale ----------------------------------------------------------------------


def test_a_time_bound_flag_asks_to_reassess_on_appointments_after_its_window(
    app, client, auth, clinic_a, schedule
):
    link_login(app, schedule, clinic_a)
    same_day = add_appointment(app, schedule, at(MONDAY, 10))
    two_days_on = add_appointment(app, schedule, at(MONDAY + timedelta(days=2), 10))
    week_on = add_appointment(app, schedule, at(MONDAY + timedelta(days=7), 10))
    add_intake(
        app,
        schedule,
        codes=("acute_injury", "varicose_veins"),
        sites={"acute_injury": "right ankle", "varicose_veins": "left calf"},
        signed_at=at(MONDAY, 9),
    )
    veins = ("local", "warning", "Local: avoid the left calf (Varicose veins), reported on 2 Jun")
    current = (
        "absolute",
        "danger",
        "Absolute: no treatment today (Acute injury less than 72 hours old), reported on 2 Jun",
    )
    auth.login_as(Role.THERAPIST, clinic_a)
    assert flag_lines(page_of(client, f"{BOOK}/{same_day}")) == [current, veins]
    assert flag_lines(page_of(client, f"{BOOK}/{two_days_on}")) == [current, veins]
    later = page_of(client, f"{BOOK}/{week_on}")
    assert flag_lines(later) == [
        (
            "absolute",
            "warning",
            "Acute injury less than 72 hours old (right ankle), reported on 2 Jun: "
            "reassess before treating",
        ),
        veins,  # not time-bound: unchanged a week later
    ]
    assert 'data-lapsed="true"' in later
    assert "no treatment today" not in later
    # Still a flag to acknowledge: the therapist reassesses before treating.
    assert 'data-testid="acknowledge"' in later


def test_the_catalogue_says_which_conditions_are_time_bound():
    from clinic_saas.clinical.contraindications import BY_CODE

    bound = {code for code, condition in BY_CODE.items() if condition.lasts is not None}
    assert {"fever", "acute_injury", "recent_surgery"} <= bound
    assert not {"haemophilia", "varicose_veins", "pregnancy", "anticoagulants"} & bound
    assert BY_CODE["acute_injury"].lasts == timedelta(hours=72)


# The desk is warned at booking -------------------------------------------------------------------


def _book_client(client, schedule, client_id, starts_at):
    from clinic_saas.scheduling.free_times import SlotChoice

    slot = SlotChoice(schedule.therapist_id, schedule.location_id, starts_at).value
    data = {
        "service": str(schedule.service_id),
        "slot": slot,
        "date": starts_at.astimezone(LONDON).date().isoformat(),
        "client": str(client_id),
        "first_name": "",
        "last_name": "",
        "email": "",
        "phone": "",
        "note": "",
    }
    return client.post_form(f"{BOOK}/new", data, follow_redirects=True)


WARNING = "This client has a red flag: the therapist must review it before treatment."


@pytest.mark.parametrize(
    ("codes", "warned"),
    [
        (("haemophilia",), True),
        (("acute_injury", "anticoagulants"), True),
        (("varicose_veins", "pregnancy"), False),  # no absolute flag: the day sheet says enough
        ((), False),
        (None, False),  # no intake at all
    ],
)
def test_booking_a_client_with_an_absolute_flag_warns_the_desk_without_clinical_detail(
    app, client, auth, clinic_a, schedule, codes, warned
):
    if codes is not None:
        add_intake(app, schedule, codes=codes, sites={"acute_injury": "right ankle", **SITES})
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    page = _book_client(client, schedule, schedule.client_id, at(MONDAY, 11))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Booked Ada Runner" in text
    assert (WARNING in text) is warned
    for secret in ("Haemophilia", "Acute", "ankle", "Varicose", "calf", "Pregnancy", "Anticoag"):
        assert secret not in text
    assert audit_events(app, schedule, "flags.view") == []  # nothing clinical was read


def test_only_the_latest_intake_counts_and_an_unknown_level_warns(
    app, client, auth, clinic_a, schedule
):
    add_intake(app, schedule, codes=("fever",), signed_at=utcnow() - timedelta(days=20))
    add_intake(app, schedule, codes=())
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    assert WARNING not in _book_client(client, schedule, schedule.client_id, at(MONDAY, 11)).text

    # An intake stored before flag_level existed, whose level the migration could not read.
    def unknown():
        from clinic_saas.models import IntakeResponse

        newest = add_intake(app, schedule, codes=("varicose_veins",), sites=SITES)
        db.session.execute(
            IntakeResponse.__table__.update()
            .where(IntakeResponse.__table__.c.id == newest)
            .values(flag_level=None)
        )

    in_clinic(app, schedule, unknown)
    assert WARNING in _book_client(client, schedule, schedule.client_id, at(MONDAY, 14)).text
