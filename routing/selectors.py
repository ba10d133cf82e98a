"""Reads of routing: routes (one Dijkstra call in Neo4j).

Risk levels are in :mod:`routing.risk`, system lookups in :mod:`routing.systems`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neo4j.exceptions import TransientError

from evesite.exceptions import NotFoundError
from evesite.graph import graph_query, graph_rolled_back_query
from routing import graph
from routing.systems import query_timeout, system_get, system_name, system_resolve, systems_static
from universe.graph import SolarSystem

logger = logging.getLogger("routing")

AVOID_RETRIES = 3


@dataclass(frozen=True)
class RouteSystem:
    """One system on a route, with its risk."""

    id: int
    name: str
    security: float
    security_display: float
    region: str | None
    region_id: int | None
    risk: str | None
    kills_last_hour: int
    risk_reasons: list[str]


@dataclass(frozen=True)
class Route:
    """A route: the systems from origin to destination, both included."""

    mode: str
    avoid_risk: bool
    avoid: tuple[int, ...]
    systems: list[RouteSystem]
    total_weight: float

    @property
    def origin(self) -> RouteSystem:
        """The first system."""
        return self.systems[0]

    @property
    def destination(self) -> RouteSystem:
        """The last system."""
        return self.systems[-1]

    @property
    def jumps(self) -> int:
        """Number of jumps (systems minus one)."""
        return len(self.systems) - 1


def _route_rows(*, label: str, origin: int, destination: int, weight: str, avoid: tuple[int, ...]) -> list[dict]:
    """Run the Dijkstra query, with the avoided systems cut off inside a transaction that is rolled back."""
    params: dict[str, Any] = {
        "origin": origin,
        "destination": destination,
        "weight": weight,
        "missing": graph.MISSING_WEIGHT,
    }
    # Web requests run these: every one is bounded by NEO4J_QUERY_TIMEOUT_SECONDS (a timeout answers 503).
    timeout = query_timeout()
    if origin == destination:
        node = system_get(system_id=origin)
        return [] if node is None else [_single_row(node)]
    if not avoid:
        # Fewest jumps first (a few ms): when no gate on it carries a penalty it is a least-weight route.
        rows = graph_query(graph.route_hops_query(label), params, timeout=timeout)
        return rows or graph_query(graph.route_query(label), params, timeout=timeout)
    # APOC's Dijkstra has no node filter: delete the gates into avoided systems in a transaction,
    # route in the same transaction (it sees its own changes), then roll back. Nothing is ever committed.
    for attempt in range(AVOID_RETRIES):
        try:
            return graph_rolled_back_query(
                [(graph.avoid_query(label), {"avoid": list(avoid)})],
                graph.route_query(label),
                params,
                timeout=timeout,
            )
        except TransientError:
            if attempt == AVOID_RETRIES - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    return []  # pragma: no cover - the loop returns or raises


def _single_row(node: SolarSystem) -> dict[str, Any]:
    """A route from a system to itself, shaped like a row of :func:`routing.graph.route_query`."""
    flagged = node.risk_level is not None or (node.kills_last_hour or 0) > 0
    risks = [[node.system_id, node.risk_level, node.kills_last_hour, node.risk_reasons]] if flagged else []
    return {"ids": [node.system_id], "risks": risks, "weight": 0.0}


def _route_systems(row: dict[str, Any]) -> list[RouteSystem]:
    """Build a route's systems from a Cypher row (ids and risks) and the in-process index."""
    static = systems_static(system_ids=row["ids"])
    risks = {int(r[0]): r for r in row["risks"]}
    systems = []
    for system_id in row["ids"]:
        system = static[system_id]
        risk = risks.get(system_id)
        systems.append(
            RouteSystem(
                id=system_id,
                name=system.name,
                security=system.security,
                security_display=system.security_display,
                region=system.region,
                region_id=system.region_id,
                risk=risk[1] if risk else None,
                kills_last_hour=int(risk[2] or 0) if risk else 0,
                risk_reasons=list(risk[3] or []) if risk else [],
            )
        )
    return systems


class GateWeightsMissingError(Exception):
    """A route crossed gates that carry no weights yet (:func:`routing.services.route_find` repairs them)."""


def route_read(
    *,
    origin: int | str,
    destination: int | str,
    mode: str = "shortest",
    avoid: Sequence[int | str] = (),
    avoid_risk: bool = True,
) -> Route:
    """Read a route from Neo4j with one ``apoc.algo.dijkstra`` call, as the graph is (nothing is written).

    Args:
        origin: System id or name (case-insensitive, exact).
        destination: System id or name.
        mode: ``shortest`` (fewest jumps), ``secure`` (fewest jumps into non-high-sec first, then fewest jumps)
            or ``insecure`` (fewest jumps into high-sec first, then fewest jumps).
        avoid: Systems (ids or names) never entered, except as origin or destination.
        avoid_risk: Add the risk penalties to the weights.

    Returns:
        The route.

    Raises:
        InvalidInputError: For an unknown mode.
        NotFoundError: For an unknown system, or when no route exists.
        GateWeightsMissingError: When the route crossed gates without weights.
    """
    label = graph.graph_label()
    weight = graph.weight_property(mode=mode, avoid_risk=avoid_risk)
    origin_id = system_resolve(ref=origin)
    destination_id = system_resolve(ref=destination)
    avoid_ids = tuple(sorted({system_resolve(ref=a) for a in avoid} - {origin_id, destination_id}))
    kwargs = {"label": label, "origin": origin_id, "destination": destination_id, "weight": weight, "avoid": avoid_ids}
    rows = _route_rows(**kwargs)  # type: ignore[arg-type]
    if rows and float(rows[0]["weight"]) >= graph.MISSING_WEIGHT:
        raise GateWeightsMissingError(f"A route from {origin_id} to {destination_id} used gates without weights.")
    if not rows:
        what = f"No route from {system_name(system_id=origin_id)} to {system_name(system_id=destination_id)}"
        if avoid_ids:
            what += f" avoiding {', '.join(system_name(system_id=a) for a in avoid_ids)}"
        raise NotFoundError(what + ".", origin=origin_id, destination=destination_id)
    return Route(
        mode=mode,
        avoid_risk=avoid_risk,
        avoid=avoid_ids,
        systems=_route_systems(rows[0]),
        total_weight=float(rows[0]["weight"]),
    )
