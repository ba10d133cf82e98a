"""``manage.py route ORIGIN DESTINATION [--mode secure] [--avoid A,B] [--ignore-risk]``: print a route as a table."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evesite.exceptions import DomainError
from routing.graph import MODES, graph_label, graph_model
from routing.services import route_find


class Command(BaseCommand):
    """Print a route (system, security, region, risk) computed in Neo4j."""

    help = "Print a route between two systems as a table: system, security, region, risk."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Declare the arguments.

        Args:
            parser: The argument parser.
        """
        parser.add_argument("origin", help="System id or name (case-insensitive).")
        parser.add_argument("destination", help="System id or name (case-insensitive).")
        parser.add_argument("--mode", choices=MODES, default="shortest")
        parser.add_argument("--avoid", default="", help="Comma-separated systems never entered.")
        parser.add_argument("--ignore-risk", action="store_true", help="Leave kill-risk penalties out.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Check the graph, find the route, print it.

        Args:
            *args: Unused.
            **options: Parsed arguments.

        Raises:
            CommandError: When the graph is empty, a system is unknown, or there is no route.
        """
        if graph_model().nodes.first_or_none() is None:
            raise CommandError(f"The gate graph (:{graph_label()}) is empty: run `manage.py ingest_data` first.")
        try:
            route = route_find(
                origin=options["origin"],
                destination=options["destination"],
                mode=options["mode"],
                avoid=[a.strip() for a in options["avoid"].split(",") if a.strip()],
                avoid_risk=not options["ignore_risk"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        rows = [("#", "system", "security", "region", "risk")]
        for index, system in enumerate(route.systems):
            risk = system.risk or "-"
            if system.risk_reasons:
                risk += f" ({'; '.join(system.risk_reasons)})"
            rows.append((str(index), system.name, f"{system.security_display:.1f}", system.region or "-", risk))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for number, row in enumerate(rows):
            line = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
            self.stdout.write(self.style.MIGRATE_HEADING(line) if number == 0 else line)
        self.stdout.write(
            self.style.SUCCESS(
                f"{route.origin.name} -> {route.destination.name}: {route.jumps} jumps ({route.mode}"
                + (", avoiding risk" if route.avoid_risk else "")
                + ")"
            )
        )
