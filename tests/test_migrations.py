"""The migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import stamp

from clinic_saas.extensions import db


def test_models_and_migrations_agree(app):
    """The session's schema was built by `flask db upgrade`; the models must match it exactly."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
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
