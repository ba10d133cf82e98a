"""Cypher of the routing engine: per-mode gate weights, risk properties, the Dijkstra query.

Every routed gate ``(:SolarSystem)-[:GATE]->(:SolarSystem)`` carries six weights:
``w_<mode>`` (jumps and security only) and ``wr_<mode>`` (the same plus the risk
penalty of the system the gate leads into), for the modes ``shortest``,
``secure`` and ``insecure``. A jump costs 1; in ``secure`` mode a jump into a
non-high-sec system costs ``ROUTING_SECURITY_PENALTY`` more (in ``insecure``
mode a jump into high-sec does), which makes Dijkstra lexicographic: fewest
unwanted jumps first, then fewest jumps. Route queries are then a single
``apoc.algo.dijkstra`` call on one property.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from evesite.exceptions import InvalidInputError
from routing.security import HIGH_SEC_MIN

MODES: tuple[str, ...] = ("shortest", "secure", "insecure")
# Node properties routing writes (besides the gate weights).
RISK_PROPERTIES: tuple[str, ...] = ("risk_level", "risk_reasons", "kills_last_hour", "risk_penalty")
# Dijkstra's weight for a gate that lacks its property: so large that a path using one is recognised.
MISSING_WEIGHT = 1e15

_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    return f"{'wr' if avoid_risk else 'w'}_{mode}"


# SET clause computing every weight of gate ``r`` leading into system ``b`` (parameter $big).
_WEIGHTS_SET = f"""
WITH r, b, CASE WHEN b.security >= {HIGH_SEC_MIN} THEN 0.0 ELSE 1.0 END AS low,
     coalesce(b.risk_penalty, 0.0) AS pen
SET r.w_shortest = 1.0,
    r.w_secure = 1.0 + low * $big,
    r.w_insecure = 1.0 + (1.0 - low) * $big,
    r.wr_shortest = 1.0 + pen,
    r.wr_secure = 1.0 + low * $big + pen,
    r.wr_insecure = 1.0 + (1.0 - low) * $big + pen
"""


def weights_all_query(label: str) -> str:
    """Cypher that (re)computes the weights of every gate in one statement.

    Args:
        label: Label of the routed systems.

    Returns:
        The statement (parameter ``$big``), returning ``gates``.
    """
    return f"MATCH (:`{label}`)-[r:GATE]->(b:`{label}`) {_WEIGHTS_SET} RETURN count(r) AS gates"


def weights_missing_query(label: str) -> str:
    """Cypher counting gates without weights.

    Args:
        label: Label of the routed systems.

    Returns:
        The statement, returning ``missing``.
    """
    return f"MATCH (:`{label}`)-[r:GATE]->(:`{label}`) WHERE r.wr_insecure IS NULL RETURN count(r) AS missing"


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
    MATCH (b:`{label}` {{system_id: row.id}})
    SET b.risk_level = row.level, b.risk_reasons = row.reasons,
        b.kills_last_hour = row.kills, b.risk_penalty = row.penalty
    WITH b
    MATCH (:`{label}`)-[r:GATE]->(b)
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
        f"MATCH (n:`{label}`) WHERE n.risk_level IS NOT NULL OR n.kills_last_hour > 0 "
        "OR n.risk_penalty > 0 RETURN n.system_id AS id"
    )


def avoid_query(label: str) -> str:
    """Cypher that deletes the gates into avoided systems (run only in a transaction that is rolled back).

    Args:
        label: Label of the routed systems.

    Returns:
        The statement (parameter ``$avoid``).
    """
    return f"MATCH (:`{label}`)-[r:GATE]->(n:`{label}`) WHERE n.system_id IN $avoid DELETE r"


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
    MATCH (a:`{label}` {{system_id: $origin}}), (b:`{label}` {{system_id: $destination}})
    CALL apoc.algo.dijkstra(a, b, 'GATE>', $weight, $missing, 1) YIELD path, weight
    WITH nodes(path) AS systems, weight
    RETURN [n IN systems | n.system_id] AS ids,
           [n IN systems WHERE n.risk_level IS NOT NULL OR n.kills_last_hour > 0 |
            [n.system_id, n.risk_level, n.kills_last_hour, n.risk_reasons]] AS risks,
           weight
    """


def system_query(label: str) -> str:
    """Cypher returning one system as a route to itself (same columns as :func:`route_query`).

    Args:
        label: Label of the routed systems.

    Returns:
        The statement (parameter ``$id``).
    """
    return f"""
    MATCH (n:`{label}` {{system_id: $id}})
    RETURN [n.system_id] AS ids,
           [x IN [n] WHERE x.risk_level IS NOT NULL OR x.kills_last_hour > 0 |
            [x.system_id, x.risk_level, x.kills_last_hour, x.risk_reasons]] AS risks,
           0.0 AS weight
    """


def names_query(label: str) -> str:
    """Cypher listing every system's static data (for the in-process index).

    Args:
        label: Label of the routed systems.

    Returns:
        The statement, returning ``id``, ``name``, ``security``, ``region`` and ``region_id``.
    """
    return (
        f"MATCH (n:`{label}`) RETURN n.system_id AS id, n.name AS name, n.security AS security, "
        "n.region_name AS region, n.region_id AS region_id"
    )


def row_params(**params: Any) -> dict[str, Any]:
    """Add the shared ``$big`` parameter to a query's parameters.

    Args:
        **params: The query's own parameters.

    Returns:
        The parameters with ``big``.
    """
    return {"big": float(settings.ROUTING_SECURITY_PENALTY), **params}
