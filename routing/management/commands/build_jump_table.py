"""``manage.py build_jump_table``: build the jump tables of the route-aware scans (as the Celery task does)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from neo4j.exceptions import DriverError, Neo4jError
from redis.exceptions import RedisError

from evesite.exceptions import DomainError
from routing.graph import MODES
from routing.jumps_build import jump_tables_build


class Command(BaseCommand):
    """Build the jump tables that do not match the graph and risk now (every one with ``--force``)."""

    help = (
        "Read the gate graph and its weights from Neo4j, compute routes between every pair of systems with an NPC "
        "station for each route mode (with and without the risk penalties) and store them in PostgreSQL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the options.

        Args:
            parser: The argument parser.
        """
        parser.add_argument("--mode", choices=MODES, action="append", help="only this mode (repeatable)")
        parser.add_argument(
            "--risk", choices=("with", "without", "both"), default="both", help="tables with avoid_risk, without, both"
        )
        parser.add_argument("--force", action="store_true", help="rebuild tables that match the graph too")
        parser.add_argument("--quiet", action="store_true", help="no progress and no summary")

    def handle(self, *args: Any, **options: Any) -> None:
        """Build and report.

        Args:
            *args: Unused.
            **options: Parsed options.

        Raises:
            CommandError: With a one-line message when a datastore (PostgreSQL, Redis, Neo4j) fails, or when
                another build is running.
        """
        quiet: bool = options["quiet"]
        risks = {"with": (True,), "without": (False,), "both": (False, True)}[options["risk"]]

        def progress(line: str) -> None:
            """Print one step."""
            if not quiet:
                self.stdout.write(line)

        try:
            reports = jump_tables_build(
                modes=tuple(options["mode"] or MODES), risks=risks, force=options["force"], progress=progress
            )
        except DomainError as exc:
            raise CommandError(" ".join(exc.message.split())) from exc
        except (DatabaseError, RedisError, Neo4jError, DriverError) as exc:
            raise CommandError(" ".join(f"{type(exc).__name__}: {exc}".split())) from exc
        if not reports:
            raise CommandError("Another jump table build is running; try again when it is done.")
        if not quiet:
            for r in reports:
                what = f"built in {r.seconds:.1f} s ({r.reason})" if r.built else r.reason
                self.stdout.write(
                    f"{r.mode:<9} avoid_risk={str(r.avoid_risk).lower():<5} {r.sources:>5} sources  {what}"
                )
            built = sum(1 for r in reports if r.built)
            self.stdout.write(self.style.SUCCESS(f"{built} of {len(reports)} jump tables built."))
