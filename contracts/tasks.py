"""Celery tasks of contracts (thin and idempotent: the services do the work)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from celery import shared_task
from django.conf import settings

from contracts.services import contracts_region_refresh
from contracts.valuation import contracts_valuate
from esi.client import for_each_region
from jobs.services import job_create, job_running


@shared_task(name="contracts.tasks.contracts_refresh_region_task", ignore_result=False)
def contracts_refresh_region_task(region_id: int) -> dict[str, Any]:
    """Refresh one region's public contracts (a second run only asks ESI for the listing).

    Args:
        region_id: The region.

    Returns:
        The refresh report.
    """
    return asdict(contracts_region_refresh(region_id=int(region_id)))


@shared_task(name="contracts.tasks.contracts_refresh_regions_task", ignore_result=False)
def contracts_refresh_regions_task() -> list[dict[str, Any]]:
    """Refresh every region of ``CONTRACTS_REGIONS`` in turn as one job whose progress counts regions.

    The ESI region delay separates the regions.

    Returns:
        One report per region.
    """
    regions = list(settings.CONTRACTS_REGIONS)
    job = job_create(
        kind="contracts.refresh_regions", params={"region_ids": regions}, unit="regions", total=len(regions)
    )
    with job_running(job_id=job.pk) as progress:
        reports: list[dict[str, Any]] = []

        def refresh(region_id: int) -> dict[str, Any]:
            """Refresh one region and count it."""
            reports.append(asdict(contracts_region_refresh(region_id=region_id)))
            progress(len(reports), len(regions))
            return reports[-1]

        return for_each_region(regions, refresh)


@shared_task(name="contracts.tasks.contracts_revalue_task", ignore_result=False)
def contracts_revalue_task() -> int:
    """Value every active cached contract again against the latest Jita snapshot (no ESI call).

    Returns:
        How many contracts were valued.
    """
    return contracts_valuate()
