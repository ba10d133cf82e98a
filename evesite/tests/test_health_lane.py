"""Health probes have a thread of their own in each web process (evesite/gunicorn_worker.py)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from evesite.gunicorn_worker import asks_for_health
from evesite.testing.lane_wsgi import SLOW_SECONDS
from evesite.testing.ports import free_port

pytestmark = pytest.mark.waits  # mostly waits (conftest)

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def _server(worker_class: str) -> Iterator[str]:
    """One gunicorn process with one ordinary thread, serving the test app."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "gunicorn"), "evesite.testing.lane_wsgi", "--bind"]
    command += [f"127.0.0.1:{port}", "--workers", "1", "--threads", "1", "--worker-class", worker_class]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/up/", timeout=2).ok:
                    break
            assert process.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not answer"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _timed_while_busy(base: str, path: str) -> float:
    """Seconds ``path`` takes while two slow requests hold and queue for the one ordinary thread."""
    slow = [threading.Thread(target=requests.get, args=(f"{base}/slow/",), kwargs={"timeout": 10}) for _ in range(2)]
    for thread in slow:
        thread.start()
    time.sleep(0.3)
    began = time.monotonic()
    assert requests.get(f"{base}{path}", timeout=10).ok
    took = time.monotonic() - began
    for thread in slow:
        thread.join()
    return took


@pytest.mark.parametrize(
    ("worker_class", "health_waits"),
    [("gthread", True), ("evesite.gunicorn_worker.HealthLaneWorker", False)],
)
def test_health_skips_the_queue_only_with_the_lane(worker_class: str, health_waits: bool) -> None:
    """Plain gthread queues a probe behind busy threads; the lane answers it at once and queues the rest."""
    with _server(worker_class) as base:
        health = _timed_while_busy(base, "/api/health/?x=1")
        other = _timed_while_busy(base, "/api/healthz/")
    assert other > SLOW_SECONDS
    assert (health > SLOW_SECONDS) is health_waits, health


@pytest.mark.parametrize(
    ("sent", "health"),
    [
        (b"GET /api/health/ HTTP/1.1\r\n", True),
        (b"HEAD /api/health/?format=json HTTP/1.1\r\n", True),
        (b"GET /api/health/x HTTP/1.1\r\n", False),
        (b"POST /api/health/ HTTP/1.1\r\n", False),
        (b"GET /api/routes/ HTTP/1.1\r\n", False),
        (b"", False),
    ],
)
def test_only_a_get_or_head_of_the_health_path_is_a_probe(sent: bytes, health: bool) -> None:
    """The first bytes decide, and peeking leaves them for the request parser."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(sent)
        assert asks_for_health(ours) is health
        if sent:
            assert ours.recv(len(sent)) == sent
