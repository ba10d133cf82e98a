"""Writes of imagecache: fetch-once on a miss, storage, and the stale-image refresh."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django_redis import get_redis_connection
from redis import Redis, RedisError

from evesite.exceptions import ServiceUnavailableError
from imagecache.budget import image_miss_budget_take
from imagecache.client import FetchedImage, ImageNotFoundUpstreamError, ImageUpstreamError, image_fetch
from imagecache.lru import image_cache_trim_safely, image_use_mark
from imagecache.models import ImageCache, ResourceType
from imagecache.selectors import (
    CachedImage,
    ImageKey,
    UnknownTypeIdError,
    image_cached_get,
    image_etag_get,
    item_type_exists,
)

logger = logging.getLogger("imagecache")

LOCK_PREFIX = "evesite:img:lock:"
FAILED_PREFIX = "evesite:img:failed:"
NEGATIVE_PREFIX = "img:missing:"  # a django cache key (the cache adds its own prefix); per id, every size
FAILURE_PREFIX = "img:failing:"  # a django cache key: a recent upstream failure of one image
# How long a failed fetch is told to the requests that were waiting on it.
FAILED_KEEP_SECONDS = 30
POLL_SECONDS = 0.02
_RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def image_etag(content: bytes) -> str:
    """Compute the strong ETag of some bytes.

    Args:
        content: The image.

    Returns:
        The quoted ETag (the first 32 hex digits of the SHA-256).
    """
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def _redis() -> Redis:
    """Return the raw Redis connection of the default cache."""
    return get_redis_connection("default")


def _text(value: bytes | str) -> str:
    """Decode a Redis value (bytes unless the client decodes responses)."""
    return value.decode() if isinstance(value, bytes) else value


def _lock_ttl_ms() -> int:
    """How long a fetch lock may live: the client's worst case plus a margin."""
    return int((2 * settings.IMAGE_SERVER_TIMEOUT_SECONDS + 5) * 1000)


def _lock_acquire(redis: Redis, key: ImageKey) -> str | None:
    """Try once to take the fetch lock of an image."""
    token = uuid.uuid4().hex
    return token if redis.set(LOCK_PREFIX + key.name, token, nx=True, px=_lock_ttl_ms()) else None


def _lock_release(redis: Redis, key: ImageKey, token: str) -> None:
    """Release the fetch lock if it is still ours."""
    redis.eval(_RELEASE_SCRIPT, 1, LOCK_PREFIX + key.name, token)


def image_missing_remember(*, key: ImageKey) -> None:
    """Remember for ``IMAGE_NEGATIVE_CACHE_SECONDS`` that the image server has no such image, at any size.

    Args:
        key: The image.
    """
    cache.set(NEGATIVE_PREFIX + key.entity_name, 1, timeout=settings.IMAGE_NEGATIVE_CACHE_SECONDS)


def image_is_known_missing(*, key: ImageKey) -> bool:
    """Tell whether an upstream 404 for the image is still remembered.

    Args:
        key: The image.

    Returns:
        True while remembered.
    """
    return cache.get(NEGATIVE_PREFIX + key.entity_name) is not None


def _known_missing_error(key: ImageKey) -> ImageNotFoundUpstreamError:
    """Build the 404 for an image the image server does not have."""
    return ImageNotFoundUpstreamError(f"The image server has no {key.resource_type} {key.resource_id} image.")


def _raise_known_outcome(key: ImageKey) -> None:
    """Answer from memory when the image server recently said 404 or failed for this image."""
    if image_is_known_missing(key=key):
        raise _known_missing_error(key)
    failing = cache.get(FAILURE_PREFIX + key.name)
    if failing is not None:
        raise ImageUpstreamError(f"{failing} (recent failure, retried after IMAGE_FAILURE_CACHE_SECONDS)")


def image_store(*, key: ImageKey, fetched: FetchedImage, used: bool = True) -> CachedImage:
    """Insert or replace a downloaded image.

    Args:
        key: The image.
        fetched: What the image server sent.
        used: A client asked for it (sets ``last_used_at``); False for the refresh job.

    Returns:
        The stored image.
    """
    now = timezone.now()
    etag = image_etag(fetched.content)
    defaults = {
        "blob_data": fetched.content,
        "blob_bytes": len(fetched.content),
        "content_type": fetched.content_type,
        "etag": etag,
        "last_updated": now,
    }
    ImageCache.objects.update_or_create(
        resource_type=key.resource_type,
        resource_id=key.resource_id,
        variant=key.variant,
        size=key.size,
        defaults={**defaults, "last_used_at": now} if used else defaults,
    )
    return CachedImage(
        content=fetched.content, content_type=fetched.content_type, etag=etag, last_updated=now, last_used_at=now
    )


def _fetch_and_store(redis: Redis, key: ImageKey, token: str) -> CachedImage:
    """Download and store an image while holding its lock; tell waiters about failures."""
    try:
        fetched = image_fetch(resource_type=key.resource_type, resource_id=key.resource_id, size=key.size)
    except ImageNotFoundUpstreamError:
        image_missing_remember(key=key)
        raise
    except ImageUpstreamError as exc:
        redis.set(FAILED_PREFIX + token, exc.message, ex=FAILED_KEEP_SECONDS)
        if settings.IMAGE_FAILURE_CACHE_SECONDS > 0:
            cache.set(FAILURE_PREFIX + key.name, exc.message, timeout=settings.IMAGE_FAILURE_CACHE_SECONDS)
        raise
    return image_store(key=key, fetched=fetched)


def image_get(*, key: ImageKey, client_ip: str) -> CachedImage:
    """Serve an image: from PostgreSQL, else downloaded ONCE however many requests miss together.

    On a miss a type id must be in the SDE. The first request takes a Redis lock
    (``SET NX``), spends one unit of the client's and the global miss budget and
    downloads; the others wait for the lock to go and then read the stored row, the
    remembered 404, or the failure note of the attempt they waited on (so a failing
    upstream is asked once, not once per waiter). A failure is also answered for
    ``IMAGE_FAILURE_CACHE_SECONDS`` to requests arriving just after it. After a
    download the cache is trimmed to ``IMAGE_CACHE_MAX_MB``.

    Args:
        key: The image.
        client_ip: The client's address (names its miss budget).

    Returns:
        The image.

    Raises:
        UnknownTypeIdError: A type id that is not in the SDE (404, nothing asked upstream).
        ImageNotFoundUpstreamError: The image server has no such image (404).
        ImageMissBudgetError: The client's or the global miss budget is used up (429).
        ImageUpstreamError: The image server failed, or the wait for another fetch timed out (502).
        ServiceUnavailableError: Redis is down on a miss (503); hits do not need it.
    """
    found = image_cached_get(key=key)
    if found is not None:
        image_use_mark(key=key, last_used_at=found.last_used_at)
        return found
    if key.resource_type == ResourceType.TYPE and not item_type_exists(type_id=key.resource_id):
        raise UnknownTypeIdError(f"Type {key.resource_id} is not in the static data: it has no image.")
    try:
        return _image_fetch_once(key, client_ip)
    except RedisError as exc:
        raise ServiceUnavailableError("Redis is unavailable: images not cached yet cannot be fetched.") from exc


def _image_fetch_once(key: ImageKey, client_ip: str) -> CachedImage:
    """Download a missing image under its Redis lock, or wait for the request that does."""
    redis = _redis()
    deadline = time.monotonic() + settings.IMAGE_LOCK_WAIT_SECONDS
    while True:
        _raise_known_outcome(key)
        token = _lock_acquire(redis, key)
        if token is not None:
            try:
                # Another request may have stored it between our miss and the lock.
                found = image_cached_get(key=key)
                if found is not None:
                    return found
                _raise_known_outcome(key)  # ... or failed, or was found missing.
                image_miss_budget_take(client_ip=client_ip)  # only requests that reach upstream count
                stored = _fetch_and_store(redis, key, token)
            finally:
                _lock_release(redis, key, token)
            image_cache_trim_safely()  # after the release: waiters need not wait for it
            return stored
        holder = redis.get(LOCK_PREFIX + key.name)
        while holder is not None and redis.get(LOCK_PREFIX + key.name) == holder:
            if time.monotonic() > deadline:
                raise ImageUpstreamError(f"Timed out waiting for another download of {key.name}.")
            time.sleep(POLL_SECONDS)
        found = image_cached_get(key=key)
        if found is not None:
            return found
        if holder is not None:
            failure = redis.get(FAILED_PREFIX + _text(holder))
            if failure is not None:
                raise ImageUpstreamError(_text(failure))
        if time.monotonic() > deadline:
            raise ImageUpstreamError(f"Timed out waiting for another download of {key.name}.")


@dataclass
class RefreshReport:
    """What a refresh run did.

    Attributes:
        checked: Stale images looked at.
        refreshed: Downloaded again with new bytes.
        unchanged: Downloaded again, same bytes (only ``last_updated`` moved).
        removed: Gone upstream (404): the row was deleted and the 404 remembered.
        failed: Upstream failures; the old row is kept for the next run.
        busy: Skipped because a request was downloading the same image right then.
    """

    checked: int = 0
    refreshed: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    busy: int = 0


def image_refresh(*, key: ImageKey, report: RefreshReport) -> None:
    """Download one stored image again and update, keep or delete its row.

    Args:
        key: The image.
        report: Counters to update.
    """
    report.checked += 1
    redis = _redis()
    token = _lock_acquire(redis, key)
    if token is None:
        report.busy += 1
        return
    try:
        fetched = image_fetch(resource_type=key.resource_type, resource_id=key.resource_id, size=key.size)
    except ImageNotFoundUpstreamError:
        ImageCache.objects.filter(
            resource_type=key.resource_type, resource_id=key.resource_id, variant=key.variant, size=key.size
        ).delete()
        image_missing_remember(key=key)
        report.removed += 1
        return
    except ImageUpstreamError as exc:
        logger.warning("Refresh of image %s failed: %s", key.name, exc.message)
        report.failed += 1
        return
    else:
        before = image_etag_get(key=key)
        image_store(key=key, fetched=fetched, used=False)
        if before == image_etag(fetched.content):
            report.unchanged += 1
        else:
            report.refreshed += 1
    finally:
        _lock_release(redis, key, token)


def image_refresh_stale(
    *, keys: list[ImageKey], on_progress: Callable[[ImageKey], None] | None = None
) -> RefreshReport:
    """Refresh stale images one by one, ``IMAGE_REFRESH_DELAY_SECONDS`` apart.

    Idempotent: a second run finds nothing stale (or retries what failed).

    Args:
        keys: The images (see :func:`imagecache.selectors.image_stale_list`).
        on_progress: Called after each image.

    Returns:
        The counters.
    """
    report = RefreshReport()
    for index, key in enumerate(keys):
        if index:
            time.sleep(settings.IMAGE_REFRESH_DELAY_SECONDS)
        image_refresh(key=key, report=report)
        if on_progress is not None:
            on_progress(key)
    logger.info("Image refresh: %s", report)
    return report
