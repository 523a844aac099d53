"""The front door and the health check."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import literal, select
from sqlalchemy.exc import SQLAlchemyError

from ...extensions import db
from ...permissions import public

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(url_for("clinics.index"))
    return render_template("main/index.html")


def _migration_heads() -> set[str]:
    cache = current_app.extensions.setdefault("health", {})
    if "heads" not in cache:
        config = current_app.extensions["migrate"].migrate.get_config()
        cache["heads"] = set(ScriptDirectory.from_config(config).get_heads())
    return cache["heads"]


@bp.route("/healthz")
@public
def healthz():
    """200 when the database answers and its schema is at the newest migration, else 503."""
    checks = {}
    try:
        with db.engine.connect() as connection:
            connection.execute(select(literal(1)))
            current = set(MigrationContext.configure(connection).get_current_heads())
        checks["database"] = "ok"
        expected = _migration_heads()
        checks["migrations"] = "ok" if current == expected else "pending"
    except SQLAlchemyError:
        current_app.logger.exception("health check: database unreachable")
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    healthy = all(value == "ok" for value in checks.values())
    return {"status": "ok" if healthy else "unavailable", "checks": checks}, 200 if healthy else 503
