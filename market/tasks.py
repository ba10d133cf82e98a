"""Celery tasks of market (thin: they call services)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from market.services import market_regions_snapshot


@shared_task(name="market.snapshot_regions", ignore_result=True)
def market_snapshot_regions_task(region_ids: list[int] | None = None) -> list[int]:
    """Snapshot ``MARKET_SNAPSHOT_REGIONS`` (or the given regions) from ESI, region delay between them.

    Idempotent: each run replaces every region's current snapshot with a newer one.

    Args:
        region_ids: Regions to snapshot (the setting when None).

    Returns:
        The new snapshot ids.
    """
    regions = list(region_ids) if region_ids is not None else list(settings.MARKET_SNAPSHOT_REGIONS)
    return market_regions_snapshot(region_ids=regions)
