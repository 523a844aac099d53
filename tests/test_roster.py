"""The roster: a week of hours per therapist, changed by owners and managers, read by everyone."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.clinic_time import today_in
from clinic_saas.extensions import db
from clinic_saas.models import (
    Appointment,
    Clinic,
    DayOverride,
    Location,
    Shift,
    Therapist,
    TimeOff,
    TimeOffKind,
)
from clinic_saas.scheduling.roster import working_blocks

from .factories import add_appointment, add_override, add_time_off, build_schedule

ROSTER = "/c/northside/roster/"
LONDON = ZoneInfo("Europe/London")
MONDAY = date(2031, 3, 3)  # a winter week: London is on GMT, local time = UTC


def _in_clinic(app, clinic_fixture, fn, commit=False):
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            result = fn()
            if commit:
                db.session.commit()
            return result


def _rows(app, clinic_fixture, model, *where):
    return _in_clinic(
        app, clinic_fixture, lambda: db.session.scalars(select(model).where(*where)).all()
    )


def _text(html: str) -> str:
    """What a person reads, with the page's en dashes ("09:00\u201317:00") typed as hyphens."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace("\u2013", "-")


def _cell(page: str, therapist: str, day: date) -> str:
    """The visible text of one therapist's cell on one day of the week grid."""
    row = re.search(rf'<tr data-therapist="{re.escape(therapist)}">(.*?)</tr>', page, re.S)
    assert row, f"no row for {therapist}"
    cell = re.search(rf'data-day="{day.isoformat()}">(.*?)</td>', row.group(1), re.S)
    assert cell, f"no cell for {day}"
    return _text(cell.group(1))


def _week(client, day: date = MONDAY, **args) -> str:
    response = client.get(ROSTER, query_string={"week": day.isoformat(), **args})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _shift_form(schedule, **changes):
    data = {
        "shift-therapist": str(schedule.therapist_id),
        "shift-weekdays": ["5", "6"],
        "shift-location": str(schedule.location_id),
        "shift-start": "10:00",
        "shift-end": "14:00",
        "shift-valid_from": MONDAY.isoformat(),
        "shift-valid_until": "",
    }
    data.update(changes)
    return data


def _day_form(schedule, day=MONDAY + timedelta(days=1), blocks=(), **changes):
    data = {"day-therapist": str(schedule.therapist_id), "day-day": day.isoformat()}
    for n, (start, end) in enumerate(blocks):
        data[f"day-blocks-{n}-location"] = str(schedule.location_id)
        data[f"day-blocks-{n}-start"] = start
        data[f"day-blocks-{n}-end"] = end
    data.update(changes)
    return data


def _time_off_form(schedule, **changes):
    data = {
        "off-therapist": str(schedule.therapist_id),
        "off-kind": "holiday",
        "off-first_day": (MONDAY + timedelta(days=1)).isoformat(),
        "off-start_time": "13:00",
        "off-last_day": (MONDAY + timedelta(days=3)).isoformat(),
        "off-end_time": "11:00",
    }
    data.update(changes)
    return data


@pytest.fixture
def schedule(app, clinic_a):
    """Tom Turner works Monday to Friday 09:00-17:00 at Harbour St."""
    return build_schedule(app, clinic_a)


# Reading the week -----------------------------------------------------------------------------


def test_the_week_shows_each_days_hours_and_site(client, auth, clinic_a, schedule):
    auth.login_as("receptionist", clinic_a)
    page = _week(client, MONDAY + timedelta(days=2))  # any day of the week shows that week
    assert "Week of 3 Mar - 9 Mar 2031" in _text(page)
    for n in range(5):
        assert _cell(page, "Tom Turner", MONDAY + timedelta(days=n)).startswith(
            "09:00-17:00 Harbour St"
        )
    assert _cell(page, "Tom Turner", MONDAY + timedelta(days=5)) == "—"
    assert 'data-testid="shift-form"' not in page  # read-only for a receptionist


def test_previous_and_next_week_links(client, auth, clinic_a, schedule):
    auth.login_as("therapist", clinic_a)
    page = _week(client)
    assert f"{ROSTER}?week=2031-02-24" in page
    assert f"{ROSTER}?week=2031-03-10" in page
    assert "Mon 3 Mar" in page and "Sun 9 Mar" in page
    assert client.get(ROSTER, query_string={"week": "not-a-day"}).status_code == 200


def test_the_site_filter_keeps_the_people_working_there(app, client, auth, clinic_a, schedule):
    def second_site():
        db.session.add(Location(name="Dock Rd"))

    _in_clinic(app, clinic_a, second_site, commit=True)
    [dock] = _rows(app, clinic_a, Location, Location.name == "Dock Rd")
    auth.login_as("manager", clinic_a)
    assert "Tom Turner" in _week(client, location=str(schedule.location_id))
    at_dock = _week(client, location=str(dock.id))
    assert 'data-therapist="Tom Turner"' not in at_dock
    assert "Nobody is rostered at Dock Rd this week." in at_dock


# Weekly shifts --------------------------------------------------------------------------------


def test_owner_adds_weekend_hours_on_two_days_at_once(app, client, auth, clinic_a, schedule):
    auth.login_as("owner", clinic_a)
    response = client.post_form(ROSTER + f"shifts?week={MONDAY}", _shift_form(schedule))
    assert response.status_code == 302
    assert response.location == f"{ROSTER}?week={MONDAY}"
    added = _rows(app, clinic_a, Shift, Shift.weekday >= 5)
    assert sorted(s.weekday for s in added) == [5, 6]
    assert {(s.start_time, s.end_time, s.valid_from, s.valid_until) for s in added} == {
        (time(10), time(14), MONDAY, None)
    }
    page = _week(client)
    assert _cell(page, "Tom Turner", MONDAY + timedelta(days=6)).startswith(
        "10:00-14:00 Harbour St"
    )
    assert _cell(page, "Tom Turner", MONDAY - timedelta(days=1) + timedelta(days=7)).startswith(
        "10:00-14:00"
    )


def test_an_overlapping_weekly_shift_is_refused_with_a_clear_message(
    app, client, auth, clinic_a, schedule
):
    auth.login_as("manager", clinic_a)
    response = client.post_form(
        ROSTER + "shifts",
        _shift_form(
            schedule, **{"shift-weekdays": ["0", "5"], "shift-start": "16:00", "shift-end": "18:00"}
        ),
    )
    assert response.status_code == 400
    assert (
        "Tom Turner already works Mondays 09:00-17:00 at Harbour St from Mon 6 Jan 2020: "
        "the new shift would overlap it."
    ) in _text(response.get_data(as_text=True))
    assert len(_rows(app, clinic_a, Shift)) == 5  # nothing half-written, not even Saturday


def test_a_shift_that_ends_before_it_starts_is_refused_beside_the_field(
    app, client, auth, clinic_a, schedule
):
    auth.login_as("owner", clinic_a)
    response = client.post_form(
        ROSTER + "shifts", _shift_form(schedule, **{"shift-end": "09:00", "shift-start": "10:00"})
    )
    assert response.status_code == 400
    assert 'data-testid="error-shift-end">The shift must end after it starts.' in (
        response.get_data(as_text=True)
    )
    no_days = client.post_form(ROSTER + "shifts", _shift_form(schedule, **{"shift-weekdays": []}))
    assert no_days.status_code == 400
    assert "Tick at least one day." in no_days.get_data(as_text=True)
    assert len(_rows(app, clinic_a, Shift)) == 5


def test_a_shift_ended_from_a_date_keeps_the_weeks_before(app, client, auth, clinic_a, schedule):
    monday_shift = schedule.shift_ids[0]
    auth.login_as("owner", clinic_a)
    response = client.post_form(
        f"{ROSTER}shifts/{monday_shift}/end",
        {f"s{monday_shift.hex}-stop_from": (MONDAY + timedelta(days=7)).isoformat()},
    )
    assert response.status_code == 302
    [shift] = _rows(app, clinic_a, Shift, Shift.id == monday_shift)
    assert shift.valid_until == MONDAY + timedelta(days=6)
    assert _cell(_week(client), "Tom Turner", MONDAY).startswith("09:00-17:00")
    assert _cell(
        _week(client, MONDAY + timedelta(days=7)), "Tom Turner", MONDAY + timedelta(7)
    ) == ("— Change day")


def test_ending_a_shift_that_never_started_removes_it(app, client, auth, clinic_a, schedule):
    auth.login_as("owner", clinic_a)
    client.post_form(ROSTER + "shifts", _shift_form(schedule, **{"shift-weekdays": ["5"]}))
    [saturday] = _rows(app, clinic_a, Shift, Shift.weekday == 5)
    response = client.post_form(
        f"{ROSTER}shifts/{saturday.id}/end", {f"s{saturday.id.hex}-stop_from": MONDAY.isoformat()}
    )
    assert response.status_code == 302
    assert _rows(app, clinic_a, Shift, Shift.weekday == 5) == []


# Changing one day -----------------------------------------------------------------------------


def test_a_day_change_replaces_the_weekly_hours_that_day_only(
    app, client, auth, clinic_a, schedule
):
    tuesday = MONDAY + timedelta(days=1)
    auth.login_as("owner", clinic_a)
    response = client.post_form(
        ROSTER + "days",
        _day_form(
            schedule,
            tuesday,
            [("14:00", "18:00"), ("08:00", "12:00")],
            **{"day-note": "Late clinic"},
        ),
    )
    assert response.status_code == 302
    page = _week(client)
    tuesday_cell = _cell(page, "Tom Turner", tuesday)
    assert tuesday_cell.startswith(
        "08:00-12:00 Harbour St (changed for this day) "
        "14:00-18:00 Harbour St (changed for this day)"
    )
    assert "Changed this day: Late clinic" in tuesday_cell
    assert "09:00-17:00" not in tuesday_cell
    assert _cell(page, "Tom Turner", MONDAY).startswith("09:00-17:00 Harbour St Change day")
    assert len(_rows(app, clinic_a, DayOverride)) == 2


def test_not_working_that_day(app, client, auth, clinic_a, schedule):
    wednesday = MONDAY + timedelta(days=2)
    auth.login_as("manager", clinic_a)
    response = client.post_form(
        ROSTER + "days", _day_form(schedule, wednesday, **{"day-not_working": "y"})
    )
    assert response.status_code == 302
    cell = _cell(_week(client), "Tom Turner", wednesday)
    assert cell.startswith("Not working Changed this day")
    assert "09:00" not in cell
    [row] = _rows(app, clinic_a, DayOverride)
    assert row.is_day_off and row.on_date == wednesday


def test_overlapping_blocks_on_one_day_are_refused(app, client, auth, clinic_a, schedule):
    auth.login_as("owner", clinic_a)
    response = client.post_form(
        ROSTER + "days", _day_form(schedule, blocks=[("09:00", "13:00"), ("12:00", "15:00")])
    )
    assert response.status_code == 400
    assert "The hours 09:00-13:00 and 12:00-15:00 overlap" in _text(response.get_data(as_text=True))
    assert _rows(app, clinic_a, DayOverride) == []


def test_a_day_change_needs_hours_or_not_working(app, client, auth, clinic_a, schedule):
    auth.login_as("owner", clinic_a)
    empty = client.post_form(ROSTER + "days", _day_form(schedule))
    assert empty.status_code == 400
    assert "Give the hours worked that day, or tick Not working that day." in empty.get_data(
        as_text=True
    )
    backwards = client.post_form(ROSTER + "days", _day_form(schedule, blocks=[("15:00", "09:00")]))
    assert backwards.status_code == 400
    assert 'data-testid="error-day-blocks-0-end">Must end after it starts.' in (
        backwards.get_data(as_text=True)
    )


def test_undoing_a_day_change_brings_back_the_weekly_hours(app, client, auth, clinic_a, schedule):
    tuesday = MONDAY + timedelta(days=1)
    override_id = add_override(app, schedule, tuesday)
    auth.login_as("owner", clinic_a)
    assert _cell(_week(client), "Tom Turner", tuesday).startswith("Not working")
    here = f"{ROSTER}?week={MONDAY}"
    response = client.post_form(f"{ROSTER}days/{override_id}/remove", {"next": here})
    assert response.status_code == 302 and response.location == here
    assert _cell(_week(client), "Tom Turner", tuesday).startswith("09:00-17:00 Harbour St")
    # a "next" elsewhere is not followed
    other = add_override(app, schedule, tuesday)
    away = client.post_form(f"{ROSTER}days/{other}/remove", {"next": "https://example.com/"})
    assert away.location.startswith(ROSTER)


def test_a_day_change_warns_about_bookings_left_outside_working_time(
    app, client, auth, clinic_a, schedule
):
    tuesday = MONDAY + timedelta(days=1)
    add_appointment(app, schedule, datetime(2031, 3, 4, 15, tzinfo=UTC))
    add_appointment(app, schedule, datetime(2031, 3, 4, 9, tzinfo=UTC))
    auth.login_as("owner", clinic_a)
    client.post_form(ROSTER + "days", _day_form(schedule, tuesday, [("09:00", "13:00")]))
    page = _week(client)
    assert "1 booking of Tom Turner now fall outside their working time" in page
    assert "Tue 4 Mar 2031 15:00 Ada Runner (Sports massage 60)" in page
    assert "09:00 Ada Runner" not in page
    assert "1 outside working time" in _cell(_week(client), "Tom Turner", tuesday)


# Time off -------------------------------------------------------------------------------------


def test_time_off_is_shown_in_local_time_clipped_to_each_day(app, client, auth, clinic_a, schedule):
    auth.login_as("manager", clinic_a)
    response = client.post_form(ROSTER + "time-off", _time_off_form(schedule))
    assert response.status_code == 302
    [row] = _rows(app, clinic_a, TimeOff)
    assert (row.kind, row.starts_at, row.ends_at) == (
        TimeOffKind.HOLIDAY,
        datetime(2031, 3, 4, 13, tzinfo=UTC),
        datetime(2031, 3, 6, 11, tzinfo=UTC),
    )
    page = _week(client)
    assert "Holiday from 13:00" in _cell(page, "Tom Turner", MONDAY + timedelta(days=1))
    assert "Holiday all day" in _cell(page, "Tom Turner", MONDAY + timedelta(days=2))
    assert "Holiday until 11:00" in _cell(page, "Tom Turner", MONDAY + timedelta(days=3))
    assert "Holiday" not in _cell(page, "Tom Turner", MONDAY + timedelta(days=4))


def test_whole_days_of_time_off_in_summer_time(app, client, auth, clinic_a, schedule):
    auth.login_as("owner", clinic_a)
    response = client.post_form(
        ROSTER + "time-off",
        _time_off_form(
            schedule,
            **{
                "off-kind": "sickness",
                "off-whole_days": "y",
                "off-first_day": "2031-07-01",
                "off-last_day": "2031-07-02",
                "off-start_time": "",
                "off-end_time": "",
            },
        ),
    )
    assert response.status_code == 302
    [row] = _rows(app, clinic_a, TimeOff)
    # London midnight in July is 23:00 UTC the day before
    assert row.starts_at == datetime(2031, 6, 30, 23, tzinfo=UTC)
    assert row.ends_at == datetime(2031, 7, 2, 23, tzinfo=UTC)
    page = _week(client, date(2031, 7, 1))
    assert "Sickness all day" in _cell(page, "Tom Turner", date(2031, 7, 1))
    assert "Sickness all day" in _cell(page, "Tom Turner", date(2031, 7, 2))
    assert "Sickness" not in _cell(page, "Tom Turner", date(2031, 7, 3))


def test_time_off_that_ends_before_it_starts_is_refused(app, client, auth, clinic_a, schedule):
    auth.login_as("owner", clinic_a)
    same_day = client.post_form(
        ROSTER + "time-off",
        _time_off_form(schedule, **{"off-last_day": "2031-03-04", "off-end_time": "12:00"}),
    )
    assert same_day.status_code == 400
    assert 'data-testid="error-off-end_time">The time off must end after it starts.' in (
        same_day.get_data(as_text=True)
    )
    earlier_day = client.post_form(
        ROSTER + "time-off", _time_off_form(schedule, **{"off-last_day": "2031-03-03"})
    )
    assert earlier_day.status_code == 400
    assert "The last day comes before the first." in earlier_day.get_data(as_text=True)
    no_time = client.post_form(
        ROSTER + "time-off", _time_off_form(schedule, **{"off-end_time": ""})
    )
    assert no_time.status_code == 400
    assert "Give a time, or tick Whole days." in no_time.get_data(as_text=True)
    assert _rows(app, clinic_a, TimeOff) == []


def test_new_time_off_keeps_bookings_but_lists_them(app, client, auth, clinic_a, schedule):
    add_appointment(app, schedule, datetime(2031, 3, 5, 10, tzinfo=UTC))
    auth.login_as("owner", clinic_a)
    response = client.post_form(
        ROSTER + "time-off", _time_off_form(schedule), follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "1 booking of Tom Turner now fall outside their working time" in page
    assert "Wed 5 Mar 2031 10:00 Ada Runner (Sports massage 60)" in page
    assert len(_rows(app, clinic_a, Appointment)) == 1


def test_time_off_can_be_removed(app, client, auth, clinic_a, schedule):
    starts = datetime(2031, 3, 4, 9, tzinfo=UTC)
    time_off_id = add_time_off(app, schedule, starts, starts + timedelta(hours=3))
    auth.login_as("owner", clinic_a)
    assert "Holiday 09:00-12:00" in _cell(_week(client), "Tom Turner", MONDAY + timedelta(1))
    response = client.post_form(f"{ROSTER}time-off/{time_off_id}/remove", {})
    assert response.status_code == 302
    assert _rows(app, clinic_a, TimeOff) == []


def test_one_therapists_page_lists_shifts_day_changes_and_time_off(
    app, client, auth, clinic_a, schedule
):
    tomorrow = datetime.now(LONDON).date() + timedelta(days=1)
    add_override(app, schedule, tomorrow)
    starts = datetime.now(UTC) + timedelta(days=3)
    add_time_off(app, schedule, starts, starts + timedelta(hours=2))
    auth.login_as("therapist", clinic_a)
    page = client.get(f"{ROSTER}therapists/{schedule.therapist_id}/").get_data(as_text=True)
    text = _text(page)
    assert "Mondays 09:00-17:00 Harbour St Mon 6 Jan 2020 no end date" in text
    assert "not working" in text
    assert "Holiday" in text
    assert "End from" not in text and "Remove" not in text  # read-only for a therapist


# Who may change the roster ----------------------------------------------------------------------


def _every_change(app, schedule):
    override_id = add_override(app, schedule, MONDAY)
    time_off_id = add_time_off(
        app, schedule, datetime(2031, 3, 4, 9, tzinfo=UTC), datetime(2031, 3, 4, 10, tzinfo=UTC)
    )
    shift_id = schedule.shift_ids[0]
    return [
        (ROSTER + "shifts", _shift_form(schedule)),
        (f"{ROSTER}shifts/{shift_id}/end", {f"s{shift_id.hex}-stop_from": "2031-03-10"}),
        (ROSTER + "days", _day_form(schedule, **{"day-not_working": "y"})),
        (f"{ROSTER}days/{override_id}/remove", {}),
        (ROSTER + "time-off", _time_off_form(schedule)),
        (f"{ROSTER}time-off/{time_off_id}/remove", {}),
    ]


def _snapshot(app, clinic_fixture):
    def read():
        return [
            sorted(repr(vars(r).get("id")) for r in db.session.scalars(select(model)))
            for model in (Shift, DayOverride, TimeOff)
        ] + [[(s.id, s.valid_until) for s in db.session.scalars(select(Shift))]]

    return _in_clinic(app, clinic_fixture, read)


@pytest.mark.parametrize("role", ["therapist", "receptionist"])
def test_therapists_and_receptionists_cannot_change_the_roster(
    app, client, auth, clinic_a, schedule, role
):
    changes = _every_change(app, schedule)
    before = _snapshot(app, clinic_a)
    auth.login_as(role, clinic_a)
    page = _week(client)
    assert "09:00-17:00" in _text(page)
    for marker in ("shift-form", "day-form", "time-off-form", "Change day", "Undo", "Remove"):
        assert marker not in page
    for url, data in changes:
        assert client.post_form(url, data).status_code == 403, url
    assert _snapshot(app, clinic_a) == before


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_owners_and_managers_change_the_roster(app, client, auth, clinic_a, schedule, role):
    changes = _every_change(app, schedule)
    auth.login_as(role, clinic_a)
    assert 'data-testid="shift-form"' in _week(client)
    for url, data in changes:
        assert client.post_form(url, data).status_code == 302, url


# Daylight saving --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change_day", "friday_before_utc", "monday_after_utc"),
    [
        (date(2026, 3, 29), 9, 8),  # spring forward: GMT -> BST
        (date(2026, 10, 25), 8, 9),  # autumn back: BST -> GMT
    ],
)
def test_a_weekly_shift_keeps_its_local_hours_across_daylight_saving(
    app, client, auth, clinic_a, change_day, friday_before_utc, monday_after_utc
):
    schedule = build_schedule(app, clinic_a, weekdays=range(7))
    auth.login_as("therapist", clinic_a)
    for week_of in (change_day, change_day + timedelta(days=1)):
        page = _week(client, week_of)
        monday = week_of - timedelta(days=week_of.weekday())
        for n in range(7):
            assert _cell(page, "Tom Turner", monday + timedelta(days=n)).startswith(
                "09:00-17:00 Harbour St"
            ), monday + timedelta(days=n)

    friday, monday = change_day - timedelta(days=2), change_day + timedelta(days=1)

    def starts():
        blocks = working_blocks([schedule.therapist_id], friday, monday, LONDON)
        return {b.day: b.interval for b in blocks[schedule.therapist_id]}

    intervals = _in_clinic(app, clinic_a, starts)
    assert intervals[friday].start == datetime.combine(friday, time(friday_before_utc), UTC)
    assert intervals[monday].start == datetime.combine(monday, time(monday_after_utc), UTC)
    assert intervals[friday].end - intervals[friday].start == timedelta(hours=8)
    assert intervals[change_day].end - intervals[change_day].start == timedelta(hours=8)


# Cost of the week page ------------------------------------------------------------------------


def _add_people(app, clinic_fixture, schedule, count: int):
    """More therapists, each with weekly hours, a day change and some time off this week."""

    def create():
        for n in range(count):
            therapist = Therapist(display_name=f"Extra {n}", calendar_colour="blue")
            db.session.add(therapist)
            db.session.flush()
            db.session.add_all(
                [
                    Shift(
                        therapist_id=therapist.id,
                        location_id=schedule.location_id,
                        weekday=day,
                        start_time=time(8),
                        end_time=time(12),
                        valid_from=date(2030, 1, 1),
                    )
                    for day in range(7)
                ]
            )
            db.session.add(
                DayOverride(
                    therapist_id=therapist.id,
                    on_date=MONDAY + timedelta(days=n % 7),
                    location_id=schedule.location_id,
                    start_time=time(13),
                    end_time=time(15),
                )
            )
            db.session.add(
                TimeOff(
                    therapist_id=therapist.id,
                    kind=TimeOffKind.TRAINING,
                    starts_at=datetime(2031, 3, 5, 8, tzinfo=UTC),
                    ends_at=datetime(2031, 3, 5, 10, tzinfo=UTC),
                )
            )

    _in_clinic(app, clinic_fixture, create, commit=True)


def _add_bookings(app, clinic_fixture, schedule, count: int, first: datetime):
    """Back-to-back 10-minute bookings of Tom from `first` on, some outside his hours."""

    def create():
        for n in range(count):
            starts = first + timedelta(minutes=15 * n)
            db.session.add(
                Appointment(
                    id=uuid.uuid4(),
                    client_id=schedule.client_id,
                    therapist_id=schedule.therapist_id,
                    service_id=schedule.service_id,
                    location_id=schedule.location_id,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=10),
                    blocked_until=starts + timedelta(minutes=10),
                )
            )

    _in_clinic(app, clinic_fixture, create, commit=True)


def test_the_week_page_costs_the_same_queries_whatever_the_size_of_the_clinic(
    app, client, auth, clinic_a, schedule, count_queries
):
    _add_people(app, clinic_a, schedule, 1)
    start = datetime(2031, 3, 3, 0, tzinfo=UTC)
    _add_bookings(app, clinic_a, schedule, 5, start)
    auth.login_as("owner", clinic_a)
    url = f"{ROSTER}?week={MONDAY}"

    small, page = count_queries(lambda: client.get(url))
    assert page.status_code == 200
    assert "5 bookings" in page.get_data(as_text=True)

    _add_bookings(app, clinic_a, schedule, 495, start + timedelta(minutes=15 * 5))
    many_bookings, page = count_queries(lambda: client.get(url))
    assert "outside working time" in page.get_data(as_text=True)

    _add_people(app, clinic_a, schedule, 4)
    many_people, page = count_queries(lambda: client.get(url))
    assert page.get_data(as_text=True).count("<tr data-therapist=") == 6

    assert small == many_bookings == many_people


def _default_value(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group()
    return re.search(r'value="([^"]*)"', tag).group(1)


def test_the_roster_forms_default_to_today_never_a_day_gone_by(app, client, auth, clinic_a):
    build_schedule(app, clinic_a)
    today = _in_clinic(app, clinic_a, lambda: today_in(db.session.get(Clinic, clinic_a.clinic_id)))
    auth.login_as("owner", clinic_a)
    for week in (None, "2020-01-06", today.isoformat()):
        query = {"week": week} if week else {}
        page = client.get(ROSTER, query_string=query).get_data(as_text=True)
        for name in ("shift-valid_from", "day-day", "off-first_day", "off-last_day"):
            assert _default_value(page, name) == today.isoformat(), (week, name)
    page = client.get(ROSTER, query_string={"week": "2035-01-03"}).get_data(as_text=True)
    assert _default_value(page, "shift-valid_from") == "2035-01-01"  # a week to come: its Monday
