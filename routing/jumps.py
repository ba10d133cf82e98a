"""Reads of the jump tables: the graph and risk state, the tables that match it, and routes for a scan.

A scan that needs jumps for many system pairs asks :func:`jump_view_prepare`
with the pairs' systems. Pairs between systems of a stored table (every system
with an NPC station) are read from it when it matches the state; the others,
and every pair when ``avoid`` is given or the table is missing or outdated, are
computed on the fly from just the needed sources (at most
``ROUTING_JUMPS_MAX_TREES`` per request) into temporary tables of the same
shape. Both are joined by the scan's SQL (see :mod:`market.haul_sql`). The
routes of a few pairs (the rows a scan answers, a profit breakdown's pair) are
in :mod:`routing.jumps_pairs`.

State: the graph's fingerprint is kept in Redis (``JUMP_GRAPH_KEY``) for
``ROUTING_JUMPS_STATE_SECONDS`` (the ingestion hook and a write of the weights
forget it, every build refreshes it; a miss reads the graph once, ~13,800
gates); the risk fingerprint is read on every call (one small Cypher read of
the flagged systems).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from evesite.exceptions import InvalidInputError, ServiceUnavailableError
from evesite.graph import graph_query
from routing import graph
from routing.cache import JUMP_GRAPH_KEY, routing_redis
from routing.jumps_graph import (
    UNREACHABLE,
    Trees,
    WeightedGraph,
    risk_key_of,
    risk_read_query,
    trees_compute,
    weighted_graph_cached,
    weighted_graph_keep,
)
from routing.models import JumpTable
from universe.models import Station

# The temporary tables of on-the-fly routes (dropped at the end of the scan's transaction).
TEMP_SOURCES = "haul_jsrc"
TEMP_TARGETS = "haul_jtgt"


@dataclass(frozen=True)
class JumpState:
    """The graph and risk state now (fingerprints, see :mod:`routing.jumps_graph`)."""

    label: str
    graph_key: str
    risk_key: str


def state_remember(g: WeightedGraph) -> None:
    """Keep a graph just read: its fingerprint in Redis and the graph in this process.

    Args:
        g: The graph.
    """
    weighted_graph_keep(g)
    ttl = max(1, int(settings.ROUTING_JUMPS_STATE_SECONDS))
    routing_redis().set(JUMP_GRAPH_KEY.format(label=g.label), g.graph_key, ex=ttl)


def jump_state_current() -> JumpState:
    """Return the graph and risk state now.

    Returns:
        The state.
    """
    label = graph.graph_label()
    kept = routing_redis().get(JUMP_GRAPH_KEY.format(label=label))
    if kept is None:
        g = weighted_graph_cached(label=label, graph_key=None, risk_key=None)
        state_remember(g)
        return JumpState(label=label, graph_key=g.graph_key, risk_key=g.risk_key)
    rows = graph_query(risk_read_query(label), timeout=float(settings.NEO4J_QUERY_TIMEOUT_SECONDS))
    graph_key = kept.decode() if isinstance(kept, bytes) else str(kept)
    return JumpState(label=label, graph_key=graph_key, risk_key=risk_key_of(rows[0]["risk"] if rows else []))


def jump_station_systems(*, g: WeightedGraph) -> list[int]:
    """List the routed systems that have an NPC station (the sources and targets of the stored tables).

    Args:
        g: The graph.

    Returns:
        System ids, ascending.
    """
    return sorted(g.known(set(Station.objects.values_list("system_id", flat=True))))


def jump_tables_current(*, label: str) -> dict[tuple[str, bool], JumpTable]:
    """Return the stored tables of a graph label by (mode, avoid_risk).

    Args:
        label: Graph label.

    Returns:
        The tables.
    """
    return {(t.mode, t.avoid_risk): t for t in JumpTable.objects.filter(label=label)}


def _usable(table: JumpTable | None, state: JumpState) -> bool:
    """Whether a table's routes hold in this state (a plain table's routes do not depend on the risk)."""
    if table is None or table.graph_key != state.graph_key:
        return False
    return not table.avoid_risk or table.risk_key == state.risk_key


def jump_tables_stale(*, state: JumpState, label: str | None = None) -> bool:
    """Tell whether a table is missing or outdated (see :mod:`routing.jumps_build` for when it is rebuilt).

    Args:
        state: The state now.
        label: Graph label (the state's by default).

    Returns:
        True when a rebuild is due.
    """
    tables = jump_tables_current(label=label or state.label)
    old = timezone.now() - timedelta(seconds=float(settings.ROUTING_JUMPS_RISK_SUMMARY_SECONDS))
    for mode in graph.MODES:
        for avoid_risk in (False, True):
            table = tables.get((mode, avoid_risk))
            if not _usable(table, state):
                return True
            if table is not None and table.risk_key != state.risk_key and table.built_at < old:
                return True  # a plain table's max_risk is old
    return False


@dataclass(frozen=True)
class JumpView:
    """Where a scan's SQL finds the routes of its pairs.

    ``table_id``: the stored table for pairs between its systems (None: none is used). ``temp``: the
    temporary tables ``haul_jsrc``/``haul_jtgt`` hold the other pairs. ``origin_systems``/``origin_jumps``:
    jumps from the origin to each from-system (None without origin). ``risk_fresh``: the stored table's
    ``max_risk`` is current (else the answered rows are recomputed with
    :func:`routing.jumps_pairs.jump_risk_recompute`).
    """

    mode: str
    avoid_risk: bool
    avoid: tuple[int, ...]
    table_id: int | None
    temp: bool
    origin_systems: list[int] | None
    origin_jumps: list[int] | None
    risk_fresh: bool
    trees: int


def _graph(state: JumpState) -> WeightedGraph:
    """This process's copy of the graph in (at least) this state."""
    return weighted_graph_cached(label=state.label, graph_key=state.graph_key, risk_key=state.risk_key)


def _temp_write(cursor: Any, trees: Trees, targets: list[int]) -> None:
    """Write on-the-fly routes into the temporary tables (dropped at commit)."""
    cursor.execute(
        f"CREATE TEMP TABLE {TEMP_SOURCES} (system_id bigint PRIMARY KEY, jumps smallint[], "
        "min_security float8[], high_sec smallint[], low_sec smallint[], null_sec smallint[], max_risk smallint[]) "
        "ON COMMIT DROP"
    )
    cursor.execute(f"CREATE TEMP TABLE {TEMP_TARGETS} (system_id bigint PRIMARY KEY, idx int) ON COMMIT DROP")
    raw = cursor.cursor
    with raw.copy(f"COPY {TEMP_TARGETS} (system_id, idx) FROM STDIN") as copy:
        for idx, system_id in enumerate(targets, start=1):
            copy.write_row((system_id, idx))
    with raw.copy(
        f"COPY {TEMP_SOURCES} (system_id, jumps, min_security, high_sec, low_sec, null_sec, max_risk) FROM STDIN"
    ) as copy:
        for i, system_id in enumerate(trees.sources):
            security = [None if math.isnan(v) else v for v in trees.min_security[i].tolist()]
            copy.write_row(
                (
                    system_id,
                    trees.jumps[i].tolist(),
                    security,
                    trees.high[i].tolist(),
                    trees.low[i].tolist(),
                    trees.null[i].tolist(),
                    trees.max_risk[i].tolist(),
                )
            )
    cursor.execute(f"ANALYZE {TEMP_SOURCES}")
    cursor.execute(f"ANALYZE {TEMP_TARGETS}")


def _origin_jumps(
    cursor: Any,
    *,
    state: JumpState,
    table: JumpTable | None,
    weight: str,
    origin: int,
    froms: list[int],
    avoid: tuple,
) -> tuple[list[int], list[int], int]:
    """Jumps from the origin to each from-system: from the stored row when it covers them, else one tree."""
    covered = set(table.systems) if table is not None else set()
    if table is not None and origin in covered and covered.issuperset(froms) and not avoid:
        cursor.execute(
            "SELECT jumps FROM routing_jumpsource WHERE table_id = %s AND system_id = %s", [table.pk, origin]
        )
        row = cursor.fetchone()
        if row is not None:
            index = {s: i for i, s in enumerate(table.systems)}
            return froms, [int(row[0][index[f]]) for f in froms], 0
    g = _graph(state)
    known = sorted(g.known(froms))
    if origin not in g.known([origin]) or not known:
        return froms, [UNREACHABLE] * len(froms), 0
    trees = trees_compute(g=g, weight=weight, sources=[origin], targets=known, avoid=set(avoid) - {origin})
    by_target = dict(zip(known, trees.jumps[0].tolist(), strict=True))
    return froms, [int(by_target.get(f, UNREACHABLE)) for f in froms], 1


def jump_view_prepare(
    *,
    cursor: Any,
    state: JumpState,
    mode: str,
    avoid_risk: bool,
    avoid: Collection[int],
    origin: int | None,
    targets_by_source: Mapping[int, Collection[int]],
) -> JumpView:
    """Decide where each pair's route comes from, computing the missing ones into temporary tables.

    Args:
        cursor: The scan's cursor (its transaction holds the temporary tables).
        state: The state now (:func:`jump_state_current`).
        mode: Route mode.
        avoid_risk: Whether risk penalties count.
        avoid: Systems never entered (except as the last system of a route).
        origin: Origin system (None: none).
        targets_by_source: The scan's pairs: to-systems by from-system.

    Returns:
        The view for the SQL.

    Raises:
        InvalidInputError: When ``avoid`` needs more trees than ``ROUTING_JUMPS_MAX_TREES``.
        ServiceUnavailableError: When the stored table is missing or outdated and the pairs need more trees
            than that (a rebuild is queued by the caller; try again shortly).
    """
    weight = graph.weight_property(mode=mode, avoid_risk=avoid_risk)
    avoid_ids = tuple(sorted(set(avoid)))
    table = None
    if not avoid_ids:
        table = JumpTable.objects.filter(label=state.label, mode=mode, avoid_risk=avoid_risk).first()
        table = table if _usable(table, state) else None
    covered = set(table.systems) if table is not None else set()
    needed: dict[int, set[int]] = {}
    for source, targets in targets_by_source.items():
        missing = set(targets) if source not in covered else set(targets) - covered
        if missing:
            needed[source] = missing
    cap = int(settings.ROUTING_JUMPS_MAX_TREES)
    if len(needed) > cap:
        if avoid_ids:
            raise InvalidInputError(
                f"With avoid, routes are computed per request: this scan needs routes from {len(needed)} systems, "
                f"at most {cap} are allowed. Scan one region, or leave avoid out.",
                field="avoid",
            )
        raise ServiceUnavailableError(
            f"The {mode} jump table is being rebuilt for the current graph and risk, and this scan needs routes "
            f"from {len(needed)} systems (at most {cap} are computed per request). Try again in a minute.",
            headers={"Retry-After": "60"},
        )
    trees_used = 0
    if needed:
        g = _graph(state)
        sources = sorted(g.known(needed))
        targets = sorted(g.known(set().union(*needed.values())))
        trees = trees_compute(g=g, weight=weight, sources=sources, targets=targets, avoid=avoid_ids)
        _temp_write(cursor, trees, targets)
        trees_used = len(sources)
    origin_systems = origin_jumps = None
    if origin is not None:
        froms = sorted(targets_by_source)
        origin_systems, origin_jumps, extra = _origin_jumps(
            cursor, state=state, table=table, weight=weight, origin=origin, froms=froms, avoid=avoid_ids
        )
        trees_used += extra
    return JumpView(
        mode=mode,
        avoid_risk=avoid_risk,
        avoid=avoid_ids,
        table_id=table.pk if table is not None else None,
        temp=bool(needed),
        origin_systems=origin_systems,
        origin_jumps=origin_jumps,
        risk_fresh=table is None or table.risk_key == state.risk_key,
        trees=trees_used,
    )
