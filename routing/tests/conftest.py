"""Fixtures of routing's tests: a tiny gate graph under a scratch label (written through the models), and helpers."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from esi.testing import esi_settings_for_tests
from evesite.graph import graph_query
from universe.graph import GATE_TYPE, Gate, SolarSystem, db_name, system_model
from universe.models import (
    Constellation,
    ItemCategory,
    ItemGroup,
    ItemType,
    Region,
    Stargate,
)
from universe.models import (
    SolarSystem as SolarSystemRow,
)

# (id, name, security). Region "Tiny" (1) except the isolated one.
TINY_SYSTEMS = [
    (1, "Alpha", 1.0),
    (2, "Bravo", 0.9),
    (3, "Charlie", 0.2),
    (4, "Delta", 0.9),
    (5, "Echo", 0.45),  # shows as 0.5: high-sec
    (6, "Foxtrot", 0.6),
    (7, "Golf", 0.5),
    (8, "Xray", 0.4499),  # shows as 0.4: low-sec
    (11, "Lima One", 0.1),
    (12, "Lima Two", 0.0),
    (13, "Lima Three", 0.3),
    (14, "Lima Four", 0.2),
    (20, "Island", 0.7),
]
# Undirected gates; each becomes two directed GATE relationships.
TINY_GATES = [
    (1, 2), (2, 3), (3, 4),  # Alpha-Bravo-Charlie-Delta: 3 jumps, one low-sec
    (1, 5), (5, 6), (6, 7), (7, 4),  # Alpha-Echo-Foxtrot-Golf-Delta: 4 jumps, all high-sec
    (1, 8), (8, 4),  # Alpha-Xray-Delta: 2 jumps, through low-sec
    (1, 11), (11, 12), (12, 13), (13, 14), (14, 4),  # the Lima chain: 5 jumps, only Delta is high-sec
]  # fmt: skip


def graph_create(label: str, systems: list[tuple[int, str, float]], gates: list[tuple[int, int]]) -> None:
    """Create systems (``SolarSystem.nodes.bulk_create`` under the label) and two-way gates, as ingestion shapes them.

    Args:
        label: Scratch label.
        systems: (id, name, security).
        gates: Undirected (a, b) pairs.
    """
    static = {
        "security_class": "",
        "region_id": 1,
        "region_name": "Tiny",
        "constellation_id": 1,
        "constellation_name": "Tiny One",
        "x": 0.0,
        "y": 0.0,
        "z": 0.0,
    }
    system_model(label).nodes.bulk_create(
        *({"system_id": i, "name": name, "security": security, **static} for i, name, security in systems)
    )
    pairs = [[a, b] for a, b in gates] + [[b, a] for a, b in gates]
    system_id, security = db_name(SolarSystem.system_id), db_name(SolarSystem.security)
    graph_query(
        f"""
        UNWIND $pairs AS p
        MATCH (a:`{label}` {{{system_id}: p[0]}}), (b:`{label}` {{{system_id}: p[1]}})
        CREATE (a)-[:`{GATE_TYPE}` {{{db_name(Gate.distance_ly)}: 1.0, {db_name(Gate.to_security)}: b.{security}}}]->(b)
        """,
        {"pairs": pairs},
    )


@pytest.fixture
def tiny_graph(graph_label: str, settings: SettingsWrapper) -> str:
    """The tiny graph above under a scratch label, which routing is pointed at.

    Returns:
        The label.
    """
    settings.ROUTING_GRAPH_LABEL = graph_label
    graph_create(graph_label, TINY_SYSTEMS, TINY_GATES)
    return graph_label


@pytest.fixture
def zkill_server(fake_server, settings: SettingsWrapper):
    """Point zKillboard's R2Z2 feed and ESI at one fake server, with shrunken delays.

    Returns:
        The fake server.
    """
    settings.ZKILLBOARD_R2Z2_URL = fake_server.url
    settings.ZKILLBOARD_REQUEST_DELAY_SECONDS = 0.0
    settings.ZKILLBOARD_RETRY_DELAY_SECONDS = 0.01
    settings.ZKILLBOARD_TIMEOUT_SECONDS = 2.0
    esi_settings_for_tests(settings, fake_server.url)
    return fake_server


@pytest.fixture
def tiny_sde(db: None, tiny_graph: str) -> dict[str, int]:
    """SDE rows for the tiny graph: its systems, two stargates, and a Smart Bomb type.

    Returns:
        Ids of what was created.
    """
    region = Region.objects.create(id=1, name="Tiny", x=0, y=0, z=0)
    constellation = Constellation.objects.create(id=1, region=region, name="Tiny One", x=0, y=0, z=0)
    for index, (system_id, name, security) in enumerate(TINY_SYSTEMS):
        SolarSystemRow.objects.create(
            id=system_id,
            name=name,
            region=region,
            constellation=constellation,
            security=security,
            x=index * 1e16,
            y=0,
            z=(index % 3) * 1e16,
            x_2d=index * 1e16,
            y_2d=(index % 3) * 1e16,
        )
    # Xray's gate to Delta sits at the origin of Xray; Bravo's gate to Alpha at (1e9, 0, 0).
    Stargate.objects.create(id=9001, system_id=8, type_id=1, name="Stargate (Delta)", x=0, y=0, z=0)
    Stargate.objects.create(id=9002, system_id=8, type_id=1, name="Stargate (Alpha)", x=5e10, y=0, z=0)
    Stargate.objects.create(id=9003, system_id=2, type_id=1, name="Stargate (Alpha)", x=1e9, y=0, z=0)
    category = ItemCategory.objects.create(id=999007, name="Module")
    group = ItemGroup.objects.create(id=999072, category=category, name="Smart Bomb")
    ItemType.objects.create(id=999001, group=group, name="Large Test Smartbomb")
    return {"smartbomb": 999001}


@pytest.fixture
def settings_fixture(settings: SettingsWrapper) -> SettingsWrapper:
    """pytest-django's ``settings`` under another name (hypothesis tests import ``settings`` from hypothesis).

    Returns:
        The settings wrapper.
    """
    return settings
