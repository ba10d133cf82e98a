"""App configuration for imagecache."""

from django.apps import AppConfig


class ImageCacheConfig(AppConfig):
    """Image cache."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "imagecache"
    verbose_name = "Image cache"
