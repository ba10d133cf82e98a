"""Celery tasks of imagecache: thin wrappers around the services."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from imagecache.lru import image_cache_trim
from imagecache.selectors import image_stale_list
from imagecache.services import image_refresh_stale


@shared_task(name="imagecache.refresh_stale_images", ignore_result=False)
def refresh_stale_images(limit: int | None = None) -> dict[str, int]:
    """Download stale cached images again (idempotent: fresh rows are left alone), then enforce the size cap.

    Args:
        limit: Most images handled in this run.

    Returns:
        The run's counters, with ``evicted``: rows deleted to fit ``IMAGE_CACHE_MAX_MB``.
    """
    report = asdict(image_refresh_stale(keys=image_stale_list(limit=limit)))
    return {**report, "evicted": image_cache_trim()}
