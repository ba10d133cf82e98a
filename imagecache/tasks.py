"""Celery tasks of imagecache: thin wrappers around the services."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from imagecache.selectors import image_stale_list
from imagecache.services import image_refresh_stale


@shared_task(name="imagecache.refresh_stale_images", ignore_result=False)
def refresh_stale_images(limit: int | None = None) -> dict[str, int]:
    """Download stale cached images again (idempotent: fresh rows are left alone).

    Args:
        limit: Most images handled in this run.

    Returns:
        The run's counters.
    """
    return asdict(image_refresh_stale(keys=image_stale_list(limit=limit)))
