"""``manage.py load_market_snapshot --region REGION_ID FILE``: load ESI market orders from a JSON file."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evesite.exceptions import DomainError
from market.services import market_snapshot_store


class Command(BaseCommand):
    """Store a JSON file of ESI market orders as a region's current snapshot (offline use and tests)."""

    help = "Load a JSON array of ESI market orders (/markets/{region_id}/orders) as a region's current snapshot."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Declare the arguments.

        Args:
            parser: The argument parser.
        """
        parser.add_argument("--region", type=int, required=True, help="Region id the orders belong to.")
        parser.add_argument("file", type=Path, help="JSON file: an array of ESI market orders.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Check the file, hand it to the service and report.

        Args:
            *args: Unused.
            **options: Parsed arguments.

        Raises:
            CommandError: For a missing or unreadable file, or orders that do not validate.
        """
        path: Path = options["file"]
        region_id: int = options["region"]
        if region_id <= 0:
            raise CommandError(f"--region must be a positive region id, got {region_id}.")
        if not path.is_file():
            raise CommandError(f"{path} does not exist or is not a file.")
        try:
            orders = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"{path} is not readable JSON: {exc}") from exc
        if not isinstance(orders, list):
            raise CommandError(f"{path} must hold a JSON array of market orders.")
        self.stdout.write(f"Loading {len(orders)} orders of region {region_id} from {path} ...")
        fetched_at = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        try:
            snapshot = market_snapshot_store(region_id=region_id, orders=orders, fetched_at=fetched_at)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Region {region_id}: snapshot {snapshot.pk} with {snapshot.order_count} orders is now current."
            )
        )
