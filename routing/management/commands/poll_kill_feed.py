"""``manage.py poll_kill_feed [--max-records N]``: read zKillboard's R2Z2 feed once, as the beat task does."""

from __future__ import annotations

from argparse import ArgumentTypeError
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from neo4j.exceptions import DriverError, Neo4jError
from redis.exceptions import RedisError
from tqdm import tqdm

from evesite.exceptions import DomainError
from routing.services import FeedPollReport, zkill_feed_poll_locked
from routing.zkillboard import R2z2Client, R2z2Record


class _CountingClient(R2z2Client):
    """An R2Z2 client that moves a progress bar by one for every record it reads."""

    def __init__(self, bar: tqdm[Any]) -> None:
        """Create the client.

        Args:
            bar: The bar to move.
        """
        super().__init__()
        self._bar = bar

    def record_get(self, sequence: int) -> R2z2Record | None:
        """Fetch one record as the client does, then move the bar when there was one.

        Args:
            sequence: Its sequence number.

        Returns:
            The record, or None when it is not published yet.
        """
        record = super().record_get(sequence)
        if record is not None:
            self._bar.update(1)
        return record


def _positive(value: str) -> int:
    """Parse ``--max-records``."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ArgumentTypeError(f"must be a whole number of 1 or more, not {value!r}")
    return number


class Command(BaseCommand):
    """Read the R2Z2 feed from where it stopped, keep the kills and write the risk, under the feed lock."""

    help = (
        "Read zKillboard's R2Z2 killmail feed from the saved position (at most --max-records records), keep the "
        "recent kills in Redis and write the risk to the gate graph. Takes the same Redis lock as the Celery "
        "task: fails when another run holds it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the options.

        Args:
            parser: The argument parser.
        """
        parser.add_argument(
            "--max-records",
            type=_positive,
            default=None,
            metavar="N",
            help="most records read in this run (default: ZKILLBOARD_MAX_RECORDS_PER_RUN)",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")

    def handle(self, *args: Any, **options: Any) -> None:
        """Take the lock, read the feed, report.

        Args:
            *args: Unused.
            **options: Parsed options.

        Raises:
            CommandError: With a one-line message when another feed poll holds the lock, or zKillboard or a
                datastore (PostgreSQL, Redis, Neo4j) fails.
        """
        quiet: bool = options["quiet"]
        max_records: int | None = options["max_records"]
        limit = int(settings.ZKILLBOARD_MAX_RECORDS_PER_RUN if max_records is None else max_records)
        out: IO[str] = self.stdout._out  # type: ignore[assignment]
        bar = tqdm(total=limit, desc="R2Z2 feed", unit="record", file=out, disable=quiet or not out.isatty())
        try:
            report = zkill_feed_poll_locked(max_records=max_records, client=_CountingClient(bar))
        except DomainError as exc:
            raise CommandError(" ".join(exc.message.split())) from exc
        except (DatabaseError, RedisError, Neo4jError, DriverError) as exc:
            raise CommandError(" ".join(f"{type(exc).__name__}: {exc}".split())) from exc
        finally:
            bar.close()
        if report is None:
            raise CommandError("another feed poll is running")
        if not quiet:
            self._summary(report)

    def _summary(self, report: FeedPollReport) -> None:
        """Write the closing paragraph."""
        where = (
            "reached the end of the feed"
            if report.reached_end
            else "stopped at the record limit (the rest waits for the next run)"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Read {report.records:,} records of the R2Z2 feed from sequence {report.start_sequence}; "
                f"{report.kills_recorded:,} new recent kills kept; {where}; the next run starts at sequence "
                f"{report.next_sequence}."
            )
        )
