"""The gate graph in Neo4j: solar systems as nodes, one GATE relationship per directed jump.

``manage.py ingest_data`` writes it (batched ``UNWIND``, see
:mod:`universe.services`); routing reads it. The neomodel classes below
declare the schema (and the unique constraint on ``system_id``) for
neomodel's tools and the admin of the graph; the bulk writes bypass the
object mapper for speed but keep to these names.
"""

from __future__ import annotations

import re

from neomodel import (
    FloatProperty,
    IntegerProperty,
    RelationshipTo,
    StringProperty,
    StructuredNode,
    StructuredRel,
)

from evesite.graph import graph_query

LIGHT_YEAR_METRES = 9460730472580800.0
SYSTEM_LABEL = "SolarSystem"
GATE_TYPE = "GATE"
# neomodel's own name for the constraint, so ``neomodel_install_labels`` finds it in place.
CONSTRAINT_NAME = f"constraint_unique_{SYSTEM_LABEL}_system_id"
_LEGACY_CONSTRAINT_NAME = "solarsystem_system_id_unique"
_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class Gate(StructuredRel):
    """A stargate jump from one system into another; routing adds its own weights."""

    distance_ly = FloatProperty(required=True)
    to_security = FloatProperty(required=True)


class SolarSystem(StructuredNode):
    """A solar system; ``system_id`` is CCP's id (unique)."""

    system_id = IntegerProperty(unique_index=True, required=True)
    name = StringProperty(required=True)
    security = FloatProperty(required=True)
    security_class = StringProperty(default="")
    region_id = IntegerProperty(required=True)
    region_name = StringProperty(required=True)
    constellation_id = IntegerProperty(required=True)
    constellation_name = StringProperty(required=True)
    x = FloatProperty(required=True)
    y = FloatProperty(required=True)
    z = FloatProperty(required=True)

    gates = RelationshipTo("SolarSystem", GATE_TYPE, model=Gate)


def distance_ly(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """Distance in light years between two points given in metres.

    Args:
        a: x, y, z of the first point (metres).
        b: x, y, z of the second point (metres).

    Returns:
        The Euclidean distance divided by one light year.
    """
    dx, dy, dz = a[0] - b[0], a[1] - b[1], a[2] - b[2]
    return float((dx * dx + dy * dy + dz * dz) ** 0.5 / LIGHT_YEAR_METRES)


def graph_label_check(label: str) -> str:
    """Check that a node label is a plain identifier (labels cannot be query parameters).

    Args:
        label: The label.

    Returns:
        The label.

    Raises:
        ValueError: For anything but letters, digits and underscores.
    """
    if not _LABEL.fullmatch(label):
        raise ValueError(f"bad graph label {label!r}")
    return label


def graph_schema_ensure(label: str = SYSTEM_LABEL) -> None:
    """Create the unique constraint on ``system_id`` of a label when missing (idempotent).

    Args:
        label: ``SolarSystem``, or a scratch label (benchmarks).
    """
    label = graph_label_check(label)
    if label == SYSTEM_LABEL:
        graph_query(f"DROP CONSTRAINT {_LEGACY_CONSTRAINT_NAME} IF EXISTS")  # an earlier name of the same rule
    name = f"constraint_unique_{label}_system_id"
    graph_query(f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (s:{label}) REQUIRE s.system_id IS UNIQUE")


def graph_counts(label: str = SYSTEM_LABEL) -> tuple[int, int]:
    """Count the graph's systems and gate relationships.

    Args:
        label: ``SolarSystem``, or a scratch label (benchmarks).

    Returns:
        (nodes, relationships).
    """
    label = graph_label_check(label)
    nodes = graph_query(f"MATCH (s:{label}) RETURN count(s) AS n")[0]["n"]
    rels = graph_query(f"MATCH (:{label})-[g:{GATE_TYPE}]->(:{label}) RETURN count(g) AS n")[0]["n"]
    return int(nodes), int(rels)


def graph_reachable_count(*, system_id: int) -> int:
    """Count the systems reachable by gate from one system, itself included.

    Args:
        system_id: The start system.

    Returns:
        The number of systems, or 0 when the system is not in the graph.
    """
    rows = graph_query(
        f"MATCH (s:{SYSTEM_LABEL} {{system_id: $id}}) "
        f"CALL apoc.path.subgraphNodes(s, {{relationshipFilter: '{GATE_TYPE}>', labelFilter: '+{SYSTEM_LABEL}'}}) "
        "YIELD node RETURN count(node) AS n",
        {"id": system_id},
    )
    return int(rows[0]["n"]) if rows else 0
