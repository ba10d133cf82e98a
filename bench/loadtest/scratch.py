"""The scratch copies: a database made from the development one as template, a Redis database, and their seed.

Seeding (:mod:`bench.loadtest.seed`) runs as ``python -m bench.loadtest.seed SPEC`` in a child whose environment
points at the copies (the parent's Django stays on the development database).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from django.conf import settings
from psycopg import errors, sql

from evesite.testing.scratchdb import scratch_database_drop

REDIS_DB = int(os.environ.get("LOADTEST_REDIS_DB", "13"))
# The Forge and Domain, and their hubs (Jita IV - Moon 4 - Caldari Navy Assembly Plant, Amarr VIII - Emperor
# Family Academy): most orders sit there, as in EVE.
REGIONS = (10000002, 10000043)
HUBS = (60003760, 60008494)
STATIONS_PER_REGION = 40
TRADED_TYPES = 2000
# Minerals and a Rifter: the "hot" icons every client shows (cached before the run: hits).
HOT_TYPES = (34, 35, 36, 37, 38, 39, 40, 587)


@dataclass
class Target:
    """Where the scratch copies live."""

    admin: dict[str, Any] = field(default_factory=dict)  # psycopg connect() keywords (database ``postgres``)
    source_db: str = ""
    scratch_db: str = ""
    scratch_url: str = ""
    redis_url: str = ""


def target() -> Target:
    """Derive the scratch database and Redis URLs from the settings (Django must be set up).

    Returns:
        The target.
    """
    db = settings.DATABASES["default"]
    source_db = str(db["NAME"])
    scratch_db = f"{source_db}_loadtest"
    # Through the ``postgres`` database: a session on the template would stop CREATE DATABASE ... TEMPLATE.
    admin = {
        "host": db.get("HOST") or None,
        "port": int(db["PORT"]) if db.get("PORT") else None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    return Target(
        admin=admin,
        source_db=source_db,
        scratch_db=scratch_db,
        scratch_url=urlunsplit(urlsplit(settings.DATABASE_URL)._replace(path="/" + scratch_db)),
        redis_url=urlunsplit(urlsplit(settings.REDIS_URL)._replace(path=f"/{REDIS_DB}")),
    )


def database_create(target: Target) -> str | None:
    """Copy the development database into the scratch one (after dropping a leftover).

    Args:
        target: The databases.

    Returns:
        None when made, else why not (something is connected to the template).
    """
    if not database_drop(target):  # a leftover of an interrupted run
        return f"cannot drop the leftover {target.scratch_db}"
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
        sql.Identifier(target.scratch_db), sql.Identifier(target.source_db)
    )
    with psycopg.connect(**target.admin) as conn:
        for attempt in range(2):  # PostgreSQL itself waits 5 s for the template's sessions to leave
            try:
                conn.execute(statement)
            except errors.ObjectInUse:
                if attempt == 0:
                    time.sleep(1)
                    continue
                rows = conn.execute(
                    "SELECT coalesce(nullif(application_name, ''), '?'), count(*) FROM pg_stat_activity"
                    " WHERE datname = %s GROUP BY 1",
                    [target.source_db],
                ).fetchall()
                who = ", ".join(f"{name} x{count}" for name, count in rows) or "a session that just left"
                return (
                    f"cannot copy database {target.source_db!r}: something is connected to it ({who}); "
                    "stop `make run` (or whatever holds it) and run again"
                )
            else:
                return None
    return None


def database_drop(target: Target) -> bool:
    """Drop the scratch database.

    Args:
        target: The databases.

    Returns:
        True when it is gone.
    """
    try:
        scratch_database_drop(conninfo=target.admin, name=target.scratch_db)
    except errors.ObjectInUse as exc:  # a session of another role
        print(f"could not drop {target.scratch_db}: {exc}; drop it by hand")
        return False
    return True


def redis_flush(url: str) -> None:
    """Empty the scratch Redis database.

    Args:
        url: Its URL.
    """
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
