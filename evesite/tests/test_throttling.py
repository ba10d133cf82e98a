"""Issue 14, hole 3: API throttles per anonymous address, per user, and for expensive work."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django_redis import get_redis_connection
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from evesite.testing.defaults import settings_defaults
from evesite.testing.worker import gunicorn_server
from evesite.throttling import KEY_PREFIX, AnonBurstRateThrottle

CHEAP = "/api/contracts/"
EXPENSIVE = "/api/market/global/scan/"


def _rates(settings: SettingsWrapper, **rates: str) -> None:
    """Set throttle rates for one test (DRF rereads its settings on change)."""
    merged = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": merged}


def _client(address: str = "10.0.0.1") -> APIClient:
    return APIClient(REMOTE_ADDR=address)


def test_default_rates_and_proxies() -> None:
    """Without the environment: 60/min anonymous (10 in 10 s), 600/min per user, 20/min expensive; no proxy."""
    [rest] = settings_defaults("REST_FRAMEWORK")
    assert rest["DEFAULT_THROTTLE_RATES"] == {
        "anon": "60/min",
        "anon_burst": "10/10s",
        "user": "600/min",
        "expensive": "20/min",
    }
    assert rest["NUM_PROXIES"] == 0
    assert rest["DEFAULT_THROTTLE_CLASSES"] == [
        "evesite.throttling.AnonRateThrottle",
        "evesite.throttling.AnonBurstRateThrottle",
        "evesite.throttling.UserRateThrottle",
    ]


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("60/min", (60, 60)),
        ("20/10s", (20, 10)),
        ("5/s", (5, 1)),
        ("2/ 3 hour", (2, 10800)),
        ("1000/day", (1000, 86400)),
    ],
)
def test_rates_read_drf_periods_and_multiples(rate: str, parsed: tuple[int, int]) -> None:
    assert AnonBurstRateThrottle().parse_rate(rate) == parsed


@pytest.mark.parametrize(
    "rate", ["20", "x/min", "20/0s", "20/00s", "20/10", "20/10w", "-1/s", "20/s/s", "0/min", "00/10s"]
)
def test_unreadable_rates_are_configuration_errors(rate: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="anon_burst"):
        AnonBurstRateThrottle().parse_rate(rate)


@pytest.mark.django_db
def test_an_anonymous_burst_is_refused_within_the_minute_rate(settings: SettingsWrapper) -> None:
    """Within 60/min, the fourth request in 10 s (rate 3/10s) answers 429, waiting at most the short window."""
    _rates(settings, anon="60/min", anon_burst="3/10s")
    client = _client("10.0.0.5")
    assert [client.get(CHEAP).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(CHEAP)
    assert refused.status_code == 429
    assert refused.json()["error"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 10
    # A logged-in user (a session, even from the same address) is not counted by it.
    user = get_user_model().objects.create_user(username="burst")
    logged_in = APIClient(REMOTE_ADDR="10.0.0.5")
    logged_in.force_login(user)
    assert [logged_in.get(CHEAP).status_code for _ in range(5)] == [200] * 5


@pytest.mark.django_db
def test_after_a_burst_the_bucket_refills_one_request_at_a_time(settings: SettingsWrapper) -> None:
    """Rate 4/4s: four at once, then one a second (a window would refuse until the four seconds passed).

    A token comes back every second, so the first five requests must take under one (a 4/1s rate left them
    250 ms, which a loaded machine overran).
    """
    _rates(settings, anon="600/min", anon_burst="4/4s")
    client = _client("10.0.0.6")
    assert [client.get(CHEAP).status_code for _ in range(5)] == [200, 200, 200, 200, 429]
    time.sleep(1.05)
    assert [client.get(CHEAP).status_code for _ in range(2)] == [200, 429]


@pytest.mark.django_db
def test_anonymous_clients_are_counted_per_address(settings: SettingsWrapper) -> None:
    """The fourth request in a minute of one address answers 429 with Retry-After and the error JSON."""
    _rates(settings, anon="3/min")
    client = _client()
    assert [client.get(CHEAP).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(CHEAP)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    body = refused.json()
    assert body["error"] == "throttled"
    assert body["retry_after"] == int(refused["Retry-After"])
    # Another address has its own window; a forged X-Forwarded-For does not make a new client.
    assert _client("10.0.0.2").get(CHEAP).status_code == 200
    assert client.get(CHEAP, HTTP_X_FORWARDED_FOR="192.0.2.77").status_code == 429


@pytest.mark.django_db
def test_health_is_never_throttled(settings: SettingsWrapper) -> None:
    """Monitors poll health as often as they like."""
    _rates(settings, anon="2/min")
    client = _client()
    assert {client.get("/api/health/").status_code for _ in range(5)} <= {200, 503}


@pytest.mark.django_db
def test_logged_in_users_have_their_own_rate(settings: SettingsWrapper) -> None:
    """A user is counted by account (THROTTLE_USER_RATE), not by the anonymous rate of its address."""
    _rates(settings, anon="1/min", user="4/min")
    user = get_user_model().objects.create_user(username="pilot")
    client = _client()
    client.force_authenticate(user)
    assert [client.get(CHEAP).status_code for _ in range(5)] == [200, 200, 200, 200, 429]
    # The user's requests did not use the address's anonymous window.
    assert _client().get(CHEAP).status_code == 200


@pytest.mark.django_db
def test_scans_use_the_expensive_rate(settings: SettingsWrapper) -> None:
    """Scans count against the expensive rate; cheap requests of the same client still pass."""
    _rates(settings, anon="100/min", expensive="2/min")
    client = _client()
    statuses = [client.get(EXPENSIVE).status_code for _ in range(3)]
    assert 429 not in statuses[:2]
    assert statuses[2] == 429
    assert client.get(EXPENSIVE).json()["error"] == "throttled"
    assert client.get(CHEAP).status_code == 200


def _hammer(base: str, path: str, count: int) -> Counter[int]:
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def one() -> None:
        status = requests.get(base + path, timeout=30).status_code
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_count_is_exact_across_web_processes() -> None:
    """Four gunicorn workers and 40 concurrent requests: exactly the rate gets through, the rest is 429."""
    with gunicorn_server(workers=4, THROTTLE_ANON_RATE="7/min") as base:
        redis = get_redis_connection("default")
        for key in redis.scan_iter(f"{KEY_PREFIX}:*"):  # counts left by earlier tests
            redis.delete(key)
        statuses = _hammer(base, CHEAP, 40)
    assert statuses == Counter({200: 7, 429: 33})


@pytest.mark.django_db
def test_a_refused_address_is_refused_again_before_any_work(settings: SettingsWrapper) -> None:
    """After a refusal the gate answers the same 429 until Retry-After, without asking Redis; health still passes."""
    _rates(settings, anon="1/min")
    client = _client("10.0.0.9")
    assert client.get(CHEAP).status_code == 200
    assert client.get(CHEAP).status_code == 429
    # With Redis emptied, DRF alone would let the next request through: the gate remembers.
    get_redis_connection("default").flushdb()
    refused = client.get(CHEAP)
    assert refused.status_code == 429
    assert refused.json()["error"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert client.get("/api/health/").status_code in {200, 503}
    # Another address, and a request with a session cookie (maybe a user), are not gated.
    assert _client("10.0.0.10").get(CHEAP).status_code == 200
    client.cookies[settings.SESSION_COOKIE_NAME] = "no-such-session"
    assert client.get(CHEAP).status_code == 200
