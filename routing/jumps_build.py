"""Writes of the jump tables: build them from the graph, rebuild them when the graph or the risk changed.

A build reads the graph once (:func:`routing.jumps_graph.weighted_graph_read`:
systems, gates and their six weights, in one Cypher statement), computes the
trees from every station system (SDE stations) with scipy, and replaces each
table's rows in one PostgreSQL transaction (binary ``COPY``). Readers run their scans
in ``REPEATABLE READ`` transactions, so they see a whole table, old or new.

When to rebuild (:func:`jump_tables_refresh`): a table whose ``graph_key``
differs from the graph's is rebuilt; a risk table (``avoid_risk``) whose
``risk_key`` differs is rebuilt (its routes depend on the risk); a plain table
whose ``risk_key`` differs keeps its routes (the plain weights do not depend on
the risk) and only its ``max_risk`` is old: it is rebuilt once older than
``ROUTING_JUMPS_RISK_SUMMARY_SECONDS``, and readers recompute ``max_risk`` of the
rows they answer meanwhile (:func:`routing.jumps_pairs.jump_risk_recompute`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from evesite.pgbinary import COPY_BINARY_HEADER, COPY_BINARY_TRAILER, array_bytes, copy_binary_tuple, int8_bytes
from routing import graph
from routing.cache import JUMP_GRAPH_KEY, RISK_FRESH_KEY, WEIGHTS_OK_KEY, routing_redis
from routing.jumps import (
    jump_state_current,
    jump_station_systems,
    jump_tables_current,
    jump_tables_stale,
    state_remember,
)
from routing.jumps_graph import WeightedGraph, trees_compute, weighted_graph_forget, weighted_graph_read
from routing.models import JumpTable
from routing.services import route_weights_complete

logger = logging.getLogger("routing")

BUILD_LOCK_KEY = "routing:{label}:jumps_build"
QUEUED_KEY = "routing:{label}:jumps_queued"
BUILD_LOCK_SECONDS = 1800
# routing.tasks.jump_tables_build, queued by name (services do not import tasks).
BUILD_TASK = "routing.jump_tables_build"


@dataclass(frozen=True)
class JumpBuildReport:
    """What one table's build did."""

    mode: str
    avoid_risk: bool
    built: bool
    sources: int
    seconds: float
    reason: str


def _table_write(
    *, g: WeightedGraph, mode: str, avoid_risk: bool, systems: list[int], progress: Callable[[str], None] | None
) -> int:
    """Compute one table's trees and replace its rows (one transaction). Returns the number of sources."""
    weight = graph.weight_property(mode=mode, avoid_risk=avoid_risk)
    trees = trees_compute(g=g, weight=weight, sources=systems, targets=systems)
    with transaction.atomic():
        table, _ = JumpTable.objects.select_for_update().get_or_create(
            label=g.label,
            mode=mode,
            avoid_risk=avoid_risk,
            defaults={"graph_key": g.graph_key, "risk_key": g.risk_key},
        )
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM routing_jumpsource WHERE table_id = %s", [table.pk])
            cursor.execute("DELETE FROM routing_jumptarget WHERE table_id = %s", [table.pk])
            raw = cursor.cursor
            with raw.copy("COPY routing_jumptarget (table_id, system_id, idx) FROM STDIN") as copy:
                for idx, system_id in enumerate(systems, start=1):
                    copy.write_row((table.pk, system_id, idx))
            columns = "table_id, system_id, jumps, min_security, high_sec, low_sec, null_sec, max_risk"
            with raw.copy(f"COPY routing_jumpsource ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(COPY_BINARY_HEADER)
                for i, system_id in enumerate(systems):
                    arrays = [array_bytes(trees.jumps[i], "i2"), array_bytes(trees.min_security[i], "f8")]
                    arrays += [array_bytes(a[i], "i2") for a in (trees.high, trees.low, trees.null, trees.max_risk)]
                    copy.write(copy_binary_tuple([int8_bytes(table.pk), int8_bytes(system_id), *arrays]))
                copy.write(COPY_BINARY_TRAILER)
        table.graph_key, table.risk_key = g.graph_key, g.risk_key
        table.systems, table.sources = systems, len(systems)
        table.save()
    if progress:
        progress(f"{mode}{' +risk' if avoid_risk else ''}: {len(systems)} sources written")
    return len(systems)


def jump_tables_build(
    *,
    modes: Sequence[str] = graph.MODES,
    risks: Sequence[bool] = (False, True),
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[JumpBuildReport]:
    """Build the jump tables that do not match the graph and risk as they are now (idempotent).

    Args:
        modes: Route modes to build.
        risks: ``avoid_risk`` values to build.
        force: Rebuild even the tables that match.
        progress: Called with one line per step.

    Returns:
        One report per table considered (an empty list when another build holds the lock).
    """
    label = graph.graph_label()
    lock = routing_redis().lock(BUILD_LOCK_KEY.format(label=label), timeout=BUILD_LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        logger.info("Another jump table build of :%s is running: skipped", label)
        return []
    try:
        return _build_locked(label=label, modes=modes, risks=risks, force=force, progress=progress)
    finally:
        routing_redis().delete(QUEUED_KEY.format(label=label))
        lock.release()


def _why(table: JumpTable | None, g: WeightedGraph, systems: list[int], force: bool) -> str | None:
    """Why a table needs a build, or None when it matches the graph and risk (see the module's rules)."""
    if table is None:
        return "missing"
    if force:
        return "forced"
    if table.graph_key != g.graph_key or list(table.systems) != systems:
        return "graph changed"
    if table.risk_key != g.risk_key:
        if table.avoid_risk:
            return "risk changed"
        age = timedelta(seconds=float(settings.ROUTING_JUMPS_RISK_SUMMARY_SECONDS))
        if table.built_at < timezone.now() - age:
            return "risk summary old"
    return None


def _build_locked(
    *, label: str, modes: Sequence[str], risks: Sequence[bool], force: bool, progress: Callable[[str], None] | None
) -> list[JumpBuildReport]:
    """Build under the lock (see :func:`jump_tables_build`)."""
    route_weights_complete(label=label)  # a graph ingested since has gates without weights
    started = time.perf_counter()
    g = weighted_graph_read(label=label)
    state_remember(g)
    systems = jump_station_systems(g=g)
    if progress:
        progress(
            f"graph :{label} read in {time.perf_counter() - started:.1f} s: {len(g.ids)} systems, "
            f"{len(g.gate_from)} gates, {len(systems)} station systems"
        )
    tables = jump_tables_current(label=label)
    reports = []
    for mode in modes:
        graph.weight_property(mode=mode, avoid_risk=False)  # checks the mode
        for avoid_risk in risks:
            reason = _why(tables.get((mode, avoid_risk)), g, systems, force)
            if reason is None:
                reports.append(JumpBuildReport(mode, avoid_risk, False, len(systems), 0.0, "up to date"))
                continue
            begun = time.perf_counter()
            sources = _table_write(g=g, mode=mode, avoid_risk=avoid_risk, systems=systems, progress=progress)
            seconds = time.perf_counter() - begun
            JumpTable.objects.filter(label=label, mode=mode, avoid_risk=avoid_risk).update(seconds=seconds)
            logger.info(
                "Jump table %s avoid_risk=%s of :%s built (%s) in %.1f s", mode, avoid_risk, label, reason, seconds
            )
            reports.append(JumpBuildReport(mode, avoid_risk, True, sources, seconds, reason))
    return reports


def jump_tables_refresh() -> list[JumpBuildReport]:
    """Rebuild the tables the graph or risk has outdated (cheap when none is: one small risk read).

    Returns:
        The reports (nothing built when every table matches).
    """
    label = graph.graph_label()
    state = jump_state_current()
    if not jump_tables_stale(state=state, label=label):
        return []
    return jump_tables_build()


def jump_tables_graph_replaced(*, label: str) -> None:
    """Forget the graph's fingerprint, checks and this process's copy, and queue a rebuild (the ingestion's hook).

    Readers then read the graph again on their next call and see that no table matches it; the next route or
    scan writes the new gates' weights and risk at once, not when the last checks' keys expire.

    Args:
        label: The graph label that was replaced.
    """
    routing_redis().delete(*(key.format(label=label) for key in (JUMP_GRAPH_KEY, WEIGHTS_OK_KEY, RISK_FRESH_KEY)))
    weighted_graph_forget()
    jump_tables_rebuild_queue(label=label, force=True)


def jump_tables_rebuild_queue(*, label: str | None = None, force: bool = False) -> bool:
    """Queue one rebuild task (not again while one is queued: ``QUEUED_KEY``, at most one per minute).

    Args:
        label: The graph label (the setting's by default).
        force: Queue even when one is queued.

    Returns:
        Whether a task was queued.
    """
    label = label or graph.graph_label()
    key = QUEUED_KEY.format(label=label)
    if not routing_redis().set(key, "1", nx=True, ex=60) and not force:
        return False
    current_app.send_task(BUILD_TASK)
    return True
