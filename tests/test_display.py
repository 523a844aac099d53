"""How days, times, instants, prices and percentages read, and how clinic time counts days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import g, render_template_string

from clinic_saas import clinic_time, display, tenancy
from clinic_saas.extensions import db
from clinic_saas.models import Clinic

LONDON = ZoneInfo("Europe/London")


def test_a_day_reads_the_same_whatever_the_server_locale():
    assert display.day(date(2031, 9, 1)) == "1 Sep 2031"  # not en_GB's "Sept"
    assert display.weekday_day(date(2026, 3, 3)) == "Tue 3 Mar 2026"
    assert display.short_day(date(2026, 3, 3)) == "Tue 3 Mar"
    assert display.day_month(date(2026, 3, 3)) == "3 Mar"


def test_a_long_day_spells_out_weekday_and_month():
    assert display.long_day(date(2026, 3, 3)) == "Tuesday 3 March 2026"


def test_an_instant_is_shown_in_the_clinics_time_across_daylight_saving():
    # Clocks go forward at 01:00 UTC on 29 March 2026 and back at 01:00 UTC on 25 October 2026.
    assert display.instant(datetime(2026, 3, 29, 0, 59, tzinfo=UTC), LONDON) == (
        "Sun 29 Mar 2026, 00:59"
    )
    assert display.instant(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), LONDON) == (
        "Sun 29 Mar 2026, 02:00"
    )
    assert display.time(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), LONDON) == "01:30"
    assert display.time(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), LONDON) == "01:30"
    assert display.clock_on_day(datetime(2031, 6, 2, 9, 5, tzinfo=UTC), LONDON) == (
        "10:05 on Mon 2 Jun 2031"
    )


def test_an_instant_late_in_the_utc_evening_is_on_the_next_local_day():
    late = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    assert display.day(late, LONDON) == "2 Jul 2026"
    assert clinic_time.local_day(late, LONDON) == date(2026, 7, 2)


def test_an_instant_needs_a_timezone_to_be_shown():
    with pytest.raises(ValueError):
        display.day(datetime(2026, 7, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        display.time(datetime(2026, 7, 1, tzinfo=UTC))


def test_a_wall_clock_time_is_shown_as_is():
    assert display.time(time(9, 0)) == "09:00"


@pytest.mark.parametrize(
    ("amount", "currency", "country", "expected"),
    [
        (4500, "GBP", "GB", "£45.00"),
        (-4500, "GBP", "GB", "-£45.00"),
        (123456789, "GBP", "GB", "£1,234,567.89"),
        (4500, "EUR", "IE", "€45.00"),
        (4500, "EUR", "DE", "45,00\xa0€"),
        (5500, "JPY", "JP", "￥5,500"),
        (5500, "JPY", "GB", "JP¥5,500"),
    ],
)
def test_a_price_reads_as_the_clinics_country_writes_it(amount, currency, country, expected):
    assert display.price(amount, currency, country) == expected


def test_a_price_is_never_a_float():
    with pytest.raises(TypeError):
        display.price(45.5, "GBP", "GB")
    with pytest.raises(TypeError):
        display.price(Decimal("45.5"), "GBP", "GB")


def test_an_amount_in_an_input_box_is_a_plain_number():
    assert display.amount_input(4500, "GBP") == "45.00"
    assert display.amount_input(5, "GBP") == "0.05"
    assert display.amount_input(5500, "JPY") == "5500"


def test_basis_points_read_as_percentages():
    assert [display.percent(bp) for bp in (0, 1000, 1250, 3333, 10000)] == [
        "0%",
        "10%",
        "12.5%",
        "33.33%",
        "100%",
    ]
    assert display.percent(1250, "DE") == "12,5%"
    assert [display.basis_points(bp) for bp in (0, 1250, 2000)] == ["0", "12.5", "20"]


def test_add_months_clamps_to_the_end_of_a_shorter_month():
    assert clinic_time.add_months(date(2031, 1, 31), 1) == date(2031, 2, 28)
    assert clinic_time.add_months(date(2032, 1, 31), 1) == date(2032, 2, 29)
    assert clinic_time.add_months(date(2031, 3, 31), -1) == date(2031, 2, 28)
    assert clinic_time.add_months(date(2031, 11, 15), 3) == date(2032, 2, 15)
    assert clinic_time.add_months(date(2031, 5, 31), 12) == date(2032, 5, 31)


def test_a_local_day_is_23_24_or_25_hours_long():
    hours = [
        (span.end - span.start).total_seconds() / 3600
        for span in (
            clinic_time.day_range(date(2026, 3, 29), LONDON),
            clinic_time.day_range(date(2026, 7, 1), LONDON),
            clinic_time.day_range(date(2026, 10, 25), LONDON),
        )
    ]
    assert hours == [23, 24, 25]
    assert clinic_time.day_range(date(2026, 7, 1), LONDON).start == datetime(
        2026, 6, 30, 23, tzinfo=UTC
    )
    week = clinic_time.days_range(date(2026, 3, 23), date(2026, 3, 29), LONDON)
    assert (week.end - week.start).total_seconds() / 3600 == 7 * 24 - 1


def test_red_flag_levels_have_a_bootstrap_tone():
    assert display.flag_tone("absolute") == "danger"
    assert display.flag_tone("local") == "warning"


def test_template_filters_use_the_bound_clinics_time_and_money(app, clinic_a):
    source = (
        "{{ at|instant }} · {{ at|day }} · {{ at|time }} · {{ on|long_day }} · "
        "{{ 4500|price }} · {{ 4500|price('EUR', 'DE') }} · {{ 1250|percent }} · "
        "{{ none|day(empty='—') }}"
    )
    at = datetime(2031, 7, 1, 23, 30, tzinfo=UTC)
    with app.test_request_context():
        tenancy.bind(db.session.get(Clinic, clinic_a.clinic_id))
        assert g.clinic.timezone == "Europe/London"
        text = render_template_string(source, at=at, on=date(2031, 7, 2))
    assert text == (
        "Wed 2 Jul 2031, 00:30 · 2 Jul 2031 · 00:30 · Wednesday 2 July 2031 · "
        "£45.00 · 45,00\xa0€ · 12.5% · —"
    )


def test_a_count_takes_the_singular_or_the_plural():
    assert display.count(1, "appointment") == "1 appointment"
    assert display.count(0, "appointment") == "0 appointments"
    assert display.count(2, "child", "children") == "2 children"
