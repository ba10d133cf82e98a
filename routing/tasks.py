"""Celery tasks of routing (thin and idempotent: they call services)."""

from __future__ import annotations

import logging

from celery import shared_task

from evesite.exceptions import UpstreamError
from routing import services

logger = logging.getLogger("routing")


@shared_task(
    name="routing.system_kills_refresh",
    ignore_result=True,
    autoretry_for=(UpstreamError,),
    retry_backoff=60,
    max_retries=3,
)
def system_kills_refresh() -> int:
    """Fetch ESI's hourly kills per system and write the risk (retried on upstream failures).

    Returns:
        The number of systems ESI listed.
    """
    return services.system_kills_refresh()


@shared_task(name="routing.zkill_feed_poll", ignore_result=True)
def zkill_feed_poll() -> int:
    """Read the zKillboard R2Z2 feed from where it stopped (one run at a time; the next beat retries).

    An unreachable feed is one warning line, not a traceback every 15 s: the next run simply tries again.

    Returns:
        How many records were read (0 when another run holds the lock or the feed failed).
    """
    try:
        report = services.zkill_feed_poll_locked()
    except UpstreamError as exc:
        logger.warning("routing: kill feed poll failed, the next run tries again: %s", exc.message)
        return 0
    return 0 if report is None else report.records


@shared_task(name="routing.risk_graph_sync", ignore_result=True)
def risk_graph_sync() -> int:
    """Write the current risk to the graph (expires old flags).

    Returns:
        The number of flagged systems.
    """
    return services.risk_graph_sync().flagged


@shared_task(name="routing.route_weights_refresh", ignore_result=True)
def route_weights_refresh() -> int:
    """Recompute every gate's weights (after an SDE ingestion).

    Returns:
        The number of gates written.
    """
    return services.route_weights_refresh()
