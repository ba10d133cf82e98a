"""Reads of imagecache: request keys, cached images, and whether a type id is in the SDE."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from evesite.exceptions import InvalidInputError, NotFoundError
from evesite.pgbinary import binary_rows
from imagecache.models import ALLOWED_SIZES, DEFAULT_SIZE, MAX_RESOURCE_ID, VARIANT_BY_TYPE, ImageCache
from universe.models import ItemType


class UnknownResourceTypeError(NotFoundError):
    """The URL names a resource type the image cache does not serve."""

    code = "unknown_resource_type"


class InvalidResourceIdError(NotFoundError):
    """The URL's id is not a positive 32-bit integer (no such EVE entity)."""

    code = "invalid_resource_id"


class UnknownTypeIdError(NotFoundError):
    """The URL's type id is not an item type of the SDE (nothing is asked upstream)."""

    code = "unknown_type_id"


class InvalidSizeError(InvalidInputError):
    """The ``size`` query parameter is not one of the allowed sizes."""

    code = "invalid_size"


@dataclass(frozen=True)
class ImageKey:
    """Which image: the unique key of a cached row.

    Attributes:
        resource_type: ``type``, ``character``, ``corporation`` or ``alliance``.
        resource_id: The EVE id.
        size: Pixels.
    """

    resource_type: str
    resource_id: int
    size: int

    @property
    def variant(self) -> str:
        """The variant the resource type is served as (icon, portrait, logo)."""
        return VARIANT_BY_TYPE[self.resource_type]

    @property
    def name(self) -> str:
        """A short text form for Redis keys and logs, e.g. ``type:34:64``."""
        return f"{self.resource_type}:{self.resource_id}:{self.size}"

    @property
    def entity_name(self) -> str:
        """The image's resource whatever the size, e.g. ``type:34`` (an upstream 404 holds for every size)."""
        return f"{self.resource_type}:{self.resource_id}"


@dataclass(frozen=True)
class CachedImage:
    """A stored image as served to clients.

    Attributes:
        content: The bytes.
        content_type: ``image/png`` or ``image/jpeg``.
        etag: The quoted ETag.
        last_updated: When it was downloaded.
        last_used_at: When a client was last served it (None: just downloaded).
    """

    content: bytes
    content_type: str
    etag: str
    last_updated: datetime
    last_used_at: datetime | None = None


def image_key_parse(*, resource_type: str, resource_id: str, size: str | None) -> ImageKey:
    """Check a request's resource type, id and size.

    Args:
        resource_type: From the URL.
        resource_id: From the URL, as text.
        size: The ``size`` query parameter, or None for the default.

    Returns:
        The key.

    Raises:
        UnknownResourceTypeError: The type is not one of the four (404).
        InvalidResourceIdError: The id is not an integer in 1..2**31-1 (404).
        InvalidSizeError: The size is not one of the allowed sizes (400).
    """
    if resource_type not in VARIANT_BY_TYPE:
        raise UnknownResourceTypeError(
            f"Unknown resource type {resource_type!r}; use one of {', '.join(VARIANT_BY_TYPE)}."
        )
    if not (resource_id.isascii() and resource_id.isdigit()) or not 0 < int(resource_id) <= MAX_RESOURCE_ID:
        raise InvalidResourceIdError(f"No {resource_type} has the id {resource_id!r}: ids are positive integers.")
    if size is None or size == "":
        pixels = DEFAULT_SIZE
    elif size.isascii() and size.isdigit() and int(size) in ALLOWED_SIZES:
        pixels = int(size)
    else:
        raise InvalidSizeError(
            f"size must be one of {', '.join(map(str, ALLOWED_SIZES))}; got {size!r}.",
            allowed_sizes=list(ALLOWED_SIZES),
        )
    return ImageKey(resource_type=resource_type, resource_id=int(resource_id), size=pixels)


def _key_params(key: ImageKey) -> list[str | int]:
    """Bind one image's unique key to the raw lookups below."""
    return [key.resource_type, key.resource_id, key.variant, key.size]


# The hit path runs on every image request: plain SQL on the unique key costs a fraction of the ORM's
# query building (measured by bench/bench_images.py). The unique constraint guarantees at most one row.
_WHERE_KEY = "WHERE resource_type = %s AND resource_id = %s AND variant = %s AND size = %s"
_TABLE = ImageCache._meta.db_table
_SELECT_IMAGE = f"SELECT blob_data, content_type, etag, last_updated, last_used_at FROM {_TABLE} {_WHERE_KEY}"  # noqa: S608
_SELECT_ETAG = f"SELECT etag, last_used_at FROM {_TABLE} {_WHERE_KEY}"  # noqa: S608


def image_cached_get(*, key: ImageKey) -> CachedImage | None:
    """Read a stored image (one indexed query, only the served columns).

    Args:
        key: The image.

    Returns:
        The image, or None when it is not stored.
    """
    # A server-side prepared statement with binary results: no per-request parse/plan in PostgreSQL and no
    # hex decoding of the bytea (the prepared statement is tested). Errors are wrapped as Django's, so a broken
    # connection is still dropped.
    rows = binary_rows(_SELECT_IMAGE, _key_params(key), prepare=True)
    if not rows:
        return None
    blob, content_type, etag, last_updated, last_used_at = rows[0]
    return CachedImage(
        content=bytes(blob), content_type=content_type, etag=etag, last_updated=last_updated, last_used_at=last_used_at
    )


def image_etag_use_get(*, key: ImageKey) -> tuple[str, datetime] | None:
    """Read a stored image's ETag and last use (for If-None-Match, without loading the bytes).

    Args:
        key: The image.

    Returns:
        The quoted ETag and ``last_used_at``, or None when it is not stored.
    """
    with connection.cursor() as cursor:
        cursor.execute(_SELECT_ETAG, _key_params(key))
        row = cursor.fetchone()
    return None if row is None else (str(row[0]), row[1])


def image_etag_get(*, key: ImageKey) -> str | None:
    """Read only a stored image's ETag.

    Args:
        key: The image.

    Returns:
        The quoted ETag, or None when it is not stored.
    """
    found = image_etag_use_get(key=key)
    return None if found is None else found[0]


def item_type_exists(*, type_id: int) -> bool:
    """Tell whether the SDE (``universe.ItemType``) has a type: only those have icons worth fetching.

    Args:
        type_id: The EVE type id.

    Returns:
        True when the type is in the SDE.
    """
    return ItemType.objects.filter(id=type_id).exists()


def image_bytes_total() -> int:
    """Sum the sizes of every stored image (the ``blob_bytes`` column: no blob is read).

    Returns:
        Bytes.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(SUM(blob_bytes), 0) FROM {_TABLE}")  # noqa: S608
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def image_lru_list(*, limit: int) -> list[tuple[int, int]]:
    """List the least recently served images first.

    Args:
        limit: Most rows returned.

    Returns:
        ``(id, blob_bytes)`` pairs.
    """
    rows = ImageCache.objects.order_by("last_used_at", "id").values_list("id", "blob_bytes")[:limit]
    return [(int(pk), int(size)) for pk, size in rows]


def image_stale_list(*, now: datetime | None = None, limit: int | None = None) -> list[ImageKey]:
    """List stored images older than their variant's maximum age, oldest first.

    Args:
        now: The reference time (default: now).
        limit: Most keys returned.

    Returns:
        The keys.
    """
    now = now or timezone.now()
    stale = Q()
    for variant, seconds in settings.IMAGE_MAX_AGE_SECONDS.items():
        stale |= Q(variant=variant, last_updated__lt=now - timedelta(seconds=seconds))
    rows = (
        ImageCache.objects.filter(stale)
        .order_by("last_updated", "id")
        .values_list("resource_type", "resource_id", "size")
    )
    if limit is not None:
        rows = rows[:limit]
    return [ImageKey(resource_type=t, resource_id=i, size=s) for t, i, s in rows]
