"""Clinical content is stored encrypted, and the key can be rotated without losing a record."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from clinic_saas import create_app, tenancy
from clinic_saas.config import DEV_CLINICAL_DATA_KEY, InsecureConfigurationError
from clinic_saas.crypto import ClinicalKeyError, parse_keys
from clinic_saas.extensions import db
from clinic_saas.models import (
    Clinic,
    IntakeResponse,
    NoteAmendment,
    NoteStatus,
    Role,
    TreatmentNote,
)

from .conftest import test_config
from .factories import add_appointment, add_intake, build_schedule

NOTE = {
    "subjective": "Tight left hamstring since the Quarrybank fell race",
    "pain_before": 6,
    "pain_after": 3,
    "regions": ["back:left_hamstring"],
    "techniques": ["kneading", "trigger_pointing"],
    "plan": "Eccentric loading, review in two weeks",
}
AMENDMENT = "Correction: the right hamstring was treated as well, Zanzibar protocol"
# Fragments of what was stored that must never appear in a raw column.
PLAINTEXT = [
    "marathon",
    "40 km",
    "left calf",
    "Varicose",
    "Quarrybank",
    "hamstring",
    "Eccentric",
    "kneading",
    "Zanzibar",
]


def _store_records(app, clinic_fixture) -> dict:
    """An intake with a local flag, and a signed note with one amendment, through `app`."""
    schedule = build_schedule(app, clinic_fixture)
    appointment_id = add_appointment(app, schedule, datetime(2031, 3, 3, 10, tzinfo=UTC))
    response_id = add_intake(
        app, schedule, codes=("varicose_veins",), sites={"varicose_veins": "left calf"}
    )
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            author = clinic_fixture.member_ids[Role.THERAPIST]
            note = TreatmentNote(
                appointment_id=appointment_id,
                client_id=schedule.client_id,
                author_id=author,
                content=NOTE,
                status=NoteStatus.SIGNED,
                signed_at=datetime(2031, 3, 3, 11, tzinfo=UTC),
                signed_by_id=author,
            )
            db.session.add(note)
            db.session.flush()
            amendment = NoteAmendment(note_id=note.id, author_id=author, text=AMENDMENT)
            db.session.add(amendment)
            db.session.commit()
            return {"response": response_id, "note": note.id, "amendment": amendment.id}


def _raw_values(app) -> dict[str, str]:
    """Every encrypted column as stored, read with plain SQL (no column type decrypts it)."""
    with app.app_context(), db.engine.connect() as connection:
        answers, flags = connection.execute(
            text("SELECT answers, flags FROM intake_response")
        ).one()
        (content,) = connection.execute(text("SELECT content FROM treatment_note")).one()
        (amendment,) = connection.execute(text("SELECT text FROM note_amendment")).one()
    return {"answers": answers, "flags": flags, "content": content, "amendment": amendment}


def _read_records(app, clinic_fixture, ids) -> dict:
    """The decrypted records, read through the ORM of `app` (with its own key setting)."""
    with app.app_context():
        db.session.remove()
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            response = db.session.get(IntakeResponse, (clinic.id, ids["response"]))
            note = db.session.get(TreatmentNote, (clinic.id, ids["note"]))
            amendment = db.session.get(NoteAmendment, (clinic.id, ids["amendment"]))
            result = {
                "answers": response.answers,
                "flags": response.flags,
                "content": note.content,
                "amendment": amendment.text,
            }
        db.session.remove()
        return result


def _dispose(*apps) -> None:
    for other in apps:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_intake_answers_and_notes_hold_no_plaintext_in_the_database(app, clinic_a):
    _store_records(app, clinic_a)
    raw = _raw_values(app)
    for column, value in raw.items():
        for fragment in PLAINTEXT:
            assert fragment.lower() not in value.lower(), f"{fragment!r} readable in {column}"
        assert value.startswith("gAAAAA")  # a Fernet token, version byte 0x80
    keys = MultiFernet(parse_keys(app.config["CLINICAL_DATA_KEYS"]))
    answers = json.loads(keys.decrypt(raw["answers"].encode()))
    assert answers["goals"] == "Stay injury-free before the marathon"
    assert json.loads(keys.decrypt(raw["flags"].encode()))[0]["site"] == "left calf"
    assert json.loads(keys.decrypt(raw["content"].encode())) == NOTE
    assert keys.decrypt(raw["amendment"].encode()).decode() == AMENDMENT


def test_rotating_to_a_new_key_keeps_every_record_readable(app, make_app, clinic_a):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with_old = make_app(CLINICAL_DATA_KEYS=old)
    ids = _store_records(with_old, clinic_a)
    written = _read_records(with_old, clinic_a, ids)
    before = _raw_values(with_old)

    # The new key goes in front; what was written under the old one still reads.
    rotating = make_app(CLINICAL_DATA_KEYS=f"{new},{old}")
    assert _read_records(rotating, clinic_a, ids) == written

    result = rotating.test_cli_runner().invoke(args=["reencrypt-clinical", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert "intake_response: 2 value(s) re-encrypted" in result.output
    assert "treatment_note: 1 value(s) re-encrypted" in result.output
    assert "note_amendment: 1 value(s) re-encrypted" in result.output

    after = _raw_values(rotating)
    assert all(after[column] != before[column] for column in before)
    with_new = make_app(CLINICAL_DATA_KEYS=new)
    assert _read_records(with_new, clinic_a, ids) == written
    with pytest.raises(ClinicalKeyError):
        _read_records(with_old, clinic_a, ids)

    # Running it again rewrites nothing: every value is already under the newest key.
    again = rotating.test_cli_runner().invoke(args=["reencrypt-clinical"])
    assert again.exit_code == 0, again.output
    assert "0 value(s) re-encrypted under the newest key" in again.output
    assert "intake_response: 0 value(s) re-encrypted, 2 already under the newest key" in (
        again.output
    )
    assert _raw_values(rotating) == after
    _dispose(with_old, rotating, with_new)


def test_reencryption_refuses_a_value_no_listed_key_can_read(app, make_app, clinic_a):
    forgotten = Fernet.generate_key().decode()
    with_forgotten = make_app(CLINICAL_DATA_KEYS=forgotten)
    _store_records(with_forgotten, clinic_a)
    before = _raw_values(with_forgotten)

    unrelated = make_app(CLINICAL_DATA_KEYS=Fernet.generate_key().decode())
    result = unrelated.test_cli_runner().invoke(args=["reencrypt-clinical"])
    assert result.exit_code != 0
    assert "cannot be decrypted with any key in CLINICAL_DATA_KEYS" in result.output
    assert _raw_values(unrelated) == before
    _dispose(with_forgotten, unrelated)


def test_a_garbled_key_setting_is_refused(app, make_app, clinic_a):
    garbled = make_app(CLINICAL_DATA_KEYS="not-a-fernet-key")
    result = garbled.test_cli_runner().invoke(args=["reencrypt-clinical"])
    assert result.exit_code != 0
    assert "Fernet keys" in result.output
    with pytest.raises(StatementError) as refused:  # SQLAlchemy wraps errors of bind values
        _store_records(garbled, clinic_a)
    assert isinstance(refused.value.orig, ClinicalKeyError)
    assert _count_intakes(garbled) == 0  # nothing stored under a key that is not one
    empty = make_app(CLINICAL_DATA_KEYS=" , ")
    assert empty.test_cli_runner().invoke(args=["reencrypt-clinical"]).exit_code != 0
    _dispose(garbled, empty)


def _count_intakes(app) -> int:
    with app.app_context(), db.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM intake_response")).scalar_one()


def test_production_refuses_the_development_key_even_beside_its_own(database_url, outbox_dir):
    own = Fernet.generate_key().decode()
    production = test_config(
        database_url,
        outbox_dir,
        ENV_NAME="production",
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://clinic@db.internal/clinic",
        STRIPE_SECRET_KEY="sk_live_configured",
        STRIPE_PUBLISHABLE_KEY="pk_live_configured",
        STRIPE_WEBHOOK_SECRET="whsec_configured",
        MAIL_SERVER="smtp.example.com",
        PUBLIC_BASE_URL="https://clinic.example",
        REDIS_URL="redis://redis.internal:6379/0",
    )
    for keys in (DEV_CLINICAL_DATA_KEY, f"{own},{DEV_CLINICAL_DATA_KEY}"):
        with pytest.raises(InsecureConfigurationError, match="CLINICAL_DATA_KEYS"):
            create_app({**production, "CLINICAL_DATA_KEYS": keys})
    assert create_app({**production, "CLINICAL_DATA_KEYS": own}).config["ENV_NAME"] == (
        "production"
    )
