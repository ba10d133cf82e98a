"""Run a real Celery worker process against the test database and Redis, for pipeline tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection

from esi.testing import TEST_SETTINGS

# No gossip or mingle: a worker that starts alone needs neither, and starts faster.
QUIET = ("--loglevel=INFO", "--without-gossip", "--without-mingle")


def tests_database_url() -> str:
    """Return ``DATABASE_URL`` naming the database this test process uses (Django's ``test_`` one).

    Returns:
        The URL.
    """
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + str(connection.settings_dict["NAME"])))


def worker_environment(**overrides: object) -> dict[str, str]:
    """Build a worker's environment: this test's database and Redis, shrunk ESI delays, and the overrides.

    Args:
        **overrides: More variables (e.g. ``ESI_BASE_URL``).

    Returns:
        The environment.
    """
    env = dict(os.environ)
    env.update({name: str(value) for name, value in TEST_SETTINGS.items()})
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "evesite.settings_test",
            "DATABASE_URL": tests_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
            "NEO4J_BOLT_URL": settings.NEO4J_BOLT_URL,
        }
    )
    env.update({name: str(value) for name, value in overrides.items()})
    return env


@contextmanager
def celery_worker(*, concurrency: int = 2, ready_timeout: float = 60.0, **env: object) -> Iterator[Path]:
    """Start ``celery -A evesite worker`` (prefork) and stop it with SIGTERM (SIGKILL after 20 s) at the end.

    Args:
        concurrency: Worker processes.
        ready_timeout: Longest wait for the worker to answer a ping.
        **env: Variables for the worker (see :func:`worker_environment`).

    Yields:
        The worker's log file.

    Raises:
        RuntimeError: When the worker does not answer in time (its log is in the message).
    """
    from evesite.celery import app

    log = Path(tempfile.mkstemp(prefix="celery-worker-", suffix=".log")[1])
    name = f"test-{os.getpid()}-{time.monotonic_ns()}@localhost"
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and app
            [sys.executable, "-m", "celery", "-A", "evesite", "worker", "-n", name, "-c", str(concurrency), *QUIET],
            env=worker_environment(**env),
            cwd=settings.BASE_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + ready_timeout
        while not app.control.ping(destination=[name], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"The Celery worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)  # the pool processes finish starting (CPU the timed requests should not share)
        yield log
    finally:
        _group_stop(process)


def _group_stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a worker and its pool processes (its whole session): SIGTERM, then SIGKILL after 20 s.

    Args:
        process: The worker's main process (leader of its own session).
    """
    deadline = time.monotonic() + 20
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    while time.monotonic() < deadline + 5:
        process.poll()
        try:
            os.killpg(process.pid, signal.SIGKILL if time.monotonic() > deadline else 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    process.wait()
