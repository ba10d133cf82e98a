"""Celery tasks of market (thin: they call the pipeline services in market.refresh, market.history, market.structures).

ESI errors end a job as failed and are not retried here: the client has set the lockdown, and the next scan
or beat run queues the work again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from celery import shared_task
from django.conf import settings

from accounts.sso import SsoLoginRequiredError
from esi.errors import EsiError
from evesite.exceptions import DomainError
from market.history import market_history_region_run, market_history_regions_enqueue
from market.refresh import market_region_refresh_run, market_regions_refresh_run, market_regions_refresh_start
from market.structures import market_structure_refresh_run

logger = logging.getLogger("market")
T = TypeVar("T")


def _logged(what: str, run: Callable[[], T], failed: T, errors: tuple[type[DomainError], ...] = (EsiError,)) -> T:
    """Run a job; an expected failure (the job is already marked failed) is logged and answers ``failed``."""
    try:
        return run()
    except errors as exc:
        logger.warning("market: %s failed: %s", what, exc.message)
        return failed


@shared_task(name="market.refresh_region", ignore_result=True)
def market_refresh_region_task(job_id: str) -> int | None:
    """Run a region refresh job queued by a scan (safe to deliver twice: the job runs once).

    Args:
        job_id: The ``market.refresh_region`` job.

    Returns:
        The new snapshot id, or None.
    """
    return _logged(f"refresh job {job_id}", lambda: market_region_refresh_run(job_id=job_id), None)


@shared_task(name="market.refresh_structure", ignore_result=True)
def market_refresh_structure_task(job_id: str) -> int | None:
    """Run a structure refresh job queued by a scan, with the scanning character's token (runs once).

    Args:
        job_id: The ``market.refresh_structure`` job.

    Returns:
        The new snapshot id, or None (an ESI failure, a 403 remembered, or an expired login: the job says which).
    """
    run = partial(market_structure_refresh_run, job_id=job_id)
    return _logged(f"structure job {job_id}", run, None, (EsiError, SsoLoginRequiredError))


@shared_task(name="market.snapshot_regions", ignore_result=True)
def market_snapshot_regions_task(region_ids: list[int] | None = None) -> list[int]:
    """Snapshot ``MARKET_SNAPSHOT_REGIONS`` (or the given regions) as one job whose progress counts regions.

    Idempotent: regions refreshed meanwhile by another job are skipped.

    Args:
        region_ids: Regions to snapshot (the setting when None).

    Returns:
        The new snapshot ids.
    """
    regions = list(region_ids) if region_ids is not None else list(settings.MARKET_SNAPSHOT_REGIONS)
    job = market_regions_refresh_start(region_ids=regions)
    return _logged(f"snapshot job {job.pk}", lambda: market_regions_refresh_run(job_id=job.pk), [])


@shared_task(name="market.history_region", ignore_result=True)
def market_history_region_task(job_id: str) -> dict[str, object] | None:
    """Run a region's history job (safe to deliver twice: the job runs once; a rerun resumes, skipping fresh types).

    Args:
        job_id: The ``market.history_region`` job.

    Returns:
        The job's result, or None.
    """
    return _logged(f"history job {job_id}", lambda: market_history_region_run(job_id=job_id), None)


@shared_task(name="market.history_regions", ignore_result=True)
def market_history_regions_task(region_ids: list[int] | None = None) -> list[str]:
    """Queue the history job of each of ``MARKET_HISTORY_REGIONS`` (or the given regions) that has a snapshot.

    Idempotent: a region whose job is queued or running keeps it.

    Args:
        region_ids: Regions (the setting when None).

    Returns:
        The job ids.
    """
    return [str(job.pk) for job in market_history_regions_enqueue(region_ids=region_ids)]
