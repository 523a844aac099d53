"""Schemas dump records for one clinic and one audience: the desk never sees clinical content,
money keeps its minor units and currency, instants are clinic-local time across DST."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import Client, Clinic, Role
from clinic_saas.records.export import gather
from clinic_saas.schemas.base import AUDIENCES, ClinicSchema, Instant, Money
from clinic_saas.schemas.clients import ClientSchema, FamilySchema, PersonSchema
from clinic_saas.schemas.clinical import AmendmentSchema, AnswerSchema, IntakeSchema, NoteSchema
from clinic_saas.schemas.records import RecordSchema
from clinic_saas.schemas.sales import (
    MembershipPurchaseSchema,
    PackagePurchaseSchema,
    PeriodSchema,
    PurchasesSchema,
)
from clinic_saas.schemas.scheduling import AppointmentSchema

from .test_export import record  # noqa: F401  (the fixture: a client with a full record)

SCHEMAS = (
    ClientSchema,
    PersonSchema,
    FamilySchema,
    AppointmentSchema,
    PackagePurchaseSchema,
    PeriodSchema,
    MembershipPurchaseSchema,
    PurchasesSchema,
    AnswerSchema,
    IntakeSchema,
    AmendmentSchema,
    NoteSchema,
    RecordSchema,
)
# What only those who may read clinical records see (DESIGN.md, invariant 5).
CLINICAL_CONTENT = {
    "date_of_birth",
    "gp",
    "sport",
    "activity_level",
    "activity_level_label",
    "questions",
    "flags",
    "consent_text",
    "signed_name",
    "content",
    "amendments",
    "answer",
    "answer_text",
    "text",
    "intakes",
    "treatment_notes",
}


def _clinic(currency: str = "GBP", timezone: str = "Europe/London") -> Clinic:
    return Clinic(name="Test", slug="test", timezone=timezone, currency=currency, country="GB")


def _fields(schema_class: type[ClinicSchema], audience: str) -> set[str]:
    return set(schema_class.for_audience(audience, _clinic()).fields)


# Field sets per audience --------------------------------------------------------------------------


@pytest.mark.parametrize("schema_class", SCHEMAS, ids=lambda s: s.__name__)
def test_every_audience_names_only_fields_the_schema_has(schema_class):
    assert schema_class.audiences and set(schema_class.audiences) <= set(AUDIENCES)
    for audience, names in schema_class.audiences.items():
        assert list(schema_class.for_audience(audience, _clinic()).fields) == list(names)


@pytest.mark.parametrize("schema_class", SCHEMAS, ids=lambda s: s.__name__)
def test_the_desk_never_sees_clinical_content(schema_class):
    if "desk" in schema_class.audiences:
        assert not _fields(schema_class, "desk") & CLINICAL_CONTENT


def test_answers_amendments_and_the_whole_record_have_no_desk_audience():
    for schema_class in (AnswerSchema, AmendmentSchema, RecordSchema):
        with pytest.raises(ValueError, match="has no 'desk' audience"):
            schema_class.for_audience("desk", _clinic())


def test_the_desk_sees_contact_details_and_the_clinical_audience_health_details_too():
    desk = _fields(ClientSchema, "desk")
    assert {"first_name", "email", "phone", "emergency_contact"} <= desk
    assert not desk & {"date_of_birth", "gp", "sport", "activity_level"}
    assert _fields(ClientSchema, "clinical") == desk | {
        "date_of_birth",
        "gp",
        "sport",
        "activity_level",
        "activity_level_label",
    }
    assert _fields(IntakeSchema, "desk") == {"id", "form", "signed_at"}
    assert {"questions", "flags", "consent_text"} <= _fields(IntakeSchema, "clinical")
    assert _fields(NoteSchema, "desk") == {"id", "appointment_id", "status"}
    assert {"content", "amendments", "author"} <= _fields(NoteSchema, "clinical")


def test_the_therapist_sees_no_prices():
    assert not _fields(AppointmentSchema, "clinical") & {"price"}
    assert not _fields(PackagePurchaseSchema, "clinical") & {"price", "refund"}
    assert not _fields(MembershipPurchaseSchema, "clinical") & {"price_per_month"}


# Money and clinic-local time ----------------------------------------------------------------------


class Priced(ClinicSchema):
    audiences = {"api": ("price", "at")}

    price = Money()
    at = Instant()


def test_money_is_integer_minor_units_beside_the_clinics_currency():
    assert Priced.for_audience("api", _clinic()).dump({"price": 4550, "at": None}) == {
        "price": {"amount_minor": 4550, "currency": "GBP"},
        "at": None,
    }
    yen = Priced.for_audience("api", _clinic("JPY", "Asia/Tokyo")).dump({"price": 4500})
    assert yen == {"price": {"amount_minor": 4500, "currency": "JPY"}}  # no decimals to add
    assert Priced.for_audience("api", _clinic()).dump({"price": None}) == {"price": None}


def test_money_refuses_floats():
    with pytest.raises(TypeError, match="integer number of minor units"):
        Priced.for_audience("api", _clinic()).dump({"price": 45.5})


@pytest.mark.parametrize(
    ("moment", "local"),
    [
        (datetime(2031, 1, 15, 9, 30, tzinfo=UTC), "2031-01-15T09:30:00+00:00"),  # GMT
        (datetime(2031, 7, 15, 9, 30, tzinfo=UTC), "2031-07-15T10:30:00+01:00"),  # BST
        (datetime(2031, 3, 30, 0, 59, tzinfo=UTC), "2031-03-30T00:59:00+00:00"),  # before...
        (datetime(2031, 3, 30, 1, 0, tzinfo=UTC), "2031-03-30T02:00:00+01:00"),  # ...the change
        (datetime(2031, 10, 26, 0, 30, tzinfo=UTC), "2031-10-26T01:30:00+01:00"),  # 01:30 twice:
        (datetime(2031, 10, 26, 1, 30, tzinfo=UTC), "2031-10-26T01:30:00+00:00"),  # the offset says
    ],
)
def test_instants_are_clinic_local_with_their_offset_across_dst(moment, local):
    assert Priced.for_audience("api", _clinic()).dump({"at": moment}) == {"at": local}


def test_instants_follow_the_clinics_own_timezone():
    moment = datetime(2031, 7, 15, 9, 30, tzinfo=UTC)
    tokyo = Priced.for_audience("api", _clinic("JPY", "Asia/Tokyo")).dump({"at": moment})
    assert tokyo == {"at": "2031-07-15T18:30:00+09:00"}


def test_naive_instants_and_a_missing_clinic_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        Priced.for_audience("api", _clinic()).dump({"at": datetime(2031, 1, 1, 9)})  # noqa: DTZ001 (naive on purpose)
    with pytest.raises(ValueError, match="needs the clinic"):
        Priced(audience="api").dump({"price": 100})


# The whole record ---------------------------------------------------------------------------------


def test_a_dump_of_the_full_record_equals_the_export_document(
    app,
    client,
    auth,
    clinic_a,
    record,  # noqa: F811
):
    auth.login_as(Role.OWNER, clinic_a)
    document = client.get(f"/c/northside/clients/{record.client_id}/export.json").get_json()
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            ada = db.session.get(Client, (clinic.id, record.client_id))
            dumped = RecordSchema.for_audience("export", clinic=clinic).dump(gather(ada, clinic))
    dumped = json.loads(json.dumps(dumped))  # what the download holds
    exported_at = datetime.fromisoformat(document.pop("exported_at"))
    assert exported_at <= datetime.fromisoformat(dumped.pop("exported_at"))
    assert dumped == document

    # The document's own format, in the order it was published (format_version 1).
    assert list(document) == [
        "format",
        "format_version",
        "clinic",
        "client",
        "family",
        "appointments",
        "purchases",
        "intakes",
        "treatment_notes",
    ]
    assert list(document["client"]) == list(ClientSchema.audiences["export"])
    assert document["client"]["emergency_contact"] == {"name": None, "phone": None}
    (sale,) = document["purchases"]["packages"]
    assert list(sale) == [
        "id",
        "name",
        "sold_on",
        "expires_on",
        "sessions_total",
        "sessions_used",
        "price",
        "tax_rate_bp",
        "refunded_at",
        "refund",
    ]
    (membership,) = document["purchases"]["memberships"]
    assert (membership["periods"], membership["sessions_per_month"]) == (1, 1)
    assert membership["price_per_month"] == {"amount_minor": 5000, "currency": "GBP"}
    (note,) = document["treatment_notes"]
    assert list(note["amendments"][0]) == ["id", "created_at", "author", "text"]
