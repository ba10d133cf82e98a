"""The weighted gate graph, read from Neo4j in one query, and shortest-path trees over it (scipy).

Neo4j Community with APOC has no all-pairs weighted search, so the jump tables
are computed here: the gates and their Dijkstra weights (``w_<mode>`` and
``wr_<mode>``, defined and written by :mod:`routing.graph`) are read in one
Cypher statement, and :func:`scipy.sparse.csgraph.dijkstra` runs from many
sources at once. Per (source, target) the route of the source's shortest-path
tree is summarised as :class:`routing.summary.RouteSummary` counts it: jumps,
lowest security, high/low/null-sec jumps and the worst risk, over the systems
entered.

Ties: when several routes share the least weight, the one taken is the path
of scipy's shortest-path tree (the predecessor Dijkstra settled first, a fixed
result for a given graph). Every number of a pair (jumps, security counts,
risk) describes that one route, so ``jumps`` is always the jump count of a
minimum-weight route. With ``avoid``, an avoided system may still be the last
system of a route (as ``GET /api/routes/`` allows it as the destination): it is
reached through its cheapest gate (the first, by system index, on a tie).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings

from evesite.graph import graph_query
from routing import graph
from universe.graph import GATE_TYPE, SolarSystem, db_name
from universe.security import HIGH_SEC_MIN

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

# Risk levels as small integers (0 = none): the order of routing.summary's risk_max.
RISK_NAMES: tuple[str | None, ...] = (None, "elevated", "high", "critical")
RISK_RANK: dict[str | None, int] = {name: rank for rank, name in enumerate(RISK_NAMES)}
UNREACHABLE = -1
# Sources per block of the vectorised tree walk (bounds memory: about 80 bytes per source and system;
# small blocks stay in the CPU cache).
SOURCE_BLOCK = 64

_ID = db_name(SolarSystem.system_id)
_SECURITY = db_name(SolarSystem.security)
_LEVEL = db_name(SolarSystem.risk_level)
_PENALTY = db_name(SolarSystem.risk_penalty)
# Weight properties in a fixed order (the order of routing.graph.WEIGHTS).
WEIGHT_NAMES: tuple[str, ...] = tuple(graph.WEIGHTS.values())
_PLAIN_WEIGHTS: tuple[str, ...] = tuple(graph.WEIGHTS[(mode, False)] for mode in graph.MODES)


def graph_read_query(label: str) -> str:
    """Cypher reading every system and every gate with its six weights, as parallel lists, in one statement.

    Args:
        label: Label of the routed systems.

    Returns:
        The statement (parameter ``$missing``: the weight of a gate that lacks one).
    """
    weights = ", ".join(f"collect(coalesce(r.{name}, $missing)) AS {name}" for name in WEIGHT_NAMES)
    return f"""
    CALL () {{
        MATCH (n:`{label}`)
        RETURN collect(n.{_ID}) AS ids, collect(coalesce(n.{_SECURITY}, 0.0)) AS security,
               collect(coalesce(n.{_LEVEL}, '')) AS levels, collect(coalesce(n.{_PENALTY}, 0.0)) AS penalties
    }}
    CALL () {{
        MATCH (a:`{label}`)-[r:`{GATE_TYPE}`]->(b:`{label}`)
        RETURN collect(a.{_ID}) AS a, collect(b.{_ID}) AS b, {weights}
    }}
    RETURN ids, security, levels, penalties, a, b, {", ".join(WEIGHT_NAMES)}
    """


def risk_read_query(label: str) -> str:
    """Cypher listing the systems whose risk changes weights or summaries (level or penalty set).

    Args:
        label: Label of the routed systems.

    Returns:
        The statement, returning one row with ``risk`` = ``[[id, level, penalty], ...]``.
    """
    return (
        f"MATCH (n:`{label}`) WHERE n.{_LEVEL} IS NOT NULL OR n.{_PENALTY} > 0 "
        f"RETURN collect([n.{_ID}, n.{_LEVEL}, n.{_PENALTY}]) AS risk"
    )


def risk_key_of(rows: Sequence[Sequence[Any]]) -> str:
    """Fingerprint the risk state: flagged systems with their level and penalty.

    Args:
        rows: ``[id, level, penalty]`` per flagged system, in any order.

    Returns:
        A short hex digest (the same risk gives the same key).
    """
    text = ";".join(f"{int(i)}:{lvl or ''}:{float(p or 0.0)!r}" for i, lvl, p in sorted(rows, key=lambda r: int(r[0])))
    return hashlib.sha1(text.encode()).hexdigest()[:20]  # noqa: S324 - a fingerprint, not a secret


@dataclass(frozen=True)
class WeightedGraph:
    """Every routed system (sorted by id) and every gate with its weights, as arrays."""

    label: str
    ids: np.ndarray  # int64, sorted
    security: np.ndarray  # float64, raw SDE security
    risk: np.ndarray  # int8, RISK_RANK of each system's level
    gate_from: np.ndarray  # int64 index of each gate's system
    gate_to: np.ndarray
    weights: dict[str, np.ndarray]  # property -> float64 weight per gate
    graph_key: str  # fingerprint of systems, securities, gates and plain weights
    risk_key: str  # fingerprint of the risk (levels and penalties)

    def index(self, system_ids: Sequence[int]) -> np.ndarray:
        """Return the indices of systems (all must be in the graph).

        Args:
            system_ids: System ids.

        Returns:
            Their positions in :attr:`ids`.

        Raises:
            KeyError: When one is not in the graph.
        """
        wanted = np.asarray(system_ids, dtype=np.int64)
        found = np.searchsorted(self.ids, wanted)
        found = np.minimum(found, max(len(self.ids) - 1, 0))
        if len(wanted) and (len(self.ids) == 0 or not np.array_equal(self.ids[found], wanted)):
            missing = sorted(set(wanted.tolist()) - set(self.ids.tolist()))
            raise KeyError(missing)
        return found

    def known(self, system_ids: Collection[int]) -> set[int]:
        """Return which of some systems the graph holds."""
        return set(system_ids) & set(self.ids.tolist())


def weighted_graph_read(*, label: str | None = None) -> WeightedGraph:
    """Read the routed graph with one Cypher statement and fingerprint it.

    Args:
        label: Graph label (``ROUTING_GRAPH_LABEL`` by default).

    Returns:
        The graph.
    """
    label = label or graph.graph_label()
    row = graph_query(graph_read_query(label), {"missing": graph.MISSING_WEIGHT})[0]
    raw_ids = np.asarray(row["ids"], dtype=np.int64)
    order = np.argsort(raw_ids, kind="stable")
    ids = raw_ids[order]
    security = np.asarray(row["security"], dtype=np.float64)[order]
    levels = [row["levels"][i] or None for i in order.tolist()]
    risk = np.asarray([RISK_RANK.get(level, 0) for level in levels], dtype=np.int8)
    gate_from = np.searchsorted(ids, np.asarray(row["a"], dtype=np.int64))
    gate_to = np.searchsorted(ids, np.asarray(row["b"], dtype=np.int64))
    weights = {name: np.asarray(row[name], dtype=np.float64) for name in WEIGHT_NAMES}
    digest = hashlib.sha1(label.encode())  # noqa: S324 - a fingerprint, not a secret
    gate_order = np.lexsort((gate_to, gate_from))
    for part in (ids, security, gate_from[gate_order], gate_to[gate_order]):
        digest.update(np.ascontiguousarray(part).tobytes())
    for name in _PLAIN_WEIGHTS:
        digest.update(np.ascontiguousarray(weights[name][gate_order]).tobytes())
    flagged = [
        (int(i), level, float(p))
        for i, level, p in zip(row["ids"], row["levels"], row["penalties"], strict=True)
        if level or (p or 0) > 0
    ]
    return WeightedGraph(
        label=label,
        ids=ids,
        security=security,
        risk=risk,
        gate_from=gate_from,
        gate_to=gate_to,
        weights=weights,
        graph_key=digest.hexdigest()[:20],
        risk_key=risk_key_of(flagged),
    )


_cache_lock = threading.Lock()
_cache: dict[str, WeightedGraph] = {}


def weighted_graph_cached(*, label: str, graph_key: str | None, risk_key: str | None) -> WeightedGraph:
    """Return this process's copy of the graph when it matches a state, else read it again (and keep it).

    Args:
        label: Graph label.
        graph_key: The wanted graph fingerprint (None: any).
        risk_key: The wanted risk fingerprint (None: any).

    Returns:
        The graph (its keys may differ from the wanted ones when Neo4j changed meanwhile).
    """
    with _cache_lock:
        kept = _cache.get(label)
    if (
        kept is not None
        and graph_key is not None
        and kept.graph_key == graph_key
        and (risk_key is None or kept.risk_key == risk_key)
    ):
        return kept
    fresh = weighted_graph_read(label=label)
    with _cache_lock:
        _cache[label] = fresh
    return fresh


def weighted_graph_keep(g: WeightedGraph) -> None:
    """Keep a graph just read as this process's copy."""
    with _cache_lock:
        _cache[g.label] = g


def weighted_graph_forget() -> None:
    """Drop this process's copies of the graph."""
    with _cache_lock:
        _cache.clear()


@dataclass(frozen=True)
class Trees:
    """Route summaries from each source to each target (rows: sources, columns: targets)."""

    sources: list[int]
    targets: list[int]
    jumps: np.ndarray  # int16, UNREACHABLE when there is no route
    min_security: np.ndarray  # float64, NaN when unreachable (the source's own at 0 jumps)
    high: np.ndarray  # int16
    low: np.ndarray  # int16
    null: np.ndarray  # int16
    max_risk: np.ndarray  # int8 RISK_RANK


def _matrix(g: WeightedGraph, weight: str, blocked: np.ndarray) -> csr_matrix:
    """Sparse adjacency of the gates not leading into blocked systems."""
    # scipy's graph module takes about 0.2 s to import: every web and Celery process would pay it at start.
    from scipy.sparse import csr_matrix  # noqa: PLC0415

    keep = ~blocked[g.gate_to]
    n = len(g.ids)
    return csr_matrix((g.weights[weight][keep], (g.gate_from[keep], g.gate_to[keep])), shape=(n, n))


def _increments(g: WeightedGraph) -> np.ndarray:
    """Per system, what entering it adds to the packed counters (jumps, high, low, null: 16 bits each)."""
    sec = g.security
    high = (sec >= HIGH_SEC_MIN).astype(np.int64)
    low = ((sec > 0) & (sec < HIGH_SEC_MIN)).astype(np.int64)
    null = (sec <= 0).astype(np.int64)
    return 1 + (high << 16) + (low << 32) + (null << 48)


def _block(
    g: WeightedGraph, matrix: csr_matrix, src: np.ndarray, tgt: np.ndarray, *, blocked: np.ndarray, weight: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trees of one block of sources: packed counters, lowest security and worst risk at the targets."""
    n = len(g.ids)
    s = len(src)
    from scipy.sparse.csgraph import dijkstra  # noqa: PLC0415 (see _matrix)

    dist, pred = dijkstra(matrix, directed=True, indices=src, return_predecessors=True)
    _last_hop(g, weight, blocked, src=src, dist=dist, pred=pred)
    packed, lowest, worst = _path_fold(g, dist=dist, pred=pred)
    offsets = np.arange(s, dtype=np.int64) * n
    cols = (offsets[:, None] + tgt[None, :]).ravel()
    reached = np.isfinite(dist.ravel()[cols]).reshape(s, len(tgt))
    return (
        np.where(reached, packed[cols].reshape(s, len(tgt)), -1),
        lowest[cols].reshape(s, len(tgt)),
        worst[cols].reshape(s, len(tgt)),
    )


def _path_fold(g: WeightedGraph, *, dist: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fold each tree path from its source: packed counters, lowest security, worst risk (flat, per source).

    Pointer jumping: every system adds its ancestor's partial fold and then points two steps further up,
    so a path of depth d is folded in log2(d) whole-array passes (one extra slot, the fold's identity,
    stands in for "above the source").
    """
    s, n = dist.shape
    size = s * n
    rows = np.repeat(np.arange(s, dtype=np.int64) * n, n)
    flat_pred = pred.ravel().astype(np.int64)
    linked = np.isfinite(dist.ravel()) & (flat_pred >= 0)
    anc = np.full(size + 1, size, dtype=np.int64)
    anc[:size][linked] = rows[linked] + flat_pred[linked]
    v = np.tile(np.arange(n), s)
    packed = np.zeros(size + 1, dtype=np.int64)
    packed[:size] = np.where(linked, _increments(g)[v], 0)
    lowest = np.full(size + 1, np.inf, dtype=np.float64)
    lowest[:size] = np.where(linked, g.security[v], np.inf)
    worst = np.zeros(size + 1, dtype=np.int8)
    worst[:size] = np.where(linked, g.risk[v], 0)
    active = np.flatnonzero(linked)
    while len(active):
        up = anc[active]
        packed[active] = packed[active] + packed[up]
        lowest[active] = np.minimum(lowest[active], lowest[up])
        worst[active] = np.maximum(worst[active], worst[up])
        anc[active] = anc[up]
        active = active[anc[active] != size]
    return packed[:size], lowest[:size], worst[:size]


def _last_hop(
    g: WeightedGraph, weight: str, blocked: np.ndarray, *, src: np.ndarray, dist: np.ndarray, pred: np.ndarray
) -> None:
    """Reach each blocked (avoided) system through its cheapest gate, as a destination only (in place)."""
    through = dist.copy()  # routes that pass only through systems that are not blocked
    for t in np.flatnonzero(blocked).tolist():
        gates = np.flatnonzero(g.gate_to == t)
        if not len(gates):
            continue
        froms = g.gate_from[gates]
        cost = through[:, froms] + g.weights[weight][gates][None, :]
        best = np.argmin(cost, axis=1)
        value = cost[np.arange(len(src)), best]
        better = (value < dist[:, t]) & (src != t)
        dist[better, t] = value[better]
        pred[better, t] = froms[best[better]]


def trees_compute(
    *,
    g: WeightedGraph,
    weight: str,
    sources: Sequence[int],
    targets: Sequence[int],
    avoid: Collection[int] = (),
) -> Trees:
    """Summarise the routes of each source's shortest-path tree at each target (vectorised over sources).

    Args:
        g: The weighted graph.
        weight: The gate weight property (:func:`routing.graph.weight_property`).
        sources: Source systems (all in the graph).
        targets: Target systems (all in the graph).
        avoid: Systems never entered, except as the last system of a route.

    Returns:
        The summaries; ``jumps`` is ``UNREACHABLE`` where no route exists.
    """
    src_all = g.index(list(sources))
    tgt = g.index(list(targets))
    blocked = np.zeros(len(g.ids), dtype=bool)
    if avoid:
        known = sorted(g.known(avoid))
        blocked[g.index(known)] = True
    matrix = _matrix(g, weight, blocked)
    parts = []
    block = int(getattr(settings, "ROUTING_JUMPS_SOURCE_BLOCK", SOURCE_BLOCK))
    for start in range(0, len(src_all), block):
        parts.append(_block(g, matrix, src_all[start : start + block], tgt, blocked=blocked, weight=weight))
    t = len(tgt)
    packed = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, t), dtype=np.int64)
    lowest = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, t), dtype=np.float64)
    worst = np.concatenate([p[2] for p in parts]) if parts else np.zeros((0, t), dtype=np.int8)
    reached = packed >= 0
    jumps = np.where(reached, packed & 0xFFFF, UNREACHABLE).astype(np.int16)
    own = g.security[src_all][:, None]
    lowest = np.where(jumps == 0, np.broadcast_to(own, lowest.shape), lowest)
    field = np.where(reached, packed, 0)
    return Trees(
        sources=[int(s) for s in sources],
        targets=[int(t) for t in targets],
        jumps=jumps,
        min_security=np.where(reached, lowest, np.nan),
        high=((field >> 16) & 0xFFFF).astype(np.int16),
        low=((field >> 32) & 0xFFFF).astype(np.int16),
        null=((field >> 48) & 0xFFFF).astype(np.int16),
        max_risk=np.where(reached & (jumps > 0), worst, 0).astype(np.int8),
    )
