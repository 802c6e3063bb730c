# Duikou — the two commands of the README are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The test suite's database; `make run` uses its own SQLite file unless DATABASE_URL is set in the environment.
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/duikou)
PIP_FLAGS := --quiet --disable-pip-version-check --require-hashes

.PHONY: help run dev stack test test-fast lint format check messages compile-messages browser-deps postgres install install-dev clean bench bench-project-list bench-evaluation bench-evaluation-workers bench-exports bench-search bench-deep-pages bench-duplicates bench-serve

help:
	@echo "make run    - run Duikou at http://127.0.0.1:$(PORT) (SQLite, demo data, Celery eager);  make dev - the same with debug pages"
	@echo "make stack  - run the production topology here at http://127.0.0.1:$(PORT): gunicorn, Celery worker and beat on PostgreSQL and Redis"
	@echo "make test   - run the whole test suite against PostgreSQL (DATABASE_URL) and Chromium"
	@echo "make lint   - ruff, mypy and the import layering (lint-imports);  make check - Django checks and missing migrations"
	@echo "make messages - extract strings into locale/*/LC_MESSAGES/django.po (needs GNU gettext)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip

$(VENV)/.base: requirements/base.txt | $(BIN)/python
	$(BIN)/pip install $(PIP_FLAGS) -r requirements/base.txt
	@touch $@

$(VENV)/.dev: requirements/dev.txt | $(BIN)/python
	$(BIN)/pip install $(PIP_FLAGS) -r requirements/dev.txt
	@touch $@ $(VENV)/.base

install: $(VENV)/.base
install-dev: $(VENV)/.dev

compile-messages: $(VENV)/.base
	@$(BIN)/python manage.py compile_translations

# `make dev`: the same with Django's debug pages (tracebacks, the URL map) for developers.
dev:
	@DJANGO_DEBUG=true $(MAKE) --no-print-directory run

run: $(VENV)/.base compile-messages
	@mkdir -p var
	@$(BIN)/python manage.py migrate --no-input -v 0
	@$(BIN)/python manage.py bootstrap_local --port $(PORT)
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# The production settings on this machine's PostgreSQL (STACK_DATABASE_URL, database duikou_stack) and Redis
# (STACK_REDIS_URL): migrate and load the demo data once, then honcho runs the Procfile until Ctrl-C.
stack: $(VENV)/.dev compile-messages
	@$(BIN)/python scripts/stack.py --port $(PORT)

postgres: $(VENV)/.dev
	@DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python scripts/check_services.py postgres

browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Chromium and CJK fonts for the browser tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else \
	    echo "The browser tests need Debian's Chromium: run 'sudo apt-get install chromium fonts-noto-cjk' and try again."; exit 1; \
	  fi; \
	fi

test: $(VENV)/.dev compile-messages postgres browser-deps
	DATABASE_URL=$(TEST_DATABASE_URL) DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest $(PYTEST_ARGS)

test-fast: $(VENV)/.dev compile-messages postgres
	DATABASE_URL=$(TEST_DATABASE_URL) DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest -m "not browser and not celery_worker and not processes" $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: $(VENV)/.dev
	@mkdir -p var
	env -u DATABASE_URL $(BIN)/python manage.py check
	env -u DATABASE_URL $(BIN)/python manage.py makemigrations --check --dry-run
	env -u DATABASE_URL $(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/schema.yml

messages: $(VENV)/.base
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var --ignore=static --no-obsolete
	$(BIN)/python manage.py compile_translations

clean:
	rm -rf var/staticfiles var/test-artifacts

# The benchmarks at 100k projects (PostgreSQL, each its own database; see bench/README.md and the README):
# the project list API, then a full evaluation, each against its limit and its peer; last, every page served by
# gunicorn under wrk against /healthz and its own SQL under pgbench (bench-serve, about 45 minutes).
bench: bench-project-list bench-deep-pages bench-evaluation bench-exports bench-search bench-serve

bench-project-list: $(VENV)/.dev
	$(BIN)/python bench/project_list.py --projects 100000

bench-evaluation: $(VENV)/.dev
	$(BIN)/python bench/evaluation.py --projects 100000

# The same runs through real Celery workers of 1 and 2 processes, interleaved (Redis needed; bench/README.md).
bench-evaluation-workers: $(VENV)/.dev
	$(BIN)/python bench/evaluation.py --projects 100000 --workers 1,2 --rounds 2

bench-exports: $(VENV)/.dev
	$(BIN)/python bench/exports.py --projects 100000

bench-search: $(VENV)/.dev
	$(BIN)/python bench/search.py --projects 100000

bench-deep-pages: $(VENV)/.dev
	$(BIN)/python bench/deep_pages.py --projects 100000

bench-duplicates: $(VENV)/.dev
	$(BIN)/python bench/duplicates.py --projects 100000 --scan

# Throughput of every page under gunicorn (2 workers, production settings) and wrk; needs wrk and pgbench.
bench-serve: $(VENV)/.dev
	$(BIN)/python bench/serve.py --projects 100000
