"""Configuration: safe development defaults, and a production mode that refuses them."""

from __future__ import annotations

import logging

import pytest

from clinic_saas import create_app
from clinic_saas.config import (
    DEV_CLINICAL_DATA_KEY,
    ConfigurationError,
    InsecureConfigurationError,
)

PRODUCTION = {
    "ENV_NAME": "production",
    "SECRET_KEY": "a-production-secret-that-is-long-and-random-1234567890",
    "CLINICAL_DATA_KEYS": "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMDAwMDA=",
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "STRIPE_SECRET_KEY": "sk_test_from_the_environment",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_from_the_environment",
    "STRIPE_WEBHOOK_SECRET": "whsec_from_the_environment",
    "MAIL_SERVER": "smtp.example.com",
    "PUBLIC_BASE_URL": "https://clinic.example",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "RATELIMIT_STORAGE_URI": "memory://",
}


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"SECRET_KEY": "dev-only-secret-key-not-for-production"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"CLINICAL_DATA_KEYS": DEV_CLINICAL_DATA_KEY}, "CLINICAL_DATA_KEYS"),
        ({"CLINICAL_DATA_KEYS": "not-a-fernet-key"}, "not a Fernet key"),
        ({"CLINICAL_DATA_KEYS": PRODUCTION["CLINICAL_DATA_KEYS"] + ",short"}, "not a Fernet key"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite:///x.sqlite"}, "DATABASE_URL"),
        ({"MAIL_SERVER": ""}, "MAIL_SERVER"),
        ({"PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": "http://clinic.example"}, "PUBLIC_BASE_URL"),
        ({"REDIS_URL": ""}, "REDIS_URL"),
        ({"STRIPE_API_BASE": "http://127.0.0.1:8420"}, "STRIPE_API_BASE"),
        ({"STRIPE_API_BASE": "http://api.stripe.com"}, "STRIPE_API_BASE"),
        ({"STRIPE_API_BASE": "https://api.stripe.com.example"}, "STRIPE_API_BASE"),
        ({"STRIPE_ONBOARDING": "fake"}, "STRIPE_ONBOARDING"),
        ({"STRIPE_SECRET_KEY": ""}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": "sk_test_dev_fake"}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_PUBLISHABLE_KEY": "sk_live_wrong_kind"}, "STRIPE_PUBLISHABLE_KEY"),
        ({"STRIPE_WEBHOOK_SECRET": "whsec_dev_fake"}, "STRIPE_WEBHOOK_SECRET"),
    ],
)
def test_production_refuses_to_start_with_development_secrets(override, complaint):
    with pytest.raises(InsecureConfigurationError, match=complaint):
        create_app(dict(PRODUCTION, **override))


def test_production_talks_to_stripe_itself_by_default():
    app = create_app(PRODUCTION)
    assert app.config["STRIPE_API_BASE"] == "https://api.stripe.com"
    assert app.config["STRIPE_JS_URL"] == "https://js.stripe.com/v3/"
    assert app.config["STRIPE_ONBOARDING"] == "stripe"
    assert app.config["PLATFORM_FEE_BP"] == 0


def test_development_uses_the_emulator_for_the_server_and_the_browser(monkeypatch):
    for name in ("STRIPE_API_BASE", "STRIPE_JS_URL", "STRIPE_ONBOARDING", "PLATFORM_FEE_BP"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"RATELIMIT_STORAGE_URI": "memory://"})
    assert app.config["STRIPE_API_BASE"] == "http://127.0.0.1:8420"
    assert app.config["STRIPE_JS_URL"] == "http://127.0.0.1:8420/js.stripe.com/v3/"
    assert app.config["STRIPE_ONBOARDING"] == "fake"
    # Compose: the server reaches the emulator by service name, a browser on the host by loopback.
    monkeypatch.setenv("STRIPE_API_BASE", "http://stripe:8420/")
    monkeypatch.setenv("STRIPE_JS_URL", "http://127.0.0.1:8420/js.stripe.com/v3/")
    monkeypatch.setenv("PLATFORM_FEE_BP", "150")
    app = create_app({"RATELIMIT_STORAGE_URI": "memory://"})
    assert app.config["STRIPE_API_BASE"] == "http://stripe:8420"
    assert app.config["STRIPE_JS_URL"] == "http://127.0.0.1:8420/js.stripe.com/v3/"
    assert app.config["PLATFORM_FEE_BP"] == 150


@pytest.mark.parametrize("fee", [-1, 10_001, True, "150"])
def test_a_platform_fee_outside_0_to_10000_basis_points_is_refused(fee):
    with pytest.raises(ConfigurationError, match="PLATFORM_FEE_BP"):
        create_app({"RATELIMIT_STORAGE_URI": "memory://", "PLATFORM_FEE_BP": fee})


def test_onboarding_is_either_stripe_or_the_fake():
    with pytest.raises(ConfigurationError, match="STRIPE_ONBOARDING"):
        create_app({"RATELIMIT_STORAGE_URI": "memory://", "STRIPE_ONBOARDING": "other"})


def test_production_starts_with_real_stripe_keys():
    app = create_app(PRODUCTION)
    assert app.config["ENV_NAME"] == "production"


def test_production_reads_its_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLINIC_SAAS_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(InsecureConfigurationError):
        create_app()
    monkeypatch.setenv("SECRET_KEY", PRODUCTION["SECRET_KEY"])
    monkeypatch.setenv("CLINICAL_DATA_KEYS", PRODUCTION["CLINICAL_DATA_KEYS"])
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_from_the_environment")
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_test_from_the_environment")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_from_the_environment")
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.com")
    with pytest.raises(InsecureConfigurationError, match=r"PUBLIC_BASE_URL.*REDIS_URL"):
        create_app()  # no development default for either in production
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://clinic.example")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("TRUSTED_HOSTS", "clinic.example, .clinic.example")
    app = create_app()
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert app.config["TRUSTED_HOSTS"] == ["clinic.example", ".clinic.example"]
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_links_and_hosts_default_to_the_local_server(monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
    app = create_app({"RATELIMIT_STORAGE_URI": "memory://"})
    assert app.config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert app.config["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost"]


def test_without_database_url_the_app_uses_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"RATELIMIT_STORAGE_URI": "memory://"})
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///") and uri.endswith("instance/clinic_saas.sqlite")


def test_production_sends_security_headers_and_secure_cookies():
    app = create_app(PRODUCTION)
    client = app.test_client()
    response = client.get("/login", base_url="https://clinic.example")
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    cookie = headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # the outbox browser is a development tool only
    assert client.get("/dev/outbox", base_url="https://clinic.example").status_code == 404


def test_pages_carry_no_inline_script(client):
    """The CSP forbids inline script everywhere, so no template may rely on one."""
    for url in ("/", "/login", "/signup", "/password/forgot"):
        page = client.get(url).get_data(as_text=True)
        assert page.count("<script") == page.count("<script src=")
        assert " onclick=" not in page and " onload=" not in page


def test_development_pages_send_the_same_csp(client):
    assert "script-src 'self'" in client.get("/login").headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_bootstrap_is_served_locally(client):
    page = client.get("/login").get_data(as_text=True)
    assert "cdn" not in page.lower()
    assert client.get("/bootstrap/static/css/bootstrap.min.css").status_code == 200
    assert client.get("/bootstrap/static/js/bootstrap.bundle.min.js").status_code in (200, 404)
    for src in ("/static/app.js", "/static/app.css"):
        assert client.get(src).status_code == 200


def test_friendly_error_pages(client):
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert b"Page not found" in missing.data
    not_allowed = client.get("/logout")
    assert not_allowed.status_code == 405


def test_json_clients_get_problem_details(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json == {"status": 404, "title": "Page not found", "detail": None}


@pytest.fixture
def werkzeug_level():
    logger = logging.getLogger("werkzeug")
    level = logger.level
    yield logger
    logger.setLevel(level)


def test_development_keeps_the_access_log_and_tests_keep_it_quiet(werkzeug_level, tmp_path):
    database = f"sqlite:///{tmp_path / 'dev.sqlite'}"
    create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": database})
    assert werkzeug_level.getEffectiveLevel() <= logging.INFO  # "GET /c/... 500" in the terminal
    create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": database, "TESTING": True})
    assert werkzeug_level.getEffectiveLevel() > logging.INFO
    create_app(dict(PRODUCTION))
    assert werkzeug_level.getEffectiveLevel() > logging.INFO
