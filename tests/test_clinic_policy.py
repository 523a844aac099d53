"""The clinic's booking and cancellation policy, set on the Settings page and kept by the domain."""

from __future__ import annotations

import pytest

from clinic_saas.accounts import clinic_settings
from clinic_saas.extensions import db
from clinic_saas.models import Clinic
from clinic_saas.refusals import Refusal

SETTINGS = "/c/northside/settings/"


def _form(**changes) -> dict:
    return {
        "clinic_name": "Northside Sports Massage",
        "timezone": "Europe/London",
        "currency": "GBP",
        "country": "GB",
        "retention_years": "8",
        "intake_valid_months": "12",
        "booking_notice_hours": "2",
        "late_cancellation_hours": "48",
        "no_show_fee_kind": "amount",
        "no_show_fee": "30.50",
        "late_cancellation_fee_kind": "percent",
        "late_cancellation_fee": "50",
        **changes,
    }


def _policy(app, clinic_fixture) -> tuple:
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        return (
            clinic.booking_notice_hours,
            clinic.late_cancellation_hours,
            clinic.no_show_fee_minor,
            clinic.no_show_fee_bp,
            clinic.late_cancellation_fee_minor,
            clinic.late_cancellation_fee_bp,
        )


def test_the_owner_sets_the_policy_in_minor_units_and_basis_points(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    page = client.get(SETTINGS).get_data(as_text=True)
    assert 'name="booking_notice_hours"' in page and "the desk cannot override it" in page
    assert client.post_form(SETTINGS, _form()).status_code == 302
    assert _policy(app, clinic_a) == (2, 48, 3050, None, None, 5000)
    page = client.get(SETTINGS).get_data(as_text=True)
    assert 'value="30.50"' in page and 'value="50"' in page
    # Back to no fees: nothing of the old fees is left behind.
    no_fees = _form(no_show_fee_kind="none", late_cancellation_fee_kind="none")
    assert client.post_form(SETTINGS, no_fees).status_code == 302
    assert _policy(app, clinic_a) == (2, 48, None, None, None, None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"booking_notice_hours": "400"}, "Use a number of hours from 0 to 336"),
        ({"late_cancellation_hours": ""}, "Use a number of hours from 0 to 336"),
        ({"no_show_fee": ""}, "Enter the fee, or choose no fee."),
        ({"no_show_fee": "-5"}, "Amounts cannot be negative."),
        ({"no_show_fee": "12.345"}, "GBP has 2 decimal places at most."),
        ({"late_cancellation_fee": "150"}, "Use a percentage from 0 to 100."),
        ({"late_cancellation_fee": "half"}, "Enter a percentage, like 50 or 12.5."),
    ],
)
def test_a_bad_policy_is_refused_beside_its_field_and_nothing_changes(
    app, client, auth, clinic_a, changes, message
):
    auth.login_as("owner", clinic_a)
    before = _policy(app, clinic_a)
    response = client.post_form(SETTINGS, _form(clinic_name="Renamed", **changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _policy(app, clinic_a) == before
    with app.app_context():
        assert db.session.get(Clinic, clinic_a.clinic_id).name == "Northside Sports Massage"


def test_the_domain_names_every_wrong_field(app, clinic_a):
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with pytest.raises(Refusal) as refused:
            clinic_settings.update_policy(
                clinic,
                booking_notice_hours=-1,
                late_cancellation_hours=24,
                no_show_fee_kind="amount",
                no_show_fee="abc",
                late_cancellation_fee_kind="bogus",
                late_cancellation_fee="1",
            )
        assert set(refused.value.fields) == {
            "booking_notice_hours",
            "no_show_fee",
            "late_cancellation_fee",
        }
