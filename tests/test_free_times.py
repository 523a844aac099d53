"""Free times as people choose them: grouped per therapist and site, and the next free day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import Clinic, Location, Service
from clinic_saas.scheduling.free_times import (
    LAST_DAY,
    SlotChoice,
    free_times,
    next_free_day,
    slot_groups,
)

from .factories import add_time_off, build_schedule

LONDON = ZoneInfo("Europe/London")
FRIDAY = date(2031, 6, 6)
MONDAY = FRIDAY + timedelta(days=3)


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON).astimezone(UTC)


def _in_clinic(app, schedule, fn):
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            return fn(clinic, tenancy.find(Service, schedule.service_id))


def test_free_times_are_grouped_per_therapist_and_site(app, clinic_a):
    schedule = build_schedule(app, clinic_a)

    def group(clinic, service):
        return slot_groups(free_times(clinic, service, FRIDAY))

    (only,) = _in_clinic(app, schedule, group)
    assert only.therapist.id == schedule.therapist_id
    assert only.location.id == schedule.location_id
    # 09:00 to 17:00, 60 minutes and a 15 minute buffer: the last start is 15:45.
    assert only.choices[0] == SlotChoice(schedule.therapist_id, schedule.location_id, at(FRIDAY, 9))
    assert only.choices[-1].start == at(FRIDAY, 15) + timedelta(minutes=45)
    assert SlotChoice.parse(only.choices[0].value) == only.choices[0]


def test_a_site_that_takes_no_bookings_offers_no_free_times(app, clinic_a):
    schedule = build_schedule(app, clinic_a)

    def group(clinic, service):
        tenancy.find(Location, schedule.location_id).active = False
        return slot_groups(free_times(clinic, service, FRIDAY))

    assert _in_clinic(app, schedule, group) == []


def test_free_times_grouped_cost_a_constant_number_of_statements(app, clinic_a, count_queries):
    schedule = build_schedule(app, clinic_a)
    statements, groups = count_queries(
        lambda: _in_clinic(
            app, schedule, lambda clinic, service: slot_groups(free_times(clinic, service, FRIDAY))
        )
    )
    assert len(groups) == 1
    # Two look-ups to enter the clinic, five to find free times, two to group them.
    assert statements == 2 + 5 + 2


def test_the_next_free_day_skips_the_weekend(app, clinic_a):
    schedule = build_schedule(app, clinic_a)
    found = _in_clinic(
        app, schedule, lambda clinic, service: next_free_day(clinic, service, FRIDAY)
    )
    assert found == MONDAY


def test_the_next_free_day_skips_a_day_off_and_honours_the_therapist(app, clinic_a):
    schedule = build_schedule(app, clinic_a)
    add_time_off(app, schedule, at(MONDAY, 0), at(MONDAY + timedelta(days=1), 0))

    def search(clinic, service):
        return next_free_day(clinic, service, FRIDAY, therapist_id=schedule.therapist_id)

    assert _in_clinic(app, schedule, search) == MONDAY + timedelta(days=1)


def test_there_is_no_next_free_day_past_the_calendar(app, clinic_a):
    schedule = build_schedule(app, clinic_a)
    found = _in_clinic(
        app, schedule, lambda clinic, service: next_free_day(clinic, service, LAST_DAY)
    )
    assert found is None
