"""Datastores of one pytest-xdist worker: its own Redis database and its own two Neo4j instances.

``make test`` runs the suite on several xdist workers (``gw0``, ``gw1``...). Tests flush
Redis and replace the gate graph (and its constraints), so two workers never share
either: worker *n* uses Redis database ``base + n`` and Neo4j on Bolt port
``base + n``, where the bases are ``REDIS_URL`` and ``NEO4J_BOLT_URL`` as given to
pytest. The tests that read the real SDE use a second instance, ``NEO4J_SDE_BOLT_URL``
(port ``base + n`` as well), and a second database (``evesite/testing/sde_stores.py``).
PostgreSQL needs nothing here: pytest-django already gives each worker its own test
database (``test_<name>_gw<n>``).

:func:`worker_environment_apply` (called by ``evesite/settings/test.py``) writes the
worker's URLs into ``os.environ`` before the settings read them, so every process a
test starts (Celery workers, gunicorn, ``manage.py``, ``make run``) inherits them. It
marks the environment as done, so those processes, which load the test settings too,
do not shift the URLs a second time.

``python3 evesite/testing/parallel.py services N`` starts the services of N workers
(``make test-services``): PostgreSQL, Redis and the first Neo4j as
``scripts/services.sh up`` does, and the other Neo4j instances (two per worker), in parallel.

This module imports only the standard library: the settings import it, and the system
Python runs it as a script before the venv exists.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import MutableMapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

WORKER_VARIABLE = "PYTEST_XDIST_WORKER"
# Names the worker whose URLs the environment already holds (set by worker_environment_apply).
APPLIED_VARIABLE = "EVESITE_TEST_WORKER_APPLIED"
REDIS_VARIABLES = ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")
NEO4J_VARIABLES = ("NEO4J_BOLT_URL", "NEO4J_SDE_BOLT_URL")
# The suite's datastores unless the environment names others: never those `make run` serves (Redis database 0,
# Neo4j on 7687). The test settings and `make test-services` both start from these.
DEFAULT_URLS = {
    "REDIS_URL": "redis://127.0.0.1:6379/12",
    "NEO4J_BOLT_URL": "bolt://neo4j:password@127.0.0.1:7688",
    "NEO4J_SDE_BOLT_URL": "bolt://neo4j:password@127.0.0.1:7698",
}
REDIS_DATABASES = 16  # Redis' default ``databases``
_WORKER = re.compile(r"gw(\d+)")
ROOT = Path(__file__).resolve().parents[2]


_USAGE_ARGS = 2  # services WORKERS


def worker_index(worker: str) -> int:
    """Return the number of an xdist worker (``gw3`` -> 3).

    Args:
        worker: The value of ``PYTEST_XDIST_WORKER``.

    Returns:
        Its number.

    Raises:
        ValueError: For a name xdist does not give.
    """
    match = _WORKER.fullmatch(worker)
    if match is None:
        raise ValueError(f"{WORKER_VARIABLE}={worker!r} is not an xdist worker name (gw<n>)")
    return int(match.group(1))


def redis_url_for(url: str, index: int) -> str:
    """Return the Redis URL of worker ``index``: the database number of ``url`` plus ``index``.

    Args:
        url: The base URL (``redis://host:port/db``; no number means 0).
        index: The worker's number.

    Returns:
        The worker's URL.

    Raises:
        ValueError: When the database number passes Redis' last one.
    """
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    database = base + index
    if database >= REDIS_DATABASES:
        raise ValueError(
            f"xdist worker {index} would use Redis database {database} of {url}: "
            f"start from a lower database or run fewer workers"
        )
    return urlunsplit(parts._replace(path=f"/{database}"))


def neo4j_url_for(url: str, index: int) -> str:
    """Return the Neo4j Bolt URL of worker ``index``: the port of ``url`` plus ``index``.

    Args:
        url: The base URL (``bolt://user:password@host:port``; no port means 7687).
        index: The worker's number.

    Returns:
        The worker's URL.
    """
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit(":", 1)[0] if parts.port is not None else parts.netloc
    return urlunsplit(parts._replace(netloc=f"{netloc}:{(parts.port or 7687) + index}"))


def worker_urls(environ: MutableMapping[str, str], index: int) -> dict[str, str]:
    """Return the datastore variables of worker ``index``, from the base ones in ``environ``.

    Args:
        environ: An environment holding at least ``REDIS_URL`` and ``NEO4J_BOLT_URL``.
        index: The worker's number.

    Returns:
        ``REDIS_URL`` and ``NEO4J_BOLT_URL`` (and the Celery URLs and ``NEO4J_SDE_BOLT_URL`` when ``environ`` sets
        them).
    """
    urls = {name: redis_url_for(environ[name], index) for name in REDIS_VARIABLES if name in environ}
    urls.update({name: neo4j_url_for(environ[name], index) for name in NEO4J_VARIABLES if name in environ})
    return urls


def worker_environment_apply(environ: MutableMapping[str, str] = os.environ) -> None:
    """Point this xdist worker's environment at its own Redis database and Neo4j (nothing outside xdist).

    Args:
        environ: The environment to change (the process's own by default).
    """
    worker = environ.get(WORKER_VARIABLE)
    if not worker or environ.get(APPLIED_VARIABLE) == worker:
        return
    environ.update(worker_urls(environ, worker_index(worker)))
    environ[APPLIED_VARIABLE] = worker


def _neo4j_jars_fetched() -> bool:
    """Tell whether ``scripts/services.sh`` has fetched the Neo4j jars (see scripts/servers/neo4j.py)."""
    state = Path(os.environ.get("SERVICES_DIR", ROOT / ".services"))
    return (state / "neo4j-jars" / ".complete").exists()


def services_up(workers: int) -> int:
    """Start the services of ``workers`` xdist workers, the extra Neo4j instances in parallel.

    Args:
        workers: How many workers the suite runs on.

    Returns:
        0 when every service answers, else the first failing exit status.
    """
    script = str(ROOT / "scripts" / "services.sh")
    base = {**DEFAULT_URLS, **os.environ}
    for index in range(workers):
        worker_urls(base, index)  # fails early on a Redis database past the last one
    processes = [subprocess.Popen([script, "up"], env=base)]  # noqa: S603 - our own script
    # A fresh machine: the first start fetches the jars, and the other instances start once they are there, while
    # the first one boots (after it when it fetched none: its port already answered).
    while not _neo4j_jars_fetched() and processes[0].poll() is None:
        time.sleep(0.5)
    if processes[0].returncode:
        return processes[0].returncode
    for index in range(workers):
        urls = worker_urls(base, index)
        for name in NEO4J_VARIABLES:
            if index == 0 and name == "NEO4J_BOLT_URL":
                continue  # the first process started it
            env = {**base, **urls, "NEO4J_BOLT_URL": urls[name]}
            processes.append(subprocess.Popen([script, "up", "--only", "neo4j"], env=env))  # noqa: S603
    statuses = [process.wait() for process in processes]
    return next((status for status in statuses if status), 0)


def main(argv: list[str]) -> int:
    """``services N``: start the services of N workers.

    Args:
        argv: The arguments after the program name.

    Returns:
        The exit status.
    """
    if len(argv) != _USAGE_ARGS or argv[0] != "services" or not argv[1].isdigit() or int(argv[1]) < 1:
        print("usage: python3 evesite/testing/parallel.py services WORKERS", file=sys.stderr)
        return 2
    return services_up(int(argv[1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
