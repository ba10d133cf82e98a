"""Writes of the universe app: SDE ingestion into PostgreSQL and the gate graph into Neo4j.

:func:`sde_ingest` is all or nothing. Inside one PostgreSQL transaction it
streams each needed table of the dump (any registered format) through the
value normalisers into a temporary staging table with ``COPY``, checks the
references between tables, then upserts changed rows and deletes rows the
dump no longer has. Still inside that transaction it replaces the Neo4j gate
graph in one Neo4j transaction (:mod:`universe.graph_ingest`, through the
models of :mod:`universe.graph`) and checks that the graph holds exactly the
systems and directed jumps of PostgreSQL; only then
does Neo4j commit, and PostgreSQL after it. Any failure before that point
rolls both back, so a bad dump changes nothing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db import utils as db_errors
from neo4j.exceptions import Neo4jError, ServiceUnavailable

from evesite.exceptions import ServiceUnavailableError
from universe.graph import SYSTEM_LABEL, graph_label_check
from universe.graph_ingest import GraphReport, graph_replace
from universe.ingest.postgres import tables_load
from universe.ingest.report import IngestProgress, IngestReport
from universe.ingest.rows import table_lookup
from universe.ingest.specs import REQUIRED_TABLES
from universe.sde.sources import DumpFormatError, dump_find_latest, open_dump
from universe.signals import graph_replaced


def _resolve_source(source: Path | None) -> Path:
    """Pick the dump: ``source``, else the newest in ``EVE_DATA_DIR`` (DumpFormatError when none)."""
    if source is not None:
        return Path(source)
    data_dir = Path(settings.EVE_DATA_DIR)
    found = dump_find_latest(data_dir)
    if found is None:
        raise DumpFormatError(f"{data_dir}: no SDE dump found (put a Fuzzwork dump there or use --source)")
    return found


def search_names_refresh() -> None:
    """Rebuild the name search's view (``universe_searchname``) from the universe tables.

    The ingestion calls it; so does anything else that changes type, system, station or region names.
    Inside a transaction it is part of it (and holds the view's lock until the commit).
    """
    with connection.cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW universe_searchname")


def sde_ingest(
    *,
    source: Path | None = None,
    quiet: bool = True,
    out: IO[str] | None = None,
    graph_label: str = SYSTEM_LABEL,
) -> IngestReport:
    """Ingest an SDE dump into PostgreSQL and the gate graph into Neo4j, all or nothing.

    Args:
        source: Dump file or folder; None takes the newest dump in ``EVE_DATA_DIR``.
        quiet: Draw no progress bars.
        out: Stream for progress bars (drawn only when it is a terminal).
        graph_label: Node label of the systems; only benchmarks use another (a scratch graph).

    Returns:
        Rows per table, graph counts, reachability from Jita, seconds per phase.

    Raises:
        DumpFormatError: On a missing, unknown, damaged, incomplete or inconsistent dump.
        ServiceUnavailableError: When Neo4j cannot be reached.
    """
    graph_label_check(graph_label)
    path = _resolve_source(source)
    progress = IngestProgress(out, quiet)
    started = time.perf_counter()
    dump = open_dump(path)
    try:
        report = IngestReport(source=str(path), format=type(dump).__name__)
        report.seconds["open"] = time.perf_counter() - started
        tables = table_lookup(dump)
        missing = [t for t in REQUIRED_TABLES if t.lower() not in tables]
        if missing:
            raise DumpFormatError(f"{path}: missing table{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        try:
            with transaction.atomic():
                tables_load(dump, tables, report, progress)
                # Before the graph, whose Neo4j commit is the point of no return; searches wait for the commit.
                # Names change only with rows: an unchanged dump keeps the view (its rebuild takes seconds).
                if any(report.changed.values()) or any(report.deleted.values()):
                    refreshing = time.perf_counter()
                    search_names_refresh()
                    report.seconds["search"] = time.perf_counter() - refreshing
                _graph_replace(report, progress, graph_label)
                committing = time.perf_counter()
            report.seconds["commit"] = time.perf_counter() - committing
        except (psycopg.OperationalError, db_errors.OperationalError) as exc:
            detail = " ".join(str(exc).split())
            raise ServiceUnavailableError(f"PostgreSQL failed ({detail}); nothing was changed") from exc
        except (psycopg.Error, db_errors.DatabaseError) as exc:
            raise DumpFormatError(f"{path}: rejected by PostgreSQL ({' '.join(str(exc).split())})") from exc
        except ServiceUnavailable as exc:
            raise ServiceUnavailableError(f"Neo4j is unreachable ({exc}); nothing was changed") from exc
        except Neo4jError as exc:
            raise DumpFormatError(f"{path}: Neo4j refused the graph ({exc}); nothing was changed") from exc
        return report
    finally:
        dump.close()


def sde_graph_rebuild(
    *, quiet: bool = True, out: IO[str] | None = None, graph_label: str = SYSTEM_LABEL
) -> IngestReport:
    """Rebuild the Neo4j gate graph from the systems and jumps already in PostgreSQL.

    Useful after Neo4j lost its data; the same checks as after an ingestion apply.

    Args:
        quiet: Draw no progress bars.
        out: Stream for progress bars (drawn only when it is a terminal).
        graph_label: Node label of the systems; only benchmarks use another.

    Returns:
        Graph counts, the match check, reachability from Jita and seconds (no table rows).

    Raises:
        ServiceUnavailableError: When Neo4j cannot be reached.
        DumpFormatError: When the graph written does not match PostgreSQL.
    """
    report = IngestReport(source="PostgreSQL", format="graph only")
    try:
        with transaction.atomic():
            _graph_replace(report, IngestProgress(out, quiet), graph_label_check(graph_label))
    except ServiceUnavailable as exc:
        raise ServiceUnavailableError(f"Neo4j is unreachable ({exc}); nothing was changed") from exc
    return report


def _graph_replace(report: IngestReport, progress: IngestProgress, label: str) -> None:
    """Replace the gate graph (:func:`universe.graph_ingest.graph_replace`); copy its figures into the report."""
    graph: GraphReport = graph_replace(label=label, bar=progress.bar)
    transaction.on_commit(lambda: graph_replaced.send(sender=None, label=label))
    report.graph_nodes = graph.nodes
    report.graph_relationships = graph.relationships
    report.graph_written = graph.written
    report.graph_removed = graph.removed
    report.graph_matches = graph.matches
    report.reachable_from_jita = graph.reachable_from_jita
    report.seconds.update(graph.seconds)
