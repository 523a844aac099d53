# The two commands a newcomer needs: `make run` (demo on http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# The local Stripe emulator that `make run` starts beside the app (loopback only).
STRIPE_PORT ?= 8420
export FLASK_APP := wsgi.py

.PHONY: run test install pdf-libs browser lint format clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  rm -rf $(VENV); \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing python3-venv..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  else \
	    echo "python3 -m venv failed: install it with 'sudo apt-get install python3-venv'"; exit 1; \
	  fi; \
	  $(PYTHON) -m venv $(VENV); }

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	@touch $@

install: pdf-libs $(VENV)/.installed

# The system libraries WeasyPrint loads to make PDF documents (Pango, HarfBuzz's subsetter) and
# a font family to draw them with; apt-get installs them when this runs as root.
PDF_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
pdf-libs:
	@missing=""; \
	for lib in libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz-subset.so.0; do \
	  /sbin/ldconfig -p 2>/dev/null | grep -q "$$lib" || missing="$$missing $$lib"; \
	done; \
	[ -d /usr/share/fonts/truetype/dejavu ] || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing the libraries for PDF documents..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_DEBS) >/dev/null; \
	  else \
	    echo "Missing for PDF documents:$$missing. Run 'sudo apt-get install $(PDF_DEBS)'."; \
	  fi; \
	fi

# Debian's Chromium for the Playwright browser tests (Playwright's own browser download is not used).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Chromium for the browser tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Chromium is missing: 'sudo apt-get install chromium', or the browser tests will skip."; \
	  fi; \
	fi

# The app, with the Stripe emulator beside it on 127.0.0.1:$(STRIPE_PORT) (an empty store each
# time, its log in instance/stripe-emulator.log), delivering its webhooks to the app; it stops
# when the app stops.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	@echo "Serving http://$(HOST):$(PORT)  (mail the app sends: http://$(HOST):$(PORT)/dev/outbox)"
	@mkdir -p instance
	$(BIN)/python -m clinic_saas.devtools.emulator_control serve-with --port $(STRIPE_PORT) \
	  --webhook-url http://$(HOST):$(PORT)/webhooks/stripe --log instance/stripe-emulator.log \
	  -- $(BIN)/flask run --host $(HOST) --port $(PORT)

# The whole suite on SQLite; with TEST_DATABASE_URL=postgresql://... on that PostgreSQL database.
test: install browser
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
