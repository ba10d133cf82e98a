# Entry points: make install | lock | run | test | services | services-down | bench | lint | types
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 7777
WORKERS ?= 2
THREADS ?= 4
CELERY_WORKER_CONCURRENCY ?= 4
export DJANGO_SETTINGS_MODULE ?= evesite.settings.production
# Python keeps its bytecode caches (this machine's environment turns them off): otherwise every test worker, server
# and Celery worker the suite starts compiles the project again, and pytest rewrites every test module's asserts.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install lock services services-down run test lint types pytest bench

# Every package, transitive ones and pip itself, comes pinned with its sha256 hashes from requirements-dev.lock
# (runtime + dev; the Docker image installs requirements.lock). pip installs uv (requirements-bootstrap.lock),
# and uv the rest: both refuse anything whose hash differs. uv takes seconds where pip took a minute, most of it
# compiling every module to bytecode (Python compiles what is imported, when it is).
# The venv is made with Python 3.12 when the machine has one, else python3 (scripts/venv-python). A venv
# keeps the Python it was made with: remove .venv to make it again.
PYTHON ?= $(shell scripts/venv-python)
$(VENV)/.installed: requirements.lock requirements-dev.lock requirements-bootstrap.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements-bootstrap.lock
	$(VENV)/bin/uv pip install -q --python $(PY) --require-hashes -r requirements-dev.lock
	@touch $@

install: $(VENV)/.installed

# Re-resolves the locks from requirements*.txt (run it after editing one). Versions
# already locked stay when they still fit; `make lock UPGRADE=1` moves transitive packages to their newest.
# One lock for Python 3.11+ on any platform (--universal: markers, hashes of every wheel and sdist).
UV_COMPILE = $(VENV)/bin/uv pip compile -q --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
lock: install
	$(UV_COMPILE) requirements.txt -o requirements.lock
	$(UV_COMPILE) requirements-dev.txt -c requirements.lock -o requirements-dev.lock
	$(UV_COMPILE) requirements-bootstrap.txt -c requirements-dev.lock -o requirements-bootstrap.lock

services: install
	scripts/services.sh up

services-down:
	scripts/services.sh down

# The main job: services, migrations, the SDE (eve_data/, else a Fuzzwork download), then in the foreground
# (honcho, Procfile): the API on $(HOST):$(PORT), a Celery worker and Celery beat. Ctrl-C or SIGTERM stops all.
run: export HOST := $(HOST)
run: export WEB_PORT := $(PORT)
run: export WEB_WORKERS := $(WORKERS)
run: export WEB_THREADS := $(THREADS)
run: export CELERY_WORKER_CONCURRENCY := $(CELERY_WORKER_CONCURRENCY)
# Debug stays off (DJANGO_DEBUG=true turns it on for development); the keys, unless set, are this checkout's own.
run: export DJANGO_SECRET_KEY ?= $(shell scripts/local-secret .local_secret_key)
run: export TOKEN_ENCRYPTION_KEY ?= $(shell scripts/local-secret .local_token_key)
run: services
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	@$(PY) manage.py ingest_data --if-present --missing-status 3; status=$$?; \
	if [ $$status -eq 3 ]; then \
		echo "Trying the latest SDE dump from Fuzzwork: ingest_data --download"; \
		$(PY) manage.py ingest_data --download || echo "make run: no SDE ingested (the download or its ingestion failed). Put a Fuzzwork dump in eve_data/ (or set EVE_DATA_DIR / FUZZWORK_DUMP_URL), then run .venv/bin/python manage.py ingest_data; starting without it."; \
	elif [ $$status -ne 0 ]; then exit $$status; fi
	exec $(VENV)/bin/honcho start -f Procfile --env /dev/null

# The git pre-commit hook (.pre-commit-config.yaml): whitespace, ruff, ruff format and mypy from the venv.
.PHONY: hooks
hooks: install
	$(VENV)/bin/pre-commit install

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: install
	$(VENV)/bin/mypy .

# Tests get their own Redis database and Neo4j instances: they flush Redis and replace the graph, which must never
# touch what `make run` serves. PostgreSQL tests use Django's own test_ databases. The tests that read the real SDE
# have Neo4j instances (and test databases) of their own: the small dumps the other tests ingest would replace it,
# and putting it back cost seconds each time (evesite/testing/sde_stores.py). The URLs are DEFAULT_URLS in
# evesite/testing/parallel.py; TEST_REDIS_URL, TEST_NEO4J_BOLT_URL and TEST_NEO4J_SDE_BOLT_URL name others. The
# Redis and Neo4j URLs a shell exports (for `make run`) never reach the tests.
TEST_URLS := $(if $(TEST_REDIS_URL),REDIS_URL=$(TEST_REDIS_URL)) \
	$(if $(TEST_NEO4J_BOLT_URL),NEO4J_BOLT_URL=$(TEST_NEO4J_BOLT_URL)) \
	$(if $(TEST_NEO4J_SDE_BOLT_URL),NEO4J_SDE_BOLT_URL=$(TEST_NEO4J_SDE_BOLT_URL))
# Test instances of Neo4j compile Java with C1 only: over a run, C2 compiled for about 45 s of CPU per instance,
# more than the queries used; without it the instance uses about 45 % less CPU (see scripts/servers/neo4j.py).
# They collect garbage with the serial collector instead of G1 and its concurrent threads. Over a run the three
# instances used 74 and 81 CPU-s started fresh (G1: 83) and 50 and 56 warm (G1: 59): a few per cent, one or two
# runs each, on a machine whose speed itself varies by about a tenth.
TEST_NEO4J_JVM := -XX:TieredStopAtLevel=1 -XX:-UseG1GC -XX:+UseSerialGC
TEST_ENV := env -u REDIS_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND -u NEO4J_BOLT_URL -u NEO4J_SDE_BOLT_URL \
	$(TEST_URLS) NEO4J_JVM_EXTRA="$(TEST_NEO4J_JVM)"
# The suite runs on TEST_WORKERS pytest-xdist workers; worker n uses Redis database 12+n, Neo4j on ports 7688+n
# and 7698+n (started here) and the databases test_evesite_gw<n> and test_evesite_gw<n>_sde
# (evesite/testing/parallel.py). Slow tests go first, one test at a time per worker. Coverage of the application
# code is printed at the end; below the floor in pyproject.toml ([tool.coverage.report] fail_under) the run fails.
# PYTEST_ARGS adds options (e.g. -m "not slow").
# Three workers on a 2-core machine: a worker spends about a quarter of its time waiting (servers and Celery
# workers starting, sleeps the tests need), and the third one uses that time.
TEST_WORKERS ?= 3
PYTEST_ARGS ?=

# The test workers' datastores. The system Python runs it (the module and scripts/servers use only its standard
# library), so it needs no venv: `make test` starts it while the venv installs.
.PHONY: test-services
test-services:
	$(TEST_ENV) python3 evesite/testing/parallel.py services $(TEST_WORKERS)

# The coverage data lives in a temporary folder of this run: another run in the same checkout cannot erase or
# combine it.
pytest: install test-services
	@data=$$(mktemp -d); set -x; \
	$(TEST_ENV) COVERAGE_FILE=$$data/coverage DJANGO_SETTINGS_MODULE=evesite.settings.test $(VENV)/bin/pytest \
		-n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --cov --cov-report=term $(PYTEST_ARGS); \
	status=$$?; set +x; rm -rf "$$data"; exit $$status

# The whole suite: the datastores start (on a fresh machine: packages, Neo4j's jars, three JVMs) while the venv
# installs and lint and types run; then the tests against them.
test:
	@$(MAKE) --no-print-directory -j3 --output-sync=line test-services lint types
	@$(MAKE) --no-print-directory pytest

# The API fuzz test with ten times the random cases per operation (the suite runs 25 each). Its report,
# every failing request as a curl command, is printed and kept in the test's tmp_path (schemathesis.txt).
FUZZ_EXAMPLES ?= 250
.PHONY: fuzz
fuzz: install
	$(TEST_ENV) python3 evesite/testing/parallel.py services 1
	$(TEST_ENV) FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) DJANGO_SETTINGS_MODULE=evesite.settings.test \
		$(VENV)/bin/pytest evesite/tests/test_api_fuzz.py --timeout=7200 -q

# wrk loads the web benchmarks from outside the server's Python (bench_images falls back to a Python client).
# Benchmarks measure speed, not throttles: their load comes from one address, so the rates are lifted.
bench: export DJANGO_SECRET_KEY ?= $(shell scripts/local-secret .local_secret_key)
bench: export THROTTLE_ANON_RATE ?= 1000000/min
bench: export THROTTLE_ANON_BURST_RATE ?= 1000000/s
bench: export THROTTLE_USER_RATE ?= 1000000/min
bench: export THROTTLE_EXPENSIVE_RATE ?= 1000000/min
bench: export API_EXPENSIVE_CONCURRENCY ?= 0
bench: services
	scripts/services.sh apt wrk
	$(PY) manage.py migrate --noinput -v0
	@failed=""; for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "benchmarks below target or failing:$$failed"; exit 1; fi

# Issue 14's load test (bench/load_test.py, code in bench/loadtest/): 50 anonymous clients (10 greedy, 40 paced) for
# 30 s against the Procfile's web and worker lines with the sizes `make run` uses, loopback only, on scratch copies of
# the database and Redis (stop `make run` first: the copy needs the database idle). Variants: ARGS="--seconds 60".
.PHONY: loadtest
loadtest: export WEB_WORKERS := $(WORKERS)
loadtest: export WEB_THREADS := $(THREADS)
loadtest: export CELERY_WORKER_CONCURRENCY := $(CELERY_WORKER_CONCURRENCY)
loadtest: services
	$(PY) bench/load_test.py $(ARGS)
