# The traceability registry: everything a developer or CI runs goes through here.
#   make run    set up .venv, upgrade the database, load the demo data, serve on http://127.0.0.1:5000 beside the job worker
#   make test   install system packages (as root), set up .venv and node_modules, lint, run the suite on SQLite and PostgreSQL
# Details: README.md.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements.sha256
PYTEST_ARGS ?=
export PYTEST_ARGS PYTHON

.PHONY: help venv node-deps system-deps run test lint format migrate translations compile-translations clean distclean

help:
	@echo "make run           set up, upgrade the database, load demo data, serve (HOST, PORT) and run the job worker"
	@echo "make test          system packages, lint, the suite on SQLite and PostgreSQL (PYTEST_ARGS=...)"
	@echo "make lint          ruff check, ruff format --check, mypy and the import contracts (lint-imports)"
	@echo "make format        ruff format and ruff check --fix"
	@echo "make migrate       flask --app wsgi db upgrade"
	@echo "make translations  extract, update and compile the message catalogs"
	@echo "make clean         remove caches; make distclean also removes .venv"

# .venv with the pinned requirements; pip runs again only when a requirements
# file (or the Python version) changed, as recorded in $(STAMP).
venv:
	@if ! $(BIN)/python -c "" 2>/dev/null; then \
		echo "==> creating $(VENV) with $(PYTHON)"; \
		rm -rf $(VENV); \
		$(PYTHON) -m venv $(VENV) || { echo "could not create $(VENV); on Debian: apt-get install python3-venv" >&2; exit 1; }; \
	fi
	@want="$$( { $(BIN)/python -VV; cat requirements.txt requirements-dev.txt; } | sha256sum | cut -d' ' -f1)"; \
	if [ "$$(cat $(STAMP) 2>/dev/null)" != "$$want" ]; then \
		echo "==> installing requirements-dev.txt into $(VENV)"; \
		$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt && \
		$(BIN)/python -m pip check && \
		echo "$$want" > $(STAMP); \
	else \
		echo "==> $(VENV) is up to date with the requirements"; \
	fi

# node_modules with the test tools locked in package-lock.json (axe-core for the
# accessibility browser test, digital-link.js for the GS1 compression oracle);
# npm ci runs again only when the lock file changed.
# Without npm: a warning (the test that needs it then skips), a failure with CI=true.
node-deps:
	@if ! command -v npm >/dev/null 2>&1; then \
		case "$${CI:-}" in true | TRUE | True | 1 | yes) echo "npm is missing (make system-deps as root installs it)" >&2; exit 1 ;; esac; \
		echo "WARNING: npm is missing: node_modules not installed (apt-get install npm)" >&2; \
	else \
		want="$$(sha256sum package-lock.json | cut -d' ' -f1)"; \
		if [ "$$(cat node_modules/.package-lock.sha256 2>/dev/null)" != "$$want" ]; then \
			echo "==> npm ci (package-lock.json)"; \
			npm ci --ignore-scripts --no-audit --no-fund && echo "$$want" > node_modules/.package-lock.sha256; \
		else \
			echo "==> node_modules is up to date with package-lock.json"; \
		fi; \
	fi

system-deps:
	@scripts/system_deps.sh

run: venv compile-translations
	@scripts/run.sh

test: system-deps venv node-deps compile-translations
	@scripts/test.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: venv
	$(BIN)/flask --app wsgi db upgrade

# Compile the catalogs when there are any (compiled .mo files may be committed too).
compile-translations:
	@if [ -d translations ] && [ -x $(BIN)/pybabel ] && [ -n "$$(find translations -name '*.po' -print -quit)" ]; then \
		echo "==> pybabel compile -d translations"; \
		$(BIN)/pybabel -q compile -d translations; \
	fi

translations: venv
	@if [ -x scripts/i18n.sh ] || [ -f scripts/i18n.sh ]; then \
		PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/i18n.sh; \
	elif [ -d translations ]; then \
		mapping=babel.cfg; \
		if [ ! -f "$$mapping" ]; then \
			mapping="$$(mktemp)"; printf '[python: traceability/**.py]\n[jinja2: templates/**.html]\n' > "$$mapping"; \
		fi; \
		$(BIN)/pybabel -q extract -F "$$mapping" -k _l -k lazy_gettext -o translations/messages.pot . && \
		$(BIN)/pybabel -q update -i translations/messages.pot -d translations && \
		$(BIN)/pybabel -q compile -d translations; \
	else \
		echo "no translations/ directory yet"; \
	fi

clean:
	rm -rf .pytest_cache .ruff_cache .mypy_cache .hypothesis test-artifacts .coverage .coverage.* htmlcov
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
