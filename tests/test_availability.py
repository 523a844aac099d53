"""Free start times: never over an appointment or time off, never outside a shift, DST-proof."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from clinic_saas import tenancy
from clinic_saas.clinic_time import local_instant
from clinic_saas.extensions import db
from clinic_saas.models import Appointment, Clinic, Service
from clinic_saas.scheduling.availability import compute_slots, free_slots
from clinic_saas.scheduling.intervals import Interval, merge, subtract
from clinic_saas.scheduling.roster import WorkBlock, working_blocks

from .factories import add_appointment, add_override, add_time_off, build_schedule

LONDON = ZoneInfo("Europe/London")
THERAPIST, SITE = uuid.uuid4(), uuid.uuid4()
DAY = date(2026, 6, 1)  # a Monday
MIDNIGHT = datetime.combine(DAY, time(0), tzinfo=LONDON).astimezone(UTC)


def at(minutes: int) -> datetime:
    return MIDNIGHT + timedelta(minutes=minutes)


def block(start_min: int, end_min: int) -> WorkBlock:
    start, end = at(start_min), at(end_min)
    return WorkBlock(THERAPIST, SITE, DAY, start.timetz(), end.timetz(), Interval(start, end))


# Minutes of the day, on a 5-minute grid so that collisions with the slot grid are frequent.
minute = st.integers(min_value=0, max_value=24 * 60 // 5).map(lambda m: m * 5)


@st.composite
def schedules(draw):
    shifts = []
    for _ in range(draw(st.integers(1, 3))):
        a, b = sorted(draw(st.lists(minute, min_size=2, max_size=2, unique=True)))
        shifts.append((a, b))
    busy = []
    for _ in range(draw(st.integers(0, 6))):
        a = draw(minute)
        busy.append((a, a + draw(st.integers(1, 36)) * 5))
    duration = draw(st.sampled_from([30, 45, 60, 90]))
    buffer = draw(st.sampled_from([0, 5, 10, 15]))
    step = draw(st.sampled_from([5, 10, 15, 30]))
    return shifts, busy, duration, buffer, step


@settings(max_examples=300, deadline=None)
@given(schedules())
def test_a_slot_never_overlaps_busy_time_and_never_leaves_a_shift(schedule):
    shifts, busy, duration, buffer, step = schedule
    blocks = [block(a, b) for a, b in shifts]
    busy_intervals = [Interval(at(a), at(b)) for a, b in busy]
    slots = compute_slots(
        blocks,
        busy_intervals,
        duration=timedelta(minutes=duration),
        buffer=timedelta(minutes=buffer),
        step_minutes=step,
        tz=LONDON,
    )
    span = timedelta(minutes=duration + buffer)
    working = merge(b.interval for b in blocks)  # touching shifts at one site join up
    for slot in slots:
        whole = Interval(slot.start, slot.start + span)
        assert slot.end - slot.start == timedelta(minutes=duration)
        assert any(w.contains(whole) for w in working), "a slot leaves the working time"
        assert not any(whole.overlaps(b) for b in busy_intervals), "a slot overlaps busy time"
        local = slot.start.astimezone(LONDON)
        assert (local.hour * 60 + local.minute) % step == 0 and local.second == 0
    assert len(slots) == len(set(slots))


@settings(max_examples=300, deadline=None)
@given(schedules())
def test_every_free_start_on_the_grid_is_offered(schedule):
    """Brute force over every minute of the day: nothing bookable is missing from the offer."""
    shifts, busy, duration, buffer, step = schedule
    blocks = [block(a, b) for a, b in shifts]
    busy_intervals = [Interval(at(a), at(b)) for a, b in busy]
    offered = {
        s.start
        for s in compute_slots(
            blocks,
            busy_intervals,
            duration=timedelta(minutes=duration),
            buffer=timedelta(minutes=buffer),
            step_minutes=step,
            tz=LONDON,
        )
    }
    span = timedelta(minutes=duration + buffer)
    working = merge(b.interval for b in blocks)
    expected = set()
    for m in range(0, 2 * 24 * 60, step):
        whole = Interval(at(m), at(m) + span)
        if any(w.contains(whole) for w in working) and not any(
            whole.overlaps(b) for b in busy_intervals
        ):
            expected.add(at(m))
    assert offered == expected


def test_not_before_drops_past_times_and_rounds_up_to_the_grid():
    slots = compute_slots(
        [block(9 * 60, 12 * 60)],
        [],
        duration=timedelta(minutes=30),
        buffer=timedelta(0),
        step_minutes=15,
        tz=LONDON,
        not_before=at(10 * 60 + 7),
    )
    assert slots[0].start == at(10 * 60 + 15)
    assert slots[-1].start == at(11 * 60 + 30)


@settings(deadline=None)  # a loaded CI machine is slow, not wrong
@given(st.lists(st.tuples(minute, st.integers(1, 40)), max_size=8), st.tuples(minute, minute))
def test_subtract_leaves_exactly_the_uncovered_minutes(busy, base):
    a, b = sorted(base)
    if a == b:
        return
    base_interval = Interval(at(a), at(b))
    busy_intervals = merge(Interval(at(s), at(s + n * 5)) for s, n in busy)
    free = subtract(base_interval, busy_intervals)
    for m in range(a, b):
        point = Interval(at(m), at(m + 1))
        covered = any(point.overlaps(x) for x in busy_intervals)
        assert covered != any(f.contains(point) for f in free)


def _monday_9_to_5(app, clinic_a):
    return build_schedule(app, clinic_a, weekdays=range(7), start=time(9), end=time(17))


def test_daylight_saving_changes_keep_shifts_at_the_same_local_time(app, clinic_a):
    schedule = _monday_9_to_5(app, clinic_a)
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            spring = working_blocks(
                [schedule.therapist_id], date(2026, 3, 27), date(2026, 3, 30), LONDON
            )
            autumn = working_blocks(
                [schedule.therapist_id], date(2026, 10, 23), date(2026, 10, 26), LONDON
            )
    spring_starts = [b.interval.start for b in spring[schedule.therapist_id]]
    autumn_starts = [b.interval.start for b in autumn[schedule.therapist_id]]
    # Friday before the clocks go forward: GMT, 09:00 local is 09:00 UTC; after: BST, 08:00 UTC.
    assert spring_starts[0] == datetime(2026, 3, 27, 9, tzinfo=UTC)
    assert spring_starts[-1] == datetime(2026, 3, 30, 8, tzinfo=UTC)
    assert autumn_starts[0] == datetime(2026, 10, 23, 8, tzinfo=UTC)
    assert autumn_starts[-1] == datetime(2026, 10, 26, 9, tzinfo=UTC)
    for block_ in spring[schedule.therapist_id] + autumn[schedule.therapist_id]:
        assert block_.interval.start.astimezone(LONDON).time() == time(9)
        assert block_.interval.end - block_.interval.start == timedelta(hours=8)


def test_free_slots_on_the_day_the_clocks_go_forward(app, clinic_a):
    schedule = build_schedule(app, clinic_a, weekdays=[6], start=time(0, 30), end=time(4))
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            service = db.session.get(Service, (clinic.id, schedule.service_id))
            slots = free_slots(clinic, service, date(2026, 3, 29), date(2026, 3, 29))
    local = [s.start.astimezone(LONDON).strftime("%H:%M") for s in slots]
    # 00:30 GMT to 04:00 BST is 2.5 real hours; 01:00-02:00 local never happens that night.
    assert local == ["00:30", "00:45", "02:00", "02:15", "02:30", "02:45"]
    for slot in slots:
        assert slot.start + timedelta(minutes=75) <= local_instant(
            date(2026, 3, 29), time(4), LONDON
        )


def test_free_slots_leave_out_appointments_time_off_and_overridden_days(app, clinic_a):
    schedule = _monday_9_to_5(app, clinic_a)
    add_appointment(app, schedule, datetime(2031, 3, 3, 10, tzinfo=UTC))  # Monday 10:00 GMT
    add_time_off(
        app, schedule, datetime(2031, 3, 3, 14, tzinfo=UTC), datetime(2031, 3, 3, 15, tzinfo=UTC)
    )
    add_override(app, schedule, date(2031, 3, 4))  # not working on Tuesday
    add_override(app, schedule, date(2031, 3, 5), time(12), time(14))  # Wednesday 12-14 only
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            service = db.session.get(Service, (clinic.id, schedule.service_id))
            slots = free_slots(clinic, service, date(2031, 3, 3), date(2031, 3, 5))
    by_day: dict[date, list[str]] = {}
    for slot in slots:
        local = slot.start.astimezone(LONDON)
        by_day.setdefault(local.date(), []).append(local.strftime("%H:%M"))
    monday = by_day[date(2031, 3, 3)]
    assert monday[0] == "11:15"  # 09:00 + 75 min would run into the 10:00 booking
    assert "11:00" not in monday  # the booking's buffer lasts until 11:15
    assert "12:45" in monday and "13:00" not in monday and "15:00" in monday  # time off 14-15
    assert "15:45" in monday and "16:00" not in monday  # 75 min must fit before 17:00
    assert date(2031, 3, 4) not in by_day
    assert by_day[date(2031, 3, 5)] == ["12:00", "12:15", "12:30", "12:45"]


def test_property_on_the_database_slots_avoid_every_stored_appointment(app, clinic_a):
    """The same property through the database: random stored bookings, then every offered slot."""
    schedule = _monday_9_to_5(app, clinic_a)
    day_start = datetime(2031, 3, 3, 8, tzinfo=UTC)

    @settings(max_examples=20, deadline=None)
    @given(quarters=st.lists(st.integers(min_value=0, max_value=36), max_size=6, unique=True))
    def check(quarters):
        with app.app_context():
            clinic = db.session.get(Clinic, clinic_a.clinic_id)
            with tenancy.bound_to(clinic):
                db.session.execute(delete(Appointment))
                db.session.commit()
        stored = []
        for quarter in quarters:
            start = day_start + timedelta(minutes=15 * quarter)
            span = Interval(start, start + timedelta(minutes=75))
            if not any(span.overlaps(s) for s in stored):
                add_appointment(app, schedule, start)
                stored.append(span)
        with app.app_context():
            clinic = db.session.get(Clinic, clinic_a.clinic_id)
            with tenancy.bound_to(clinic):
                service = db.session.get(Service, (clinic.id, schedule.service_id))
                slots = free_slots(clinic, service, date(2031, 3, 3), date(2031, 3, 3))
        for slot in slots:
            whole = Interval(slot.start, slot.start + timedelta(minutes=75))
            assert not any(whole.overlaps(s) for s in stored)
            assert datetime(2031, 3, 3, 9, tzinfo=UTC) <= slot.start
            assert whole.end <= datetime(2031, 3, 3, 17, tzinfo=UTC)

    check()
