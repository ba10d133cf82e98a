"""Scratch PostgreSQL databases for tests and benchmarks.

A scratch database is dropped without ``WITH (FORCE)``: FORCE refuses to end an
autovacuum worker, which runs under no role, unless the caller is a superuser
(``must be a member of the role whose process is being terminated``). A plain
``DROP DATABASE`` stops autovacuum workers itself and waits up to 5 s for other
sessions, so this role's own sessions are ended first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from django.db import connection
from psycopg import sql

_END_OWN_SESSIONS = """
SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
WHERE datname = %s AND usename = current_user AND pid <> pg_backend_pid()
"""


def default_conninfo() -> dict[str, Any]:
    """Psycopg keyword arguments for Django's default database: its server, role and database.

    Returns:
        The keywords.
    """
    params = connection.get_connection_params()
    return {key: value for key, value in params.items() if key in {"host", "port", "user", "password", "dbname"}}


def scratch_database_drop(*, conninfo: Mapping[str, Any], name: str) -> None:
    """Drop a scratch database if it exists, ending this role's sessions in it first.

    Args:
        conninfo: psycopg keyword arguments for a database other than ``name``.
        name: The scratch database.
    """
    with psycopg.connect(**{**conninfo, "autocommit": True}) as admin:
        admin.execute(_END_OWN_SESSIONS, [name])
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
