"""The size cap of the image cache (``IMAGE_CACHE_MAX_MB``): last-use tracking and least-recently-used eviction."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from imagecache.models import ImageCache
from imagecache.selectors import ImageKey, image_bytes_total, image_lru_list

logger = logging.getLogger("imagecache")

# pg_try_advisory_xact_lock key: one trim at a time across every process (others skip theirs).
TRIM_LOCK_ID = 0x1A6E_CAC4E
TRIM_BATCH = 500
# Most rows a trim after a download deletes, so a lowered cap does not stall one request (the task does the rest).
REQUEST_TRIM_ROWS = 2000
_TOUCH = (
    f"UPDATE {ImageCache._meta.db_table} SET last_used_at = %s "  # noqa: S608
    "WHERE resource_type = %s AND resource_id = %s AND variant = %s AND size = %s AND last_used_at < %s"
)


def image_use_mark(*, key: ImageKey, last_used_at: datetime | None) -> bool:
    """Record that a stored image was served, at most once per ``IMAGE_LAST_USED_UPDATE_SECONDS``.

    Most hits only compare the time they already read; one in a while writes (the ``WHERE`` keeps
    concurrent hits from writing twice in a row).

    Args:
        key: The image.
        last_used_at: Its ``last_used_at`` as read with it (None: unknown, write).

    Returns:
        True when the row was written.
    """
    now = timezone.now()
    horizon = now - timedelta(seconds=settings.IMAGE_LAST_USED_UPDATE_SECONDS)
    if last_used_at is not None and last_used_at >= horizon:
        return False
    with connection.cursor() as cursor:
        cursor.execute(_TOUCH, [now, key.resource_type, key.resource_id, key.variant, key.size, horizon])
        return bool(cursor.rowcount)


def image_cache_trim(*, max_bytes: int | None = None, max_rows: int | None = None) -> int:
    """Delete least recently served images until the stored bytes fit ``IMAGE_CACHE_MAX_MB``.

    The total is a sum over ``blob_bytes`` and the order comes from the ``last_used_at``
    index. Runs in one process at a time (an advisory lock); a concurrent call returns 0.

    Args:
        max_bytes: The cap (default: ``IMAGE_CACHE_MAX_MB`` MiB).
        max_rows: Most rows deleted by this call (default: as many as needed).

    Returns:
        How many rows were deleted.
    """
    cap = int(settings.IMAGE_CACHE_MAX_MB * 1024 * 1024) if max_bytes is None else max_bytes
    deleted = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [TRIM_LOCK_ID])
        row = cursor.fetchone()
        if not (row and row[0]):
            return 0
        excess = image_bytes_total() - cap
        while excess > 0 and (max_rows is None or deleted < max_rows):
            batch = image_lru_list(limit=TRIM_BATCH if max_rows is None else min(TRIM_BATCH, max_rows - deleted))
            if not batch:
                break
            chosen: list[int] = []
            for pk, size in batch:
                if excess <= 0:
                    break
                chosen.append(pk)
                excess -= size
            deleted += ImageCache.objects.filter(id__in=chosen).delete()[0]
    if deleted:
        logger.info("Image cache over %d bytes: %d least recently used image(s) deleted.", cap, deleted)
    return deleted


def image_cache_trim_safely() -> int:
    """Trim after a download without failing the request that made it (errors are logged).

    Returns:
        How many rows were deleted.
    """
    try:
        return image_cache_trim(max_rows=REQUEST_TRIM_ROWS)
    except DatabaseError as exc:
        logger.warning("Image cache trim failed: %s", exc)
        return 0
