"""The site-wide cap on expensive requests in flight (scans, SVG routes)."""

from __future__ import annotations

import os
import time

import pytest
from django_redis import get_redis_connection
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from evesite.admission import SLOTS_KEY, BusyError, expensive_slot_acquire, expensive_slot_release
from evesite.testing.defaults import settings_defaults

SCAN = "/api/market/global/scan/"


def test_default_cap_is_half_the_cpus() -> None:
    """Without the environment the cap is half the CPUs (at least 1) and a dead process's slot lapses in 60 s."""
    assert settings_defaults("API_EXPENSIVE_CONCURRENCY", "API_EXPENSIVE_SLOT_SECONDS") == [
        max(1, (os.cpu_count() or 2) // 2),
        60.0,
    ]


def test_slots_are_counted_and_given_back(settings: SettingsWrapper) -> None:
    """Two slots: the third acquire is refused until one is released."""
    settings.API_EXPENSIVE_CONCURRENCY = 2
    first, second = expensive_slot_acquire(), expensive_slot_acquire()
    assert first is not None
    assert second is not None
    with pytest.raises(BusyError):
        expensive_slot_acquire()
    expensive_slot_release(token=first)
    assert expensive_slot_acquire() is not None


def test_a_dead_process_slot_lapses(settings: SettingsWrapper) -> None:
    """A slot never released (its process died) stops counting after API_EXPENSIVE_SLOT_SECONDS."""
    settings.API_EXPENSIVE_CONCURRENCY = 1
    settings.API_EXPENSIVE_SLOT_SECONDS = 0.2
    assert expensive_slot_acquire() is not None
    with pytest.raises(BusyError):
        expensive_slot_acquire()
    time.sleep(0.3)
    assert expensive_slot_acquire() is not None


@pytest.mark.django_db
def test_a_scan_beyond_the_cap_answers_busy_and_cheap_requests_pass(settings: SettingsWrapper) -> None:
    """With every slot held elsewhere a scan answers 429 busy at once; a route in JSON is not expensive."""
    settings.API_EXPENSIVE_CONCURRENCY = 1
    held = expensive_slot_acquire()
    assert held is not None
    client = APIClient()
    refused = client.get(SCAN)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    assert refused.json()["error"] == "busy"
    assert client.get("/api/contracts/").status_code == 200
    expensive_slot_release(token=held)
    assert client.get(SCAN).status_code == 200
    # The scan gave its slot back.
    assert get_redis_connection("default").zcard(SLOTS_KEY) == 0


@pytest.mark.django_db
def test_a_failing_scan_gives_its_slot_back(settings: SettingsWrapper) -> None:
    """A scan that ends in an error (unknown region) releases its slot too."""
    settings.API_EXPENSIVE_CONCURRENCY = 1
    client = APIClient()
    assert client.get("/api/market/regions/1/scan/").status_code == 404
    assert get_redis_connection("default").zcard(SLOTS_KEY) == 0
    assert client.get(SCAN).status_code == 200
