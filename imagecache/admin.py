"""Admin pages of imagecache."""

from __future__ import annotations

import base64

from django.contrib import admin
from django.db.models import QuerySet
from django.db.models.functions import Length
from django.http import HttpRequest
from django.utils.html import format_html

from imagecache.models import ImageCache


@admin.register(ImageCache)
class ImageCacheAdmin(admin.ModelAdmin):
    """Cached images with a thumbnail, their size in bytes and age."""

    list_display = ("thumbnail", "resource_type", "resource_id", "variant", "size", "byte_count", "last_updated")
    list_display_links = ("thumbnail", "resource_id")
    list_filter = ("resource_type", "variant", "size")
    search_fields = ("=resource_id",)
    ordering = ("-last_updated",)
    readonly_fields = ("preview", "byte_count", "content_type", "etag", "last_updated")
    exclude = ("blob_data",)
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImageCache]:
        """Annotate the byte count in SQL.

        Args:
            request: The admin request.

        Returns:
            The rows.
        """
        return super().get_queryset(request).annotate(byte_length=Length("blob_data"))

    @staticmethod
    def _img(obj: ImageCache, pixels: int) -> str:
        """Render the stored bytes as an inline ``data:`` image (no request to the image server)."""
        data = base64.b64encode(bytes(obj.blob_data)).decode()
        return format_html(
            '<img src="data:{};base64,{}" width="{}" height="{}" alt="{}">', obj.content_type, data, pixels, pixels, obj
        )

    @admin.display(description="image")
    def thumbnail(self, obj: ImageCache) -> str:
        """Show a 32 px thumbnail in the list.

        Args:
            obj: The row.

        Returns:
            Safe HTML.
        """
        return self._img(obj, 32)

    @admin.display(description="preview")
    def preview(self, obj: ImageCache) -> str:
        """Show the image at its size on the change page.

        Args:
            obj: The row.

        Returns:
            Safe HTML.
        """
        return self._img(obj, min(obj.size, 256))

    @admin.display(description="bytes", ordering="byte_length")
    def byte_count(self, obj: ImageCache) -> int:
        """Tell the stored size in bytes.

        Args:
            obj: The row.

        Returns:
            The byte count.
        """
        length = getattr(obj, "byte_length", None)
        return int(length) if length is not None else len(bytes(obj.blob_data))
