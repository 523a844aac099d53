"""clinic_saas: the back office of sports-massage and sports-therapy clinics."""

from __future__ import annotations

import logging
import os
import uuid

from flask import Flask, render_template, request, session
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as settings
from . import mail, permissions, raw_sql, templating, tenancy, unit_of_work
from .extensions import bootstrap, csrf, db, limiter, login_manager, migrate
from .refusals import Refusal

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def create_app(config: dict | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints, request lifecycle, errors, CLI."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(settings.from_environment(app.instance_path))
    if app.config["ENV_NAME"] == "production" or (config or {}).get("ENV_NAME") == "production":
        app.config.update(settings.PRODUCTION_OVERRIDES)
    app.config.update(config or {})
    settings.tune_engine(app.config)
    settings.settle_hosts(app.config)
    settings.settle_stripe(app.config)
    if app.config["ENV_NAME"] == "production":
        settings.check_production(app.config)
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)

    register_input_check(app)
    register_extensions(app)
    register_blueprints(app)
    templating.init_app(app)
    register_request_lifecycle(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


NUL_REFUSED = (
    "The address or the form contains a NUL character (an invisible null byte), which cannot be "
    "stored. Remove it and try again."
)


def register_input_check(app: Flask) -> None:
    """Refuse a NUL character in the path, the query string or a form, once for every request.

    No text column may hold one (PostgreSQL refuses it outright), and no person types one. The
    check is registered before anything else looks at the request, tenancy's clinic lookup
    included: it answers 400 with the error page, and nothing is read or stored.
    """

    def refuse_nul(endpoint, values) -> None:
        texts = [request.path]
        for source in (request.args, request.form, request.files):
            for key, value in source.items(multi=True):
                texts.append(key)
                texts.append(value if isinstance(value, str) else value.filename or "")
        if any("\x00" in text for text in texts):
            raise Refusal(NUL_REFUSED)

    app.url_value_preprocessor(refuse_nul)


def register_extensions(app: Flask) -> None:
    assert raw_sql  # imported for its engine listeners
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        render_as_batch=True,
        directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
    )
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    tenancy.init_app(app)
    permissions.init_app(app)


def _load_user(session_user_id: str):
    """Load the user of a session cookie; an old session epoch, or no live session row on the
    server (accounts.sessions), means the session was ended."""
    from .accounts.sessions import session_is_live
    from .models import User

    user_id, _, epoch = session_user_id.partition(".")
    try:
        user = db.session.get(User, uuid.UUID(user_id))
    except ValueError:
        return None
    if (
        user is None
        or not user.active
        or str(user.session_epoch) != epoch
        or not session_is_live(user)
    ):
        session.clear()  # an ended session: forget it entirely, not just ignore it
        return None
    return user


def register_blueprints(app: Flask) -> None:
    from .blueprints import (
        account,
        admin,
        appointments,
        audit,
        auth,
        clients,
        clinics,
        dashboard,
        documents,
        intake,
        intake_forms,
        intake_public,
        invitations,
        invoices,
        locations,
        main,
        menu,
        notes,
        organisations,
        packages,
        pay,
        payments,
        public_menu,
        records,
        roster,
        sales,
        settings,
        staff,
        stripe_connect,
        therapists,
        webhooks,
    )

    for module in (
        main,
        auth,
        account,
        clinics,
        invitations,
        dashboard,
        staff,
        therapists,
        settings,
        stripe_connect,
        locations,
        roster,
        appointments,
        menu,
        packages,
        sales,
        payments,
        invoices,
        organisations,
        clients,
        intake,
        intake_forms,
        intake_public,
        notes,
        records,
        documents,
        audit,
        public_menu,
        pay,
        webhooks,
        admin,
    ):
        app.register_blueprint(module.bp)
    if app.config["ENV_NAME"] != "production" and not app.config.get("MAIL_SERVER"):
        from .blueprints import dev

        app.register_blueprint(dev.bp)


def register_request_lifecycle(app: Flask) -> None:
    """One transaction per request (unit_of_work) and security headers."""
    unit_of_work.init_app(app)
    # Read by pages that widen it for one purpose (the pay page adds the Stripe.js origin).
    app.config.setdefault("CONTENT_SECURITY_POLICY", CONTENT_SECURITY_POLICY)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", app.config["CONTENT_SECURITY_POLICY"])
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SECURITY_HSTS"):
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if request.endpoint and not request.endpoint.endswith("static"):
            headers.setdefault("Cache-Control", "no-store")
        return response


ERROR_TITLES = {
    400: "That request could not be understood",
    403: "You don't have access to this page",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "That could not be done as asked",
    410: "That is no longer available",
    413: "That upload is too large",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    503: "Temporarily unavailable",
}


def register_errorhandlers(app: Flask) -> None:
    def render_error(code: int, message: str | None = None):
        db.session.rollback()
        mail.discard_pending()
        if request_ctx.url_adapter is None:
            # A Host header outside TRUSTED_HOSTS: no link can be built, so no page either.
            return "This address is not served here.", code, {"Content-Type": "text/plain"}
        if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
            return {
                "status": code,
                "title": ERROR_TITLES.get(code, "Error"),
                "detail": message,
            }, code
        return render_template(
            "errors/error.html", code=code, title=ERROR_TITLES.get(code, "Error"), message=message
        ), code

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400, "This form had expired or was sent from elsewhere. Reload the page and try again."
        )

    @app.errorhandler(Refusal)
    def refused(refusal: Refusal):
        """A refusal no view placed on a page: its own status and message, nothing stored."""
        return render_error(refusal.status, str(refusal))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code == 429:
            return render_error(429, "Please wait a few minutes before trying again.")
        return render_error(error.code or 500, None)

    @app.errorhandler(SQLAlchemyError)
    def database_error(error):
        app.logger.exception("database error")
        return render_error(500, None)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        app.logger.exception("unhandled error")
        return render_error(500, None)

    # `flask run` in development prints an access log line per request, so a 500 shows in the
    # terminal beside its traceback; tests and production (gunicorn logs its own) keep it quiet.
    quiet = app.testing or app.config["ENV_NAME"] != "development"
    logging.getLogger("werkzeug").setLevel(logging.WARNING if quiet else logging.INFO)


def register_commands(app: Flask) -> None:
    from .cli import (
        create_admin,
        pay_link,
        reencrypt_clinical,
        roll_memberships,
        seed_demo,
        stripe_reconcile,
    )

    app.cli.add_command(seed_demo)
    app.cli.add_command(create_admin)
    app.cli.add_command(roll_memberships)
    app.cli.add_command(reencrypt_clinical)
    app.cli.add_command(pay_link)
    app.cli.add_command(stripe_reconcile)
