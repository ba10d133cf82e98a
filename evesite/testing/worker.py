"""Run a real Celery worker and a real gunicorn against the test database and Redis, for pipeline tests."""

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
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.db import connection

from esi.testing import TEST_SETTINGS
from evesite.testing.ports import free_port

# No gossip or mingle: a worker that starts alone needs neither, and starts faster.
QUIET = ("--loglevel=INFO", "--without-gossip", "--without-mingle")


_IDLE_TICKS = 2  # CPU ticks (10 ms each) in 300 ms below which a worker counts as idle


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
            "DJANGO_SETTINGS_MODULE": "evesite.settings.test",
            "DATABASE_URL": tests_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
            "NEO4J_BOLT_URL": settings.NEO4J_BOLT_URL,
        }
    )
    env.update({name: str(value) for name, value in overrides.items()})
    return env


def _spawn(command: list[str], log: Path, env: dict[str, object]) -> subprocess.Popen[bytes]:
    """Start one of our processes in a session of its own, output to ``log``."""
    with log.open("w") as out:
        return subprocess.Popen(  # noqa: S603 - our own interpreter, app and server
            command,
            env=worker_environment(**env),
            cwd=settings.BASE_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextmanager
def celery_worker(*, concurrency: int = 2, ready_timeout: float = 60.0, **env: object) -> Iterator[Path]:
    """Start ``celery -A evesite worker`` (prefork) and stop it at the end (SIGQUIT: the test is over, no warm stop).

    Args:
        concurrency: Worker processes.
        ready_timeout: Longest wait for the worker to answer a ping.
        **env: Variables for the worker (see :func:`worker_environment`).

    Yields:
        The worker's log file.

    Raises:
        RuntimeError: When the worker does not answer in time (its log is in the message).
    """
    from evesite.celery import app  # noqa: PLC0415 (loads the Django settings: only once a worker is wanted)

    log = Path(tempfile.mkstemp(prefix="celery-worker-", suffix=".log")[1])
    name = f"test-{os.getpid()}-{time.monotonic_ns()}@localhost"
    process = _spawn(
        [sys.executable, "-m", "celery", "-A", "evesite", "worker", "-n", name, "-c", str(concurrency), *QUIET],
        log,
        env,
    )
    try:
        deadline = time.monotonic() + ready_timeout
        while not app.control.ping(destination=[name], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"The Celery worker did not start:\n{log.read_text()[-3000:]}")
        _wait_idle(process.pid)
        yield log
    finally:
        _group_stop(process, signal.SIGQUIT)


def _group_cpu_ticks(pgid: int) -> int:
    """Add up the CPU time (clock ticks) of every process in a process group."""
    total = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid:
                    total += int(fields[11]) + int(fields[12])
    return total


def _wait_idle(pgid: int, *, timeout: float = 15.0) -> None:
    """Wait until a started worker has finished starting (its pool uses no CPU the timed requests need)."""
    deadline = time.monotonic() + timeout
    before = _group_cpu_ticks(pgid)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = _group_cpu_ticks(pgid)
        if now - before <= _IDLE_TICKS:
            return
        before = now


def _group_stop(process: subprocess.Popen[bytes], stop: signal.Signals = signal.SIGTERM) -> None:
    """Stop a server and its child processes (its whole session): ``stop``, then SIGKILL after 20 s."""
    deadline = time.monotonic() + 20
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, stop)
    while time.monotonic() < deadline + 5:
        process.poll()
        try:
            os.killpg(process.pid, signal.SIGKILL if time.monotonic() > deadline else 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    process.wait()


_UP = {HTTPStatus.OK, HTTPStatus.SERVICE_UNAVAILABLE}  # health answers: the app is loaded


@contextmanager
def gunicorn_server(*, workers: int = 2, ready_timeout: float = 60.0, **env: object) -> Iterator[str]:
    """Serve ``evesite.wsgi`` with gunicorn on a free loopback port, as ``make run`` does, for the test database.

    Args:
        workers: Sync worker processes.
        ready_timeout: Longest wait for the first answer.
        **env: Variables for the server (see :func:`worker_environment`).

    Yields:
        The base URL.

    Raises:
        RuntimeError: When the server does not answer in time (its log is in the message).
    """
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log")[1])
    # The access log shows each request's time in the server (seconds), next to what the client measured.
    gunicorn = ["--workers", str(workers), "--no-control-socket", "--access-logfile", "-"]
    gunicorn += ["--access-logformat", "%(r)s %(s)s %(L)s"]
    base = f"http://127.0.0.1:{port}"
    process = _spawn(
        [str(Path(sys.executable).parent / "gunicorn"), "evesite.wsgi", "--bind", f"127.0.0.1:{port}", *gunicorn],
        log,
        env,
    )
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            with contextlib.suppress(requests.RequestException):
                # Health is never throttled: a probe the client gave up on cannot count against a test's rate.
                if requests.get(f"{base}/api/health/", timeout=5).status_code in _UP:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        _group_stop(process)
