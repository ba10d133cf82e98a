"""The gate graph's writes: make Neo4j hold exactly PostgreSQL's systems and jumps, through :mod:`universe.graph`.

:func:`graph_replace` runs inside the ingestion's PostgreSQL transaction and
in one Neo4j transaction. It reads the graph, writes only new, changed and
vanished systems and gates in batched ``UNWIND`` statements, then reads the
graph back and compares it with PostgreSQL before Neo4j commits. Labels, the
relationship type and every property name come from the models. neomodel's own
bulk writer (``SolarSystem.nodes.bulk_create_or_update``) was measured about 2-4x
slower on the ~8,400 systems (it deflates every row in Python and sends each
row twice), and it has no bulk write of relationships between many pairs of
nodes. Routing's properties on surviving nodes and gates are kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from neomodel import db
from tqdm import tqdm

from evesite.graph import graph_query
from universe import models as m
from universe.graph import (
    GATE_TYPE,
    SYSTEM_LABEL,
    Gate,
    SolarSystem,
    db_name,
    distance_ly,
    graph_reachable_count,
    graph_schema_install,
    owned_properties,
    system_model,
)
from universe.sde.sources import DumpFormatError

JITA_ID = 30000142
NODE_BATCH = 2000
GATE_BATCH = 5000
# Where each SDE property of a system node comes from: a lookup on universe.models.SolarSystem.
NODE_SOURCES: dict[str, str] = {
    db_name(SolarSystem.system_id): "id",
    db_name(SolarSystem.name): "name",
    db_name(SolarSystem.security): "security",
    db_name(SolarSystem.security_class): "security_class",
    db_name(SolarSystem.region_id): "region_id",
    db_name(SolarSystem.region_name): "region__name",
    db_name(SolarSystem.constellation_id): "constellation_id",
    db_name(SolarSystem.constellation_name): "constellation__name",
    db_name(SolarSystem.x): "x",
    db_name(SolarSystem.y): "y",
    db_name(SolarSystem.z): "z",
}
_ID = db_name(SolarSystem.system_id)
_XYZ = tuple(db_name(p) for p in (SolarSystem.x, SolarSystem.y, SolarSystem.z))
_SECURITY = db_name(SolarSystem.security)
# The SDE's properties of a system node (system_id first) and of a gate: what ingestion writes and compares.
NODE_PROPS = (_ID, *(p for p in owned_properties(SolarSystem, sde=True) if p != _ID))
GATE_PROPS = owned_properties(Gate, sde=True)
_DISTANCE = db_name(Gate.distance_ly)
_TO_SECURITY = db_name(Gate.to_security)

Bar = Callable[[str, int | None, str], tqdm]
Nodes = dict[int, tuple[Any, ...]]
Gates = dict[tuple[int, int], list[tuple[Any, ...]]]


@dataclass
class GraphReport:
    """What :func:`graph_replace` did."""

    nodes: int = 0
    relationships: int = 0
    written: int = 0
    removed: int = 0
    matches: bool = False
    reachable_from_jita: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _source_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Read the systems and jumps for the graph from PostgreSQL (the current transaction's view)."""
    lookups = [NODE_SOURCES[p] for p in NODE_PROPS]
    rows = m.SolarSystem.objects.order_by("id").values_list(*lookups)
    nodes = [dict(zip(NODE_PROPS, row, strict=True)) for row in rows]
    where = {n[_ID]: (n[_XYZ[0]], n[_XYZ[1]], n[_XYZ[2]]) for n in nodes}
    security = {n[_ID]: n[_SECURITY] for n in nodes}
    gates = [
        {"f": a, "t": b, "p": {_DISTANCE: distance_ly(where[a], where[b]), _TO_SECURITY: security[b]}}
        for a, b in m.SolarSystemJump.objects.order_by("from_system_id", "to_system_id").values_list(
            "from_system_id", "to_system_id"
        )
    ]
    return nodes, gates


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    """Split a list into consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _gate_pattern(label: str) -> str:
    """Cypher pattern of the gate ``g`` from the system with id ``r.f`` to the one with id ``r.t``."""
    return f"(a:`{label}` {{{_ID}: r.f}})-[g:`{GATE_TYPE}`]->(b:`{label}` {{{_ID}: r.t}})"


def _node_upsert_query(label: str) -> str:
    """Cypher writing a batch of systems ``$rows`` (maps of the SDE's properties)."""
    return f"UNWIND $rows AS r MERGE (s:`{label}` {{{_ID}: r.{_ID}}}) SET s += r"


def _gate_upsert_query(label: str) -> str:
    """Cypher writing a batch of gates ``$rows`` (``f``, ``t``, properties ``p``)."""
    return (
        f"UNWIND $rows AS r MATCH (a:`{label}` {{{_ID}: r.f}}) MATCH (b:`{label}` {{{_ID}: r.t}}) "
        f"MERGE (a)-[g:`{GATE_TYPE}`]->(b) SET g += r.p"
    )


def _graph_state(label: str) -> tuple[Nodes, Gates]:
    """Read the graph's systems and gates (in the current Neo4j transaction, if any) in two queries."""
    node_values = ", ".join(f"s.`{p}`" for p in NODE_PROPS)
    rows = graph_query(f"MATCH (s:`{label}`) RETURN collect([{node_values}]) AS rows")[0]["rows"]
    nodes = {row[0]: tuple(row) for row in rows}
    gate_values = ", ".join(f"g.`{p}`" for p in GATE_PROPS)
    gates: Gates = {}
    query = (
        f"MATCH (a:`{label}`)-[g:`{GATE_TYPE}`]->(b:`{label}`) "
        f"RETURN collect([a.{_ID}, b.{_ID}, {gate_values}]) AS rows"
    )
    for row in graph_query(query)[0]["rows"]:
        gates.setdefault((row[0], row[1]), []).append(tuple(row))
    return nodes, gates


def _node_key(node: dict[str, Any]) -> tuple[Any, ...]:
    """A system's comparable content, as :func:`_graph_state` reads it."""
    return tuple(node[p] for p in NODE_PROPS)


def _gate_key(gate: dict[str, Any]) -> tuple[Any, ...]:
    """A gate's comparable content, as :func:`_graph_state` reads it."""
    return (gate["f"], gate["t"], *(gate["p"][p] for p in GATE_PROPS))


def graph_replace(*, label: str = SYSTEM_LABEL, bar: Bar) -> GraphReport:
    """Make the Neo4j graph equal PostgreSQL's systems and jumps, in one Neo4j transaction.

    Called inside the PostgreSQL transaction: if anything fails here, both roll
    back. Only new, changed and vanished systems and gates are written, so an
    unchanged dump costs two reads. The graph is read back and compared before
    Neo4j commits.

    Args:
        label: Node label of the systems (``SolarSystem``; benchmarks use a scratch label).
        bar: Starts a progress bar: ``bar(description, total, unit)``.

    Returns:
        Graph counts, the match check, reachability from Jita and seconds per phase.

    Raises:
        DumpFormatError: When the written graph does not match PostgreSQL.
    """
    report = GraphReport()
    label = system_model(label).__label__
    phase = time.perf_counter()
    nodes, gates = _source_rows()
    graph_schema_install(label=label)
    report.seconds["graph read"] = time.perf_counter() - phase
    phase = time.perf_counter()
    with db.transaction:
        old_nodes, old_gates = _graph_state(label)
        wanted_ids = {n[_ID] for n in nodes}
        node_rows = [n for n in nodes if old_nodes.get(n[_ID]) != _node_key(n)]
        gone_ids = [i for i in old_nodes if i not in wanted_ids]
        wanted_pairs = {(g["f"], g["t"]) for g in gates}
        doubled = [{"f": f, "t": t} for (f, t), found in old_gates.items() if len(found) > 1]
        gone_pairs = [{"f": f, "t": t} for (f, t) in old_gates if (f, t) not in wanted_pairs]
        gate_rows = [g for g in gates if old_gates.get((g["f"], g["t"]), []) != [_gate_key(g)]]
        with bar("graph: removals", len(gone_pairs) + len(doubled) + len(gone_ids), "items") as progress:
            for batch in _batches(gone_pairs + doubled, GATE_BATCH):
                graph_query(f"UNWIND $rows AS r MATCH {_gate_pattern(label)} DELETE g", {"rows": batch})
                progress.update(len(batch))
            for ids in _batches(gone_ids, NODE_BATCH):
                graph_query(f"UNWIND $ids AS id MATCH (s:`{label}` {{{_ID}: id}}) DETACH DELETE s", {"ids": ids})
                progress.update(len(ids))
        with bar("graph: systems", len(node_rows), "nodes") as progress:
            for batch in _batches(node_rows, NODE_BATCH):
                graph_query(_node_upsert_query(label), {"rows": batch})
                progress.update(len(batch))
        with bar("graph: gates", len(gate_rows), "rels") as progress:
            for batch in _batches(gate_rows, GATE_BATCH):
                graph_query(_gate_upsert_query(label), {"rows": batch})
                progress.update(len(batch))
        report.written = len(node_rows) + len(gate_rows)
        report.removed = len(gone_ids) + len(gone_pairs)
        report.seconds["graph write"] = time.perf_counter() - phase
        phase = time.perf_counter()
        with bar("graph: verify", 2, "steps") as progress:
            _graph_verify(nodes, gates, report, label)
            progress.update(2)
        report.seconds["graph verify"] = time.perf_counter() - phase
        phase = time.perf_counter()
    report.seconds["graph commit"] = time.perf_counter() - phase
    return report


def _graph_verify(nodes: list[dict[str, Any]], gates: list[dict[str, Any]], report: GraphReport, label: str) -> None:
    """Check that the graph (as this transaction sees it) holds exactly PostgreSQL's systems and jumps."""
    graph_nodes, graph_gates = _graph_state(label)
    report.nodes = len(graph_nodes)
    report.relationships = sum(len(found) for found in graph_gates.values())
    want_nodes = {n[_ID]: _node_key(n) for n in nodes}
    want_gates = {(g["f"], g["t"]): [_gate_key(g)] for g in gates}
    report.matches = graph_nodes == want_nodes and graph_gates == want_gates
    if not report.matches:
        raise DumpFormatError(
            f"the Neo4j graph does not match PostgreSQL ({report.nodes} nodes / "
            f"{report.relationships} gates against {len(want_nodes)} systems / {len(want_gates)} jumps); "
            "nothing was changed"
        )
    report.reachable_from_jita = graph_reachable_count(system_id=JITA_ID, label=label)
