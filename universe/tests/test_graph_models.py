"""The neomodel classes of universe.graph are the gate graph's one definition: schema, names, connection."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from neo4j.exceptions import ServiceUnavailable
from neomodel import db

from evesite.graph import graph_query
from evesite.testing.ports import free_port
from routing import graph as routing_graph
from routing import selectors as routing_selectors
from routing import systems as routing_systems
from universe import graph_ingest
from universe.graph import (
    GATE_TYPE,
    SYSTEM_LABEL,
    Gate,
    SolarSystem,
    graph_schema_install,
    owned_properties,
    system_model,
)

ROOT = Path(__file__).resolve().parents[2]


def _schema(label: str) -> set[tuple[str, str, tuple[str, ...]]]:
    """The live constraints and (non-lookup) indexes on one label: (kind, name, properties)."""
    rules = {
        ("constraint", r["name"], tuple(r["properties"]))
        for r in db.list_constraints()
        if r["labelsOrTypes"] == [label]
    }
    rules |= {
        ("index", r["name"], tuple(r["properties"]))
        for r in db.list_indexes(exclude_token_lookup=True)
        if r["labelsOrTypes"] == [label] and r["owningConstraint"] is None
    }
    return rules


def _declared(label: str) -> set[tuple[str, str, tuple[str, ...]]]:
    """The constraints and indexes the model declares, named as neomodel names them."""
    rules: set[tuple[str, str, tuple[str, ...]]] = set()
    for name, prop in system_model(label).defined_properties(aliases=False, rels=False).items():
        stored = prop.get_db_property_name(name)
        if prop.unique_index:
            rules.add(("constraint", f"constraint_unique_{label}_{stored}", (stored,)))
        elif prop.index:
            rules.add(("index", f"index_{label}_{stored}", (stored,)))
    return rules


def test_the_names_are_the_documented_ones() -> None:
    """(:SolarSystem)-[:GATE]->(:SolarSystem), as the README and the API describe the graph."""
    assert (SYSTEM_LABEL, GATE_TYPE) == ("SolarSystem", "GATE")
    assert SolarSystem.inherited_labels() == ["SolarSystem"]
    assert owned_properties(Gate, sde=True) == ("distance_ly", "to_security")
    assert set(owned_properties(SolarSystem, sde=False)) == set(routing_graph.RISK_PROPERTIES)
    assert set(routing_graph.WEIGHTS.values()) == set(owned_properties(Gate, sde=False))


@pytest.mark.django_db
def test_live_constraints_match_the_models() -> None:
    """What neomodel's install_labels put in Neo4j is exactly what SolarSystem declares (no other rule on it)."""
    call_command("graph_install_labels", stdout=StringIO())
    assert (
        _schema(SYSTEM_LABEL)
        == _declared(SYSTEM_LABEL)
        == {
            ("constraint", "constraint_unique_SolarSystem_system_id", ("system_id",)),
            ("index", "index_SolarSystem_risk_level", ("risk_level",)),
            ("index", "index_SolarSystem_risk_penalty", ("risk_penalty",)),
        }
    )


@pytest.mark.django_db
def test_the_command_installs_a_dropped_constraint_and_is_idempotent() -> None:
    """``manage.py graph_install_labels`` brings a dropped constraint back, replaces the legacy one, runs twice."""
    try:
        graph_query("DROP CONSTRAINT constraint_unique_SolarSystem_system_id IF EXISTS")
        graph_query(
            "CREATE CONSTRAINT solarsystem_system_id_unique IF NOT EXISTS "
            "FOR (s:SolarSystem) REQUIRE s.system_id IS UNIQUE"
        )
        out = StringIO()
        call_command("graph_install_labels", stdout=out)
        assert "Graph schema of :SolarSystem installed." in out.getvalue()
        assert _schema(SYSTEM_LABEL) == _declared(SYSTEM_LABEL)
        call_command("graph_install_labels", stdout=StringIO())
        assert _schema(SYSTEM_LABEL) == _declared(SYSTEM_LABEL)
    finally:
        graph_schema_install()


@pytest.mark.django_db
def test_migrate_installs_the_graph_schema() -> None:
    """Start-up (``manage.py migrate``) installs the constraint and indexes when they are missing."""
    try:
        graph_query("DROP CONSTRAINT constraint_unique_SolarSystem_system_id IF EXISTS")
        for prop in ("risk_level", "risk_penalty"):
            graph_query(f"DROP INDEX index_SolarSystem_{prop} IF EXISTS")
        assert _schema(SYSTEM_LABEL) == set()
        call_command("migrate", verbosity=0)
        assert _schema(SYSTEM_LABEL) == _declared(SYSTEM_LABEL)
    finally:
        graph_schema_install()


def test_a_scratch_copy_has_its_own_label_constraint_and_gates(graph_label: str) -> None:
    """system_model(label): same properties, only its own label, its gates stay in it; cached; labels checked."""
    model = system_model(graph_label)
    assert model is system_model(graph_label)
    assert system_model(SYSTEM_LABEL) is SolarSystem
    assert model.inherited_labels() == [graph_label]
    static = {"security_class": "", "region_id": 1, "region_name": "R", "constellation_id": 2}
    static |= {"constellation_name": "C", "x": 0.0, "y": 0.0, "z": 0.0}
    a, b = model.nodes.bulk_create(
        {"system_id": 1, "name": "A", "security": 0.5, **static},
        {"system_id": 2, "name": "B", "security": 0.3, **static},
    )
    a.gates.connect(b, {"distance_ly": 1.5, "to_security": 0.3})
    assert graph_query(f"MATCH (n:`{graph_label}`) RETURN labels(n) AS l") == [{"l": [graph_label]}] * 2
    assert [n.name for n in a.gates.all()] == ["B"]
    assert a.gates.relationship(b).distance_ly == 1.5
    try:
        graph_schema_install(label=graph_label)
        assert _schema(graph_label) == _declared(graph_label)
    finally:
        graph_query(f"DROP CONSTRAINT constraint_unique_{graph_label}_system_id IF EXISTS")
        for prop in ("risk_level", "risk_penalty"):
            graph_query(f"DROP INDEX index_{graph_label}_{prop} IF EXISTS")
    with pytest.raises(ValueError, match="bad graph label"):
        system_model("Solar System")


def test_neomodel_follows_the_bolt_url_setting() -> None:
    """A test pointing NEO4J_BOLT_URL elsewhere moves neomodel's connection there, and back afterwards."""
    dead = f"bolt://neo4j:password@127.0.0.1:{free_port()}"
    with override_settings(NEO4J_BOLT_URL=dead), pytest.raises(ServiceUnavailable):
        SolarSystem.nodes.first_or_none()
    assert graph_query("RETURN 1 AS one") == [{"one": 1}]


def test_ingestion_and_routing_import_the_models() -> None:
    """The models are what ingestion and routing use; no other module spells the label or relationship type."""
    assert graph_ingest.SolarSystem is routing_selectors.SolarSystem is routing_systems.SolarSystem is SolarSystem
    assert graph_ingest.GATE_TYPE == routing_graph.GATE_TYPE == GATE_TYPE
    spelled = re.compile(r"(?<!:class):`?(?:SolarSystem|GATE)\b|GATE>|[\"']GATE[\"']")  # Cypher, not :class:
    offenders = []
    for app in ("universe", "routing", "evesite"):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "tests" in path.parts or (path.name == "graph.py" and path.parent.name == "universe"):
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in spelled.finditer(text)]
    assert offenders == []
