"""APOC is really loaded in the project's Neo4j."""

from __future__ import annotations

from evesite.graph import graph_query


def test_apoc_dijkstra_finds_the_cheapest_path(graph_label: str) -> None:
    """On a 4-node graph the cheap detour A-B-C-D (weight 3) beats the direct A-D (weight 10)."""
    graph_query(
        f"""
        CREATE (a:`{graph_label}` {{name: 'A'}}), (b:`{graph_label}` {{name: 'B'}}),
               (c:`{graph_label}` {{name: 'C'}}), (d:`{graph_label}` {{name: 'D'}}),
               (a)-[:ROAD {{w: 1.0}}]->(b), (b)-[:ROAD {{w: 1.0}}]->(c),
               (c)-[:ROAD {{w: 1.0}}]->(d), (a)-[:ROAD {{w: 10.0}}]->(d)
        """
    )
    rows = graph_query(
        f"""
        MATCH (s:`{graph_label}` {{name: 'A'}}), (t:`{graph_label}` {{name: 'D'}})
        CALL apoc.algo.dijkstra(s, t, 'ROAD>', 'w') YIELD path, weight
        RETURN [n IN nodes(path) | n.name] AS names, weight
        """
    )
    assert rows == [{"names": ["A", "B", "C", "D"], "weight": 3.0}]
