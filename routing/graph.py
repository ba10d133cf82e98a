"""Cypher of the routing engine, built from the graph's models (:mod:`universe.graph`).

Only what neomodel cannot express is Cypher here: the ``apoc.algo.dijkstra``
route, the batched weight and risk writes, and the projected bulk reads
(neomodel reads whole nodes). Labels, the relationship type and every
property name come from :class:`universe.graph.SolarSystem` and
:class:`universe.graph.Gate`.

Every routed gate carries six weights (declared on ``Gate``): ``w_<mode>``
(jumps and security only) and ``wr_<mode>`` (the same plus the risk penalty
of the system the gate leads into), for the modes ``shortest``, ``secure`` and
``insecure``. A jump costs 1; in ``secure`` mode a jump into a non-high-sec
system costs ``ROUTING_SECURITY_PENALTY`` more (in ``insecure`` mode a jump
into high-sec does), which makes Dijkstra lexicographic: fewest unwanted jumps
first, then fewest jumps. Route queries are then a single
``apoc.algo.dijkstra`` call on one property, after a fewest-jumps path
(:func:`route_hops_query`) that answers alone when it carries no penalty.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from evesite.exceptions import InvalidInputError
from universe.graph import GATE_TYPE, Gate, SolarSystem, db_name, owned_properties, system_model
from universe.security import HIGH_SEC_MIN

MODES: tuple[str, ...] = ("shortest", "secure", "insecure")
# The gate property Dijkstra uses per (mode, avoid_risk).
WEIGHTS: dict[tuple[str, bool], str] = {
    ("shortest", False): db_name(Gate.w_shortest),
    ("secure", False): db_name(Gate.w_secure),
    ("insecure", False): db_name(Gate.w_insecure),
    ("shortest", True): db_name(Gate.wr_shortest),
    ("secure", True): db_name(Gate.wr_secure),
    ("insecure", True): db_name(Gate.wr_insecure),
}
# Node properties routing writes (the optional ones of SolarSystem), and every property routing owns.
RISK_PROPERTIES: tuple[str, ...] = owned_properties(SolarSystem, sde=False)
ROUTING_PROPERTIES: tuple[str, ...] = (*RISK_PROPERTIES, *owned_properties(Gate, sde=False))
# Dijkstra's weight for a gate that lacks its property: so large that a path using one is recognised.
MISSING_WEIGHT = 1e15

_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ID = db_name(SolarSystem.system_id)
_NAME = db_name(SolarSystem.name)
_SECURITY = db_name(SolarSystem.security)
_REGION = db_name(SolarSystem.region_name)
_REGION_ID = db_name(SolarSystem.region_id)
_LEVEL = db_name(SolarSystem.risk_level)
_REASONS = db_name(SolarSystem.risk_reasons)
_KILLS = db_name(SolarSystem.kills_last_hour)
_PENALTY = db_name(SolarSystem.risk_penalty)


def graph_label() -> str:
    """Return the Neo4j label of routed systems (``settings.ROUTING_GRAPH_LABEL``), checked.

    Returns:
        The label, safe to interpolate in backticks.

    Raises:
        InvalidInputError: When the setting is not a plain identifier.
    """
    label = str(settings.ROUTING_GRAPH_LABEL)
    if not _LABEL.fullmatch(label):
        raise InvalidInputError(f"ROUTING_GRAPH_LABEL {label!r} is not a plain Neo4j label.")
    return label


def graph_model() -> type[SolarSystem]:
    """Return the node class of the routed systems: ``SolarSystem``, or its copy for a scratch label (tests).

    Returns:
        The class (``universe.graph.system_model`` of :func:`graph_label`).
    """
    return system_model(graph_label())


def weight_property(*, mode: str, avoid_risk: bool) -> str:
    """Name the gate property Dijkstra uses for a mode.

    Args:
        mode: ``shortest``, ``secure`` or ``insecure``.
        avoid_risk: Whether risk penalties count.

    Returns:
        The property name, e.g. ``wr_secure``.

    Raises:
        InvalidInputError: For an unknown mode.
    """
    if mode not in MODES:
        raise InvalidInputError(f"Unknown route mode {mode!r}: use one of {', '.join(MODES)}.", field="mode")
    return WEIGHTS[(mode, avoid_risk)]


def _weights_set() -> str:
    """Cypher computing every weight of gate ``r`` leading into system ``b`` (parameter ``$big``)."""
    unwanted = {"shortest": "", "secure": " + low * $big", "insecure": " + (1.0 - low) * $big"}
    sets = ",\n    ".join(
        f"r.{name} = 1.0{unwanted[mode]}{' + pen' if risk else ''}" for (mode, risk), name in WEIGHTS.items()
    )
    return f"""
WITH r, b, CASE WHEN b.{_SECURITY} >= {HIGH_SEC_MIN} THEN 0.0 ELSE 1.0 END AS low,
     coalesce(b.{_PENALTY}, 0.0) AS pen
SET {sets}
"""


_WEIGHTS_SET = _weights_set()


def _gate(label: str, target: str = "b") -> str:
    """Cypher pattern of a gate ``r`` between two routed systems, the target named ``target``."""
    return f"(:`{label}`)-[r:`{GATE_TYPE}`]->({target}:`{label}`)"


def weights_all_query(label: str) -> str:
    """Cypher that (re)computes the weights of every gate in one statement.

    Args:
        label: Label of the routed systems.

    Returns:
        The statement (parameter ``$big``), returning ``gates``.
    """
    return f"MATCH {_gate(label)} {_WEIGHTS_SET} RETURN count(r) AS gates"


def weights_missing_query(label: str) -> str:
    """Cypher counting gates without weights.

    Args:
        label: Label of the routed systems.

    Returns:
        The statement, returning ``missing``.
    """
    last = WEIGHTS[(MODES[-1], True)]
    return f"MATCH {_gate(label, '')} WHERE r.{last} IS NULL RETURN count(r) AS missing"


def risk_write_query(label: str) -> str:
    """Cypher writing the risk of many systems and the weights of the gates into them, in one batch.

    Rows are ``{id, level, reasons, kills, penalty}``; ``level`` null clears the flag.

    Args:
        label: Label of the routed systems.

    Returns:
        The statement (parameters ``$rows``, ``$big``), returning ``gates``.
    """
    return f"""
    UNWIND $rows AS row
    MATCH (b:`{label}` {{{_ID}: row.id}})
    SET b.{_LEVEL} = row.level, b.{_REASONS} = row.reasons,
        b.{_KILLS} = row.kills, b.{_PENALTY} = row.penalty
    WITH b
    MATCH (:`{label}`)-[r:`{GATE_TYPE}`]->(b)
    {_WEIGHTS_SET}
    RETURN count(r) AS gates
    """


def risk_flagged_query(label: str) -> str:
    """Cypher listing systems that carry risk properties now.

    Args:
        label: Label of the routed systems.

    Returns:
        The statement, returning ``id``.
    """
    return (
        f"MATCH (n:`{label}`) WHERE n.{_LEVEL} IS NOT NULL OR n.{_KILLS} > 0 OR n.{_PENALTY} > 0 RETURN n.{_ID} AS id"
    )


def avoid_query(label: str) -> str:
    """Cypher that deletes the gates into avoided systems (run only in a transaction that is rolled back).

    Args:
        label: Label of the routed systems.

    Returns:
        The statement (parameter ``$avoid``).
    """
    return f"MATCH {_gate(label, 'n')} WHERE n.{_ID} IN $avoid DELETE r"


def _route_return() -> str:
    """Cypher returning a ``path`` and its ``weight``: the ids, and ``[id, level, kills, reasons]`` of risky systems."""
    return f"""
    WITH nodes(path) AS systems, weight
    RETURN [n IN systems | n.{_ID}] AS ids,
           [n IN systems WHERE n.{_LEVEL} IS NOT NULL OR n.{_KILLS} > 0 |
            [n.{_ID}, n.{_LEVEL}, n.{_KILLS}, n.{_REASONS}]] AS risks,
           weight
    """


def route_query(label: str) -> str:
    """Cypher of one route: a single ``apoc.algo.dijkstra`` call.

    It returns the path's system ids and, only for systems that carry risk,
    ``[id, level, kills_last_hour, reasons]``: names, security and regions come
    from the in-process system index, which keeps the answer small to decode.

    Args:
        label: Label of the routed systems.

    Returns:
        The statement (parameters ``$origin``, ``$destination``, ``$weight``, ``$missing``).
    """
    return f"""
    MATCH (a:`{label}` {{{_ID}: $origin}}), (b:`{label}` {{{_ID}: $destination}})
    CALL apoc.algo.dijkstra(a, b, '{GATE_TYPE}>', $weight, $missing, 1) YIELD path, weight
    {_route_return()}"""


def route_hops_query(label: str) -> str:
    """Cypher of one route by fewest jumps (``shortestPath``, a breadth-first search from both ends), or no row.

    Every gate weighs at least one jump, so no path weighs less than the fewest jumps: when the
    shortest path's gates all weigh exactly one (no penalty on the way), it is a least-weight route,
    the Dijkstra's equal, found in a fraction of the time. Otherwise it returns nothing and the caller
    runs :func:`route_query`.

    Args:
        label: Label of the routed systems.

    Returns:
        The statement (the parameters of :func:`route_query`).
    """
    return f"""
    MATCH (a:`{label}` {{{_ID}: $origin}}), (b:`{label}` {{{_ID}: $destination}})
    MATCH path = shortestPath((a)-[:`{GATE_TYPE}`*]->(b))
    WITH path, reduce(total = 0.0, r IN relationships(path) | total + coalesce(r[$weight], $missing)) AS weight
    WHERE weight = length(path)
    {_route_return()}"""


def names_query(label: str) -> str:
    """Cypher listing every system's static data (for the in-process index; neomodel would read whole nodes).

    One record holds them all: the driver decodes a record per Bolt message in Python, so ~8,400
    records took three times as long to read as one list.

    Args:
        label: Label of the routed systems.

    Returns:
        The statement, returning ``rows``: a list of ``[id, name, security, region, region_id]``.
    """
    return (
        f"MATCH (n:`{label}`) RETURN collect([n.{_ID}, n.{_NAME}, n.{_SECURITY}, n.{_REGION}, n.{_REGION_ID}]) AS rows"
    )


def row_params(**params: Any) -> dict[str, Any]:
    """Add the shared ``$big`` parameter to a query's parameters.

    Args:
        **params: The query's own parameters.

    Returns:
        The parameters with ``big``.
    """
    return {"big": float(settings.ROUTING_SECURITY_PENALTY), **params}
