"""Benchmark: full SDE ingestion of ``<shared>/eve-sde`` into PostgreSQL and Neo4j, then a re-ingestion.

Targets (issue 3): each under 30 s on a 2-core machine. Prints seconds per
phase. Nothing of the user's is touched: the rows go into a scratch
PostgreSQL database (``<database>_bench_sde``, created, migrated and dropped
here) and the graph under a scratch node label (``BenchSolarSystem``),
deleted at the end.

Run: ``.venv/bin/python bench/bench_ingest.py`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from psycopg import sql  # noqa: E402

from evesite.graph import graph_query  # noqa: E402
from evesite.testing.scratchdb import default_conninfo, scratch_database_drop  # noqa: E402
from universe.graph import graph_counts  # noqa: E402
from universe.ingest.report import IngestReport  # noqa: E402
from universe.services import sde_ingest  # noqa: E402

LABEL = "BenchSolarSystem"
TARGET_SECONDS = 30.0


def _drop(name: str) -> None:
    """Drop a scratch database when it exists.

    Args:
        name: Database name.
    """
    scratch_database_drop(conninfo=default_conninfo(), name=name)


def _create(name: str) -> None:
    """Create an empty scratch database.

    Args:
        name: Database name.
    """
    _drop(name)
    with psycopg.connect(**default_conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _clear_graph() -> None:
    """Delete the scratch label's nodes and its constraint."""
    graph_query(f"MATCH (n:{LABEL}) CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 5000 ROWS")
    graph_query(f"DROP CONSTRAINT constraint_unique_{LABEL}_system_id IF EXISTS")


def _show(title: str, report: IngestReport, wall: float) -> None:
    """Print one run's figures.

    Args:
        title: Run name.
        report: The ingestion's report.
        wall: Seconds the call took.
    """
    verdict = "OK" if wall < TARGET_SECONDS else "OVER TARGET"
    print(f"{title}: {wall:.1f} s wall (target < {TARGET_SECONDS:.0f} s: {verdict})")
    for phase, seconds in report.seconds.items():
        print(f"    {phase:<14} {seconds:6.2f} s")
    changed = sum(report.changed.values())
    deleted = sum(report.deleted.values())
    print(
        f"    rows {sum(report.rows.values()):,} (changed {changed:,}, removed {deleted:,}); "
        f"graph {report.graph_nodes:,} nodes / {report.graph_relationships:,} rels, "
        f"{report.graph_written:,} written, matches PostgreSQL: {report.graph_matches}; "
        f"reachable from Jita {report.reachable_from_jita:,}"
    )


def main() -> None:
    """Run the cold ingestion and the unchanged re-ingestion, print figures, clean up."""
    dump = Path(settings.EVE_SHARED_DIR) / "eve-sde"
    original = connection.settings_dict["NAME"]
    scratch = f"{original}_bench_sde"
    print(f"bench_ingest: {dump} -> database {scratch}, Neo4j label {LABEL}; load average {os.getloadavg()}")
    _create(scratch)
    connection.close()
    connection.settings_dict["NAME"] = scratch
    try:
        call_command("migrate", verbosity=0)
        _clear_graph()
        started = time.perf_counter()
        cold = sde_ingest(source=dump, graph_label=LABEL)
        _show("full ingestion (empty PostgreSQL and graph)", cold, time.perf_counter() - started)
        started = time.perf_counter()
        warm = sde_ingest(source=dump, graph_label=LABEL)
        _show("re-ingestion of unchanged data", warm, time.perf_counter() - started)
        assert graph_counts(LABEL) == (8437, 13776), "the scratch graph does not hold the shared SDE"
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original
        _clear_graph()
        _drop(scratch)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
