"""The gate graph in Neo4j, defined once: the neomodel classes :class:`SolarSystem` and :class:`Gate`.

Every label, relationship type, property name and constraint of the graph
comes from these two classes. Ingestion (:mod:`universe.graph_ingest`) writes
systems with ``SolarSystem.nodes.bulk_create_or_update`` and gates with
``UNWIND`` statements built from the classes' names; routing reads systems
through ``SolarSystem.nodes`` and builds its Cypher (APOC Dijkstra, weight
writes) from the same names; neomodel's ``install_labels`` installs the unique
constraint on ``system_id`` (``manage.py graph_install_labels``, every
ingestion, and after ``manage.py migrate``).

Ingestion owns the required properties (the SDE's); routing owns the optional
ones (the risk of a system, the Dijkstra weights of a gate), which ingestion
keeps. Tests and benchmarks use a copy of the graph under a scratch label:
:func:`system_model` gives the class for such a label.
"""

from __future__ import annotations

import functools
import io
import re
from typing import Any, TextIO

from neomodel import (
    ArrayProperty,
    FloatProperty,
    IntegerProperty,
    RelationshipTo,
    StringProperty,
    StructuredNode,
    StructuredRel,
    ZeroOrMore,
    db,
)
from neomodel.properties import Property

from evesite.graph import graph_query

LIGHT_YEAR_METRES = 9460730472580800.0
_LEGACY_CONSTRAINT_NAME = "solarsystem_system_id_unique"  # an earlier name of the unique constraint
_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class Gate(StructuredRel):
    """A stargate jump from one system into another.

    Ingestion writes the required properties; routing writes the weights Dijkstra
    uses: ``w_<mode>`` (jumps and security) and ``wr_<mode>`` (plus the risk
    penalty of the system the gate leads into).
    """

    distance_ly = FloatProperty(required=True)
    to_security = FloatProperty(required=True)
    w_shortest = FloatProperty()
    w_secure = FloatProperty()
    w_insecure = FloatProperty()
    wr_shortest = FloatProperty()
    wr_secure = FloatProperty()
    wr_insecure = FloatProperty()


class SolarSystem(StructuredNode):
    """A solar system; ``system_id`` is CCP's id (unique).

    Ingestion writes the required properties from the SDE; routing writes the
    risk (absent while the system had no kills).
    """

    system_id = IntegerProperty(unique_index=True, required=True)
    name = StringProperty(required=True)
    security = FloatProperty(required=True)
    security_class = StringProperty(required=True)
    region_id = IntegerProperty(required=True)
    region_name = StringProperty(required=True)
    constellation_id = IntegerProperty(required=True)
    constellation_name = StringProperty(required=True)
    x = FloatProperty(required=True)
    y = FloatProperty(required=True)
    z = FloatProperty(required=True)
    # Indexed: every haul scan reads the flagged systems (routing.jumps_graph.risk_read_query).
    risk_level = StringProperty(index=True)
    risk_reasons = ArrayProperty(StringProperty())
    kills_last_hour = IntegerProperty()
    risk_penalty = FloatProperty(index=True)

    # A node sees its gates through neomodel's manager (``node.gates.all()``); neomodel types only the definition.
    gates: ZeroOrMore = RelationshipTo("SolarSystem", "GATE", model=Gate)  # type: ignore[assignment]


SYSTEM_LABEL: str = SolarSystem.__label__
GATE_TYPE: str = str(SolarSystem.gates.definition["relation_type"])


def db_name(prop: Property[Any]) -> str:
    """Name a model property as stored in Neo4j (its attribute name unless ``db_property`` says otherwise).

    Args:
        prop: A property of :class:`SolarSystem` or :class:`Gate`, e.g. ``SolarSystem.system_id``.

    Returns:
        The stored name.
    """
    return prop.get_db_property_name(str(prop.name))


def owned_properties(model: type[StructuredNode] | type[StructuredRel], *, sde: bool) -> tuple[str, ...]:
    """List the stored names of the properties ingestion owns (required) or routing owns (optional).

    Args:
        model: :class:`SolarSystem` (or a scratch copy) or :class:`Gate`.
        sde: True for the SDE's (required) properties, False for routing's.

    Returns:
        Stored property names, in definition order.
    """
    props = model.defined_properties(aliases=False, rels=False)
    return tuple(p.get_db_property_name(name) for name, p in props.items() if bool(p.required) == sde)


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


class _OwnLabelOnly:
    """Mixin of a scratch copy: its nodes carry its own label only (neomodel would add the parent's)."""

    __label__: str

    @classmethod
    def inherited_labels(cls) -> list[str]:
        """The labels neomodel writes and installs for the class.

        Returns:
            The class's own label.
        """
        return [cls.__label__]


@functools.lru_cache(maxsize=256)
def system_model(label: str = SYSTEM_LABEL) -> type[SolarSystem]:
    """Return the node class of the systems under a label: :class:`SolarSystem`, or a copy for a scratch label.

    The copy has the same properties and constraint, carries only its own
    label (never ``SolarSystem``) and its gates lead to nodes of that label.

    Args:
        label: ``SolarSystem``, or a scratch label (tests, benchmarks).

    Returns:
        The class.

    Raises:
        ValueError: For a label that is not a plain identifier.
    """
    if label == SYSTEM_LABEL:
        return SolarSystem
    graph_label_check(label)
    namespace = {"__label__": label, "__module__": __name__, "__qualname__": label}
    model: type[SolarSystem] = type(label, (_OwnLabelOnly, SolarSystem), namespace)
    model.gates = RelationshipTo(model, GATE_TYPE, model=Gate)  # type: ignore[assignment]
    # neomodel lists a class's relationships when the class is made; list the copy's own gates instead.
    model.__all_relationships__ = tuple(model.defined_properties(aliases=False, properties=False).items())
    return model


def graph_schema_install(*, label: str = SYSTEM_LABEL, out: TextIO | None = None) -> None:
    """Install the constraints and indexes the models declare, with neomodel's ``install_labels`` (idempotent).

    Args:
        label: ``SolarSystem``, or a scratch label (benchmarks).
        out: Where neomodel reports what it does; None: nothing is written.
    """
    if label == SYSTEM_LABEL:
        graph_query(f"DROP CONSTRAINT {_LEGACY_CONSTRAINT_NAME} IF EXISTS")
    db.install_labels(system_model(label), quiet=out is None, stdout=out or io.StringIO())


def graph_counts(label: str = SYSTEM_LABEL) -> tuple[int, int]:
    """Count the graph's systems and gate relationships.

    Args:
        label: ``SolarSystem``, or a scratch label (benchmarks).

    Returns:
        (nodes, relationships).
    """
    model = system_model(label)
    rels = graph_query(f"MATCH (:`{model.__label__}`)-[g:`{GATE_TYPE}`]->(:`{model.__label__}`) RETURN count(g) AS n")
    return len(model.nodes), int(rels[0]["n"])


def graph_reachable_count(*, system_id: int, label: str = SYSTEM_LABEL) -> int:
    """Count the systems reachable by gate from one system, itself included (APOC).

    Args:
        system_id: The start system.
        label: ``SolarSystem``, or a scratch label.

    Returns:
        The number of systems, or 0 when the system is not in the graph.
    """
    label = system_model(label).__label__
    rows = graph_query(
        f"MATCH (s:`{label}` {{{db_name(SolarSystem.system_id)}: $id}}) "
        f"CALL apoc.path.subgraphNodes(s, {{relationshipFilter: '{GATE_TYPE}>', labelFilter: '+{label}'}}) "
        "YIELD node RETURN count(node) AS n",
        {"id": system_id},
    )
    return int(rows[0]["n"]) if rows else 0


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
