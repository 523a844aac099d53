"""Fixtures: the app on SQLite (default) or on TEST_DATABASE_URL, a CSRF-aware client, two clinics.

The schema is built once per run by the migrations themselves (not create_all), so every test also
exercises them; after each test every table is emptied.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from hypothesis import settings
from sqlalchemy import MetaData, create_engine, delete
from werkzeug.serving import make_server

from clinic_saas import create_app, tenancy
from clinic_saas.accounts.passwords import hash_password
from clinic_saas.extensions import db, limiter
from clinic_saas.models import Clinic, Membership, Role, User
from clinic_saas.models.base import utcnow

from .stripe_emulator import stripe_emulator, stripe_reserved  # noqa: F401 (fixtures)

# Property tests judge results, not speed: a loaded machine must not fail them on a deadline.
settings.register_profile("clinic_saas", deadline=None)
settings.load_profile("clinic_saas")

PASSWORD = "test-password-1"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2 is slow on purpose


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI a skip is a failure: a skipped browser or database test must not pass unseen."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI", "").lower() == "true" and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which counts as a failure: {report.longrepr}"


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if not url:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")
    return url


def _drop_everything(url: str) -> None:
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def outbox_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("outbox")


def test_config(database_url: str, outbox_dir: Path, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": "",
        "MAIL_OUTBOX_DIR": str(outbox_dir),
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return config


test_config.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session")
def app(database_url, outbox_dir, stripe_reserved):  # noqa: F811 (a fixture)
    _drop_everything(database_url)
    app = create_app(test_config(database_url, outbox_dir, **stripe_reserved.settings()))
    app.test_client_class = ClinicClient
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_state(request, outbox_dir):
    """Empty every table, the outbox and the rate limits after each test."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(delete(table))
        limiter.reset()
    for path in outbox_dir.glob("*.eml"):
        path.unlink()


class ClinicClient(FlaskClient):
    """A test client that sends the session's CSRF token with every form, as a browser does."""

    def csrf_token(self) -> str:
        page = super().get("/healthz-csrf-probe")  # any page; 404 pages carry the token too
        match = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
        assert match, "no CSRF token on the page"
        return match.group(1)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        """Post as from a freshly loaded page: its CSRF token and a new one-time submission key
        (forms that record something refuse a post without one), unless `data` names them."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        data.setdefault("submission_key", str(uuid.uuid4()))
        return self.post(url, data=data, **kwargs)


@pytest.fixture
def make_app(app, database_url, outbox_dir, stripe_reserved):  # noqa: F811 (a fixture)
    """Another app on the same database, with some settings changed for one test."""

    def factory(**overrides):
        config = {**stripe_reserved.settings(), **overrides}
        other = create_app(test_config(database_url, outbox_dir, **config))
        other.test_client_class = ClinicClient
        return other

    yield factory
    # Flask-Limiter keeps one storage per process (its last init_app wins): give it back.
    limiter.init_app(app)


@pytest.fixture
def client(app) -> ClinicClient:
    return app.test_client()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


@dataclass
class ClinicFixture:
    clinic_id: object
    slug: str
    name: str
    members: dict[Role, str] = field(default_factory=dict)  # role -> email
    member_ids: dict[Role, object] = field(default_factory=dict)

    def email(self, role: Role | str) -> str:
        return self.members[Role(role)]


def make_clinic(app, slug: str, name: str, roles=tuple(Role), currency="GBP") -> ClinicFixture:
    """A clinic with one confirmed member per role, e.g. owner@<slug>.example."""
    with app.app_context():
        clinic = Clinic(
            name=name, slug=slug, timezone="Europe/London", currency=currency, country="GB"
        )
        db.session.add(clinic)
        db.session.flush()
        fixture = ClinicFixture(clinic.id, slug, name)
        with tenancy.bound_to(clinic):
            for role in roles:
                email = f"{role.value}@{slug}.example"
                user = User(
                    email=email,
                    name=f"{role.label} of {name}",
                    password_hash=_PASSWORD_HASH,
                    email_confirmed_at=utcnow(),
                )
                membership = Membership(user=user, role=role)
                db.session.add(membership)
                db.session.flush()
                fixture.members[role] = email
                fixture.member_ids[role] = membership.id
        db.session.commit()
        return fixture


@pytest.fixture
def clinic_a(app) -> ClinicFixture:
    return make_clinic(app, "northside", "Northside Sports Massage")


@pytest.fixture
def clinic_b(app) -> ClinicFixture:
    return make_clinic(app, "harbour", "Harbour Sports Therapy", currency="EUR")


class AuthActions:
    def __init__(self, client: ClinicClient):
        self._client = client

    def login(self, email: str, password: str = PASSWORD, **kwargs):
        return self._client.post_form("/login", {"email": email, "password": password}, **kwargs)

    def logout(self):
        return self._client.post_form("/logout")

    def login_as(self, role: Role | str, clinic: ClinicFixture):
        response = self.login(clinic.email(role))
        assert response.status_code == 302, response.get_data(as_text=True)
        return response


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def count_queries(app):
    """count_queries(fn) -> (number of SQL statements fn ran, fn's result)."""
    from sqlalchemy import event

    def run(fn):
        statements = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            result = fn()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(statements), result

    return run


@pytest.fixture
def outbox(app, outbox_dir):
    """A callable returning the mail captured so far."""
    from clinic_saas.mail import read_outbox

    return lambda: read_outbox(outbox_dir)


def link_in(message, path_prefix: str) -> str:
    """The path of the first link in a message that starts with path_prefix."""
    match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"[^\s]*)", message.text)
    assert match, f"no {path_prefix} link in: {message.text}"
    return match.group(1)


# Live server for browser tests -------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(app):
    """The app served on 127.0.0.1 by a real HTTP server in a thread, sharing the test database."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
