"""The migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import stamp, upgrade
from sqlalchemy import MetaData, create_engine, make_url, select

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import Category, ClientMembership, Service, ServicePrice


def test_models_and_migrations_agree(app):
    """The session's schema was built by `flask db upgrade`; the models must match it exactly."""
    with app.app_context(), db.engine.connect() as connection:
        dialect = connection.dialect.name

        def exists_on_this_database(obj, name, type_, reflected, compare_to):
            # Objects declared with .ddl_if(dialect=...) (the PostgreSQL trigram index)
            ddl_if = getattr(obj, "_ddl_if", None)
            return ddl_if is None or ddl_if.dialect in (None, dialect)

        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": exists_on_this_database}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_healthz_is_ok_when_database_answers_and_schema_is_current(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}


def test_healthz_is_503_when_migrations_are_pending(app, client):
    with app.app_context():
        stamp(revision="base")
    try:
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json["checks"]["migrations"] == "pending"
    finally:
        with app.app_context():
            stamp(revision="head")
    assert client.get("/healthz").status_code == 200


def test_healthz_is_503_when_the_database_is_unreachable(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "unreachable"


@pytest.fixture
def scratch_database_url(database_url, tmp_path):
    """An empty database of the same kind as the test database, dropped afterwards."""
    if database_url.startswith("sqlite"):
        yield "sqlite:///" + str(tmp_path / "scratch.sqlite")
        return
    name = f"scratch_{uuid.uuid4().hex[:12]}"
    server = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    server.dispose()


def test_upgrading_keeps_each_services_price_and_category(make_app, scratch_database_url):
    """Data written under 0002 (one price column per service) survives the move to dated prices."""
    app = make_app(SQLALCHEMY_DATABASE_URI=scratch_database_url)
    clinic_id, service_id = uuid.uuid4(), uuid.uuid4()
    with app.app_context():
        upgrade(revision="0002_scheduling")
        meta = MetaData()
        meta.reflect(db.engine)
        # reflected SQLite columns are CHAR(32): hand them what the Uuid type would store
        sqlite = db.engine.dialect.name == "sqlite"
        cid, sid = (clinic_id.hex, service_id.hex) if sqlite else (clinic_id, service_id)
        with db.engine.begin() as connection:
            connection.execute(
                meta.tables["clinic"].insert(),
                {"id": cid, "name": "Old", "slug": "old", "timezone": "Europe/London",
                 "currency": "GBP", "country": "GB", "active": True,
                 "created_at": datetime.now(UTC),
                 "late_cancellation_hours": 24, "slot_interval_minutes": 15},
            )  # fmt: skip
            connection.execute(
                meta.tables["service"].insert(),
                {"clinic_id": cid, "id": sid, "name": "Sports massage",
                 "category": "maintenance", "duration_minutes": 60, "buffer_minutes": 15,
                 "price_minor": 5500, "bookable_online": True, "active": True, "position": 0,
                 "created_at": datetime(2026, 5, 1, tzinfo=UTC)},
            )  # fmt: skip
        upgrade()
        with tenancy.platform_access():
            price = db.session.scalar(select(ServicePrice))
            keys = set(db.session.scalars(select(Category.key)))
            service = db.session.scalar(select(Service))
        assert (price.service_id, price.price_minor, price.tier_id) == (service_id, 5500, None)
        assert price.effective_from == date(2026, 5, 1)
        assert keys == {"pre_event", "post_event", "rehab", "maintenance"}
        assert service.category == "maintenance"
        db.session.remove()
        db.engine.dispose()


def test_upgrading_cancels_memberships_that_raced_before_the_unique_index(
    make_app, scratch_database_url
):
    """Two live enrolments of one client in one plan (made before 0005) cannot both stay live:
    the first is kept, the later one is cancelled, nothing is deleted; others are untouched."""
    app = make_app(SQLALCHEMY_DATABASE_URI=scratch_database_url)
    clinic_id, client_id, plan_id, other_plan_id = (uuid.uuid4() for _ in range(4))
    first, later, other, cancelled = (uuid.uuid4() for _ in range(4))
    with app.app_context():
        upgrade(revision="0004_clinical")
        meta = MetaData()
        meta.reflect(db.engine)
        sqlite = db.engine.dialect.name == "sqlite"

        def key(value: uuid.UUID):
            # reflected SQLite columns are CHAR(32): hand them what the Uuid type would store
            return value.hex if sqlite else value

        def enrolment(ident, plan, status, created_at):
            return {"clinic_id": key(clinic_id), "id": key(ident), "plan_id": key(plan),
                    "client_id": key(client_id), "name": "Monthly", "price_minor": 5500,
                    "sessions_per_period": 1, "tax_rate_bp": 0, "started_on": date(2026, 5, 1),
                    "anchor_on": date(2026, 5, 1), "status": status,
                    "created_at": created_at}  # fmt: skip

        with db.engine.begin() as connection:
            connection.execute(
                meta.tables["clinic"].insert(),
                {"id": key(clinic_id), "name": "Old", "slug": "old", "timezone": "Europe/London",
                 "currency": "GBP", "country": "GB", "active": True,
                 "created_at": datetime.now(UTC)},
            )  # fmt: skip
            connection.execute(
                meta.tables["client"].insert(),
                {"clinic_id": key(clinic_id), "id": key(client_id), "first_name": "Ada",
                 "last_name": "Runner", "created_at": datetime.now(UTC)},
            )  # fmt: skip
            for plan in (plan_id, other_plan_id):
                connection.execute(
                    meta.tables["membership_plan"].insert(),
                    {"clinic_id": key(clinic_id), "id": key(plan), "name": "Monthly",
                     "price_minor": 5500, "sessions_per_period": 1, "active": True,
                     "position": 0, "created_at": datetime.now(UTC)},
                )  # fmt: skip
            connection.execute(
                meta.tables["client_membership"].insert(),
                [
                    enrolment(later, plan_id, "active", datetime(2026, 5, 1, 9, 1, tzinfo=UTC)),
                    enrolment(first, plan_id, "paused", datetime(2026, 5, 1, 9, tzinfo=UTC)),
                    enrolment(cancelled, plan_id, "cancelled", datetime(2026, 4, 1, tzinfo=UTC)),
                    enrolment(other, other_plan_id, "active", datetime(2026, 5, 2, tzinfo=UTC)),
                ],
            )
        upgrade()
        with tenancy.platform_access():
            rows = {
                m.id: (m.status.value, m.cancelled_on)
                for m in db.session.scalars(select(ClientMembership))
            }
        today = datetime.now(UTC).date()
        assert rows == {
            first: ("paused", None),
            later: ("cancelled", today),
            cancelled: ("cancelled", None),
            other: ("active", None),
        }
        db.session.remove()
        db.engine.dispose()


def test_upgrading_stops_and_names_rooms_already_double_booked(
    make_app, scratch_database_url, capsys
):
    """On PostgreSQL, 0007 cannot add the room's exclusion constraint over existing clashes: it
    changes nothing and says which room and times to sort out first. SQLite has no exclusion
    constraint (booking.py's lock and check guard it): there the upgrade goes on and keeps both."""
    app = make_app(SQLALCHEMY_DATABASE_URI=scratch_database_url)
    ids = {name: uuid.uuid4() for name in ("clinic", "client", "site", "room", "service")}
    with app.app_context():
        upgrade(revision="0006_sessions")
        meta = MetaData()
        meta.reflect(db.engine)
        sqlite = db.engine.dialect.name == "sqlite"
        now, cid = datetime.now(UTC), ids["clinic"]
        start = datetime(2026, 5, 4, 13, 15, tzinfo=UTC)
        rows = [
            ("clinic", {"id": cid, "name": "Old", "slug": "old", "timezone": "Europe/London",
                        "currency": "GBP", "country": "GB", "active": True, "created_at": now,
                        "late_cancellation_hours": 24, "slot_interval_minutes": 15}),
            ("client", {"clinic_id": cid, "id": ids["client"], "first_name": "Ada",
                        "last_name": "Runner", "created_at": now}),
            ("location", {"clinic_id": cid, "id": ids["site"], "name": "Harbour St",
                          "active": True, "created_at": now}),
            ("room", {"clinic_id": cid, "id": ids["room"], "location_id": ids["site"],
                      "name": "Room 1", "active": True}),
            ("service_category", {"clinic_id": cid, "id": uuid.uuid4(), "key": "maintenance",
                                  "name": "Maintenance", "position": 0, "built_in": True}),
            ("service", {"clinic_id": cid, "id": ids["service"], "name": "Massage",
                         "category": "maintenance", "duration_minutes": 60, "buffer_minutes": 15,
                         "bookable_online": True, "active": True, "position": 0,
                         "created_at": now}),
        ]  # fmt: skip
        therapists = [uuid.uuid4(), uuid.uuid4()]
        with db.engine.begin() as connection:
            for table, values in rows:
                connection.execute(
                    meta.tables[table].insert(), _complete_row(meta, table, values, sqlite)
                )
            for therapist_id in therapists:
                connection.execute(
                    meta.tables["therapist"].insert(),
                    _complete_row(meta, "therapist", {"clinic_id": cid, "id": therapist_id,
                                  "display_name": str(therapist_id)[:8], "created_at": now},
                                  sqlite),
                )  # fmt: skip
                connection.execute(
                    meta.tables["appointment"].insert(),
                    _complete_row(meta, "appointment", {
                        "clinic_id": cid, "id": uuid.uuid4(), "client_id": ids["client"],
                        "therapist_id": therapist_id, "service_id": ids["service"],
                        "location_id": ids["site"], "room_id": ids["room"], "starts_at": start,
                        "ends_at": start.replace(hour=14),
                        "blocked_until": start.replace(hour=14, minute=30),
                        "status": "booked", "created_at": now}, sqlite),
                )  # fmt: skip
        if sqlite:
            upgrade(revision="0007_rooms")
            with db.engine.connect() as connection:
                kept = connection.execute(
                    meta.tables["appointment"]
                    .select()
                    .where(meta.tables["appointment"].c.room_id == ids["room"])
                ).all()
            assert len(kept) == 2
            db.session.remove()
            db.engine.dispose()
            return
        with pytest.raises(SystemExit):  # Flask-Migrate logs the error and exits
            upgrade()
        stopped = capsys.readouterr().err
        assert "Some rooms are double-booked" in stopped
        assert f"room {ids['room']}: 2026-05-04 13:15 and 13:15 UTC" in stopped
        with db.engine.connect() as connection:
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            assert version.scalar() == "0006_sessions"
        db.session.remove()
        db.engine.dispose()


def _complete_row(meta: MetaData, table: str, values: dict, sqlite: bool) -> dict:
    """Fill the other NOT NULL columns of a reflected table with plain defaults; on SQLite, ids
    as the Uuid type stores them there (CHAR(32) hex)."""
    filled = {k: v.hex if sqlite and isinstance(v, uuid.UUID) else v for k, v in values.items()}
    for column in meta.tables[table].columns:
        if column.name in filled or column.nullable or column.server_default is not None:
            continue
        python_type = column.type.python_type
        filled[column.name] = {bool: False, int: 0, str: "", dict: {}, list: []}.get(python_type)
    return filled


def test_upgrading_to_flag_level_reads_each_intakes_level_with_the_apps_keys(
    make_app, scratch_database_url
):
    """0008 backfills flag_level by decrypting the flags with the configured keys; an intake it
    cannot decrypt keeps NULL (unknown), and one without flags keeps NULL (none)."""
    from clinic_saas.crypto import encrypt_text

    app = make_app(SQLALCHEMY_DATABASE_URI=scratch_database_url)
    clinic_id, client_id, template_id = (uuid.uuid4() for _ in range(3))
    absolute, local, unreadable, clean = (uuid.uuid4() for _ in range(4))
    with app.app_context():
        upgrade(revision="0006_sessions")
        meta = MetaData()
        meta.reflect(db.engine)
        sqlite = db.engine.dialect.name == "sqlite"

        def key(value: uuid.UUID):
            return value.hex if sqlite else value

        def intake(ident, flags, token=None):
            return {"clinic_id": key(clinic_id), "id": key(ident), "client_id": key(client_id),
                    "template_id": key(template_id), "answers": encrypt_text("{}"),
                    "flags": token or encrypt_text(json.dumps(flags)), "has_flags": bool(flags),
                    "signed_name": "Ada Runner", "signed_by_guardian": False,
                    "signed_at": datetime.now(UTC), "submitted_via": "desk"}  # fmt: skip

        with db.engine.begin() as connection:
            connection.execute(
                meta.tables["clinic"].insert(),
                {"id": key(clinic_id), "name": "Old", "slug": "old", "timezone": "Europe/London",
                 "currency": "GBP", "country": "GB", "active": True,
                 "created_at": datetime.now(UTC)},
            )  # fmt: skip
            connection.execute(
                meta.tables["client"].insert(),
                {"clinic_id": key(clinic_id), "id": key(client_id), "first_name": "Ada",
                 "last_name": "Runner", "created_at": datetime.now(UTC)},
            )  # fmt: skip
            connection.execute(
                meta.tables["intake_template"].insert(),
                {"clinic_id": key(clinic_id), "id": key(template_id), "version": 1,
                 "title": "Intake", "questions": [], "consent_text": "I agree.",
                 "created_at": datetime.now(UTC)},
            )  # fmt: skip
            connection.execute(
                meta.tables["intake_response"].insert(),
                [
                    intake(absolute, [{"level": "doctor"}, {"level": "absolute"}]),
                    intake(local, [{"level": "caution"}, {"level": "local"}]),
                    intake(unreadable, [{"level": "absolute"}], token="not-a-fernet-token"),
                    intake(clean, []),
                ],
            )
        upgrade()
        with db.engine.connect() as connection:
            table = MetaData()
            table.reflect(connection, only=["intake_response"])
            rows = connection.execute(
                select(table.tables["intake_response"].c["id", "has_flags", "flag_level"])
            ).all()
        levels = {uuid.UUID(str(r.id)) if sqlite else r.id: r.flag_level for r in rows}
        assert levels == {absolute: "absolute", local: "local", unreadable: None, clean: None}
        db.session.remove()
        db.engine.dispose()


def test_upgrading_stores_clients_phone_numbers_in_e164_and_finds_both_spellings(
    make_app, scratch_database_url
):
    """Numbers typed before 0009 ("07700 900123") become E.164 in the clinic's country; one
    that cannot be a phone number is kept as it was, and search finds either spelling."""
    from clinic_saas.clients import search_clients
    from clinic_saas.models import Client, Clinic

    app = make_app(SQLALCHEMY_DATABASE_URI=scratch_database_url)
    clinic_id, ada, ben = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with app.app_context():
        upgrade(revision="0006_sessions")
        meta = MetaData()
        meta.reflect(db.engine)
        sqlite = db.engine.dialect.name == "sqlite"

        def key(value: uuid.UUID):
            return value.hex if sqlite else value

        with db.engine.begin() as connection:
            connection.execute(
                meta.tables["clinic"].insert(),
                {"id": key(clinic_id), "name": "Old", "slug": "old", "timezone": "Europe/London",
                 "currency": "GBP", "country": "GB", "active": True,
                 "created_at": datetime.now(UTC)},
            )  # fmt: skip
            connection.execute(
                meta.tables["client"].insert(),
                [
                    {"clinic_id": key(clinic_id), "id": key(ada), "first_name": "Ada",
                     "last_name": "Runner", "phone": "07700 900123",
                     "emergency_contact_name": "Ben", "emergency_contact_phone": "(0161) 496-0000",
                     "search_text": "ada runner 07700 900123 07700900123",
                     "created_at": datetime.now(UTC)},
                    {"clinic_id": key(clinic_id), "id": key(ben), "first_name": "Ben",
                     "last_name": "Odd", "phone": "0" * 30, "emergency_contact_name": None,
                     "emergency_contact_phone": None, "search_text": "ben odd",
                     "created_at": datetime.now(UTC)},
                ],
            )  # fmt: skip
        upgrade()
        with tenancy.platform_access():
            phones = {
                c.id: (c.phone, c.emergency_contact_phone)
                for c in db.session.scalars(select(Client))
            }
        assert phones == {ada: ("+447700900123", "+441614960000"), ben: ("0" * 30, None)}
        with tenancy.bound_to(db.session.get(Clinic, clinic_id)):
            for q in ("07700 900123", "+44 7700 900123"):
                assert [c.id for c in search_clients(q)] == [ada]
        db.session.remove()
        db.engine.dispose()
