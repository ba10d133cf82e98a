"""The project's one connection to Neo4j, through neomodel.

neomodel connects to ``settings.NEO4J_BOLT_URL``: :func:`graph_configure` sets
it at app start and again whenever the setting changes (tests override it), so
the models of :mod:`universe.graph` and every Cypher statement here use the
same driver.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from django.conf import settings
from neo4j import Driver, Query
from neo4j.exceptions import Neo4jError
from neomodel import db, get_config

from evesite.exceptions import QueryTimeoutError

# Server codes of a transaction ended by its timeout (Neo4j 5: ...ClientConfiguration; older: ...TimedOut).
_TIMED_OUT_CODES = frozenset(
    {
        "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
        "Neo.ClientError.Transaction.TransactionTimedOut",
        "Neo.TransientError.Transaction.TransactionTimedOut",
        "Neo.ClientError.Transaction.TransactionTimedOutConfiguration",
    }
)


_CONNECTION_SETTINGS = frozenset({"NEO4J_BOLT_URL", "NEO4J_CONNECTION_TIMEOUT_SECONDS"})


def graph_configure() -> None:
    """Point neomodel at ``settings.NEO4J_BOLT_URL``; called at app start.

    A driver already made for another URL or timeout is closed: the next
    query connects with the settings (neomodel connects on first use).
    """
    timeout = settings.NEO4J_CONNECTION_TIMEOUT_SECONDS
    config = get_config()
    wanted = {
        "database_url": settings.NEO4J_BOLT_URL,
        "connection_timeout": timeout,
        "connection_acquisition_timeout": timeout,
        "max_transaction_retry_time": timeout,
    }
    changed = any(getattr(config, key) != value for key, value in wanted.items())
    config.update(**wanted)
    if changed and db.driver is not None:
        db.close_connection()


def graph_setting_changed(*, setting: str, **kwargs: Any) -> None:
    """Reconnect neomodel when a test overrides a Neo4j connection setting (a ``setting_changed`` receiver).

    Args:
        setting: The setting's name.
        **kwargs: The signal's other arguments.
    """
    if setting in _CONNECTION_SETTINGS:
        graph_configure()


def graph_driver() -> Driver:
    """Return neomodel's driver, connecting first when nothing has used it yet.

    Returns:
        The driver.
    """
    if db.driver is None:  # pragma: no cover - neomodel connects on first use
        db.cypher_query("RETURN 1")
    return cast(Driver, db.driver)


def _timeout_error(timeout: float) -> QueryTimeoutError:
    """Build the error of a graph query that ran past its timeout."""
    return QueryTimeoutError(f"The route query took longer than {timeout:g} s; try again later.")


@contextmanager
def _timeouts_translated(timeout: float) -> Iterator[None]:
    """Turn Neo4j's transaction-timeout errors into :class:`QueryTimeoutError`."""
    try:
        yield
    except Neo4jError as exc:
        if exc.code in _TIMED_OUT_CODES:
            raise _timeout_error(timeout) from exc
        raise


def graph_query(
    query: str, params: dict[str, Any] | None = None, *, timeout: float | None = None
) -> list[dict[str, Any]]:
    """Run one Cypher statement and return its rows as dicts.

    Args:
        query: Cypher text.
        params: Query parameters.
        timeout: Transaction timeout in seconds (web requests pass
            ``NEO4J_QUERY_TIMEOUT_SECONDS``); None: the server's default.

    Returns:
        One dict per row, keyed by column name.

    Raises:
        QueryTimeoutError: When the statement ran past ``timeout``.
    """
    if timeout is None:
        rows, columns = db.cypher_query(query, params or {})
        return [dict(zip(columns, row, strict=True)) for row in rows]
    with _timeouts_translated(timeout), graph_driver().session() as session:
        result = session.run(Query(query, timeout=timeout), params or {})
        return [dict(record) for record in result]


@contextmanager
def graph_reads_bounded(*, timeout: float) -> Iterator[None]:
    """Run neomodel reads (``SolarSystem.nodes...``) in one read transaction the server ends at ``timeout``.

    Rows read once the timeout has passed are refused too (see
    :func:`graph_rolled_back_query`).

    Args:
        timeout: Transaction timeout in seconds.

    Yields:
        Nothing.

    Raises:
        QueryTimeoutError: When the transaction ran past ``timeout``.
    """
    with _timeouts_translated(timeout):
        started = time.monotonic()
        with db.read_transaction(timeout=timeout):
            yield
        if time.monotonic() - started >= timeout:
            raise _timeout_error(timeout)


def graph_rolled_back_query(
    setup: Sequence[tuple[str, dict[str, Any]]], query: str, params: dict[str, Any], *, timeout: float
) -> list[dict[str, Any]]:
    """Run statements and a query in one transaction that is always rolled back, and return the query's rows.

    The query sees the setup's changes; nothing is ever committed. A statement
    in an explicit transaction that the server ends for its timeout may return
    normally (the error only shows on the next statement), so rows read once
    the timeout has passed are refused too.

    Args:
        setup: ``(cypher, params)`` statements run first.
        query: The query whose rows are returned.
        params: Its parameters.
        timeout: Transaction timeout in seconds.

    Returns:
        One dict per row.

    Raises:
        QueryTimeoutError: When the transaction ran past ``timeout``.
    """
    with _timeouts_translated(timeout), graph_driver().session() as session:
        started = time.monotonic()
        tx = session.begin_transaction(timeout=timeout)
        try:
            for statement, statement_params in setup:
                tx.run(statement, statement_params).consume()
            rows = [dict(record) for record in tx.run(query, params)]
        finally:
            tx.close()  # rolls back (a transaction the server already ended just closes)
        if time.monotonic() - started >= timeout:
            raise _timeout_error(timeout)
        return rows
