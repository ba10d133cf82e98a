"""``manage.py refresh_contracts --region ID [--region ID ...]``: refresh public contracts in the foreground."""

from __future__ import annotations

from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from neo4j.exceptions import DriverError, Neo4jError
from redis.exceptions import RedisError
from tqdm import tqdm

from contracts.services import RefreshReport, contracts_region_refresh
from esi.client import for_each_region
from evesite.exceptions import DomainError
from universe.selectors import market_region_validate

# Our own datastores failing (PostgreSQL, Redis, Neo4j): reported in one line like the domain errors.
DATASTORE_ERRORS = (DatabaseError, RedisError, Neo4jError, DriverError)


class Command(BaseCommand):
    """Refresh the public contracts of some regions (listing, new items, bids, valuation), one region at a time."""

    help = (
        "Refresh the public contracts of the given regions from ESI, as the Celery beat does: listing, items of "
        "new contracts (once), auction bids, valuation. Regions are checked against the SDE before any request; "
        "ESI_REGION_DELAY_SECONDS separates regions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the options.

        Args:
            parser: The argument parser.
        """
        parser.add_argument(
            "--region",
            dest="regions",
            type=int,
            action="append",
            required=True,
            metavar="ID",
            help="region id (repeat for several regions)",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")

    def handle(self, *args: Any, **options: Any) -> None:
        """Validate the regions, refresh each one, report.

        Args:
            *args: Unused.
            **options: Parsed options.

        Raises:
            CommandError: With a one-line message when a region is unknown (no request is sent), ESI or a
                datastore fails, or a region was skipped because another refresh of it is running.
        """
        quiet: bool = options["quiet"]
        region_ids = list(dict.fromkeys(int(r) for r in options["regions"]))
        try:
            for region_id in region_ids:
                market_region_validate(region_id=region_id)
        except DomainError as exc:
            raise CommandError(_one_line(exc.message)) from exc
        except DATASTORE_ERRORS as exc:
            raise CommandError(_datastore_message(exc)) from exc

        reports: list[RefreshReport] = []

        def refresh(region_id: int) -> RefreshReport:
            """Refresh one region behind its progress bar; failures name the region."""
            bar = tqdm(
                total=None,
                desc=f"region {region_id} listing",
                unit="page",
                file=self._stream(),
                disable=quiet or not self._stream().isatty(),
                leave=False,
            )

            def progress(done: int, total: int) -> None:
                """Show the listing walk (a restart of the walk counts from 1 again)."""
                bar.total = total
                bar.n = done
                bar.refresh()

            try:
                report = contracts_region_refresh(region_id=region_id, progress=progress)
            except DomainError as exc:
                raise CommandError(f"Region {region_id}: {_one_line(exc.message)}") from exc
            except DATASTORE_ERRORS as exc:
                raise CommandError(f"Region {region_id}: {_datastore_message(exc)}") from exc
            finally:
                bar.close()
            reports.append(report)
            return report

        try:
            for_each_region(region_ids, refresh)
        finally:
            if not quiet and reports:
                self._summary(reports)
        skipped = [str(r.region_id) for r in reports if r.skipped_locked]
        if skipped:
            raise CommandError(f"Skipped region(s) {', '.join(skipped)}: another refresh of them is running.")

    def _stream(self) -> IO[str]:
        """The raw stream under ``self.stdout`` (tqdm needs one that does not add line ends)."""
        out: IO[str] = self.stdout._out  # type: ignore[assignment]
        return out

    def _summary(self, reports: list[RefreshReport]) -> None:
        """Write one paragraph: a line per region refreshed."""
        for report in reports:
            self.stdout.write(_report_line(report), style_func=self._style(report))

    def _style(self, report: RefreshReport) -> Any:
        """Pick the colour of a region's line."""
        if report.skipped_locked or report.stopped not in (None, "budget"):
            return self.style.WARNING
        return self.style.SUCCESS


def _one_line(message: str) -> str:
    """Fold a message onto one line."""
    return " ".join(message.split())


def _datastore_message(exc: Exception) -> str:
    """Describe a datastore failure in one line."""
    return _one_line(f"{type(exc).__name__}: {exc}")


def _report_line(report: RefreshReport) -> str:
    """Describe one region's refresh in one line."""
    if report.skipped_locked:
        return f"Region {report.region_id}: skipped, another refresh of it is running."
    failed = sum(report.items_failed.values())
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(report.items_failed.items()))
    line = (
        f"Region {report.region_id}: {report.listed:,} contracts listed ({report.skipped_expired:,} expired), "
        f"{report.new:,} new, {report.deactivated:,} gone; items fetched for {report.items_fetched:,} "
        f"contracts, {failed:,} failed" + (f" ({reasons})" if reasons else "") + ", "
        f"{report.items_remembered:,} remembered as failing, {report.items_pending:,} still pending; "
        f"bids read for {report.bids_fetched:,} auctions; {report.valued:,} contracts valued."
    )
    if report.stopped:
        line += f" Fetching stopped early ({report.stopped}); the next run continues."
    return line
