"""The health endpoint against the real PostgreSQL, Redis, Neo4j and a real Celery worker."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone
from django_redis import get_redis_connection
from neomodel import db
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from evesite.beat import BEAT_LAST_TICK_KEY
from evesite.health import WORKER_CACHE_KEY, WORKER_CACHE_SECONDS, WORKER_LAST_KEY
from evesite.testing.ports import free_port
from market.models import MarketSnapshot
from universe.models import Constellation, Region, SolarSystem, Station

pytestmark = pytest.mark.waits  # mostly waits (conftest)


@pytest.fixture
def neo4j_stopped() -> Iterator[None]:
    """Point the app's Neo4j connection at a port where no server runs."""
    db.set_connection(url=f"bolt://neo4j:password@127.0.0.1:{free_port()}")
    try:
        yield
    finally:
        db.set_connection(url=settings.NEO4J_BOLT_URL)


@pytest.mark.django_db
def test_health_all_parts_ok() -> None:
    """Every part answers and APOC reports a 5.26 version."""
    response = APIClient().get("/api/health/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["postgres"] == "ok"
    assert body["redis"] == "ok"
    assert body["neo4j"] == "ok"
    assert body["apoc"] == "ok"  # the version is for staff only


@pytest.mark.django_db
@pytest.mark.usefixtures("neo4j_stopped")
def test_health_names_neo4j_when_it_is_down() -> None:
    """With Neo4j unreachable the endpoint answers 503, names neo4j, and shows no traceback."""
    response = APIClient().get("/api/health/")
    assert response.status_code == 503
    body = response.json()
    assert "neo4j" in body["failing"]
    assert body["postgres"] == "ok"
    assert body["redis"] == "ok"
    assert "Traceback" not in response.content.decode()


@pytest.mark.django_db
def test_health_names_postgres_when_it_is_down(settings: pytest.FixtureRequest) -> None:
    """A broken database connection is reported as postgres, not raised."""
    conn = connections["default"]
    original = dict(conn.settings_dict)
    conn.close()
    conn.settings_dict["PORT"] = free_port()
    try:
        response = APIClient().get("/api/health/")
    finally:
        conn.close()
        conn.settings_dict.update(original)
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["postgres"]
    assert body["postgres"] == "failing"  # a stranger reads no error text
    # What is read from PostgreSQL is unknown, not another failure; the rest is still reported.
    assert body["sde"] == "unknown"
    assert body["market_snapshot_oldest_age_seconds"] is None
    assert body["market_snapshot_missing_regions"] is None
    assert body["beat"] == "missing"


# --------------------------------------------------------------------------- who reads the error texts
#: Every value a stranger may read for a text part of the answer.
PUBLIC_STATES = {"ok", "failing", "no reply", "missing", "unknown"}


def _staff_client(*, staff: bool = True) -> APIClient:
    """An API client logged in (session) as a new user, staff or not."""
    client = APIClient()
    name = f"health-{uuid.uuid4().hex[:8]}"
    client.force_login(get_user_model().objects.create_user(name, password="pw-not-used", is_staff=staff))
    return client


def _texts(body: dict[str, Any]) -> set[str]:
    """The string values of a health answer (the error texts live there)."""
    return {value for value in body.values() if isinstance(value, str)}


@pytest.mark.django_db
def test_health_apoc_version_is_for_staff_only() -> None:
    """Staff read APOC's version; anyone else reads "ok"."""
    assert APIClient().get("/api/health/").json()["apoc"] == "ok"
    assert _staff_client(staff=False).get("/api/health/").json()["apoc"] == "ok"
    assert _staff_client().get("/api/health/").json()["apoc"].startswith("5.26.")


@pytest.mark.django_db
@pytest.mark.usefixtures("neo4j_stopped")
def test_health_error_texts_reach_staff_only() -> None:
    """With Neo4j down, strangers and non-staff users read "failing"; staff read the exception's text."""
    staff = _staff_client().get("/api/health/")
    assert staff.status_code == 503
    staff_body = staff.json()
    assert staff_body["failing"] == ["neo4j", "apoc"]
    error = staff_body["neo4j"]
    assert error not in PUBLIC_STATES
    assert ":" in error  # "ServiceUnavailable: Couldn't connect to ..."
    assert staff_body["apoc"] == "unavailable"
    for client in (APIClient(), _staff_client(staff=False)):
        response = client.get("/api/health/")
        assert response.status_code == 503
        body = response.json()
        assert set(body) == set(staff_body), "the same keys, so monitoring keeps working"
        assert body["failing"] == ["neo4j", "apoc"]
        assert body["neo4j"] == body["apoc"] == "failing"
        assert body["postgres"] == body["redis"] == "ok"
        assert _texts(body) <= PUBLIC_STATES, body
        assert error.split(":")[0] not in response.content.decode()


@pytest.mark.django_db
def test_health_with_redis_down_hides_the_texts_even_from_a_staff_session(settings: SettingsWrapper) -> None:
    """The session lives in Redis: when it cannot be read the caller is a stranger (503 with states, not 500)."""
    client = _staff_client()
    stranger = APIClient()
    stranger.cookies[settings.SESSION_COOKIE_NAME] = "not-a-session-of-ours"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient", "SOCKET_CONNECT_TIMEOUT": 1},
        }
    }
    for caller in (client, stranger):
        response = caller.get("/api/health/")
        assert response.status_code == 503, response.content
        body = response.json()
        assert body["failing"] == ["redis"]
        assert body["redis"] == "failing"
        assert _texts(body) <= PUBLIC_STATES, body
        assert "ConnectionError" not in response.content.decode()


@pytest.mark.django_db
def test_health_with_postgres_down_hides_the_texts_even_from_a_staff_session() -> None:
    """A staff session whose user cannot be read from PostgreSQL gets the states only, not a 500."""
    client = _staff_client()
    conn = connections["default"]
    original = dict(conn.settings_dict)
    conn.close()
    conn.settings_dict["PORT"] = free_port()
    try:
        response = client.get("/api/health/")
    finally:
        conn.close()
        conn.settings_dict.update(original)
    assert response.status_code == 503, response.content
    body = response.json()
    assert body["failing"] == ["postgres"]
    assert body["postgres"] == "failing"
    assert _texts(body) <= PUBLIC_STATES, body


# --------------------------------------------------------------------------- the background pipeline


def _health(client: APIClient | None = None) -> tuple[int, dict[str, Any], float]:
    """GET /api/health/ and time it.

    Returns:
        Status code, JSON body, seconds taken.
    """
    started = time.monotonic()
    response = (client or APIClient()).get("/api/health/")
    return response.status_code, response.json(), time.monotonic() - started


@pytest.mark.django_db
def test_health_pipeline_parts_are_reported_but_never_503(settings: SettingsWrapper) -> None:
    """No worker, no beat, no SDE, no snapshot: all reported, and the answer stays 200."""
    settings.MARKET_SNAPSHOT_REGIONS = [10000002, 10000043]
    Station.objects.all().delete()  # rolled back with the test
    status, body, seconds = _health()
    assert status == 200, body
    assert "failing" not in body
    assert body["worker"] == "no reply"
    assert seconds < 6, "the ping waits 2 s at most"
    assert body["beat"] == "missing"
    assert body["sde"] == "missing"
    assert body["market_snapshot_oldest_age_seconds"] is None
    assert body["market_snapshot_missing_regions"] == [10000002, 10000043]


@pytest.mark.django_db
def test_health_caches_the_worker_answer_in_redis() -> None:
    """A second health call within 10 s does not ping again: it answers at once with the cached answer."""
    _, first, _ = _health()
    assert first["worker"] == "no reply"
    ttl = get_redis_connection("default").ttl(WORKER_CACHE_KEY)
    assert 0 < ttl <= WORKER_CACHE_SECONDS
    _, second, seconds = _health()
    assert second["worker"] == "no reply"
    assert seconds < 1.0


@pytest.mark.django_db
def test_an_expired_worker_answer_is_pinged_again_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the cache expires, health shows the last answer at once while a thread pings (2 s, no worker)."""
    monkeypatch.setattr(settings, "HEALTH_WORKER_PING_SECONDS", 2.0)
    redis = get_redis_connection("default")
    redis.set(WORKER_LAST_KEY, "ok")
    _, first, seconds = _health()
    assert first["worker"] == "ok"
    assert seconds < 1.0
    _, second, _ = _health()  # while the ping runs, still the last answer
    assert second["worker"] == "ok"
    deadline = time.monotonic() + 10
    while redis.get(WORKER_CACHE_KEY) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert redis.get(WORKER_CACHE_KEY) == b"no reply"
    assert redis.get(WORKER_LAST_KEY) == b"no reply"
    _, third, _ = _health()
    assert third["worker"] == "no reply"


def _worker_env() -> dict[str, str]:
    """The environment of a worker subprocess: the test settings and the test Redis database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "evesite.settings.test",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "NEO4J_BOLT_URL": settings.NEO4J_BOLT_URL,
    }


def _worker_answer_when_fresh() -> str:
    """Ask health for the worker with the cached and the last answer dropped (it pings and waits)."""
    get_redis_connection("default").delete(WORKER_CACHE_KEY, WORKER_LAST_KEY)
    _, body, _ = _health()
    return str(body["worker"])


@pytest.mark.slow
@pytest.mark.django_db
def test_health_worker_ok_while_a_real_worker_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real `celery worker` subprocess answers the ping; once it is stopped, health says "no reply" again."""
    monkeypatch.setattr(settings, "HEALTH_WORKER_PING_SECONDS", 2.0)  # the real wait (tests shorten it)
    name = f"healthtest-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    command = [
        str(Path(settings.BASE_DIR) / ".venv/bin/celery"),
        "-A",
        "evesite",
        "worker",
        "--pool=solo",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        f"--hostname={name}@%h",
        f"--queues={name}",  # a queue of its own: it never takes a task meant for another worker
    ]
    with log.open("wb") as out:
        worker = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=_worker_env(), stdout=out, stderr=subprocess.STDOUT
        )
        try:
            answer = ""
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and worker.poll() is None:
                answer = _worker_answer_when_fresh()
                if answer == "ok":
                    break
                time.sleep(0.5)
            assert answer == "ok", f"worker never answered; its log:\n{log.read_text()[-3000:]}"
            status, body, _ = _health()
            assert status == 200
            assert body["worker"] == "ok"
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
    assert _worker_answer_when_fresh() == "no reply"


@pytest.mark.django_db
def test_health_beat_age_comes_from_the_heartbeat_key() -> None:
    """The age of beat's last tick is read from Redis."""
    get_redis_connection("default").set(BEAT_LAST_TICK_KEY, f"{time.time() - 42:.3f}")
    _, body, _ = _health()
    assert 42 <= body["beat"] < 50


@pytest.mark.django_db
def test_health_sde_ok_once_regions_and_stations_exist() -> None:
    """With a region and a station in PostgreSQL the SDE is reported present (ids that never clash with CCP's)."""
    region = Region.objects.create(id=19700001, name="Synth Forge", x=0, y=0, z=0)
    constellation = Constellation.objects.create(id=29700001, region=region, name="Synth Kimotoro", x=0, y=0, z=0)
    system = SolarSystem.objects.create(
        id=39700001, name="Synth Jita", region=region, constellation=constellation, security=0.9, x=0, y=0, z=0
    )
    Station.objects.create(
        id=69700001,
        name="Synth Jita IV - Moon 4",
        system=system,
        region=region,
        security=0.9,
        type_id=52678,
        x=0,
        y=0,
        z=0,
    )
    _, body, _ = _health()
    assert body["sde"] == "ok"


@pytest.mark.django_db
def test_health_market_snapshot_ages(settings: SettingsWrapper) -> None:
    """The oldest current snapshot's age among the configured regions; null while one has none."""
    settings.MARKET_SNAPSHOT_REGIONS = [10000002, 10000043, 10000032]
    now = timezone.now()
    MarketSnapshot.objects.create(region_id=10000002, fetched_at=now - timedelta(seconds=100))
    MarketSnapshot.objects.create(region_id=10000002, fetched_at=now - timedelta(seconds=5000))  # not current
    MarketSnapshot.objects.create(region_id=10000043, fetched_at=now - timedelta(seconds=700))
    MarketSnapshot.objects.create(region_id=10000001, fetched_at=now - timedelta(seconds=9000))  # not configured
    _, body, _ = _health()
    assert body["market_snapshot_oldest_age_seconds"] is None
    assert body["market_snapshot_missing_regions"] == [10000032]

    MarketSnapshot.objects.create(region_id=10000032, fetched_at=now - timedelta(seconds=300))
    status, body, _ = _health()
    assert status == 200
    assert 700 <= body["market_snapshot_oldest_age_seconds"] < 760
    assert body["market_snapshot_missing_regions"] == []


@pytest.mark.django_db
@pytest.mark.usefixtures("neo4j_stopped")
def test_health_pipeline_parts_never_join_the_failing_list() -> None:
    """With Neo4j down only the datastores are failing; the pipeline parts are still reported."""
    status, body, _ = _health()
    assert status == 503
    assert body["failing"] == ["neo4j", "apoc"]
    assert {"worker", "beat", "sde", "market_snapshot_oldest_age_seconds"} <= set(body)


def test_health_schema_describes_the_pipeline_parts() -> None:
    """The OpenAPI schema of /api/health/ names every field the view answers with."""
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    for component in ("Health", "HealthFailing"):
        properties = schema["components"]["schemas"][component]["properties"]
        assert {
            "postgres",
            "redis",
            "neo4j",
            "apoc",
            "worker",
            "beat",
            "sde",
            "market_snapshot_oldest_age_seconds",
            "market_snapshot_missing_regions",
        } <= set(properties), component
    assert "failing" in schema["components"]["schemas"]["HealthFailing"]["properties"]
