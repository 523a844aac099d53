"""Settings, read from environment variables, with defaults that only suit development."""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

# Obviously fake: the production configuration refuses to start with either of these.
DEV_SECRET_KEY = "dev-only-secret-key-not-for-production"  # noqa: S105
# A valid Fernet key (32 zero bytes, urlsafe base64) so development runs with no setup at all.
DEV_CLINICAL_DATA_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
# Where `make run` serves the app; emailed links point here in development.
DEV_PUBLIC_BASE_URL = "http://127.0.0.1:5000"
# Hosts always answered besides the public one: the container's own health check calls these.
LOCAL_HOSTS = ("localhost", "127.0.0.1")
# Stripe's own servers, and the local emulator that `make run` starts (see devtools).
STRIPE_LIVE_API_BASE = "https://api.stripe.com"
STRIPE_LIVE_JS_URL = "https://js.stripe.com/v3/"
DEV_STRIPE_API_BASE = "http://127.0.0.1:8420"
DEV_STRIPE_WEBHOOK_SECRET = "whsec_dev_fake"  # noqa: S105
ONBOARDING_KINDS = ("stripe", "fake")


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "clinic_saas.sqlite")
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants an explicit driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _list(name: str) -> list[str] | None:
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or None


def from_environment(instance_path: str) -> dict:
    """Build the configuration mapping for create_app from the process environment."""
    redis_url = os.environ.get("REDIS_URL", "")
    env = os.environ.get("CLINIC_SAAS_ENV", "development")
    return {
        "ENV_NAME": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEV_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 5 minutes"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 5 minutes"),
        "FORM_LIMIT_PER_ADDRESS": os.environ.get("FORM_LIMIT_PER_ADDRESS", "20 per 10 minutes"),
        "CLINICAL_DATA_KEYS": os.environ.get("CLINICAL_DATA_KEYS", DEV_CLINICAL_DATA_KEY),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", "sk_test_dev_fake"),
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY", "pk_test_dev_fake"),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", DEV_STRIPE_WEBHOOK_SECRET),
        # None here means: the default of the environment the app ends up in (see settle_stripe).
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE") or None,
        "STRIPE_JS_URL": os.environ.get("STRIPE_JS_URL") or None,
        "STRIPE_ONBOARDING": os.environ.get("STRIPE_ONBOARDING") or None,
        "STRIPE_CONNECT": _bool("STRIPE_CONNECT", False),
        "PLATFORM_FEE_BP": _int("PLATFORM_FEE_BP", 0),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int("MAIL_PORT", 587),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", True),
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "MAIL_DEFAULT_SENDER", "clinic_saas <no-reply@clinic-saas.example>"
        ),
        "MAIL_OUTBOX_DIR": os.environ.get("MAIL_OUTBOX_DIR", str(Path(instance_path) / "outbox")),
        # Every emailed link starts with this, never with the Host header of the request.
        "PUBLIC_BASE_URL": os.environ.get(
            "PUBLIC_BASE_URL", "" if env == "production" else DEV_PUBLIC_BASE_URL
        ),
        # None here means: the public base URL's host and the local hosts (see settle_hosts).
        "TRUSTED_HOSTS": _list("TRUSTED_HOSTS"),
        "PROXY_FIX_X_FOR": _int("PROXY_FIX_X_FOR", 0),
        "INVITATION_MAX_AGE": timedelta(days=_int("INVITATION_MAX_AGE_DAYS", 7)),
        "PASSWORD_RESET_MAX_AGE": timedelta(hours=_int("PASSWORD_RESET_MAX_AGE_HOURS", 2)),
        "EMAIL_CONFIRM_MAX_AGE": timedelta(days=_int("EMAIL_CONFIRM_MAX_AGE_DAYS", 3)),
        # An emailed intake link, and one opened on a clinic device at the desk.
        "INTAKE_LINK_MAX_AGE_DAYS": _int("INTAKE_LINK_MAX_AGE_DAYS", 7),
        "INTAKE_DESK_LINK_MAX_AGE_MINUTES": _int("INTAKE_DESK_LINK_MAX_AGE_MINUTES", 120),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("SESSION_LIFETIME_HOURS", 12)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "BOOTSTRAP_SERVE_LOCAL": True,
        "API_TITLE": "clinic_saas API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }


def tune_engine(config: dict) -> None:
    """Engine options that depend on the database the app ends up with.

    On PostgreSQL, psycopg would prepare a statement on the server from its 5th run on a
    connection, and PostgreSQL may then plan it once for any parameter (a generic plan). For
    "contains" searches that plan cannot use the trigram index and reads every client of the
    clinic (bench/client_search.py measured 200+ ms at 100,000 clients instead of 1 ms), so
    statements are never prepared server-side: each is planned with its real parameters.
    """
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("prepare_threshold", None)
        options["connect_args"] = connect_args
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def settle_hosts(config: dict) -> None:
    """Answer only the hosts we serve: unset TRUSTED_HOSTS means the public base URL's host and
    the local hosts; any other Host header gets 400 before a view runs."""
    if config.get("TRUSTED_HOSTS") is None:
        public_host = urlsplit(config.get("PUBLIC_BASE_URL") or "").hostname
        config["TRUSTED_HOSTS"] = list(dict.fromkeys(h for h in (public_host, *LOCAL_HOSTS) if h))


def settle_stripe(config: dict) -> None:
    """Fill in Stripe's addresses for the environment: the emulator in development, Stripe itself
    in production. The browser's Stripe.js address is separate from the server's API base, because
    a browser outside Compose reaches the emulator at another address than the web container."""
    production = config.get("ENV_NAME") == "production"
    if not config.get("STRIPE_API_BASE"):
        config["STRIPE_API_BASE"] = STRIPE_LIVE_API_BASE if production else DEV_STRIPE_API_BASE
    config["STRIPE_API_BASE"] = config["STRIPE_API_BASE"].rstrip("/")
    if not config.get("STRIPE_JS_URL"):
        live = config["STRIPE_API_BASE"] == STRIPE_LIVE_API_BASE
        config["STRIPE_JS_URL"] = (
            STRIPE_LIVE_JS_URL if live else config["STRIPE_API_BASE"] + "/js.stripe.com/v3/"
        )
    if not config.get("STRIPE_ONBOARDING"):
        # The emulator has no Connect: anywhere but production, a fake stands in for onboarding.
        config["STRIPE_ONBOARDING"] = "stripe" if production else "fake"
    if config["STRIPE_ONBOARDING"] not in ONBOARDING_KINDS:
        raise ConfigurationError("STRIPE_ONBOARDING must be 'stripe' or 'fake'")
    fee = config.get("PLATFORM_FEE_BP", 0)
    if not isinstance(fee, int) or isinstance(fee, bool) or not 0 <= fee <= 10_000:
        raise ConfigurationError(
            "PLATFORM_FEE_BP is the platform fee in basis points: a whole number from 0 to 10000"
        )


PRODUCTION_OVERRIDES = {
    "SESSION_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_SECURE": True,
    "PREFERRED_URL_SCHEME": "https",
    "SECURITY_HSTS": True,
}


class ConfigurationError(RuntimeError):
    """Raised when a setting holds a value the app cannot run with."""


class InsecureConfigurationError(ConfigurationError):
    """Raised when a production app would start with a development secret or key."""


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (ValueError, UnicodeEncodeError):
        return False


STRIPE_KEY_PREFIXES = {
    "STRIPE_SECRET_KEY": "sk_",
    "STRIPE_PUBLISHABLE_KEY": "pk_",
    "STRIPE_WEBHOOK_SECRET": "whsec_",
}


def _stripe_key_problems(config: dict) -> list[str]:
    """Payments are live: production needs the platform's real keys, never the dev defaults."""
    return [
        f"{name} must be set to the platform's Stripe key ({prefix}...)"
        for name, prefix in STRIPE_KEY_PREFIXES.items()
        if not str(config.get(name) or "").startswith(prefix)
        or str(config.get(name)).endswith("_dev_fake")
    ]


def check_production(config: dict) -> None:
    """Refuse to run in production with a secret or key that ships in this repository."""
    problems = []
    secret = config.get("SECRET_KEY") or ""
    if secret == DEV_SECRET_KEY or len(secret) < 32:
        problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
    keys = [k.strip() for k in (config.get("CLINICAL_DATA_KEYS") or "").split(",") if k.strip()]
    if not keys or DEV_CLINICAL_DATA_KEY in keys:
        problems.append("CLINICAL_DATA_KEYS must hold your own Fernet keys, newest first")
    elif not all(_is_fernet_key(k) for k in keys):
        # Found now rather than at the first intake a client signs.
        problems.append("CLINICAL_DATA_KEYS holds a value that is not a Fernet key")
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        problems.append("DATABASE_URL must point at PostgreSQL in production")
    problems.extend(_stripe_key_problems(config))
    if config.get("STRIPE_API_BASE") != STRIPE_LIVE_API_BASE:
        problems.append(f"STRIPE_API_BASE must be {STRIPE_LIVE_API_BASE} in production")
    if config.get("STRIPE_ONBOARDING") != "stripe":
        problems.append("STRIPE_ONBOARDING must be 'stripe' in production (the fake is for tests)")
    if not config.get("MAIL_SERVER"):
        problems.append("MAIL_SERVER must be set so that invitations and resets reach people")
    base = urlsplit(config.get("PUBLIC_BASE_URL") or "")
    if base.scheme != "https" or not base.hostname:
        problems.append(
            "PUBLIC_BASE_URL must be the https:// address people use, for links in emails"
        )
    if not config.get("REDIS_URL"):
        # In-memory limits are per worker: several workers would each allow the full count.
        problems.append("REDIS_URL must be set so that every worker shares the login limits")
    if problems:
        raise InsecureConfigurationError("; ".join(problems))
