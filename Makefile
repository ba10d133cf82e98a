# Entry points: make install | run | test | services | services-down | bench | lint | types
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 7777
WORKERS ?= 2
CELERY_WORKER_CONCURRENCY ?= 4
export DJANGO_SETTINGS_MODULE ?= evesite.settings

.PHONY: install services services-down run test lint types pytest bench

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

services: install
	scripts/services.sh up

services-down:
	scripts/services.sh down

# The main job: services, migrations, the SDE (eve_data/, else a Fuzzwork download), then in the foreground
# (honcho, Procfile): the API on $(HOST):$(PORT), a Celery worker and Celery beat. Ctrl-C or SIGTERM stops all.
run: export HOST := $(HOST)
run: export WEB_PORT := $(PORT)
run: export WEB_WORKERS := $(WORKERS)
run: export CELERY_WORKER_CONCURRENCY := $(CELERY_WORKER_CONCURRENCY)
run: services
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	@$(PY) manage.py ingest_data --if-present --missing-status 3; status=$$?; \
	if [ $$status -eq 3 ]; then \
		echo "Trying the latest SDE dump from Fuzzwork: ingest_data --download"; \
		$(PY) manage.py ingest_data --download || echo "make run: no SDE ingested (the download or its ingestion failed). Put a Fuzzwork dump in eve_data/ (or set EVE_DATA_DIR / FUZZWORK_DUMP_URL), then run .venv/bin/python manage.py ingest_data; starting without it."; \
	elif [ $$status -ne 0 ]; then exit $$status; fi
	exec $(VENV)/bin/honcho start -f Procfile --env /dev/null

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: install
	$(VENV)/bin/mypy .

# Tests get their own Redis database and Neo4j instance: they flush Redis and replace the graph,
# which must never touch what `make run` serves. PostgreSQL tests use Django's own test_ database.
TEST_REDIS_URL ?= redis://127.0.0.1:6379/14
TEST_NEO4J_BOLT_URL ?= bolt://neo4j:password@127.0.0.1:7688
TEST_ENV := REDIS_URL=$(TEST_REDIS_URL) NEO4J_BOLT_URL=$(TEST_NEO4J_BOLT_URL)

pytest: install
	$(TEST_ENV) scripts/services.sh up
	$(TEST_ENV) DJANGO_SETTINGS_MODULE=evesite.settings_test $(VENV)/bin/pytest

# The whole suite: lint, then types, then tests against the real services.
test: lint types pytest

# wrk loads the web benchmarks from outside the server's Python (bench_images falls back to a Python client).
bench: services
	scripts/services.sh apt wrk
	$(PY) manage.py migrate --noinput -v0
	@failed=""; for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "benchmarks below target or failing:$$failed"; exit 1; fi
