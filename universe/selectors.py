"""Reads of the universe app."""

from __future__ import annotations

from universe import models as m
from universe.graph import graph_counts


def sde_counts() -> dict[str, int]:
    """Count the SDE rows in PostgreSQL and the gate graph in Neo4j.

    Returns:
        Counts keyed ``regions``, ``constellations``, ``systems``, ``jumps``,
        ``stargates``, ``stations``, ``types``, ``graph_nodes``, ``graph_relationships``.
    """
    nodes, rels = graph_counts()
    return {
        "regions": m.Region.objects.count(),
        "constellations": m.Constellation.objects.count(),
        "systems": m.SolarSystem.objects.count(),
        "jumps": m.SolarSystemJump.objects.count(),
        "stargates": m.Stargate.objects.count(),
        "stations": m.Station.objects.count(),
        "types": m.ItemType.objects.count(),
        "graph_nodes": nodes,
        "graph_relationships": rels,
    }
