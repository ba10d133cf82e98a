"""The lockdown holds across real processes sharing one Redis; the default delays are the user's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django_redis import get_redis_connection

from esi.client import EsiClient
from esi.errors import EsiLockdownError
from esi.limits import LOCKDOWN_KEY
from evesite.testing.defaults import settings_defaults
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse


def _probe(server: FakeHttpServer, *args: str, sleep: str = "2", hold: str = "3") -> subprocess.Popen[str]:
    """Start an ESI client process with the test's environment and the fake ESI.

    Args:
        server: The fake ESI.
        *args: Probe arguments (mode, path, ...).
        sleep: ``ESI_ERROR_SLEEP_SECONDS`` of the process.
        hold: ``ESI_LOCKDOWN_SECONDS`` of the process.

    Returns:
        The running process.
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "evesite.settings.test",
        "ESI_BASE_URL": server.url,
        "ESI_ERROR_SLEEP_SECONDS": sleep,
        "ESI_LOCKDOWN_SECONDS": hold,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "esi.tests.esi_probe", *args],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(proc: subprocess.Popen[str]) -> dict:
    """Wait for a probe and decode its report.

    Args:
        proc: The process.

    Returns:
        Its JSON report.
    """
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
def test_two_processes_share_one_lockdown(esi_server: FakeHttpServer) -> None:
    """Process B polls ESI; process A gets one 500; B is refused from then on and sends nothing more."""
    esi_server.add("GET", "/status", FakeResponse(json={"players": 1}))
    esi_server.add("GET", "/boom", FakeResponse(status=500))
    poller = _probe(esi_server, "poll", "/status", "90")
    deadline = time.monotonic() + 30
    while esi_server.count("GET", "/status") < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert esi_server.count("GET", "/status") >= 3, "the polling process never reached the fake ESI"
    failing = _probe(esi_server, "once", "/boom")
    polled = _result(poller)
    failed = _result(failing)
    assert failed == {"result": "EsiHttpError", "status": 500}
    assert polled["result"] == "lockdown"
    assert polled["retry_after"] >= 1
    assert esi_server.count("GET", "/boom") == 1
    status_calls = esi_server.matching("GET", "/status")
    assert polled["calls"] == len(status_calls)
    # Every call of B passed its lockdown check (Redis's clock) before A's error set the key.
    assert polled["lockdown_set_at"] is not None
    assert polled["last_check"] < polled["lockdown_set_at"]
    # This process (a third one) is locked out too, and sends nothing.
    assert get_redis_connection("default").exists(LOCKDOWN_KEY)
    try:
        EsiClient().get("/status", params={"n": "parent"})
    except EsiLockdownError:
        pass
    else:
        raise AssertionError("the test process was not locked out")
    assert esi_server.count("GET", "/status") == len(status_calls)


@pytest.mark.slow
def test_second_process_refused_while_first_sleeps(esi_server: FakeHttpServer) -> None:
    """While A sleeps after its error, B (trying as soon as the key appears) is refused and sends nothing."""
    esi_server.add("GET", "/status", FakeResponse(json={}))
    esi_server.add("GET", "/boom", FakeResponse(status=420, headers={"X-ESI-Error-Limit-Reset": "1"}))
    second = _probe(esi_server, "once-when-locked", "/status", "60")
    first = _probe(esi_server, "once", "/boom", sleep="4", hold="1")
    got = _result(second)
    assert got["result"] == "lockdown"
    # More than the 1 s hold left: B ran while A was still in its 4 s error sleep.
    assert got["retry_after"] > 1
    assert _result(first) == {"result": "EsiHttpError", "status": 420}
    assert esi_server.count("GET", "/status") == 0


def test_default_delays_are_the_users() -> None:
    """With a clean environment, the settings give 2, 5, 30 and 60 seconds and the other ESI defaults."""
    assert settings_defaults(
        "ESI_PAGE_DELAY_SECONDS",
        "ESI_REGION_DELAY_SECONDS",
        "ESI_ERROR_SLEEP_SECONDS",
        "ESI_LOCKDOWN_SECONDS",
        "ESI_BASE_URL",
        "ESI_COMPATIBILITY_DATE",
        "ESI_ERROR_LIMIT_LOW_WATER",
        "ESI_MAX_RETRY_AFTER_SECONDS",
        "ZKILLBOARD_MAX_RETRY_AFTER_SECONDS",
    ) == [
        2.0,
        5.0,
        30.0,
        60.0,
        "https://esi.evetech.net",
        "2025-08-26",
        10,
        900.0,
        120.0,
    ]
