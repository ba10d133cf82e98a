"""Fixtures shared by every app's tests."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django_redis import get_redis_connection
from pytest_django.fixtures import Settings as SettingsWrapper

from esi.testing import esi_settings_for_tests
from evesite.gate import gate_forget
from evesite.graph import graph_query
from evesite.testing.fakeserver import FakeHttpServer


@pytest.fixture(autouse=True)
def _clean_redis() -> None:
    """Empty the test Redis database before each test (real Redis, not a mock), and the throttle gate's memory."""
    get_redis_connection("default").flushdb()
    gate_forget()


@pytest.fixture
def fake_server() -> Iterator[FakeHttpServer]:
    """A scripted HTTP server on 127.0.0.1 for one test."""
    with FakeHttpServer() as server:
        yield server


@pytest.fixture
def esi_server(fake_server: FakeHttpServer, settings: SettingsWrapper) -> FakeHttpServer:
    """A fake ESI: ``ESI_BASE_URL`` points at the scripted server and every ESI delay is shrunk.

    Args:
        fake_server: The scripted loopback server.
        settings: pytest-django's settings fixture.

    Returns:
        The fake server.
    """
    esi_settings_for_tests(settings, fake_server.url)
    return fake_server


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The folder of real public data (``settings.EVE_SHARED_DIR``); it must exist."""
    path = Path(settings.EVE_SHARED_DIR)
    assert path.is_dir(), f"EVE_SHARED_DIR {path} is missing: the real test data lives there"
    return path


# What ``<shared>/eve-sde`` holds once ingested (see universe.selectors.sde_counts).
SDE_COUNTS = {
    "regions": 113,
    "constellations": 1175,
    "systems": 8437,
    "jumps": 13776,
    "stargates": 13776,
    "stations": 5154,
    "types": 48037,
    "graph_nodes": 8437,
    "graph_relationships": 13776,
}


def _sde_ensure(dump: Path) -> None:
    """Ingest the shared SDE into PostgreSQL and Neo4j unless both already hold it.

    The ingestion runs on a thread of its own (with its own database
    connection) so that it commits even when the calling test runs inside a
    transaction that is rolled back afterwards: later tests find the rows.

    Args:
        dump: The ``eve-sde`` folder.
    """
    from django.db import connections

    from universe.selectors import sde_counts
    from universe.services import sde_ingest

    if sde_counts() == SDE_COUNTS:
        return
    errors: list[BaseException] = []

    def ingest() -> None:
        """Ingest on this thread's own connection, so the rows are committed for every later test."""
        try:
            sde_ingest(source=dump)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    worker = threading.Thread(target=ingest, name="sde-ingest")
    worker.start()
    worker.join()
    if errors:
        raise errors[0]


@pytest.fixture(scope="session")
def _sde_session(django_db_setup: None, django_db_blocker: Any, shared_dir: Path) -> Path:
    """Ingest the shared SDE once per session, committed, so every test's transaction sees it.

    Args:
        django_db_setup: pytest-django's test database.
        django_db_blocker: Lets a session fixture use the database.
        shared_dir: The real data folder.

    Returns:
        The ``eve-sde`` folder.
    """
    dump = shared_dir / "eve-sde"
    with django_db_blocker.unblock():
        _sde_ensure(dump)
    return dump


@pytest.fixture
def sde_universe(_sde_session: Path, db: None) -> Path:
    """The real SDE in PostgreSQL and the gate graph in Neo4j (cheap check; reloads only when missing).

    A ``transactional_db`` test flushes the SDE rows after it, and a test that
    ingested another dump leaves another graph: both are noticed by the counts
    and repaired here.

    Args:
        _sde_session: The session-wide ingestion.
        db: Database access.

    Returns:
        The ``eve-sde`` folder that was ingested.
    """
    _sde_ensure(_sde_session)
    return _sde_session


@pytest.fixture
def graph_label() -> Iterator[str]:
    """A Neo4j label unique to one test; its nodes are deleted afterwards."""
    label = f"Scratch_{uuid.uuid4().hex[:12]}"
    yield label
    graph_query(f"MATCH (n:`{label}`) DETACH DELETE n")
