"""Scratch databases are dropped while this role's sessions are still in them, and without FORCE."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from evesite.testing.scratchdb import default_conninfo, scratch_database_drop

pytestmark = pytest.mark.django_db


def _exists(name: str) -> bool:
    with psycopg.connect(**default_conninfo()) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def test_a_scratch_database_is_dropped_with_a_session_still_in_it() -> None:
    name = f"evesite_scratch_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**default_conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    left_open = psycopg.connect(**{**default_conninfo(), "dbname": name})
    try:
        left_open.execute("SELECT 1")
        scratch_database_drop(conninfo=default_conninfo(), name=name)
        assert not _exists(name)
        with pytest.raises(psycopg.OperationalError):
            left_open.execute("SELECT 1")
    finally:
        left_open.close()


def test_dropping_a_missing_database_is_harmless() -> None:
    name = f"evesite_scratch_{uuid.uuid4().hex[:8]}"
    scratch_database_drop(conninfo=default_conninfo(), name=name)
    assert not _exists(name)
