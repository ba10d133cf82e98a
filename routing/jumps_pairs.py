"""Reads of routes of a few pairs, from trees on this process's graph copy (see :mod:`routing.jumps`).

The rows a scan answers: their risk now when the stored table's is stale, one pair for a profit breakdown, and
route summaries from a table's numbers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from routing import graph
from routing.jumps import JumpState, JumpView
from routing.jumps_graph import RISK_NAMES, UNREACHABLE, trees_compute, weighted_graph_cached
from routing.summary import RouteSummary


def jump_risk_recompute(
    *, state: JumpState, view: JumpView, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], tuple[int, str | None]]:
    """Recompute the jumps and worst risk of a few pairs with the risk as it is now (stale plain tables).

    Args:
        state: The state now.
        view: The scan's view.
        pairs: (from-system, to-system) of the answered rows.

    Returns:
        ``{(a, b): (jumps, max_risk)}``.
    """
    wanted: dict[int, set[int]] = {}
    for a, b in pairs:
        wanted.setdefault(a, set()).add(b)
    if not wanted:
        return {}
    g = weighted_graph_cached(label=state.label, graph_key=state.graph_key, risk_key=state.risk_key)
    weight = graph.weight_property(mode=view.mode, avoid_risk=view.avoid_risk)
    sources = sorted(g.known(wanted))
    targets = sorted(g.known(set().union(*wanted.values())))
    trees = trees_compute(g=g, weight=weight, sources=sources, targets=targets, avoid=view.avoid)
    col = {t: j for j, t in enumerate(targets)}
    found = {}
    for i, a in enumerate(sources):
        for b in wanted[a]:
            if b in col:
                found[(a, b)] = (int(trees.jumps[i, col[b]]), RISK_NAMES[int(trees.max_risk[i, col[b]])])
    return found


def route_summary_of(
    *, mode: str, jumps: int, min_security: float, high: int, low: int, null: int, max_risk: int | str | None
) -> RouteSummary:
    """Build a route summary from a table's numbers.

    Args:
        mode: Route mode.
        jumps: Jumps.
        min_security: Lowest security entered (the system's own at 0 jumps).
        high: High-sec jumps.
        low: Low-sec jumps.
        null: Null-sec jumps.
        max_risk: Risk rank (0-3) or level name.

    Returns:
        The summary.
    """
    risk = RISK_NAMES[max_risk] if isinstance(max_risk, int) else max_risk
    return RouteSummary(
        mode=mode,
        jumps=int(jumps),
        min_security=float(min_security),
        high_sec_jumps=int(high),
        low_sec_jumps=int(low),
        null_sec_jumps=int(null),
        max_risk=risk,
    )


def jump_pair_route(
    *,
    state: JumpState,
    mode: str,
    avoid_risk: bool,
    avoid: Collection[int],
    source: int,
    target: int,
    origin: int | None = None,
) -> tuple[RouteSummary | None, int | None]:
    """Route one pair (and the origin's jumps to its source) with trees on this process's graph copy.

    Args:
        state: The state now.
        mode: Route mode.
        avoid_risk: Whether risk penalties count.
        avoid: Systems never entered (except as the last system).
        source: A's system.
        target: B's system.
        origin: Origin system, if any.

    Returns:
        (the route or None when there is none, jumps from the origin to A or None).
    """
    g = weighted_graph_cached(label=state.label, graph_key=state.graph_key, risk_key=state.risk_key)
    weight = graph.weight_property(mode=mode, avoid_risk=avoid_risk)
    if not g.known([source]) or not g.known([target]):
        return None, None
    trees = trees_compute(g=g, weight=weight, sources=[source], targets=[target], avoid=avoid)
    route = None
    if int(trees.jumps[0, 0]) != UNREACHABLE:
        route = route_summary_of(
            mode=mode,
            jumps=int(trees.jumps[0, 0]),
            min_security=float(trees.min_security[0, 0]),
            high=int(trees.high[0, 0]),
            low=int(trees.low[0, 0]),
            null=int(trees.null[0, 0]),
            max_risk=int(trees.max_risk[0, 0]),
        )
    to_start = None
    if origin is not None and g.known([origin]):
        start = trees_compute(g=g, weight=weight, sources=[origin], targets=[source], avoid=set(avoid) - {origin})
        to_start = int(start.jumps[0, 0])
    return route, to_start
