"""``manage.py refresh_images``: download stale cached images again."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from tqdm import tqdm

from imagecache.models import ImageCache
from imagecache.selectors import ImageKey, image_stale_list
from imagecache.services import image_refresh_stale


class Command(BaseCommand):
    """Refresh cached images older than their variant's maximum age (``IMAGE_MAX_AGE_*_SECONDS``)."""

    help = "Download stale cached images again from the image server (rows that are still fresh are left alone)."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the options.

        Args:
            parser: The argument parser.
        """
        parser.add_argument("--limit", type=int, default=None, help="Most images refreshed in this run.")
        parser.add_argument("--dry-run", action="store_true", help="Only count the stale images.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Check the set-up, list the stale images, hand them to the service and report.

        Args:
            *args: Unused.
            **options: The parsed options.

        Raises:
            CommandError: When the database cannot be read, the image server URL is unset or --limit is negative.
        """
        limit: int | None = options["limit"]
        if limit is not None and limit < 0:
            raise CommandError("--limit must be 0 or more.")
        if not settings.IMAGE_SERVER_URL:
            raise CommandError("IMAGE_SERVER_URL is not set.")
        try:
            total = ImageCache.objects.count()
            keys = image_stale_list(limit=limit)
        except DatabaseError as exc:
            raise CommandError(f"Cannot read the image cache table: {exc}") from exc
        self.stdout.write(f"{len(keys)} stale image(s) of {total} cached.")
        if options["dry_run"] or not keys:
            return
        bar = tqdm(total=len(keys), file=self.stdout, unit="img", disable=not self.stdout.isatty())

        def advance(_key: ImageKey) -> None:
            """Move the progress bar."""
            bar.update(1)

        try:
            report = image_refresh_stale(keys=keys, on_progress=advance)
        finally:
            bar.close()
        message = (
            f"Checked {report.checked}: {report.refreshed} refreshed, {report.unchanged} unchanged, "
            f"{report.removed} removed (gone upstream), {report.failed} failed, {report.busy} busy."
        )
        self.stdout.write(self.style.WARNING(message) if report.failed else self.style.SUCCESS(message))
