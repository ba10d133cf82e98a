"""The project's one connection to Neo4j, through neomodel."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from neomodel import db, get_config


def graph_configure() -> None:
    """Point neomodel at ``settings.NEO4J_BOLT_URL``; called at app start."""
    timeout = settings.NEO4J_CONNECTION_TIMEOUT_SECONDS
    get_config().update(
        database_url=settings.NEO4J_BOLT_URL,
        connection_timeout=timeout,
        connection_acquisition_timeout=timeout,
        max_transaction_retry_time=timeout,
    )


def graph_query(query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run one Cypher statement and return its rows as dicts.

    Args:
        query: Cypher text.
        params: Query parameters.

    Returns:
        One dict per row, keyed by column name.
    """
    rows, columns = db.cypher_query(query, params or {})
    return [dict(zip(columns, row, strict=True)) for row in rows]
