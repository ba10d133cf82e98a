"""Fixtures shared by every app's tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django_redis import get_redis_connection

from evesite.graph import graph_query
from evesite.testing.fakeserver import FakeHttpServer


@pytest.fixture(autouse=True)
def _clean_redis() -> None:
    """Empty the test Redis database before each test (real Redis, not a mock)."""
    get_redis_connection("default").flushdb()


@pytest.fixture
def fake_server() -> Iterator[FakeHttpServer]:
    """A scripted HTTP server on 127.0.0.1 for one test."""
    with FakeHttpServer() as server:
        yield server


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The folder of real public data (``settings.EVE_SHARED_DIR``); it must exist."""
    path = Path(settings.EVE_SHARED_DIR)
    assert path.is_dir(), f"EVE_SHARED_DIR {path} is missing: the real test data lives there"
    return path


@pytest.fixture
def graph_label() -> Iterator[str]:
    """A Neo4j label unique to one test; its nodes are deleted afterwards."""
    label = f"Scratch_{uuid.uuid4().hex[:12]}"
    yield label
    graph_query(f"MATCH (n:`{label}`) DETACH DELETE n")
