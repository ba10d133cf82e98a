"""docker-compose.yml stays consistent with the settings (no Docker engine runs here)."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.conf import settings


def _compose() -> dict:
    """Load docker-compose.yml."""
    return yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())


def test_compose_has_every_service_with_healthchecks() -> None:
    """Datastores, web, worker and beat are defined; datastores and web have healthchecks."""
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", "neo4j", "web", "worker", "beat"}
    for name in ("postgres", "redis", "neo4j", "web"):
        assert "healthcheck" in services[name], name
    assert services["redis"]["hostname"] == "redis"
    assert services["neo4j"]["image"].startswith("neo4j:5.26")
    assert "apoc" in services["neo4j"]["environment"]["NEO4J_PLUGINS"]
    assert "127.0.0.1:7777:7777" in services["web"]["ports"]  # loopback only (test_docker.py)


def test_compose_app_environment_uses_the_settings_names() -> None:
    """The app containers get the variables settings.py reads, pointing at the compose hosts."""
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://:${REDIS_PASSWORD:?set REDIS_PASSWORD}@redis:6379/0"
        assert env["NEO4J_BOLT_URL"].startswith("bolt://neo4j:")
        assert "./eve_data:/app/eve_data" in services[name]["volumes"]
        assert env["DJANGO_DEBUG"] == "false"


def test_compose_worker_scales_and_beat_keeps_its_schedule() -> None:
    """`--scale worker=N` works (no fixed name or host port); beat runs the project's scheduler on a volume."""
    services = _compose()["services"]
    worker = services["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert "--concurrency=${CELERY_WORKER_CONCURRENCY:-4}" in worker["command"]
    beat = services["beat"]
    assert "--scheduler=evesite.beat:EvesiteScheduler" in beat["command"]
    schedule = next(arg for arg in beat["command"] if arg.startswith("--schedule="))
    volume = next(v for v in beat["volumes"] if v.startswith("beatschedule:"))
    assert schedule.removeprefix("--schedule=").startswith(volume.split(":", 1)[1] + "/")
    assert "beatschedule" in _compose()["volumes"]
