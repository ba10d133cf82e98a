"""Load test (issue 14): anonymous clients hammer the global scan, routes, images and appraisal while health is timed.

The claim under test: "50 anonymous clients for 30 s against the global scan, routes, images and
appraisal: the server keeps answering health within 200 ms, throttled clients get 429, nothing else
fails".

Clients: ``--clients`` (50), each on a loopback source address of its own (``127.0.1.1``,
``127.0.1.2``, ...: the throttles count per ``REMOTE_ADDR``), loop for ``--seconds`` (30) over
``GET /api/market/global/scan/``, ``GET /api/routes/`` between real systems (JSON, now and then
``format=svg``), ``GET /api/images/type/<id>?size=64`` (mostly a few hot, cached icons, plus
first-time ids: misses) and ``POST /api/appraisal/`` when that URL answers anything but 404 at
start. The first ``--greedy`` (10) clients are the abusive ones: no pause, ``Retry-After``
ignored; they must get 429s. The others pause ``--pause`` (1 s) between requests, like a person's
tool polling, and wait out a ``Retry-After``. A prober on ``127.0.2.1`` asks ``/api/health/``
every 0.2 s, from 3 s before the clients start (the machine's own noise).

Stack: a scratch copy ``<name>_loadtest`` of the development database (``CREATE DATABASE ...
TEMPLATE``: the SDE comes along; dropped afterwards; it cannot be made while ``make run`` is
connected: exit 2) and a scratch Redis database (``LOADTEST_REDIS_DB``, 13, flushed before and
after) holding a synthetic market snapshot of The Forge and Domain (``--orders`` per region). The
Neo4j graph is only read. Images come from a loopback fake; ESI, zKillboard, SSO and Fuzzwork
point at a loopback fake answering 503 that must see no request. gunicorn and one Celery worker run
the ``web:`` and ``worker:`` lines of the Procfile (what ``make run`` runs; ``--workers`` is
``WEB_WORKERS``, ``WEB_THREADS`` and ``CELERY_WORKER_CONCURRENCY`` come from the environment,
``--gunicorn-args`` adds options) with debug off and the default throttle rates and concurrency cap
(``THROTTLE_*``, ``IMAGE_MISS_*`` and ``API_EXPENSIVE_*`` unset unless ``--server-env`` sets them).

Run: ``.venv/bin/python bench/load_test.py``, ``.venv/bin/python -m bench.loadtest`` or ``make
loadtest`` (``ARGS="--seconds 60"``), with PostgreSQL, Redis and Neo4j up and the SDE and
stargate graph loaded. Everything stays on loopback. Exit status: 0 pass, 1 fail, 2 could not run.
Verdict: health always 200 with a max latency of at most 200 ms; every greedy client got at least
one 429 with ``Retry-After`` and a JSON ``error``; every other answer is 200, 201, 202, 304 or 429
(each 429 with ``Retry-After`` and a JSON error); no 5xx, connection errors or timeouts.
"""
