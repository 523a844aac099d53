"""Percentages typed by people: one parser and one form field for tax rates and commission."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form

from clinic_saas.blueprints.forms import PercentField
from clinic_saas.menu.services import TAX_RATE_PERCENT
from clinic_saas.money import PercentWording, percent_to_basis_points
from clinic_saas.staff.therapists import COMMISSION_PERCENT

WORDING = PercentWording(unreadable="unreadable", too_precise="precise", out_of_range="range")


@pytest.mark.parametrize(
    ("typed", "basis_points"),
    [
        ("0", 0),
        ("0.01", 1),
        ("12.5", 1250),
        ("12.500", 1250),
        (" 7,25 % ", 725),
        ("99.99", 9999),
        ("100", 10000),
        ("100.000", 10000),
    ],
)
def test_percentages_from_0_to_100_with_2_decimals_are_read(typed, basis_points):
    assert percent_to_basis_points(typed, WORDING) == basis_points


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("100.01", "range"),
        ("101", "range"),
        ("-0.01", "range"),
        ("9" * 40, "range"),
        ("9" * 40 + ".5", "range"),
        ("1" + "0" * 400, "range"),
        ("12.345", "precise"),
        ("12.3450", "precise"),
        ("twelve", "unreadable"),
        ("1e2", "unreadable"),
        ("-", "unreadable"),
        ("", "unreadable"),
        (None, "unreadable"),
    ],
)
def test_percentages_out_of_bounds_are_refused_with_the_wording_given(typed, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        percent_to_basis_points(typed, WORDING)


def test_empty_text_gives_the_blank_value_when_there_is_one():
    assert percent_to_basis_points("  ", WORDING, blank=0) == 0


def test_a_negative_message_is_said_first_where_a_rate_has_one():
    with pytest.raises(ValueError, match="A tax rate cannot be negative"):
        percent_to_basis_points("-1.234", TAX_RATE_PERCENT)
    with pytest.raises(ValueError, match="Use at most 2 decimals"):
        percent_to_basis_points("-1.234", COMMISSION_PERCENT)
    with pytest.raises(ValueError, match="Enter a percentage from 0 to 100"):
        percent_to_basis_points("-1", COMMISSION_PERCENT)


class _RateForm(Form):
    rate = PercentField("Rate", wording=TAX_RATE_PERCENT)
    commission = PercentField("Commission", wording=COMMISSION_PERCENT, blank=0)


def test_the_percent_field_reads_basis_points():
    form = _RateForm(MultiDict({"rate": "20", "commission": "37.5"}))
    assert form.validate()
    assert (form.rate.basis_points, form.commission.basis_points) == (2000, 3750)


def test_the_percent_field_puts_the_refusal_beside_itself():
    form = _RateForm(MultiDict({"rate": "120", "commission": ""}))
    assert not form.validate()
    assert form.errors == {"rate": ["A tax rate is at most 100%."]}
    assert form.commission.basis_points == 0
