"""Database models of imagecache."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ResourceType(models.TextChoices):
    """What an image shows; the API's (singular) names."""

    TYPE = "type", "type"
    CHARACTER = "character", "character"
    CORPORATION = "corporation", "corporation"
    ALLIANCE = "alliance", "alliance"


class Variant(models.TextChoices):
    """Which picture of a resource: follows from the resource type."""

    ICON = "icon", "icon"
    PORTRAIT = "portrait", "portrait"
    LOGO = "logo", "logo"


# The variant each resource type is served as.
VARIANT_BY_TYPE: dict[str, str] = {
    ResourceType.TYPE: Variant.ICON,
    ResourceType.CHARACTER: Variant.PORTRAIT,
    ResourceType.CORPORATION: Variant.LOGO,
    ResourceType.ALLIANCE: Variant.LOGO,
}

# The image server's (plural) category of each resource type.
UPSTREAM_CATEGORY: dict[str, str] = {
    ResourceType.TYPE: "types",
    ResourceType.CHARACTER: "characters",
    ResourceType.CORPORATION: "corporations",
    ResourceType.ALLIANCE: "alliances",
}

ALLOWED_SIZES: tuple[int, ...] = (32, 64, 128, 256, 512, 1024)
DEFAULT_SIZE = 64
# EVE ids are 32-bit signed integers.
MAX_RESOURCE_ID = 2**31 - 1


class ImageCache(models.Model):
    """One image of the EVE image server, stored in PostgreSQL."""

    resource_type = models.CharField(max_length=16, choices=ResourceType.choices)
    resource_id = models.BigIntegerField()
    variant = models.CharField(max_length=16, choices=Variant.choices)
    size = models.PositiveSmallIntegerField(default=DEFAULT_SIZE)
    blob_data = models.BinaryField()
    content_type = models.CharField(max_length=32)
    etag = models.CharField(max_length=80, help_text="Quoted strong ETag: a hash of the bytes.")
    last_updated = models.DateTimeField(default=timezone.now, db_index=True)
    # For the size cap (IMAGE_CACHE_MAX_MB): hits move it at most once per IMAGE_LAST_USED_UPDATE_SECONDS.
    last_used_at = models.DateTimeField(default=timezone.now, help_text="When a client was last served the image.")
    blob_bytes = models.PositiveIntegerField(default=0, help_text="Length of blob_data, summed for the size cap.")

    class Meta:
        verbose_name = "cached image"
        indexes = [
            models.Index(fields=["resource_type", "resource_id", "variant"], name="imagecache_resource_idx"),
            # Least recently used first, with the sizes: the eviction reads only this index.
            models.Index(fields=["last_used_at", "id"], include=["blob_bytes"], name="imagecache_lru_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "resource_id", "variant", "size"], name="imagecache_unique_image"
            )
        ]

    def __str__(self) -> str:
        """Name the image.

        Returns:
            e.g. ``type 34 icon 64px``.
        """
        return f"{self.resource_type} {self.resource_id} {self.variant} {self.size}px"
