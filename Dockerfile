# syntax=docker/dockerfile:1
# The clinic_saas image: gunicorn serves the app; docker-compose.yml also runs the migrations and the
# development Stripe emulator from this same image.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The development Stripe emulator (GPL-3.0, run as a separate process). It is not a dependency of
# the app: build a production image with `--build-arg LOCALSTRIPE_VERSION=` to leave it out.
# The same version as the dev extra in pyproject.toml (tests/test_stripe_emulator.py checks it).
ARG LOCALSTRIPE_VERSION=1.15.10

# What WeasyPrint needs to make PDF documents: Pango, HarfBuzz's font subsetter, and fonts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app

WORKDIR /app

# Editable on purpose: the app finds migrations/ and instance/ beside the package directory
# (create_app uses dirname(app.root_path)); a copy in site-packages would look for them there.
COPY pyproject.toml ./
COPY clinic_saas ./clinic_saas
RUN pip install --editable . \
    && if [ -n "$LOCALSTRIPE_VERSION" ]; then pip install "localstripe==$LOCALSTRIPE_VERSION"; fi

COPY wsgi.py ./
COPY migrations ./migrations
# The only place the app writes to (SQLite fallback, mail outbox); the code stays root-owned.
RUN mkdir instance && chown app:app instance

USER app

EXPOSE 8000

CMD ["gunicorn", "wsgi:app", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
