"""``manage.py refresh_market --region ID [--region ID ...]``: snapshot regions' orders now, in the foreground."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from evesite.exceptions import DomainError
from market.refresh import market_regions_refresh_run, market_regions_refresh_start
from market.selectors import market_snapshot_current_get
from universe.selectors import market_region_validate


class Command(BaseCommand):
    """Fetch every order page of the given regions from ESI and store them as their current snapshots."""

    help = (
        "Snapshot the market orders of the given regions from ESI now (page and region delays, the ESI "
        "lockdown and the walk slot apply as in the workers). Exits non-zero with one line on failure."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the options.

        Args:
            parser: The argument parser.
        """
        parser.add_argument("--region", type=int, action="append", required=True, help="A region id (repeat for more).")

    def handle(self, *args: Any, **options: Any) -> None:
        """Check every region against the SDE, run one snapshot job with a page progress bar, report.

        Args:
            *args: Unused.
            **options: The parsed options.

        Raises:
            CommandError: For a region that is not in the SDE (nothing is asked of ESI) or an ESI failure.
        """
        regions: list[int] = list(dict.fromkeys(options["region"]))
        try:
            for region_id in regions:
                market_region_validate(region_id=region_id)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        job = market_regions_refresh_start(region_ids=regions)
        self.stdout.write(f"Job {job.pk}: {len(regions)} region(s)")
        bar = tqdm(total=0, file=self.stdout, unit="page", disable=not self.stdout.isatty())
        current: dict[str, int] = {}

        def on_page(region_id: int, done: int, total: int) -> None:
            """Move the progress bar."""
            if current.get("region") != region_id or done == 1:
                current["region"] = region_id
                bar.reset(total=total)
                bar.set_description(f"region {region_id}")
            bar.n = done
            bar.refresh()

        started = time.monotonic()
        try:
            stored = market_regions_refresh_run(job_id=job.pk, on_page=on_page)
        except DomainError as exc:
            raise CommandError(" ".join(f"Job {job.pk} failed: {exc.message}".split())) from exc
        finally:
            bar.close()
        for region_id in regions:
            snapshot = market_snapshot_current_get(region_id=region_id)
            state = f"snapshot {snapshot.pk}, {snapshot.order_count} orders" if snapshot else "no snapshot"
            self.stdout.write(f"  region {region_id}: {state}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Stored {len(stored)} snapshot(s) of {len(regions)} region(s) in {time.monotonic() - started:.1f} s."
            )
        )
