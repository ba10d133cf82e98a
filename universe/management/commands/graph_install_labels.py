"""``manage.py graph_install_labels``: install the gate graph's constraints and indexes from its neomodel models."""

from __future__ import annotations

import io
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from neo4j.exceptions import Neo4jError, ServiceUnavailable

from universe.graph import SYSTEM_LABEL, graph_schema_install


class Command(BaseCommand):
    """neomodel's ``install_labels`` for ``universe.graph.SolarSystem`` (idempotent)."""

    help = (
        "Install the Neo4j constraints and indexes the gate graph's models declare (universe.graph), "
        "with neomodel's install_labels. Safe to run again; ingest_data and migrate run it too."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        """Install and report.

        Args:
            *args: Unused.
            **options: Parsed options.

        Raises:
            CommandError: With one line when Neo4j is unreachable or refuses.
        """
        report = io.StringIO()
        try:
            graph_schema_install(out=report)
        except ServiceUnavailable as exc:
            raise CommandError(f"Neo4j is unreachable ({exc})") from exc
        except Neo4jError as exc:
            raise CommandError(f"Neo4j refused the constraints ({' '.join(str(exc).split())})") from exc
        if report.getvalue().strip():
            self.stdout.write(report.getvalue().rstrip())
        self.stdout.write(self.style.SUCCESS(f"Graph schema of :{SYSTEM_LABEL} installed."))
