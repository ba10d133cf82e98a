"""Acceptance on the real SDE (``<shared>/eve-sde``): exact counts in PostgreSQL and Neo4j."""

from __future__ import annotations

import csv
from collections import defaultdict, deque
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from evesite.graph import graph_query
from universe import models as m
from universe.graph import GATE_TYPE, LIGHT_YEAR_METRES, SYSTEM_LABEL, SolarSystem, graph_counts, graph_reachable_count
from universe.graph_ingest import JITA_ID
from universe.selectors import sde_counts

pytestmark = pytest.mark.django_db


def test_counts_match_the_acceptance_list(sde_universe: Path) -> None:
    """113 regions, 1,175 constellations, 8,437 systems, 13,776 jumps (rows and relationships), 5,154 stations."""
    counts = sde_counts()
    assert counts["regions"] == 113
    assert counts["constellations"] == 1175
    assert counts["systems"] == 8437
    assert counts["jumps"] == 13776
    assert counts["graph_relationships"] == 13776
    assert counts["graph_nodes"] == 8437
    assert counts["stations"] == 5154
    assert counts["types"] == 48037
    assert counts["stargates"] == 13776
    assert graph_counts() == (8437, 13776)


def test_jita(sde_universe: Path) -> None:
    """Jita is 30000142 in The Forge, security 0.945913, with 7 gates in PostgreSQL and Neo4j."""
    jita = m.SolarSystem.objects.select_related("region").get(id=JITA_ID)
    assert jita.name == "Jita"
    assert jita.region.name == "The Forge"
    assert jita.security == pytest.approx(0.945913)
    assert m.SolarSystemJump.objects.filter(from_system_id=JITA_ID).count() == 7
    assert m.Stargate.objects.filter(system_id=JITA_ID).count() == 7
    node = SolarSystem.nodes.get(system_id=JITA_ID)
    assert (node.name, node.region_name, node.security) == ("Jita", "The Forge", pytest.approx(0.945913))
    assert len(node.gates) == 7
    assert {n.name for n in node.gates.all()} == set(
        m.SolarSystemJump.objects.filter(from_system_id=JITA_ID).values_list("to_system__name", flat=True)
    )


def test_reachable_from_jita_matches_a_breadth_first_search(sde_universe: Path) -> None:
    """Neo4j finds 5,175 systems reachable from Jita, as does a plain BFS over PostgreSQL's jumps."""
    neighbours: dict[int, list[int]] = defaultdict(list)
    for a, b in m.SolarSystemJump.objects.values_list("from_system_id", "to_system_id"):
        neighbours[a].append(b)
    seen = {JITA_ID}
    queue = deque([JITA_ID])
    while queue:
        for nxt in neighbours[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    assert len(seen) == 5175
    assert graph_reachable_count(system_id=JITA_ID) == 5175


def test_graph_equals_postgresql(sde_universe: Path) -> None:
    """Same systems and same directed jumps in Neo4j as in PostgreSQL; weights follow from x/y/z and security."""
    pg_ids = set(m.SolarSystem.objects.values_list("id", flat=True))
    pg_pairs = set(m.SolarSystemJump.objects.values_list("from_system_id", "to_system_id"))
    graph_ids = {r["id"] for r in graph_query(f"MATCH (s:{SYSTEM_LABEL}) RETURN s.system_id AS id")}
    edges = graph_query(
        f"MATCH (a:{SYSTEM_LABEL})-[g:{GATE_TYPE}]->(b:{SYSTEM_LABEL}) "
        "RETURN a.system_id AS f, b.system_id AS t, g.distance_ly AS d, g.to_security AS s"
    )
    assert graph_ids == pg_ids
    assert {(e["f"], e["t"]) for e in edges} == pg_pairs
    assert len(edges) == len(pg_pairs)
    systems = {s.id: s for s in m.SolarSystem.objects.all()}
    for edge in edges[:500]:
        a, b = systems[edge["f"]], systems[edge["t"]]
        metres = ((a.x - b.x) ** 2 + (a.y - b.y) ** 2 + (a.z - b.z) ** 2) ** 0.5
        assert edge["d"] == pytest.approx(metres / LIGHT_YEAR_METRES, rel=1e-12)
        assert edge["s"] == pytest.approx(b.security)


def test_item_details(sde_universe: Path) -> None:
    """Types keep their names and packaged volumes; stations and gates their names."""
    rifter = m.ItemType.objects.get(id=587)
    assert rifter.name == "Rifter"
    assert rifter.packaged_volume == 2500
    assert rifter.shipping_volume == 2500
    assert m.ItemType.objects.get(id=34).name == "Tritanium"
    assert m.ItemType.objects.get(id=44992).name.startswith("PLEX")
    assert m.Station.objects.get(id=60003760).name == "Jita IV - Moon 4 - Caldari Navy Assembly Plant"
    with (sde_universe / "invTypes.csv").open(encoding="utf-8-sig", newline="") as fh:
        type_ids = {int(row["typeID"]) for row in csv.DictReader(fh)}
    with (sde_universe / "invVolumes.csv").open(encoding="utf-8-sig", newline="") as fh:
        volumes = {int(row["typeID"]): float(row["volume"]) for row in csv.DictReader(fh)}
    expected = {t: v for t, v in volumes.items() if t in type_ids}
    stored = dict(m.ItemType.objects.filter(packaged_volume__isnull=False).values_list("id", "packaged_volume"))
    assert stored == expected
    assert len(stored) == 799
    assert m.SolarSystem.objects.filter(security_class="").count() == 3297


def test_command_on_the_real_sde_reports_and_changes_nothing_the_second_time(sde_universe: Path) -> None:
    """Re-running ``ingest_data`` on the ingested SDE changes no row; it says the graph matches, 5,175 from Jita."""
    out = StringIO()
    call_command("ingest_data", "--source", str(sde_universe), stdout=out)
    text = out.getvalue()
    assert "Graph: 8,437 systems, 13,776 gate relationships (0 nodes/relationships written, 0 removed)" in text
    assert "Graph matches PostgreSQL exactly (same systems, same directed jumps)." in text
    assert "Systems reachable from Jita (30000142) by gate: 5,175" in text
    table_lines = [line for line in text.splitlines() if " rows  (" in line]
    assert len(table_lines) == 10
    assert all("(0 new/changed, 0 removed)" in line for line in table_lines)
    assert any(line.split()[:3] == ["invTypes", "48,037", "rows"] for line in table_lines)
