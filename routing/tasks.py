"""Celery tasks of routing (thin and idempotent: they call services)."""

from __future__ import annotations

import logging

from celery import shared_task

from evesite.exceptions import UpstreamError
from routing import jumps_build, services

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
    """Write the current risk to the graph (expires old flags), then queue the check of the jump tables.

    Only a real change of the risk (a level or penalty, see ``routing.jumps_graph.risk_key_of``) rebuilds.

    Returns:
        The number of flagged systems.
    """
    flagged = services.risk_graph_sync().flagged
    jump_tables_refresh.delay()
    return flagged


@shared_task(name="routing.route_weights_refresh", ignore_result=True)
def route_weights_refresh() -> int:
    """Recompute every gate's weights (after an SDE ingestion), then queue the check of the jump tables.

    Returns:
        The number of gates written.
    """
    gates = services.route_weights_refresh()
    jump_tables_refresh.delay()
    return gates


@shared_task(name="routing.jump_tables_build", ignore_result=True)
def jump_tables_build(force: bool = False) -> int:
    """Build the jump tables that do not match the graph and risk now (one build at a time).

    Args:
        force: Rebuild every table.

    Returns:
        How many tables were built.
    """
    return sum(1 for r in jumps_build.jump_tables_build(force=force) if r.built)


@shared_task(name="routing.jump_tables_refresh", ignore_result=True)
def jump_tables_refresh() -> int:
    """Rebuild the jump tables the graph or the risk outdated (nothing when every table matches).

    Returns:
        How many tables were built.
    """
    return sum(1 for r in jumps_build.jump_tables_refresh() if r.built)
