"""The health endpoint against the real PostgreSQL, Redis and Neo4j."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.conf import settings
from neomodel import db
from rest_framework.test import APIClient


def _closed_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def neo4j_stopped() -> Iterator[None]:
    """Point the app's Neo4j connection at a port where no server runs."""
    db.set_connection(url=f"bolt://neo4j:password@127.0.0.1:{_closed_port()}")
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
    assert body["apoc"].startswith("5.26.")


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
    from django.db import connections

    conn = connections["default"]
    original = dict(conn.settings_dict)
    conn.close()
    conn.settings_dict["PORT"] = _closed_port()
    try:
        response = APIClient().get("/api/health/")
    finally:
        conn.close()
        conn.settings_dict.update(original)
    assert response.status_code == 503
    assert response.json()["failing"] == ["postgres"]
