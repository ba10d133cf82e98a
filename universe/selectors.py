"""Reads of the universe app."""

from __future__ import annotations

from evesite.exceptions import NotFoundError
from universe import models as m
from universe.graph import graph_counts

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


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


def sde_present() -> bool:
    """Tell whether an SDE has been ingested (regions and stations exist).

    Returns:
        True when PostgreSQL holds regions and NPC stations.
    """
    return m.Region.objects.exists() and m.Station.objects.exists()


def market_region_validate(*, region_id: int) -> int:
    """Check that a region is in the SDE and has NPC stations (so it has a market worth asking ESI for).

    Args:
        region_id: The region.

    Returns:
        The region id.

    Raises:
        NotFoundError: When the SDE has no such region, or the region has no NPC station.
    """
    if not 0 < region_id <= INT32_MAX or not m.Station.objects.filter(region_id=region_id).exists():
        raise NotFoundError(f"Region {region_id} is not an SDE region with NPC stations.", region_id=region_id)
    return region_id


def station_region_get(*, station_id: int) -> int:
    """Return the region of an SDE station.

    Args:
        station_id: The station.

    Returns:
        Its region id.

    Raises:
        NotFoundError: When the SDE has no such station.
    """
    found = m.Station.objects.filter(id=station_id) if 0 < station_id <= INT64_MAX else m.Station.objects.none()
    region_id = found.values_list("region_id", flat=True).first()
    if region_id is None:
        raise NotFoundError(f"Station {station_id} is not an SDE station.", station_id=station_id)
    return int(region_id)
