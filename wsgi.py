"""Entry point for gunicorn: `gunicorn wsgi:app`."""

from clinic_saas import create_app

app = create_app()
