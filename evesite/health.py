"""Health selector: the state of every datastore the app depends on."""

from __future__ import annotations

import logging

from django.db import connection
from django_redis import get_redis_connection

from evesite.graph import graph_query

logger = logging.getLogger(__name__)


def _short(exc: Exception) -> str:
    """One line naming an exception.

    Args:
        exc: The exception.

    Returns:
        ``ClassName: first line of the message``.
    """
    first_line = (str(exc).splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first_line}"


def health_status() -> tuple[dict[str, str], list[str]]:
    """Check PostgreSQL, Redis, Neo4j and APOC.

    Returns:
        A map of part name to ``"ok"`` (or APOC's version) or an error text,
        and the list of failing parts.
    """
    status: dict[str, str] = {}
    failing: list[str] = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        status["postgres"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        status["postgres"] = _short(exc)
        failing.append("postgres")
    try:
        get_redis_connection("default").ping()
        status["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        status["redis"] = _short(exc)
        failing.append("redis")
    try:
        graph_query("RETURN 1 AS one")
        status["neo4j"] = "ok"
    except Exception as exc:  # noqa: BLE001
        status["neo4j"] = _short(exc)
        status["apoc"] = "unavailable"
        failing += ["neo4j", "apoc"]
    else:
        try:
            status["apoc"] = str(graph_query("RETURN apoc.version() AS v")[0]["v"])
        except Exception as exc:  # noqa: BLE001
            status["apoc"] = _short(exc)
            failing.append("apoc")
    if failing:
        logger.warning("health check failing: %s", ", ".join(failing))
    return status, failing
